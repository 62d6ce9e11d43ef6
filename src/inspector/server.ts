/**
 * The browser inspector: a page over the receiver's events, on its own loopback listener (never
 * the tunneled port: tunneled traffic arrives from loopback too).
 *
 * It shows patients' names and phone numbers, so every request passes, in this order:
 *   Host      exactly 127.0.0.1:<port>, localhost:<port> or [::1]:<port> (DNS rebinding), and
 *             only origin-form targets (`/path`, never `http://other/…`);
 *   Sec-Fetch-Site  when sent, same-origin or none (another port of this machine is the same site);
 *   token     `/?token=<per-run random>` is exchanged for an HttpOnly SameSite=Strict cookie and
 *             redirected away from the address bar; every other request needs the cookie
 *             (the event stream too);
 *   Origin    when sent, it must be the inspector's own; state-changing requests are POST with
 *             JSON, the X-Voxctl-Inspector header and their Origin (no CORS header, ever).
 * A failed check is 403 with a JSON body and nothing else. Every answer carries a CSP with
 * `default-src 'none'` and only 'self' for scripts, styles, connections and images, nosniff,
 * no-store and Referrer-Policy: no-referrer. The page renders bodies as text, never as HTML.
 *
 * Live events go out as Server-Sent Events. The receiver never waits for a browser: `publish`
 * puts the event in the ring, one flush per turn of the loop writes the batch once to every client, and a client whose
 * unsent data passes `clientBufferBytes` (a slow or stuck browser) is dropped; it reconnects with
 * `Last-Event-ID` and gets what it missed from the ring.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { templatesDir } from '../config/paths.js';
import type { RequestEvent } from '../receiver/event-log.js';
import { EventRing, type RingEntry } from './ring.js';
import type { ReplayOutcome } from './replay.js';

/** Default port: next to the receiver's 4242, clear of a running ngrok agent's 4040. */
export const DEFAULT_INSPECT_PORT = 4243;
/** The custom header every state-changing request carries (a cross-site form cannot set it). */
export const API_HEADER = 'x-voxctl-inspector';
/** Unsent SSE data a client may hold before it is dropped. */
export const DEFAULT_CLIENT_BUFFER = 1024 * 1024;
/** How long published events are gathered before they go out to the pages (see `flushMs`). */
export const DEFAULT_FLUSH_MS = 0;
const MAX_API_BODY = 2 * 1024 * 1024;

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** What the page is told about where it runs (no secrets). */
export interface InspectorInfo {
  /** `tunnel` (live from the receiver), `log` (following the folder's event log), `remote` (a deployed function's events). */
  mode: 'tunnel' | 'log' | 'remote';
  /** Where replays and copied commands go, when known. */
  receiverUrl: string | null;
  secretRequired: boolean;
  eventLog: string | null;
  /** Org names by id, for the list and the per-org view. */
  orgs: Record<string, string>;
}

export interface InspectorOptions {
  /** 127.0.0.1 (default) or ::1. */
  host?: '127.0.0.1' | '::1';
  port: number;
  ring?: EventRing;
  /** Asked on each page load (and when the page meets an org it cannot name). */
  info: () => InspectorInfo | Promise<InspectorInfo>;
  /** Sends a request again (server-side, with the secret); absent: replay answers 409. */
  replay?: ((req: { event: RequestEvent; body: string }) => Promise<ReplayOutcome>) | undefined;
  /** Applied to every event's JSON before it is kept or sent (the CLI's Redactor). */
  redact?: ((text: string) => string) | undefined;
  clientBufferBytes?: number;
  heartbeatMs?: number;
  /**
   * Events are gathered for this long and go out in one write per page (default 0: at the end of
   * the current turn of the loop). A longer interval means fewer socket writes under load, but a
   * bigger write per page: at 50 ms and ~10,000 requests/s one batch neared DEFAULT_CLIENT_BUFFER
   * and healthy pages were dropped, so the default stays per turn.
   */
  flushMs?: number;
  /** Fixed token (tests); default 32 random bytes per run. */
  token?: string;
  /** Where index.html, app.js and app.css live (default templates/inspector). */
  assetsDir?: string;
}

