/**
 * `--forward-to`: relays a webhook request (method, path, headers, body) to the user's own
 * backend and hands its status, headers and body back, so tool-call answers round-trip. Adds
 * X-Forwarded-For/-Proto/-Host. node:http rather than axios: a relay must pass bodies and
 * statuses through untouched, not interpret them.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** Below Vapi's 20 s default so Vapi gets our 504 instead of its own timeout. */
export const DEFAULT_FORWARD_TIMEOUT_MS = 15_000;
const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

// Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never relayed.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

export interface ForwardTarget {
  url: URL;
  /** The target's path prefix without a trailing slash ("" for a bare origin). */
  prefix: string;
}

/** Parses and checks a --forward-to URL (http or https, no query or fragment). */
export function parseForwardTarget(raw: string): ForwardTarget | { error: string } {
  let url: URL;
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw);
  // Without a scheme only host:port (localhost:3001, 127.0.0.1:8080) or localhost is taken for
  // http://…; a bare word such as "notaurl" would be a host that every request then fails on.
  if (!hasScheme && !/^(?:localhost|\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}(?:\/.*)?$/i.test(raw) && !/^localhost(?:\/.*)?$/i.test(raw)) {
    return { error: `"${raw}" is not a URL; use e.g. http://localhost:3001` };
  }
  try {
    url = new URL(hasScheme ? raw : `http://${raw}`);
  } catch {
    return { error: `"${raw}" is not a URL; use e.g. http://localhost:3001` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { error: `"${raw}" must be an http:// or https:// URL` };
  if (url.search || url.hash) return { error: `"${raw}" must not have a query or fragment` };
  // Never echo the input here: it holds a password.
  if (url.username || url.password) return { error: 'must not carry credentials (user:password@); put them in your backend instead' };
  return { url, prefix: url.pathname.replace(/\/+$/, '') };
}

export interface ForwardResult {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export class ForwardError extends Error {
  constructor(
    readonly kind: 'unreachable' | 'timeout' | 'bad-response',
    message: string,
  ) {
    super(message);
  }
}

const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

function relayHeaders(req: IncomingMessage, body: Buffer, requestId: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const connectionTokens = String(req.headers.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((t) => t.trim());
  for (const [k, v] of Object.entries(req.headers as IncomingHttpHeaders)) {
    if (v === undefined || HOP_BY_HOP.has(k) || connectionTokens.includes(k)) continue;
    if (k === 'x-forwarded-for' || k === 'x-forwarded-proto' || k === 'x-forwarded-host') continue;
    out[k] = v;
  }
  const prior = req.headers['x-forwarded-for'];
  const remote = req.socket.remoteAddress ?? '';
  out['x-forwarded-for'] = [typeof prior === 'string' ? prior : '', remote].filter(Boolean).join(', ');
  // ngrok sets X-Forwarded-Proto/-Host for the public hop; keep them, else describe our hop.
  out['x-forwarded-proto'] = typeof req.headers['x-forwarded-proto'] === 'string' ? req.headers['x-forwarded-proto'] : 'http';
  const host = req.headers['x-forwarded-host'] ?? req.headers.host;
  if (typeof host === 'string') out['x-forwarded-host'] = host;
  out['x-voxctl-request-id'] = requestId;
  out['content-length'] = String(body.length);
  return out;
}

/** Relays one request; rejects with a ForwardError when the backend is down, slow or broken. */
export async function forwardRequest(
  target: ForwardTarget,
  req: IncomingMessage,
  body: Buffer,
  opts: { requestId: string; timeoutMs?: number },
): Promise<ForwardResult> {
  try {
    return await attempt(target, req, body, opts);
  } catch (e) {
    // A kept-alive socket the backend closed at the same moment: one fresh try is safe, since
    // the backend never saw the request.
    if (e instanceof StaleSocketError) return attempt(target, req, body, opts, false);
    throw e;
  }
}

class StaleSocketError extends Error {}

function attempt(
  target: ForwardTarget,
  req: IncomingMessage,
  body: Buffer,
  opts: { requestId: string; timeoutMs?: number },
  reuse = true,
): Promise<ForwardResult> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS;
  const pathAndQuery = req.url && req.url.startsWith('/') ? req.url : '/';
  const isHttps = target.url.protocol === 'https:';
  const where = target.url.origin;
  return new Promise<ForwardResult>((resolve, reject) => {
    let settled = false;
    let answered = false;
    const fail = (e: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      out.destroy();
      reject(e);
    };
    const out = (isHttps ? https : http).request(
      {
        protocol: target.url.protocol,
        hostname: target.url.hostname.replace(/^\[|\]$/g, ''),
        port: target.url.port || (isHttps ? 443 : 80),
        method: req.method ?? 'POST',
        path: `${target.prefix}${pathAndQuery}`,
        headers: { ...relayHeaders(req, body, opts.requestId), host: target.url.host },
        agent: reuse ? (isHttps ? agents.https : agents.http) : false,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (c: Buffer) => {
          total += c.length;
          if (total > MAX_RESPONSE_BYTES) {
            fail(new ForwardError('bad-response', `The backend at ${where} answered with more than 10 MiB.`));
            return;
          }
          chunks.push(c);
        });
        res.on('error', () => fail(new ForwardError('bad-response', `The backend at ${where} broke off its answer.`)));
        res.on('aborted', () => fail(new ForwardError('bad-response', `The backend at ${where} broke off its answer.`)));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const headers: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
          resolve({ status: res.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
        });
      },
    );
    const timer = setTimeout(
      () => fail(new ForwardError('timeout', `The backend at ${where} did not answer within ${Math.round(timeoutMs / 1000)} s.`)),
      timeoutMs,
    );
    out.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET' && out.reusedSocket && !answered) {
        fail(new StaleSocketError('stale keep-alive socket'));
        return;
      }
      const why =
        e.code === 'ECONNREFUSED'
          ? 'connection refused; is it running?'
          : e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
            ? `cannot resolve ${target.url.hostname}`
            : e.code === 'ECONNRESET'
              ? 'it closed the connection'
              : (e.code ?? e.message);
      fail(new ForwardError('unreachable', `The backend at ${where} is not reachable (${why}).`));
    });
    out.end(body);
  });
}
