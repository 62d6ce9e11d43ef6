/**
 * The only code that touches the process's streams. Everything written goes through the
 * context's Redactor, so configured secrets are masked on stdout and stderr alike.
 */
export interface Writer {
  write(chunk: string): unknown;
}

export interface IoStreams {
  stdout: Writer;
  stderr: Writer;
  /** Raw stdin, for prompts (inquirer) in interactive mode. */
  stdin?: NodeJS.ReadableStream | undefined;
  isStdoutTTY: boolean;
  isStderrTTY: boolean;
  isStdinTTY: boolean;
  /** Terminal width, when known. */
  columns?: number | undefined;
}

export function systemIo(): IoStreams {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isStdoutTTY: Boolean(process.stdout.isTTY),
    isStderrTTY: Boolean(process.stderr.isTTY),
    isStdinTTY: Boolean(process.stdin.isTTY),
    columns: process.stdout.columns,
  };
}

/** In-memory streams for tests and for commands that run another command in-process. */
export function bufferIo(opts: { tty?: boolean; columns?: number } = {}): IoStreams & { out(): string; err(): string } {
  let out = '';
  let err = '';
  const tty = opts.tty ?? false;
  return {
    stdout: { write: (s: string) => ((out += s), true) },
    stderr: { write: (s: string) => ((err += s), true) },
    isStdoutTTY: tty,
    isStderrTTY: tty,
    isStdinTTY: tty,
    columns: opts.columns ?? 100,
    out: () => out,
    err: () => err,
  };
}
