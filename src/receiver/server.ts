/**
 * The embedded webhook receiver: Vapi server messages in, answers out, on node:http.
 *
 *   POST /api/vapi/tools[/<toolName>]   Vapi server messages ({"message":{…}})
 *   GET  /healthz                        200 {"ok":true}
 *
 * This file wires the parts and owns the server's life; each part has its own file in
 * src/receiver/: auth (the secret), body (the streamed body), routing (org routing and its
 * caches), tool-runner (tools and their watchdog), handlers (the answers), forward
 * (--forward-to), http (HttpError, JSON answers, the clock type), event-log, messages (reading
 * Vapi's envelope). The clinic tools it runs by default live in src/clinic/.
 *
 * Order of checks, cheapest and safest first: route → secret (constant time, before any body
 * byte is read) → Content-Type → Content-Length → body read with a running limit → JSON →
 * envelope → org routing → the message's handler. Every answer is JSON; every answered webhook
 * request (401/403/413 included) becomes one event (event log + `onEvent`).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Store } from '../store/types.js';
import { AvailabilityCache, BUILTIN_TOOLS, type ToolHandler } from '../clinic/booking.js';
import { recordAnswer, recordBody, recordHeaders, type EventLog, type RequestEvent } from './event-log.js';
import { DEFAULT_FORWARD_TIMEOUT_MS, ForwardError, forwardRequest, parseForwardTarget, type ForwardTarget } from './forward.js';
import { assistantIdOf, extractToolCalls, MAX_TOOL_CALLS, messageKind, parseEnvelope, TOOL_NAME } from './messages.js';
import { createAuthenticator } from './auth.js';
import { createBodyReader } from './body.js';
import { handleAssistantRequest, handleFunctionCall, handleToolCalls } from './handlers.js';
import { clip, HttpError, JSON_TYPE, monotonic, sendJson as send, type Clock } from './http.js';
import { createRouter, type Route } from './routing.js';
import { createToolRunner } from './tool-runner.js';
import { TOOLS_PATH } from '../config/spec.js';

export const MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_PORT = 4242;

export interface ReceiverOptions {
  /** Default 127.0.0.1: the tunnel reaches it locally; nothing else should. */
  host?: string;
  /** Default 4242; 0 picks a free port. */
  port?: number;
  store: Store;
  /** VAPI_WEBHOOK_SECRET. Without it every caller is accepted (and `onWarning` says so). */
  secret?: string | undefined;
  /** Relay every webhook to this backend instead of answering it here. */
  forwardTo?: string | undefined;
  eventLog?: EventLog | undefined;
  /** Called once per answered webhook request, after the answer is sent. */
  onEvent?: ((event: RequestEvent) => void) | undefined;
  /** Start-up warnings and unexpected failures (a tool that threw, a store that is down). */
  onWarning?: ((message: string) => void) | undefined;
  /**
   * Warn at start when no secret is set (default true). A receiver that lives for one request on
   * loopback (`webhook test --local`) has nobody to warn.
   */
  warnWithoutSecret?: boolean;
  now?: () => Date;
  /** Monotonic ms for caches, the tool watchdog and latencies (default performance.now). */
  clock?: Clock;
  /** Tool handlers by function name (default: the built-in clinic tools). */
  tools?: ReadonlyMap<string, ToolHandler>;
  /** How long org routing lookups are cached (default 5 s). */
  cacheTtlMs?: number;
  /**
   * How long a "not linked / no such org" answer is cached (default 1 s): another process may
   * link the assistant at any moment, and the receiver should route it almost at once.
   */
  missTtlMs?: number;
  maxBodyBytes?: number;
  /** A tool that runs longer gets an error result (default 10 s, well inside Vapi's 20 s). */
  toolTimeoutMs?: number;
  forwardTimeoutMs?: number;
  /** Time allowed to receive a whole request (default 15 s). */
  requestTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this (default 30 s). */
  keepAliveTimeoutMs?: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>` */
  url: string;
  host: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes everything. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the receiver; resolves once it listens. */
export async function startWebhookReceiver(opts: ReceiverOptions): Promise<WebhookReceiver> {
  const host = opts.host ?? '127.0.0.1';
  const store = opts.store;
  const now = opts.now ?? (() => new Date());
  const clock = opts.clock ?? monotonic;
  const warn = (m: string) => {
    try {
      opts.onWarning?.(m);
    } catch {
      // a broken listener must not break the receiver
    }
  };
  let forward: ForwardTarget | null = null;
  if (opts.forwardTo) {
    const t = parseForwardTarget(opts.forwardTo);
    if ('error' in t) throw new Error(`--forward-to: ${t.error}`);
    forward = t;
  }
  const authenticate = createAuthenticator(opts.secret);
  const bodies = createBodyReader(opts.maxBodyBytes ?? MAX_BODY_BYTES);
  const readBody = bodies.read;
  const ttl = opts.cacheTtlMs ?? 5000;
  const router = createRouter(store, ttl, Math.min(opts.missTtlMs ?? 1000, ttl), clock);
  const runner = createToolRunner({
    tools: opts.tools ?? BUILTIN_TOOLS,
    store,
    availability: new AvailabilityCache(),
    timeoutMs: opts.toolTimeoutMs ?? 10_000,
    warn,
    clock,
  });

  const emit = (ev: RequestEvent) => {
    try {
      opts.eventLog?.append(ev);
    } catch {
      // logging never fails a request
    }
    try {
      opts.onEvent?.(ev);
    } catch {
      // nor does a listener
    }
  };

  // ---- the request ----------------------------------------------------------------------------
  const handle = async (req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> => {
    const started = clock();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';

    if (rawPath === '/healthz' || rawPath === '/healthz/') {
      if (method === 'GET' || method === 'HEAD') {
        send(res, 200, { ok: true });
        return;
      }
    }

    // One clock reading per request: the event's time, and "now" for the tools it runs.
    const arrived = now();
    const ev: RequestEvent = {
      id: randomUUID(),
      time: arrived.toISOString(),
      method,
      path: clip(rawPath, 200),
      type: null,
      tools: [],
      orgId: null,
      assistantId: null,
      status: 0,
      latencyMs: 0,
    };
    recordHeaders(ev, req.headers);
    let bodyRead = false;
    const finish = (status: number, body: unknown, close = false) => {
      if (!res.headersSent && req.socket.writable) recordAnswer(ev, send(res, status, body, close));
      ev.status = status;
      ev.latencyMs = Math.round((clock() - started) * 100) / 100;
      emit(ev);
    };

    try {
      if (forward) {
        authenticate(req);
        const body = await readBody(req, res, expectContinue);
        bodyRead = true;
        recordBody(ev, body);
        describeForLog(body, ev);
        ev.forwardedTo = forward.url.origin;
        try {
          const answer = await forwardRequest(forward, req, body, { requestId: ev.id, timeoutMs: opts.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS });
          res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length });
          res.end(answer.body);
          recordAnswer(ev, answer.body);
          ev.status = answer.status;
          ev.latencyMs = Math.round((clock() - started) * 100) / 100;
          emit(ev);
        } catch (e) {
          if (!(e instanceof ForwardError)) throw e;
          ev.error = e.message;
          const status = e.kind === 'timeout' ? 504 : 502;
          finish(status, {
            error: e.kind === 'timeout' ? 'gateway_timeout' : 'bad_gateway',
            message: `${e.message} voxctl relays webhooks to --forward-to ${forward.url.href}; start your backend there or run without --forward-to.`,
          });
        }
        return;
      }

      const m = /^\/api\/vapi\/tools(?:\/([^/]+))?\/?$/.exec(rawPath);
      let pathTool: string | undefined;
      if (m && m[1] !== undefined) {
        let name = '';
        try {
          name = m[1].includes('%') ? decodeURIComponent(m[1]) : m[1];
        } catch {
          name = '';
        }
        if (!TOOL_NAME.test(name)) throw new HttpError(404, 'not_found', 'Tool names in the path are 1-64 letters, digits, "_" or "-".');
        pathTool = name;
      }
      if (!m) {
        throw new HttpError(404, 'not_found', `Nothing here. Vapi messages go to POST ${TOOLS_PATH} or ${TOOLS_PATH}/<toolName>.`);
      }
      if (method !== 'POST') {
        res.setHeader('allow', 'POST');
        throw new HttpError(405, 'method_not_allowed', `Use POST for ${TOOLS_PATH}.`);
      }
      authenticate(req);
      const ctype = req.headers['content-type'];
      if (typeof ctype !== 'string' || !JSON_TYPE.test(ctype)) {
        throw new HttpError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.', `Content-Type ${clip(String(ctype ?? '(none)'), 80)}`);
      }
      const raw = await readBody(req, res, expectContinue);
      bodyRead = true;
      const text = raw.toString('utf8');
      recordBody(ev, raw, text);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new HttpError(400, 'invalid_json', 'The body is not valid JSON.');
      }
      const env = parseEnvelope(body);
      if (!env.ok) throw new HttpError(400, 'invalid_message', env.error);
      ev.type = env.type;
      const kind = messageKind(env.type);
      const { present, id } = assistantIdOf(env.message);
      ev.assistantId = present ? (id ?? '(invalid)') : null;

      let route: Route;
      try {
        route = (present && router.cached(env.message, id)) || (await router.route(env.message, kind));
      } catch (e) {
        if (e instanceof HttpError) throw e;
        warn(`store lookup failed: ${(e as Error).message}`);
        throw new HttpError(503, 'unavailable', 'The store is not reachable right now; try again shortly.', (e as Error).message);
      }
      ev.orgId = route.org?.id ?? null;

      let answer: unknown;
      if (kind === 'informational' || !route.org) {
        answer = {};
      } else if (kind === 'tool-calls') {
        answer = await handleToolCalls(runner, env.message, route.org, pathTool, ev, arrived);
      } else if (kind === 'function-call') {
        answer = await handleFunctionCall(runner, env.message, route.org, pathTool, ev, arrived);
      } else {
        answer = await handleAssistantRequest(router, route.org, ev);
      }
      finish(200, answer);
    } catch (e) {
      if (res.headersSent) return;
      if (e instanceof HttpError) {
        ev.error = clip(e.detail ? `${e.message} (${e.detail})` : e.message, 500);
        // Refused before (or while) reading the body: close rather than drain what the caller sends.
        finish(e.status, { error: e.code, message: e.message }, !bodyRead);
        return;
      }
      warn(`unexpected receiver failure: ${(e as Error).message}`);
      ev.error = clip(`internal error: ${(e as Error).message}`, 500);
      finish(500, { error: 'internal', message: 'The receiver failed unexpectedly; see voxctl webhook logs.' }, true);
    }
  };

  const requestTimeout = opts.requestTimeoutMs ?? 15_000;
  const server = http.createServer(
    {
      requestTimeout,
      headersTimeout: Math.min(10_000, requestTimeout),
      // How often Node checks those timeouts (its default, 30 s, would let a stalled body sit that long).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4))),
    },
    (req, res) => {
      void handle(req, res, false);
    },
  );
  server.on('checkContinue', (req, res) => {
    void handle(req, res, true);
  });
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 30_000;
  // A malformed request line or headers: answer 400 as JSON instead of dropping the socket.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') bodies.timedOut(socket);
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const text = JSON.stringify({ error: 'bad_request', message: 'Malformed HTTP request.' });
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(opts.port ?? DEFAULT_PORT, host);
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;

  if (!opts.secret && opts.warnWithoutSecret !== false) {
    warn(
      forward
        ? 'VAPI_WEBHOOK_SECRET is not set: every request is relayed to your backend unauthenticated.'
        : 'VAPI_WEBHOOK_SECRET is not set: anyone who learns this URL can call the receiver and book for any linked assistant. Set it in .env.local and run `voxctl assistants sync` so Vapi sends it.',
    );
  }

  let closing: Promise<void> | null = null;
  return {
    url: `http://${shownHost}:${port}`,
    host,
    port,
    close(graceMs = 5000) {
      runner.close();
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

/** Best effort `type` and tool names of a relayed body, for the event log only. */
function describeForLog(body: Buffer, ev: RequestEvent): void {
  if (body.length === 0) return;
  try {
    const env = parseEnvelope(JSON.parse(body.toString('utf8')));
    if (!env.ok) return;
    ev.type = env.type;
    const { present, id } = assistantIdOf(env.message);
    ev.assistantId = present ? (id ?? '(invalid)') : null;
    if (env.type === 'tool-calls') ev.tools = extractToolCalls(env.message).slice(0, MAX_TOOL_CALLS).map((c) => clip(c.name, 64));
  } catch {
    // not JSON: the backend decides what to make of it
  }
}