export interface Inspector {
  /** The URL to open, token included: `http://127.0.0.1:<port>/?token=…`. */
  url: string;
  origin: string;
  port: number;
  ring: EventRing;
  /** Queues an event for the ring and every connected page; never blocks, never throws. */
  publish(event: RequestEvent): void;
  /** The same for an event already serialised and redacted (an event log's line). */
  publishJson(id: string, json: string): void;
  /** Connected event streams. */
  clients(): number;
  close(): Promise<void>;
}

interface Client {
  res: ServerResponse;
  /** The newest event sequence number this page was sent. */
  sent: number;
}

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

const replayBody = z
  .object({
    id: z.string().min(1).max(200),
    /** The edited body (edit-and-replay); default: the logged one. */
    body: z.string().max(1024 * 1024, 'must be at most 1 MiB').optional(),
  })
  .strict();

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

/** Starts the inspector; resolves once it listens. */
export async function startInspector(opts: InspectorOptions): Promise<Inspector> {
  const host = opts.host ?? '127.0.0.1';
  const ring = opts.ring ?? new EventRing();
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const session = randomBytes(32).toString('base64url');
  /** Identifies this run in event ids: a Last-Event-ID from another run means "start over". */
  const run = randomBytes(4).toString('hex');
  const clientBuffer = opts.clientBufferBytes ?? DEFAULT_CLIENT_BUFFER;
  const flushMs = Math.max(0, opts.flushMs ?? DEFAULT_FLUSH_MS);
  const redact = opts.redact ?? ((s: string) => s);
  const assetsDir = opts.assetsDir ?? path.join(templatesDir(), 'inspector');
  const assets = new Map<string, Buffer>();
  for (const [route, a] of Object.entries(ASSETS)) assets.set(route, readFileSync(path.join(assetsDir, a.file)));

  const clients = new Set<Client>();
  let port = 0;
  let cookieName = '';
  let allowedHosts = new Set<string>();

  const headers = (extra: Record<string, string | number> = {}) => ({ ...SECURITY_HEADERS, ...extra });
  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, headers({ 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }));
    res.end(text);
  };
  const forbid = (res: ServerResponse, why: string) => sendJson(res, 403, { error: 'forbidden', message: why });

  const frame = (seq: number, json: string) => `id: ${run}.${seq}\nevent: request\ndata: ${json}\n\n`;

  // ---- publishing: into the ring at once, out to the pages in batches, never waiting for a browser --
  /** Ring entries not yet written to the pages (only while a page is connected). */
  let unsent: RingEntry[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const batch = unsent;
    unsent = [];
    if (batch.length === 0) return;
    const newest = batch[batch.length - 1]!.seq;
    let all: string | null = null;
    for (const c of clients) {
      // A page that connected since got part of the batch from the ring already.
      const fresh = c.sent < batch[0]!.seq ? null : batch.filter((e) => e.seq > c.sent);
      if (fresh && fresh.length === 0) continue;
      const text = fresh ? fresh.map((e) => frame(e.seq, e.json)).join('') : (all ??= batch.map((e) => frame(e.seq, e.json)).join(''));
      c.sent = newest;
      write(c, text);
    }
  };
  const enqueue = (item: RequestEvent | { id: string; json: string }) => {
    let json: string;
    if ('json' in item && typeof item.json === 'string') json = item.json;
    else {
      try {
        json = redact(JSON.stringify(item));
      } catch {
        return;
      }
    }
    const entry = ring.add(item.id, json);
    // No page: the ring is all (a page that connects gets it from there).
    if (!entry || clients.size === 0) return;
    unsent.push(entry);
    if (!scheduled) {
      scheduled = true;
      if (flushMs > 0) setTimeout(flush, flushMs).unref();
      else setImmediate(flush);
    }
  };
  const write = (c: Client, text: string) => {
    // A browser that does not read (stuck, throttled tab) is dropped instead of buffered without
    // bound; its EventSource reconnects with Last-Event-ID and catches up from the ring.
    if (c.res.writableLength > clientBuffer) {
      drop(c);
      return;
    }
    c.res.write(text);
  };
  const drop = (c: Client) => {
    clients.delete(c);
    c.res.destroy();
  };

  const heartbeat = setInterval(() => {
    for (const c of clients) write(c, ': ping\n\n');
  }, opts.heartbeatMs ?? 15_000);
  heartbeat.unref();

  // ---- the checks every request passes ------------------------------------------------------------
  /** The Host the browser used, when it is one of ours. */
  const checkHost = (req: IncomingMessage): string | null => {
    const h = req.headers.host;
    return typeof h === 'string' && allowedHosts.has(h.toLowerCase()) ? h.toLowerCase() : null;
  };
  const hasSession = (req: IncomingMessage) => {
    const v = parseCookies(req.headers.cookie).get(cookieName);
    return v !== undefined && sameSecret(v, session);
  };

  const stream = (req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, headers({ 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive', 'x-accel-buffering': 'no' }));
    req.socket.setNoDelay(true);
    req.socket.setTimeout(0);
    const last = req.headers['last-event-id'];
    const m = typeof last === 'string' ? /^([0-9a-f]{8})\.(\d+)$/.exec(last) : null;
    let text = 'retry: 1000\n\n';
    let from = 0;
    if (m && m[1] === run) {
      from = Number(m[2]);
      // What the ring no longer holds is gone: say so rather than pretend.
      if (from + 1 < ring.firstSeq) text += `event: gap\ndata: ${JSON.stringify({ missed: ring.firstSeq - from - 1 })}\n\n`;
    } else {
      // A new page, or a page from an earlier run: everything the ring holds, from scratch.
      text += `event: reset\ndata: ${JSON.stringify({ run })}\n\n`;
    }
    for (const e of ring.after(from)) text += frame(e.seq, e.json);
    const c: Client = { res, sent: ring.seq };
    clients.add(c);
    res.write(text);
    const gone = () => clients.delete(c);
    res.on('close', gone);
    res.on('error', gone);
  };

  const readJson = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        if (n > MAX_API_BODY) {
          reject(new Error('too large'));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
        } catch {
          reject(new Error('not JSON'));
        }
      });
      req.on('error', reject);
    });

  const apiReplay = async (req: IncomingMessage, res: ServerResponse) => {
    let raw: unknown;
    try {
      raw = await readJson(req);
    } catch (e) {
      sendJson(res, 400, { error: 'bad_request', message: `The request body is ${(e as Error).message}.` });
      return;
    }
    const parsed = replayBody.safeParse(raw);
    if (!parsed.success) {
      sendJson(res, 400, { error: 'bad_request', message: `Send {"id": "<event id>", "body"?: "<JSON text>"}: ${parsed.error.issues[0]?.message ?? 'invalid'}.` });
      return;
    }
    const entry = ring.get(parsed.data.id);
    if (!entry) {
      sendJson(res, 404, { error: 'not_found', message: `No event ${parsed.data.id} in the inspector's memory.` });
      return;
    }
    const event = JSON.parse(entry.json) as RequestEvent;
    const body = parsed.data.body ?? event.body;
    if (body === undefined) {
      sendJson(res, 409, { error: 'not_replayable', message: 'This request has no logged body (refused before it was read, or over 64 KiB).' });
      return;
    }
    if (parsed.data.body !== undefined) {
      try {
        JSON.parse(body);
      } catch (e) {
        sendJson(res, 400, { error: 'invalid_json', message: `The edited body is not JSON: ${(e as Error).message}` });
        return;
      }
    }
    if (!opts.replay) {
      sendJson(res, 409, { error: 'no_receiver', message: 'No receiver to replay to: start one with `voxctl tunnel up`.' });
      return;
    }
    try {
      const out = await opts.replay({ event, body });
      // Everything the page gets passes the redactor: problems quote the answer, url the address.
      sendJson(res, 200, { ...out, url: redact(out.url), answer: out.answer === null ? null : redact(out.answer), problems: out.problems.map(redact) });
    } catch (e) {
      sendJson(res, 502, { error: 'replay_failed', message: redact((e as Error).message) });
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const hostSeen = checkHost(req);
    if (!hostSeen) return forbid(res, 'Unknown Host: open the inspector at the URL voxctl printed.');
    const origin = req.headers.origin;
    const own = `http://${hostSeen}`;
    if (origin !== undefined && origin !== own) return forbid(res, 'Cross-origin requests are refused.');
    // Another page on this machine (any port of 127.0.0.1/localhost is the same site, so
    // SameSite=Strict sends the cookie) can GET without an Origin (<script>, <img>): refuse what
    // the browser says another site or port asked for.
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return forbid(res, 'Requests from other sites or ports are refused.');
    // Origin-form only: an absolute-form target (`GET http://evil/ HTTP/1.1`) or `//host/…` names
    // another authority than the Host checked above.
    const target = req.url ?? '/';
    const base = new URL(own);
    const url = new URL(target, base);
    if (!target.startsWith('/') || url.host !== base.host) return forbid(res, 'Only origin-form request targets (/path) are served.');
    const method = req.method ?? 'GET';

    // The printed URL: its token becomes the session cookie, and leaves the address bar.
    if (url.pathname === '/' && url.searchParams.has('token')) {
      if (method !== 'GET' || !sameSecret(url.searchParams.get('token') ?? '', token)) return forbid(res, 'Wrong token: open the URL voxctl printed for this run.');
      res.writeHead(303, headers({ location: '/', 'set-cookie': `${cookieName}=${session}; HttpOnly; SameSite=Strict; Path=/`, 'content-length': 0 }));
      res.end();
      return;
    }
    if (!hasSession(req)) return forbid(res, 'No session: open the URL voxctl printed (it carries a token for this run).');

    if (method === 'GET' || method === 'HEAD') {
      const asset = ASSETS[url.pathname];
      if (asset) {
        const body = assets.get(url.pathname)!;
        res.writeHead(200, headers({ 'content-type': asset.type, 'content-length': body.length }));
        res.end(method === 'HEAD' ? undefined : body);
        return;
      }
      if (url.pathname === '/api/events') return stream(req, res);
      if (url.pathname === '/api/info') {
        void Promise.resolve()
          .then(() => opts.info())
          .then(
            (info) => sendJson(res, 200, { ...info, events: ring.size }),
            () => sendJson(res, 500, { error: 'internal', message: 'The inspector could not describe itself.' }),
          );
        return;
      }
      return sendJson(res, 404, { error: 'not_found', message: 'Nothing here.' });
    }
    if (method === 'POST' && url.pathname === '/api/replay') {
      // A cross-site form or a simple request cannot set a custom header or a JSON type, and must
      // name its Origin.
      const ctype = req.headers['content-type'];
      if (origin !== own || req.headers[API_HEADER] !== '1' || typeof ctype !== 'string' || !/^application\/json\s*(;|$)/i.test(ctype)) {
        return forbid(res, `POST needs Content-Type: application/json, ${API_HEADER}: 1 and this page's Origin.`);
      }
      void apiReplay(req, res);
      return;
    }
    return forbid(res, 'Only GET and POST /api/replay are allowed.');
  };

  const server = http.createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    try {
      handle(req, res);
    } catch {
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'The inspector failed.' });
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  // Cookies are per host, not per port: name ours after the port, so two inspectors coexist.
  cookieName = `voxctl_inspector_${port}`;
  allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const origin = host === '::1' ? `http://[::1]:${port}` : `http://127.0.0.1:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    ring,
    publish: enqueue,
    publishJson: (id, json) => enqueue({ id, json }),
    clients: () => clients.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        if (scheduled) flush();
        for (const c of clients) c.res.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
