/**
 * The receiver's event log: one NDJSON line per answered request in
 * `<VOXCTL_DATA_DIR>/events.ndjson`, rotated by size (`events.ndjson.1` … `.N`, oldest dropped).
 * Lines pass through the Redactor, so a configured secret never reaches the disk even if a
 * caller put it in a tool argument. A failing write never fails a request.
 *
 * Durability (kill -9): events are batched, and a batch is written *synchronously* (one
 * `writeSync` of at most `maxBatch` lines) as soon as
 *   - it holds `maxBatch` events (count bound), or
 *   - an event arrives while the oldest pending one is `maxDelayMs` old (time bound, checked on
 *     the request path itself, so a busy event loop cannot postpone it), or
 *   - the `maxDelayMs` timer fires (the quiet case: no further request to carry the write).
 * A timer alone is not enough: under a burst the loop runs request callbacks for seconds before
 * it gets to timers, and asynchronous writes wait for the loop as well (43 % of a burst was lost
 * that way). With the checks above, an event is on disk (in the page cache, which survives the
 * process) by the time the next event arrives `maxDelayMs` after it, or `maxDelayMs` later when
 * none does. The write is to a local file in the page cache: microseconds for a batch, cheaper
 * than the promise and thread-pool round trip it replaces. Only one synchronous stretch of the
 * process's own code (no request is answered during it) can delay the write of the events
 * answered just before it; no JavaScript can run then, so nothing better is possible in-process.
 *
 * Refused requests (any 4xx the receiver answered itself: bad secret, unknown org, too large, not
 * JSON …) are written one line each up to REFUSALS_PER_WINDOW per second (so the id `tunnel up`
 * or the inspector shows for one is found by `webhook logs` and `webhook replay`); beyond that
 * they are counted and written as one summary line per second with counts by status and path,
 * so a flood cannot push answered requests out of the log's retention. A listener shows what
 * the log keeps: `summarized(ev)` says an event went into a summary, and `onSummary` receives
 * each summary line as it is written.
 *
 * Several processes may append to one log (two receivers on one folder): before each batch the
 * file is stat'ed, and a handle whose inode is no longer the log's (another process rotated it)
 * is reopened, so no batch is stranded in a rotated file; the size bound follows the real size.
 */
import { closeSync, fstatSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { ensureWritableDir } from '../util/fs-errors.js';
import path from 'node:path';
import type { Redactor } from '../util/mask.js';

export const EVENT_LOG_NAME = 'events.ndjson';
export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
export const DEFAULT_KEEP = 3;
/** The kill -9 window: a pending event is written by the time it is this old (plus the next event or timer). */
export const DEFAULT_MAX_DELAY_MS = 50;
/** A batch is written at once when it holds this many events. */
export const DEFAULT_MAX_BATCH = 256;
/** Refusals are summed up per window of this length. */
export const REFUSAL_WINDOW_MS = 1000;
/** Refusals written one line each per window; those beyond are summed up. */
export const REFUSALS_PER_WINDOW = 20;
/** At most this many distinct paths are counted per refusal summary; the rest count as `(other)`. */
const MAX_SUMMARY_PATHS = 20;

/** Counts of the requests refused in one window (one line per window instead of one per request). */
export interface RefusalSummary {
  count: number;
  /** ISO times of the first and last refusal counted. */
  from: string;
  to: string;
  byStatus: Record<string, number>;
  byPath: Record<string, number>;
}

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
  /**
   * The request headers (lower-case names), with the values of x-vapi-secret, authorization and
   * the other credential headers masked (`abcd…wxyz`, src/util/mask.ts).
   */
  requestHeaders?: Record<string, string>;
  /** The response body text as sent; left out above MAX_LOGGED_BODY bytes. */
  answer?: string;
  /** Set on a summary line of refused requests (then `status` is the most frequent one). */
  refused?: RefusalSummary;
}

/** Bodies up to this size are kept in the log, so `webhook replay` can send them again. */
export const MAX_LOGGED_BODY = 64 * 1024;

/** Records a request body on its event (the text only when it is small enough to keep); `text` is `raw` decoded, when the caller has it. */
export function recordBody(ev: RequestEvent, raw: Buffer, text?: string): void {
  ev.bodyBytes = raw.length;
  if (raw.length > 0 && raw.length <= MAX_LOGGED_BODY) ev.body = text ?? raw.toString('utf8');
}


/** A request the receiver refused itself (4xx not relayed from a --forward-to backend): beyond REFUSALS_PER_WINDOW a second, summed up. */
export function isRefusal(ev: RequestEvent): boolean {
  return ev.status >= 400 && ev.status < 500 && ev.forwardedTo === undefined && ev.refused === undefined;
}

