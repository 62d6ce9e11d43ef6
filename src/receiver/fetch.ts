/**
 * The fetch adapter of the receiver core: `(Request) => Promise<Response>`, for Deno (the
 * Supabase Edge Function) and any runtime with web-standard Request/Response. Runtime-neutral
 * like the core: no `node:` import.
 *
 * A function sees its path as `/<function-name>/…`; `prefix` strips that. The body is read from
 * the stream with a running limit (a Content-Length over the limit is refused before reading).
 */
import { bodyTooLarge, PendingRequest, type Answered, type ReceiverCore } from './core.js';
import { HttpError, JSON_CONTENT_TYPE } from './http.js';

export interface FetchAdapterOptions {
  /** A path prefix to strip, e.g. `/voxctl` (the function's name). */
  prefix?: string | undefined;
}

export type FetchHandler = (request: Request) => Promise<Response>;

/** Reads a body stream, refusing it (413) as soon as it passes `max` bytes. */
async function readLimited(request: Request, max: number): Promise<Uint8Array> {
  const stream = request.body;
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) {
        await reader.cancel().catch(() => {});
        throw bodyTooLarge(max);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof HttpError) throw e;
    throw new HttpError(400, 'aborted', 'The client closed the connection before the body was complete.');
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function toResponse(a: Answered): Response {
  const headers: Record<string, string> = { 'content-type': JSON_CONTENT_TYPE, 'cache-control': 'no-store' };
  if (a.headers) Object.assign(headers, a.headers);
  if (a.close) headers.connection = 'close';
  return new Response(a.text, { status: a.status, headers });
}

/** Strips `prefix` from a path when it is the whole first segment (`/voxctl`, `/voxctl/…`). */
export function stripPrefix(path: string, prefix: string | undefined): string {
  if (!prefix || prefix === '/') return path;
  if (path === prefix) return '/';
  if (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47 /* / */) return path.slice(prefix.length);
  return path;
}

export function createFetchHandler(core: ReceiverCore, opts: FetchAdapterOptions = {}): FetchHandler {
  const prefix = opts.prefix ? `/${opts.prefix.replace(/^\/+|\/+$/g, '')}` : undefined;
  return async (request) => {
    const url = new URL(request.url);
    const path = stripPrefix(url.pathname, prefix);
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const step = core.begin(request.method, path, headers);
    let answered: Answered;
    if (step instanceof PendingRequest) {
      let raw: Uint8Array | undefined;
      let refused: Answered | undefined;
      try {
        raw = await readLimited(request, step.maxBytes);
      } catch (e) {
        refused = step.fail(e);
      }
      answered = refused ?? (await step.complete(raw!));
    } else {
      answered = step;
    }
    const response = toResponse(answered);
    // The event is recorded once the answer exists; its sink (events table) never delays it.
    core.record(answered);
    return response;
  };
}
