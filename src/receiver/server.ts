/**
 * The embedded webhook receiver on node:http: the Node adapter of the runtime-neutral core
 * (core.ts). It owns what does not port: sockets, the streamed body with its running limit,
 * 100-continue, the NDJSON event log, `--forward-to` (node:http relay), the server's life.
 * Kept direct: the core takes node's own header object and the body Buffer, and the answer is
 * written with one writeHead/end (no Request/Response per call).
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
import type { EventLog, RequestEvent } from './event-log.js';
import { DEFAULT_FORWARD_TIMEOUT_MS, ForwardError, forwardRequest, parseForwardTarget, type ForwardTarget } from './forward.js';
import { createBodyReader } from './body.js';
import { createReceiverCore, describeForLog, MAX_BODY_BYTES, MAX_LOGGED_TEXT, PendingRequest, type Answered, type CoreOptions } from './core.js';
import { HttpError, JSON_CONTENT_TYPE, monotonic } from './http.js';

export { MAX_BODY_BYTES };
export const DEFAULT_PORT = 4242;

/** The node:http adapter's options: the core's tuning (see CoreOptions), plus what only a server has. */
export interface ReceiverOptions extends Pick<CoreOptions, 'store' | 'now' | 'clock' | 'tools' | 'cacheTtlMs' | 'missTtlMs' | 'maxBodyBytes' | 'toolTimeoutMs'> {
  /** Default 127.0.0.1: the tunnel reaches it locally; nothing else should. */
  host?: string;
  /** Default 4242; 0 picks a free port. */
  port?: number;
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
  const eventLog = opts.eventLog;
  const onEvent = opts.onEvent;
  const core = createReceiverCore({
    store: opts.store,
    secret: opts.secret,
    now: opts.now,
    clock,
    tools: opts.tools,
    cacheTtlMs: opts.cacheTtlMs,
    missTtlMs: opts.missTtlMs,
    maxBodyBytes: opts.maxBodyBytes ?? MAX_BODY_BYTES,
    toolTimeoutMs: opts.toolTimeoutMs,
    warn,
    newId: randomUUID,
    emit: (ev) => {
      try {
        eventLog?.append(ev);
      } catch {
        // logging never fails a request
      }
      try {
        onEvent?.(ev);
      } catch {
        // nor does a listener
      }
    },
  });
  const bodies = createBodyReader(core.maxBodyBytes);
  const readBody = bodies.read;

  /** Writes the core's answer (unless the socket is gone), then records its event. */
  const send = (req: IncomingMessage, res: ServerResponse, a: Answered) => {
    if (!res.headersSent && req.socket.writable) {
      const headers: Record<string, string | number> = {
        'content-type': JSON_CONTENT_TYPE,
        'content-length': Buffer.byteLength(a.text),
        'cache-control': 'no-store',
      };
      if (a.headers) Object.assign(headers, a.headers);
      if (a.close) headers.connection = 'close';
      res.writeHead(a.status, headers);
      res.end(a.text);
    }
    core.record(a);
  };

  // ---- the request ----------------------------------------------------------------------------
  const handle = (req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';
    if (forward && !((rawPath === '/healthz' || rawPath === '/healthz/') && (method === 'GET' || method === 'HEAD'))) {
      void relay(req, res, expectContinue, forward, method, rawPath);
      return;
    }
    const step = core.begin(method, rawPath, req.headers);
    if (!(step instanceof PendingRequest)) {
      send(req, res, step);
      return;
    }
    let reading: Promise<Buffer>;
    try {
      reading = readBody(req, res, expectContinue);
    } catch (e) {
      send(req, res, step.fail(e));
      return;
    }
    reading
      .then(
        (raw) => step.complete(raw, raw.toString('utf8')).then((a) => send(req, res, a)),
        (e: unknown) => send(req, res, step.fail(e)),
      )
      .catch((e: unknown) => {
        warn(`unexpected receiver failure: ${(e as Error).message}`);
        res.destroy();
      });
  };

  /** --forward-to: the secret is checked here, then the body goes to the user's backend and its answer back. */
  const relay = async (req: IncomingMessage, res: ServerResponse, expectContinue: boolean, target: ForwardTarget, method: string, rawPath: string) => {
    const started = clock();
    const ev: RequestEvent = core.newEvent(method, rawPath, req.headers);
    let bodyRead = false;
    try {
      core.authenticate(req.headers);
      const body = await readBody(req, res, expectContinue);
      bodyRead = true;
      const text = body.toString('utf8');
      ev.bodyBytes = body.length;
      if (body.length > 0 && body.length <= MAX_LOGGED_TEXT) ev.body = text;
      describeForLog(text, ev);
      ev.forwardedTo = target.url.origin;
      try {
        const answer = await forwardRequest(target, req, body, { requestId: ev.id, timeoutMs: opts.forwardTimeoutMs ?? DEFAULT_FORWARD_TIMEOUT_MS });
        res.writeHead(answer.status, { ...answer.headers, 'content-length': answer.body.length });
        res.end(answer.body);
        ev.status = answer.status;
        if (answer.body.length <= MAX_LOGGED_TEXT) ev.answer = answer.body.toString('utf8');
        core.record({ status: answer.status, text: '', close: false, event: ev, started });
      } catch (e) {
        if (!(e instanceof ForwardError)) throw e;
        ev.error = e.message;
        const status = e.kind === 'timeout' ? 504 : 502;
        const text = JSON.stringify({
          error: e.kind === 'timeout' ? 'gateway_timeout' : 'bad_gateway',
          message: `${e.message} voxctl relays webhooks to --forward-to ${target.url.href}; start your backend there or run without --forward-to.`,
        });
        ev.status = status;
        ev.answer = text;
        send(req, res, { status, text, close: false, event: ev, started });
      }
    } catch (e) {
      if (res.headersSent) return;
      const a = core.failed(ev, started, e, !bodyRead || !(e instanceof HttpError));
      send(req, res, a);
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
      core.close();
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
