/**
 * The receiver's HTTP vocabulary, runtime-neutral: the refusal every check throws (HttpError),
 * the one mapping from any failure to an HTTP answer (`errorAnswer`), and the clock type.
 */
import { StoreBusyError } from '../errors.js';
import { maskSecret } from '../util/mask.js';

/** A refusal with its status, a stable code, a message for the caller and a detail for the log. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For the event log only (may name ids the caller should not learn). */
    readonly detail?: string,
    /** Extra response headers (e.g. `allow`, `retry-after`). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

export const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** `application/json`, `application/x+json`, with or without parameters. */
export const JSON_TYPE = /^application\/(?:[a-z0-9.+-]*\+)?json\s*(?:;|$)/i;

/** The headers of every JSON answer (content-length is the adapter's). */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** What the core answers: status, the JSON text as sent, extra headers, and whether to close the connection. */
export interface Answer {
  status: number;
  /** `JSON.stringify` of the body, exactly what goes on the wire. */
  text: string;
  headers?: Readonly<Record<string, string>> | undefined;
  /** Refused before (or while) reading the body: close rather than drain what the caller sends. */
  close: boolean;
}

/**
 * Every failure → its HTTP answer, in this one place. An HttpError carries its own status; a
 * store that cannot be reached while routing is 503 (`storeFailure`); anything else is 500.
 * Returns the answer's body and the event's error text.
 */
export function errorAnswer(e: unknown): { status: number; body: { error: string; message: string }; logError: string; headers?: Readonly<Record<string, string>>; unexpected: boolean } {
  if (e instanceof StoreBusyError) e = storeBusy(e);
  if (e instanceof HttpError) {
    return {
      status: e.status,
      body: { error: e.code, message: e.message },
      logError: clip(e.detail ? `${e.message} (${e.detail})` : e.message, 500),
      ...(e.headers ? { headers: e.headers } : {}),
      unexpected: false,
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  return {
    status: 500,
    body: { error: 'internal', message: 'The receiver failed unexpectedly; see voxctl webhook logs.' },
    logError: clip(`internal error: ${message}`, 500),
    unexpected: true,
  };
}

/** A store lookup that failed (not a refusal): 503, try again shortly. */
export function storeFailure(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof StoreBusyError) return storeBusy(e);
  return new HttpError(503, 'unavailable', 'The store is not reachable right now; try again shortly.', (e as Error).message);
}

/**
 * How long the receiver's store may wait for another process's write transaction (its busy
 * timeout; commands keep the store's 5 s): a booking never freezes the event loop longer than
 * this, and past it the request is answered 503 `store_busy` with Retry-After (Vapi and other
 * callers retry), while the other process finishes.
 */
export const STORE_LOCK_WAIT_MS = 100;

/** Another process held the store's write lock past STORE_LOCK_WAIT_MS. */
function storeBusy(e: StoreBusyError): HttpError {
  return new HttpError(503, 'store_busy', 'The store is busy with another write; try again in a moment.', e.message, { 'retry-after': '1' });
}

/** Names whose values are masked in an event's `requestHeaders`. */
const MASKED = new Set(['x-vapi-secret', 'authorization', 'proxy-authorization', 'cookie', 'apikey', 'x-api-key']);

/**
 * Request headers for the event, credential values masked (`Bearer abcd…wxyz`). Both adapters
 * hand over lower-case names (node:http's `headers`, the Fetch API's `Headers`).
 */
export function loggedHeaders(headers: RequestHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const names = Object.keys(headers);
  for (let i = 0; i < names.length; i++) {
    const key = names[i]!;
    const v = headers[key];
    if (v === undefined) continue;
    const value = typeof v === 'string' ? v : v.join(', ');
    if (MASKED.has(key)) {
      const scheme = /^(bearer|basic)\s+/i.exec(value);
      out[key] = scheme ? `${scheme[0]}${maskSecret(value.slice(scheme[0].length))}` : maskSecret(value);
    } else {
      out[key] = value.length > 500 ? clip(value, 500) : value;
    }
  }
  return out;
}

/** Request headers as node:http gives them: lower-case names. */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Monotonic milliseconds (performance.now by default); every receiver part takes one. */
export type Clock = () => number;
export const monotonic: Clock = () => performance.now();
