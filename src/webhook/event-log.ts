/**
 * The receiver's event log: one NDJSON line per answered request in
 * `<VOXCTL_DATA_DIR>/events.ndjson`, rotated by size (`events.ndjson.1` … `.N`, oldest dropped).
 * Lines pass through the Redactor, so a configured secret never reaches the disk even if a
 * caller put it in a tool argument. Writes are batched and never block or fail a request.
 */
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open, readFile, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Redactor } from '../util/mask.js';

export const EVENT_LOG_NAME = 'events.ndjson';
export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
export const DEFAULT_KEEP = 3;

/** One answered webhook request. */
export interface RequestEvent {
  id: string;
  /** ISO time the request arrived. */
  time: string;
  method: string;
  path: string;
  /** `message.type`, when the body had one. */
  type: string | null;
  /** Function names of the tool calls, in call order. */
  tools: string[];
  orgId: string | null;
  assistantId: string | null;
  status: number;
  latencyMs: number;
  /** Tool results, shortened. */
  results?: Array<{ toolCallId: string; name: string; result?: string; error?: string }>;
  /** Why the request was refused or failed, shortened. */
  error?: string;
  /** Short answer summary for non-tool messages (e.g. the assistant id an assistant-request got). */
  summary?: string;
  /** The backend the request was relayed to (--forward-to). */
  forwardedTo?: string;
  /** The body as received (UTF-8), for `voxctl webhook replay`; left out above MAX_LOGGED_BODY bytes. */
  body?: string;
  /** Size of the body in bytes, when one was read. */
  bodyBytes?: number;
}

/** Bodies up to this size are kept in the log, so `webhook replay` can send them again. */
export const MAX_LOGGED_BODY = 64 * 1024;

/** Records a request body on its event (the text only when it is small enough to keep); `text` is `raw` decoded, when the caller has it. */
export function recordBody(ev: RequestEvent, raw: Buffer, text?: string): void {
  ev.bodyBytes = raw.length;
  if (raw.length > 0 && raw.length <= MAX_LOGGED_BODY) ev.body = text ?? raw.toString('utf8');
}

/** The event without its body, for one-line-per-request output. */
export function withoutBody(ev: RequestEvent): Omit<RequestEvent, 'body'> {
  if (ev.body === undefined) return ev;
  const { body, ...rest } = ev;
  void body;
  return rest;
}

export interface EventLog {
  readonly file: string;
  /** Queues the event; it is serialised and redacted when its batch is written, so do not change it afterwards. */
  append(event: RequestEvent): void;
  /** Resolves when everything appended so far is on disk. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface EventLogOptions {
  /** The log file, e.g. `<dataDir>/events.ndjson`. */
  file: string;
  maxBytes?: number;
  keep?: number;
  redactor?: Redactor;
  /** How long lines gather before they are written (default 20 ms); `flush()` and `close()` write at once. */
  flushDelayMs?: number;
  /** Called once per failing write (disk full, permissions); the receiver keeps answering. */
  onError?: (e: Error) => void;
}

/**
 * The project's log, `<dataDir>/events.ndjson`, as `tunnel up` and `webhook test --local` keep
 * it; a failing write is reported once through `warn` (the log itself reports only the first).
 */
export function openProjectEventLog(dataDir: string, redactor: Redactor, warn: (message: string) => void): EventLog {
  const file = path.join(dataDir, EVENT_LOG_NAME);
  return openEventLog({ file, redactor, onError: (e) => warn(`Cannot write the event log ${file}: ${e.message}. Requests are still answered.`) });
}

export function rotatedName(file: string, n: number): string {
  return `${file}.${n}`;
}

