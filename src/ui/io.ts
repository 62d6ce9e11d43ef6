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
  /** Width of the terminal stderr draws on, when known (0 when the terminal reports none). */
  columns?: number | undefined;
  /**
   * Calls `onClosed` when the reader of stdout or stderr goes away (`voxctl … | head -1`: EPIPE).
   * Returns a function that stops watching.
   */
  watchClosed?(onClosed: () => void): () => void;
}

export function systemIo(): IoStreams {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    isStdoutTTY: Boolean(process.stdout.isTTY),
    isStderrTTY: Boolean(process.stderr.isTTY),
    isStdinTTY: Boolean(process.stdin.isTTY),
    columns: process.stderr.isTTY ? process.stderr.columns : process.stdout.columns,
    watchClosed(onClosed) {
      // Without a listener, a write to a closed pipe is an unhandled 'error' event (a stack, exit 1).
      // The error arrives a tick after the write, maybe after the run ended (`--help | head -1`),
      // so the listener stays for the life of the process; stopping only silences the callback.
      let watching = true;
      const onError = (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
        if (watching) onClosed();
      };
      process.stdout.on('error', onError);
      process.stderr.on('error', onError);
      return () => {
        watching = false;
      };
    },
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
