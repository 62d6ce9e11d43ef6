import { expect } from 'vitest';
import { run } from '../../src/main.js';
import type { ContextOptions } from '../../src/context.js';
import { bufferIo } from '../../src/ui/io.js';
import { assertOutsideRepo, testDir } from './hermetic.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** The folder the CLI ran in (the test's own temp folder unless `cwd` was given). */
  cwd: string;
  /** stdout parsed as one JSON document. */
  json<T = Record<string, unknown>>(): T;
  /** stdout parsed as NDJSON lines. */
  lines<T = Record<string, unknown>>(): T[];
}

export interface RunCliOptions extends Omit<ContextOptions, 'io'> {
  tty?: boolean;
}

/**
 * Runs voxctl in-process with buffered streams. Hermetic: the environment is only what the test
 * passes (never process.env), the working directory is the test's own temp folder unless the
 * test passes one — which must not be inside the repository — and the project lookup does not
 * leave that folder (unless the test passes `projectCeiling`).
 */
export async function runCli(argv: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const io = bufferIo({ tty: opts.tty ?? false });
  const { tty: _tty, ...rest } = opts;
  const cwd = rest.cwd ?? testDir(expect.getState().currentTestName);
  assertOutsideRepo(cwd);
  // The project lookup stays in the test's folder unless the test sets another ceiling.
  const exitCode = await run(argv, { ...rest, env: rest.env ?? {}, cwd, projectCeiling: rest.projectCeiling ?? cwd, io });
  const stdout = io.out();
  return {
    exitCode,
    stdout,
    stderr: io.err(),
    cwd,
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
