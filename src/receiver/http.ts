/**
 * The receiver's HTTP vocabulary: the refusal every check throws (HttpError) and the one way an
 * answer is written (JSON, no-store).
 */
import type { ServerResponse } from 'node:http';

/** A refusal with its status, a stable code, a message for the caller and a detail for the log. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For the event log only (may name ids the caller should not learn). */
    readonly detail?: string,
  ) {
    super(message);
  }
}

export const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** `application/json`, `application/x+json`, with or without parameters. */
export const JSON_TYPE = /^application\/(?:[a-z0-9.+-]*\+)?json\s*(?:;|$)/i;

/** Writes the answer; returns its text (for the event's `answer`). */
export function sendJson(res: ServerResponse, status: number, body: unknown, close = false): string {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
  return text;
}

/** Monotonic milliseconds (performance.now by default); every receiver part takes one. */
export type Clock = () => number;
export const monotonic: Clock = () => performance.now();
