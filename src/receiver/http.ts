/**
 * The receiver's HTTP vocabulary: the refusal every check throws (HttpError) and the one way an
 * answer is written (JSON, no-store).
 */
import type { ServerResponse } from 'node:http';
import { StoreBusyError } from '../errors.js';

/** A refusal with its status, a stable code, a message for the caller and a detail for the log. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For the event log only (may name ids the caller should not learn). */
    readonly detail?: string,
    /** Extra response headers (Retry-After). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

/** How long the receiver's store may wait for another process's write lock before answering 503. */
export const STORE_LOCK_WAIT_MS = 100;

/**
 * The refusal an error is answered with: an HttpError as it is; the store locked by another
 * process's write past STORE_LOCK_WAIT_MS → 503 `store_busy` with Retry-After (Vapi and other
 * callers retry 5xx); anything else undefined (a 500).
 */
export function refusalOf(e: unknown): HttpError | undefined {
  if (e instanceof HttpError) return e;
  if (e instanceof StoreBusyError) {
    return new HttpError(503, 'store_busy', 'The store is busy with another write; try again in a moment.', e.message, { 'retry-after': '1' });
  }
  return undefined;
}

export const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** `application/json`, `application/x+json`, with or without parameters. */
export const JSON_TYPE = /^application\/(?:[a-z0-9.+-]*\+)?json\s*(?:;|$)/i;

export function sendJson(res: ServerResponse, status: number, body: unknown, close = false): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
}

/** Monotonic milliseconds (performance.now by default); every receiver part takes one. */
export type Clock = () => number;
export const monotonic: Clock = () => performance.now();