export interface EventLog {
  readonly file: string;
  /** Queues the event (written with its batch, see above); do not change it afterwards. */
  append(event: RequestEvent): void;
  /** Whether an appended event was counted into a refusal summary instead of written itself. */
  summarized(event: RequestEvent): boolean;
  /** Writes everything appended so far (and the open refusal summary). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A cancellable timer; injectable so tests drive the quiet-case flush without waiting. */
export type SetTimer = (fn: () => void, ms: number) => () => void;

const realTimer: SetTimer = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

export interface EventLogOptions {
  /** The log file, e.g. `<dataDir>/events.ndjson`. */
  file: string;
  maxBytes?: number;
  keep?: number;
  redactor?: Redactor;
  /** The time bound (default 50 ms), see the module comment. */
  maxDelayMs?: number;
  /** The count bound (default 256 events). */
  maxBatch?: number;
  /** Clock in ms (default `performance.now`-like monotonic time) for the time bound and refusal windows. */
  now?: () => number;
  setTimer?: SetTimer;
  /** Called once per failing write (disk full, permissions); the receiver keeps answering. */
  onError?: (e: Error) => void;
  /** Called with each refusal summary line when it is queued (its window closed). */
  onSummary?: (summary: RequestEvent) => void;
  /** Refusals written one by one per window (default REFUSALS_PER_WINDOW). */
  refusalsPerWindow?: number;
  /**
   * Called with each line as the log writes it (redacted JSON, no newline), summaries included:
   * what the log keeps, serialised once (the inspector shows these, at no extra cost per request).
   */
  onLine?: (event: RequestEvent, line: string) => void;
}

/**
 * The project's log, `<dataDir>/events.ndjson`, as `tunnel up` and `webhook test --local` keep
 * it; a failing write is reported once through `warn` (the log itself reports only the first).
 */
export function openProjectEventLog(
  dataDir: string,
  redactor: Redactor,
  warn: (message: string) => void,
  listeners: Pick<EventLogOptions, 'onSummary' | 'onLine'> = {},
): EventLog {
  const file = path.join(ensureWritableDir(dataDir), EVENT_LOG_NAME);
  return openEventLog({ file, redactor, ...listeners, onError: (e) => warn(`Cannot write the event log ${file}: ${e.message}. Requests are still answered.`) });
}

export function rotatedName(file: string, n: number): string {
  return `${file}.${n}`;
}

/** Whether the file exists, is not empty and does not end with a newline (a torn last line). */
function endsTorn(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const size = statSync(file).size;
    if (size === 0) return false;
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, size - 1);
    return b[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

const inc = (m: Record<string, number>, k: string) => {
  m[k] = (m[k] ?? 0) + 1;
};

export function openEventLog(opts: EventLogOptions): EventLog {
  const { file, redactor } = opts;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const keep = Math.max(1, opts.keep ?? DEFAULT_KEEP);
  const maxDelayMs = opts.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const maxBatch = Math.max(1, opts.maxBatch ?? DEFAULT_MAX_BATCH);
  const now = opts.now ?? (() => performance.now());
  const setTimer = opts.setTimer ?? realTimer;
  ensureWritableDir(path.dirname(file));
  let size = 0;
  try {
    size = statSync(file).size;
  } catch {
    size = 0;
  }
  // A crash mid-write leaves a line without its newline: the next write starts on a new line,
  // so the torn line stays one unparseable line (readers skip it) instead of swallowing ours.
  let torn = endsTorn(file);
  /** Lines queued for the next batch (serialised, redacted, without their newline). */
  let pending: string[] = [];
  let oldestAt = 0;
  let fd: number | null = null;
  /** The inode `fd` refers to (another process may rotate the file under it). */
  let fdIno = -1;
  let closed = false;
  const perWindow = Math.max(0, opts.refusalsPerWindow ?? REFUSALS_PER_WINDOW);
  /** Refusals written one by one in the current window. */
  let burst = { start: -Infinity, n: 0 };
  const summarized = new WeakSet<RequestEvent>();
  let reported = false;
  let cancelTimer: (() => void) | null = null;

  // The refusal window being counted.
  let win: { start: number; first: RequestEvent; last: RequestEvent; summary: RefusalSummary; paths: number } | null = null;

  const closeFd = () => {
    if (fd === null) return;
    try {
      closeSync(fd);
    } catch {
      // already gone
    }
    fd = null;
  };

  /**
   * Before a batch: the log as it is on disk now. Another process may have appended (the size
   * bound follows the real size) or rotated it (the handle is for `.1` now: reopen).
   */
  const refresh = () => {
    let st: { ino: number; size: number } | null;
    try {
      st = statSync(file);
    } catch {
      st = null;
    }
    if (fd !== null && (st === null || st.ino !== fdIno)) {
      closeFd();
      torn = false;
    }
    size = st?.size ?? 0;
  };

  const rotate = () => {
    closeFd();
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
    torn = false;
  };

  /**
   * The batch's bytes, encoded once: each line goes straight into a scratch buffer (reused from
   * batch to batch), its UTF-8 size taken from the write itself (no separate byteLength pass).
   */
  let scratch = Buffer.allocUnsafe(0);
  const encode = (lines: string[]): { buf: Buffer; ends: number[] } => {
    // A UTF-16 unit is at most 3 UTF-8 bytes, and the newline 1: room for the worst case.
    let room = 1;
    for (let i = 0; i < lines.length; i++) room += 3 * lines[i]!.length + 1;
    if (scratch.length < room) scratch = Buffer.allocUnsafe(Math.max(room, 2 * scratch.length, 64 * 1024));
    const buf = scratch;
    const ends: number[] = new Array<number>(lines.length);
    let at = 0;
    for (let i = 0; i < lines.length; i++) {
      at += buf.write(lines[i]!, at, 'utf8');
      buf[at++] = 0x0a;
      ends[i] = at;
    }
    return { buf, ends };
  };

  /** Bytes [from, to) of the encoded batch, written whole (a short write is continued). */
  const writeBytes = (buf: Buffer, from: number, to: number) => {
    if (to <= from) return;
    if (fd === null) {
      fd = openSync(file, 'a', 0o600);
      fdIno = fstatSync(fd).ino;
    }
    // After a torn line, start on a new one.
    if (torn) {
      writeSync(fd, '\n');
      size += 1;
      torn = false;
    }
    let done = 0;
    try {
      while (done < to - from) done += writeSync(fd, buf, from + done, to - from - done);
    } finally {
      size += done;
      // A partial write leaves a torn line: the next run starts on a new line.
      if (done < to - from) torn = true;
    }
  };

  const writePending = () => {
    if (pending.length === 0) return;
    const lines = pending;
    pending = [];
    try {
      const { buf, ends } = encode(lines);
      refresh();
      // As many lines as fit go into one write; the log rotates before the line that would
      // push the file past maxBytes.
      let from = 0;
      for (let i = 0; i < ends.length; i++) {
        const start = i === 0 ? 0 : ends[i - 1]!;
        const n = ends[i]! - start;
        if (size + (start - from) > 0 && size + (start - from) + n > maxBytes) {
          writeBytes(buf, from, start);
          from = start;
          if (size > 0) rotate();
        }
      }
      writeBytes(buf, from, ends.length ? ends[ends.length - 1]! : 0);
    } catch (e) {
      closeFd();
      if (!reported) {
        reported = true;
        opts.onError?.(e as Error);
      }
    }
  };

  /**
   * The event's line, serialised once when it is queued (redacted, then handed to `onLine`): the
   * event object itself is not kept, and a batch's write is only the copy to disk. Null when it
   * cannot be serialised.
   */
  const lineOf = (ev: RequestEvent): string | null => {
    let line: string;
    try {
      line = JSON.stringify(ev);
    } catch {
      return null;
    }
    // Redacted before it can reach the disk (or a listener).
    if (redactor) line = redactor.redact(line);
    if (opts.onLine) {
      try {
        opts.onLine(ev, line);
      } catch {
        // a broken listener must not break the log
      }
    }
    return line;
  };

  /** Moves the refusal window's summary line into the batch (when `force`, even if the window is still open). */
  const closeWindow = (t: number, force: boolean) => {
    if (!win || (!force && t - win.start < REFUSAL_WINDOW_MS)) return;
    const s = win.summary;
    const top = (m: Record<string, number>) => Object.entries(m).sort((a, b) => b[1] - a[1])[0]![0];
    const parts = Object.entries(s.byStatus).map(([k, v]) => `${k}×${v}`);
    const summaryEvent: RequestEvent = {
      id: randomUUID(),
      time: s.from,
      method: win.first.method,
      path: top(s.byPath),
      type: 'refused',
      tools: [],
      orgId: null,
      assistantId: null,
      status: Number(top(s.byStatus)),
      latencyMs: 0,
      summary: `${s.count} refused (${parts.join(', ')}); last: ${win.last.error ?? win.last.status}`,
      refused: s,
    };
    win = null;
    const line = lineOf(summaryEvent);
    if (line !== null) {
      if (pending.length === 0) oldestAt = t;
      pending.push(line);
    }
    try {
      opts.onSummary?.(summaryEvent);
    } catch {
      // a broken listener must not break the log
    }
  };

  /** Counts a refusal; true when it opened a new window (its due time is new). */
  const countRefusal = (ev: RequestEvent, t: number): boolean => {
    const opened = !win;
    if (!win) {
      win = { start: t, first: ev, last: ev, paths: 0, summary: { count: 0, from: ev.time, to: ev.time, byStatus: {}, byPath: {} } };
    }
    const s = win.summary;
    s.count++;
    s.to = ev.time;
    win.last = ev;
    inc(s.byStatus, String(ev.status));
    const p = ev.path.length > 200 ? `${ev.path.slice(0, 199)}…` : ev.path;
    if (s.byPath[p] !== undefined || win.paths < MAX_SUMMARY_PATHS) {
      if (s.byPath[p] === undefined) win.paths++;
      inc(s.byPath, p);
    } else inc(s.byPath, '(other)');
    return opened;
  };

  /** Writes what is due at time t; with `all`, everything (flush, close). */
  const tick = (t: number, all: boolean) => {
    closeWindow(t, all);
    if (pending.length && (all || pending.length >= maxBatch || t - oldestAt >= maxDelayMs)) writePending();
    arm();
  };

  // One timer for the quiet case: it fires when the oldest pending event or the refusal window is due.
  function arm() {
    cancelTimer?.();
    cancelTimer = null;
    if (closed || (pending.length === 0 && !win)) return;
    const t = now();
    const dueAt = Math.min(pending.length ? oldestAt + maxDelayMs : Infinity, win ? win.start + REFUSAL_WINDOW_MS : Infinity);
    cancelTimer = setTimer(() => {
      cancelTimer = null;
      tick(now(), false);
    }, Math.max(0, dueAt - t));
  }

  return {
    file,
    append(event) {
      if (closed) return;
      const t = now();
      closeWindow(t, false);
      let dueChanged = false;
      let single = true;
      if (isRefusal(event)) {
        if (t - burst.start >= REFUSAL_WINDOW_MS) burst = { start: t, n: 0 };
        single = burst.n < perWindow;
        if (single) burst.n++;
      }
      if (!single) {
        summarized.add(event);
        dueChanged = countRefusal(event, t);
      } else {
        const line = lineOf(event);
        if (line !== null) {
          if (pending.length === 0) {
            oldestAt = t;
            dueChanged = true;
          }
          pending.push(line);
        }
      }
      if (pending.length >= maxBatch || (pending.length > 0 && t - oldestAt >= maxDelayMs)) {
        writePending();
        dueChanged = true;
      }
      // Re-armed only when the due time changed (the first pending event, a new refusal window, a
      // write), so a flood of refusals costs no timer per request.
      if (cancelTimer === null || dueChanged) arm();
    },
    summarized(event) {
      return summarized.has(event);
    },
    async flush() {
      tick(now(), true);
    },
    async close() {
      if (closed) return;
      tick(now(), true);
      closed = true;
      cancelTimer?.();
      cancelTimer = null;
      closeFd();
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
 * The newest events across the rotated files (oldest first): at most `maxEvents`, read from
 * the end of each file and no more than `maxBytes` in all, so a page can start from the log's
 * tail without reading megabytes of history.
 */
export async function readRecentEvents(file: string, opts: { maxEvents: number; maxBytes: number; keep?: number }): Promise<RequestEvent[]> {
  const keep = opts.keep ?? DEFAULT_KEEP;
  const parts: RequestEvent[][] = [];
  let n = 0;
  let bytes = 0;
  for (const f of [file, ...Array.from({ length: keep }, (_, i) => rotatedName(file, i + 1))]) {
    if (n >= opts.maxEvents || bytes >= opts.maxBytes) break;
    let fh;
    try {
      fh = await open(f, 'r');
    } catch {
      continue;
    }
    try {
      const { size } = await fh.stat();
      const want = Math.min(size, opts.maxBytes - bytes);
      const buf = Buffer.alloc(want);
      await fh.read(buf, 0, want, size - want);
      let text = buf.toString('utf8');
      // A cut in the middle of a line: that line is not ours to parse.
      if (want < size) text = text.slice(text.indexOf('\n') + 1);
      const events = parseEventLines(text);
      const take = events.slice(Math.max(0, events.length - (opts.maxEvents - n)));
      parts.unshift(take);
      n += take.length;
      bytes += want;
    } finally {
      await fh.close();
    }
  }
  return parts.flat();
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
