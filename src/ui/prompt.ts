import { CancelledError, UsageError } from '../errors.js';
import type { IoStreams } from './io.js';

export interface AskOptions {
  message: string;
  /** The flag (or env var) a non-interactive run must pass instead; named in the error. */
  flag: string;
  default?: string | undefined;
  /** Returns true or an error message. */
  /** May check online (a Promise): the prompt waits and shows the answer's problem. */
  validate?: ((value: string) => true | string | Promise<true | string>) | undefined;
  /** Hide what is typed (secrets). */
  secret?: boolean;
}

export interface SelectChoice<T extends string> {
  value: T;
  name: string;
  description?: string;
}

export interface SelectOptions<T extends string> {
  message: string;
  /** The flag a non-interactive run passes instead; named in the error. */
  flag: string;
  choices: Array<SelectChoice<T>>;
  default?: T | undefined;
}

export interface Prompter {
  /** True when prompts are shown (TTY, not CI, no --yes, no VOXCTL_NO_PROMPT). */
  readonly interactive: boolean;
  ask(opts: AskOptions): Promise<string>;
  confirm(opts: { message: string; flag: string; default?: boolean }): Promise<boolean>;
  /** One of `choices`; non-interactive: the default, else a UsageError naming the flag. */
  select<T extends string>(opts: SelectOptions<T>): Promise<T>;
}

/**
 * Prompts never block CI: interactive only when `interactive` is true, otherwise a declared
 * default is used or a UsageError names the flag to pass. Inquirer is imported on first use.
 */
export function createPrompter(io: IoStreams, interactive: boolean): Prompter {
  const context = { input: io.stdin, output: io.stderr as NodeJS.WritableStream, clearPromptOnDone: false };
  const cancelled = (e: unknown) => {
    if (e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError')) {
      return new CancelledError('Cancelled.');
    }
    return e;
  };
  return {
    interactive,
    async ask(opts) {
      if (!interactive) {
        if (opts.default !== undefined) return opts.default;
        throw new UsageError(`Missing value: ${opts.message.replace(/[:?]\s*$/, '')}.`, {
          hint: `Pass ${opts.flag} (prompts are off: no TTY, CI, or --yes).`,
        });
      }
      const { input, password } = await import('@inquirer/prompts');
      try {
        if (opts.secret) {
          return await password({ message: opts.message, mask: '*', validate: opts.validate }, context);
        }
        return await input({ message: opts.message, default: opts.default, validate: opts.validate }, context);
      } catch (e) {
        throw cancelled(e);
      }
    },
    async confirm(opts) {
      if (!interactive) {
        if (opts.default !== undefined) return opts.default;
        throw new UsageError(`Confirmation needed: ${opts.message}`, { hint: `Pass ${opts.flag} to confirm non-interactively.` });
      }
      const { confirm } = await import('@inquirer/prompts');
      try {
        return await confirm({ message: opts.message, default: opts.default ?? false }, context);
      } catch (e) {
        throw cancelled(e);
      }
    },
    async select<T extends string>(opts: SelectOptions<T>): Promise<T> {
      if (!interactive) {
        if (opts.default !== undefined) return opts.default;
        throw new UsageError(`Missing choice: ${opts.message.replace(/[:?]\s*$/, '')}.`, {
          hint: `Pass ${opts.flag} (prompts are off: no TTY, CI, or --yes).`,
        });
      }
      const { select } = await import('@inquirer/prompts');
      try {
        return await select<T>({ message: opts.message, choices: opts.choices, default: opts.default }, context);
      } catch (e) {
        throw cancelled(e);
      }
    },
  };
}