export function openEventLog(opts: EventLogOptions): EventLog {
  const { file, redactor } = opts;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const keep = Math.max(1, opts.keep ?? DEFAULT_KEEP);
  const flushDelayMs = opts.flushDelayMs ?? 20;
  mkdirSync(path.dirname(file), { recursive: true });
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    size = 0;
  }
  // Events wait here as objects: they become redacted lines in the batch writer, off the request path.
  let pending: RequestEvent[] = [];
  // Kept open between batches (one write per batch, not open+write+close); reopened after rotation.
  let fh: FileHandle | null = null;
  let writing: Promise<void> = Promise.resolve();
  let scheduled = false;
  let closed = false;
  let reported = false;

  const rotate = async () => {
    await fh?.close().catch(() => {});
    fh = null;
    rmSync(rotatedName(file, keep), { force: true });
    for (let n = keep - 1; n >= 1; n--) {
      try {
        renameSync(rotatedName(file, n), rotatedName(file, n + 1));
      } catch {
        // that generation does not exist yet
      }
    }
    renameSync(file, rotatedName(file, 1));
    size = 0;
  };

  /** Lines [from, to) as one buffer (each line encoded straight into it), in one write. */
  const writeLines = async (lines: string[], sizes: number[], from: number, to: number, bytes: number) => {
    if (to <= from) return;
    const buf = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (let i = from; i < to; i++) at += buf.write(lines[i]!, at, sizes[i]!, 'utf8');
    fh ??= await open(file, 'a', 0o600);
    await fh.write(buf, 0, at);
    size += at;
  };

  const writeBatch = async () => {
    scheduled = false;
    wake = null;
    while (pending.length) {
      const events = pending;
      pending = [];
      const lines: string[] = [];
      const sizes: number[] = [];
      for (const ev of events) {
        let line: string;
        try {
          line = JSON.stringify(ev);
        } catch {
          continue;
        }
        // Redacted before it can reach the disk.
        line = `${redactor ? redactor.redact(line) : line}\n`;
        lines.push(line);
        sizes.push(Buffer.byteLength(line));
      }
      try {
        // As many lines as fit go into one write; the log rotates before the line that would
        // push the file past maxBytes.
        let from = 0;
        let bytes = 0;
        for (let i = 0; i < lines.length; i++) {
          const n = sizes[i]!;
          if (size + bytes > 0 && size + bytes + n > maxBytes) {
            await writeLines(lines, sizes, from, i, bytes);
            from = i;
            bytes = 0;
            if (size > 0) await rotate();
          }
          bytes += n;
        }
        await writeLines(lines, sizes, from, lines.length, bytes);
      } catch (e) {
        await fh?.close().catch(() => {});
        fh = null;
        if (!reported) {
          reported = true;
          opts.onError?.(e as Error);
        }
      }
    }
  };

  let wake: (() => void) | null = null;
  let flushing = 0;
  const gather = () =>
    new Promise<void>((resolve) => {
      if (flushing > 0) {
        resolve();
        return;
      }
      const t = setTimeout(resolve, flushDelayMs);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  return {
    file,
    append(event) {
      if (closed) return;
      pending.push(event);
      if (!scheduled) {
        scheduled = true;
        // Gather a few milliseconds of lines into one write: under load that is one syscall for
        // hundreds of requests instead of one each.
        writing = writing.then(gather).then(writeBatch);
      }
    },
    async flush() {
      flushing++;
      try {
        for (;;) {
          wake?.();
          const current = writing;
          await current;
          if (current === writing && pending.length === 0) return;
          if (current === writing) writing = writing.then(writeBatch);
        }
      } finally {
        flushing--;
      }
    },
    async close() {
      await this.flush();
      closed = true;
      await fh?.close().catch(() => {});
      fh = null;
    },
  };
}

/** Parses NDJSON text; malformed lines (a torn write) are skipped. */
export function parseEventLines(text: string): RequestEvent[] {
  const out: RequestEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(v as RequestEvent);
    } catch {
      // skip
    }
  }
  return out;
}

/** The last `limit` events across the rotated files (oldest first). */
export async function readEvents(file: string, opts: { limit?: number; keep?: number } = {}): Promise<RequestEvent[]> {
  const keep = opts.keep ?? DEFAULT_KEEP;
  const files = [...Array.from({ length: keep }, (_, i) => rotatedName(file, keep - i)), file];
  const events: RequestEvent[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch {
      continue;
    }
    events.push(...parseEventLines(text));
  }
  return opts.limit !== undefined && opts.limit >= 0 ? events.slice(Math.max(0, events.length - opts.limit)) : events;
}

/**
 * Calls `onEvent` for every event appended to the log after this call, following rotation,
 * until `signal` aborts. Polls (fs.watch is unreliable across platforms and file systems).
 */
export async function followEvents(
  file: string,
  onEvent: (e: RequestEvent) => void,
  signal: AbortSignal,
  opts: { intervalMs?: number; wait?: ((signal: AbortSignal) => Promise<void>) | undefined } = {},
): Promise<void> {
  const interval = opts.intervalMs ?? 200;
  /** Between polls: `interval` ms, or the caller's own trigger (tests drive each poll). */
  const pause =
    opts.wait ??
    ((sig: AbortSignal) =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          sig.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, interval);
        sig.addEventListener('abort', done);
      }));
  let ino: number | null = null;
  let offset = 0;
  let rest = '';
  try {
    const s = await stat(file);
    ino = s.ino;
    offset = s.size;
  } catch {
    // no log yet: start at the beginning of the file once it appears
  }

  const readFrom = async (f: string, from: number): Promise<number> => {
    let fh;
    try {
      fh = await open(f, 'r');
    } catch {
      return from;
    }
    try {
      const { size } = await fh.stat();
      if (size <= from) return from;
      const buf = Buffer.alloc(size - from);
      await fh.read(buf, 0, buf.length, from);
      const text = rest + buf.toString('utf8');
      const cut = text.lastIndexOf('\n');
      rest = cut === -1 ? text : text.slice(cut + 1);
      if (cut !== -1) for (const e of parseEventLines(text.slice(0, cut))) onEvent(e);
      return size;
    } finally {
      await fh.close();
    }
  };

  while (!signal.aborted) {
    let s;
    try {
      s = await stat(file);
    } catch {
      s = null;
    }
    if (s) {
      if (ino !== null && s.ino !== ino) {
        // Rotated: finish the old file (now `.1`), then start the new one from its beginning.
        try {
          const old = await stat(rotatedName(file, 1));
          if (old.ino === ino) await readFrom(rotatedName(file, 1), offset);
        } catch {
          // already gone
        }
        rest = '';
        offset = 0;
      } else if (s.size < offset) {
        offset = 0;
        rest = '';
      }
      ino = s.ino;
      offset = await readFrom(file, offset);
    }
    await pause(signal);
  }
}
