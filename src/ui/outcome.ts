/**
 * `"ok"` mirrors the exit code (contract): a document of a command that did part of its work
 * keeps its payload, says `"ok":false` and carries one `error` object that sums it up.
 */
import { ExitCode } from '../errors.js';

export interface OutcomeError {
  code: string;
  message: string;
  hint: string | null;
}

export type WithOutcome<T> = { ok: boolean } & Omit<T, 'ok'> & { error?: OutcomeError };

/** `doc` with `ok` set from the exit code and, when it is not 0, the `error` from `describe`. */
export function withOutcome<T extends object>(doc: T, exitCode: number, describe: () => OutcomeError): WithOutcome<T> {
  const { ok: _ok, ...rest } = doc as T & { ok?: unknown };
  if (exitCode === ExitCode.ok) return { ok: true, ...rest } as WithOutcome<T>;
  return { ok: false, ...rest, error: describe() } as WithOutcome<T>;
}

/** The `error` of an interrupted command (Ctrl-C, SIGTERM). */
export const interruptedOutcome = (message = 'Interrupted: writes in flight were finished, the rest was not started.'): OutcomeError => ({
  code: 'interrupted',
  message,
  hint: 'Run the same command again to finish.',
});
