import { run } from '../../src/main.js';
import type { ContextOptions } from '../../src/context.js';
import { bufferIo } from '../../src/ui/io.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as one JSON document. */
  json<T = Record<string, unknown>>(): T;
  /** stdout parsed as NDJSON lines. */
  lines<T = Record<string, unknown>>(): T[];
}

export interface RunCliOptions extends Omit<ContextOptions, 'io'> {
  tty?: boolean;
}

/** Runs voxctl in-process with buffered streams; nothing touches process.env or the real cwd. */
export async function runCli(argv: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const io = bufferIo({ tty: opts.tty ?? false });
  const { tty: _tty, ...rest } = opts;
  const exitCode = await run(argv, { env: {}, ...rest, io });
  const stdout = io.out();
  return {
    exitCode,
    stdout,
    stderr: io.err(),
    json<T>() {
      return JSON.parse(stdout) as T;
    },
    lines<T>() {
      return stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as T);
    },
  };
}
