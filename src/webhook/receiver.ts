/**
 * The embedded webhook receiver: Vapi server messages in, answers out, on node:http.
 *
 *   POST /api/vapi/tools[/<toolName>]   Vapi server messages ({"message":{…}})
 *   GET  /healthz                        200 {"ok":true}
 *
 * Order of checks, cheapest and safest first: route → secret (constant time, before any body
 * byte is read) → Content-Type → Content-Length → body read with a running limit → JSON →
 * envelope → org routing → the message's handler. Every answer is JSON; every answered webhook
 * request (401/403/413 included) becomes one event (event log + `onEvent`).
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Agent, Org, Store } from '../store/types.js';
import { isUuid } from '../store/validate.js';
import { maskSecret } from '../util/mask.js';
import { AvailabilityCache, BUILTIN_TOOLS, type ToolHandler, type ToolOutcome } from './booking.js';
import { recordBody, type EventLog, type RequestEvent } from './event-log.js';
import { DEFAULT_FORWARD_TIMEOUT_MS, ForwardError, forwardRequest, parseForwardTarget, type ForwardTarget } from './forward.js';
import {
  assistantIdOf,
  claimedOrgs,
  extractFunctionCall,
  extractToolCalls,
  MAX_TOOL_CALLS,
  messageKind,
  parseEnvelope,
  TOOL_NAME,
  type JsonRecord,
  type MessageKind,
  type ToolCall,
} from './messages.js';
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
  /** Tool handlers by function name (default: the built-in clinic tools). */
  tools?: ReadonlyMap<string, ToolHandler>;
  /** How long org routing lookups are cached (default 5 s). */
  cacheTtlMs?: number;
  /**
   * How long a "not linked / no such org" answer is cached (default 1 s): another process may
   * link the assistant at any moment, and the receiver should route it almost at once.
   */
  missTtlMs?: number;
  /** Monotonic milliseconds for the routing caches (tests pass a fake clock). */
  monotonicNow?: () => number;
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

class HttpError extends Error {
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

/**
 * A tiny TTL cache: concurrent misses share one query, and a fresh settled entry is handed out
 * as a plain value, so the hot path does not even wait a microtask for it.
 */
class TtlCache<V> {
  private readonly map = new Map<string, { at: number; value: Promise<V>; settled?: { v: V } }>();
  constructor(
    private readonly ttlMs: number,
    /** For a settled null (nothing found): kept shorter, so what another process adds shows up soon. */
    private readonly missTtlMs: number,
    private readonly clock: () => number,
    private readonly max = 10_000,
  ) {}

  private fresh(hit: { at: number; settled?: { v: V } }, now: number): boolean {
    return now - hit.at < (hit.settled && hit.settled.v === null ? this.missTtlMs : this.ttlMs);
  }

  /** A fresh, settled value (undefined when there is none yet). */
  peek(key: string): V | undefined {
    const hit = this.map.get(key);
    return hit?.settled && this.fresh(hit, this.clock()) ? hit.settled.v : undefined;
  }

  get(key: string, load: () => Promise<V>): V | Promise<V> {
    const now = this.clock();
    const hit = this.map.get(key);
    if (hit && this.fresh(hit, now)) return hit.settled ? hit.settled.v : hit.value;
    if (this.map.size >= this.max) this.map.clear();
    const value = load();
    const entry: { at: number; value: Promise<V>; settled?: { v: V } } = { at: now, value };
    this.map.set(key, entry);
    value.then(
      (v) => (entry.settled = { v }),
      () => this.map.delete(key),
    );
    return value;
  }
}



type Route = { org: Org | null; agent: Agent | null };


const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const JSON_TYPE = /^application\/(?:[a-z0-9.+-]*\+)?json\s*(?:;|$)/i;

/** Starts the receiver; resolves once it listens. */
export async function startWebhookReceiver(opts: ReceiverOptions): Promise<WebhookReceiver> {
  const host = opts.host ?? '127.0.0.1';
  const store = opts.store;
  const now = opts.now ?? (() => new Date());
  const tools = opts.tools ?? BUILTIN_TOOLS;
  const maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const toolTimeoutMs = opts.toolTimeoutMs ?? 10_000;
  const secretBytes = opts.secret ? Buffer.from(opts.secret, 'utf8') : null;
  /**
   * Constant time in the secret: the presented value is copied into a buffer of the secret's
   * length (cut or zero-padded) and compared whole; the length check is a separate integer test.
   * Neither the secret's bytes nor where a guess first differs shows in the timing.
   */
  // Reused for every comparison (they are synchronous): no buffer allocation per request.
  const candidate = Buffer.alloc(secretBytes?.length ?? 0);
  const secretMatches = (presented: string): boolean => {
    const secret = secretBytes!;
    candidate.fill(0);
    const written = candidate.write(presented, 'utf8');
    const sameBytes = timingSafeEqual(candidate, secret);
    return sameBytes && written === secret.length && Buffer.byteLength(presented, 'utf8') === secret.length;
  };
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

  const ttl = opts.cacheTtlMs ?? 5000;
  const missTtl = Math.min(opts.missTtlMs ?? 1000, ttl);
  const clock = opts.monotonicNow ?? (() => performance.now());
  const agentCache = new TtlCache<Agent | null>(ttl, missTtl, clock);
  const orgCache = new TtlCache<Org | null>(ttl, missTtl, clock);
  const orgAgentsCache = new TtlCache<Agent[]>(ttl, missTtl, clock);
  const availability = new AvailabilityCache();
  const toolList = [...tools.keys()];

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

  // ---- auth ---------------------------------------------------------------------------------
  const authenticate = (req: IncomingMessage): void => {
    if (!secretBytes) return;
    const headers = req.headers;
    const x = headers['x-vapi-secret'];
    const auth = headers.authorization;
    const bearer = typeof auth === 'string' ? /^bearer\s+(.+)$/i.exec(auth.trim()) : null;
    // Every presented value is compared (no early exit on the first).
    const xOk = typeof x === 'string' && secretMatches(x);
    const bearerOk = bearer !== null && secretMatches(bearer[1]!.trim());
    if (xOk || bearerOk) return;
    const presented: Array<{ via: string; value: string }> = [];
    if (typeof x === 'string') presented.push({ via: 'X-Vapi-Secret', value: x });
    if (bearer) presented.push({ via: 'Authorization: Bearer', value: bearer[1]!.trim() });
    const detail = presented.length
      ? `wrong secret (${presented.map((p) => `${p.via} ${maskSecret(p.value)}`).join(', ')})`
      : 'no X-Vapi-Secret or Authorization: Bearer header';
    throw new HttpError(401, 'unauthorized', 'Missing or wrong X-Vapi-Secret (or Authorization: Bearer) header.', detail);
  };

  // ---- body ---------------------------------------------------------------------------------
  const readBody = (req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<Buffer> => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBody) {
      throw new HttpError(413, 'payload_too_large', `The body is larger than ${maxBody} bytes.`, `Content-Length ${declared}`);
    }
    if (expectContinue) res.writeContinue();
    return new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let total = 0;
      let done = false;
      const finish = (err: Error | null) => {
        if (done) return;
        done = true;
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('close', onClose);
        if (err) reject(err);
        else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
      };
      const onData = (c: Buffer) => {
        total += c.length;
        if (total > maxBody) {
          req.pause();
          finish(new HttpError(413, 'payload_too_large', `The body is larger than ${maxBody} bytes.`, 'body exceeded the limit while streaming'));
          return;
        }
        chunks.push(c);
      };
      const onEnd = () => finish(null);
      const onClose = () =>
        finish(
          timedOut.has(req.socket)
            ? new HttpError(408, 'request_timeout', 'The request body did not arrive in time.', 'request timeout')
            : new HttpError(400, 'aborted', 'The client closed the connection before the body was complete.'),
        );
      const onError = onClose;
      req.on('data', onData);
      req.on('end', onEnd);
      req.on('error', onError);
      req.on('close', onClose);
    });
  };

  /** Sockets Node timed out (it already answered them 408). */
  const timedOut = new WeakSet<object>();

  // ---- routing ------------------------------------------------------------------------------
  const forbid = (message: string, detail: string) => new HttpError(403, 'forbidden', message, detail);

  /**
   * The common case without a promise: a linked assistant whose agent and org are cached, and no
   * org claim that disagrees. Anything else (including every refusal) goes through `routeOrg`.
   */
  const routeCached = (message: JsonRecord, id: string | null): Route | null => {
    if (id === null) return null;
    const agent = agentCache.peek(id);
    if (!agent) return null;
    const orgId = agent.orgId.toLowerCase();
    for (const c of claimedOrgs(message)) if (c.value !== orgId) return null;
    const org = orgCache.peek(agent.orgId);
    return org ? { org, agent } : null;
  };

  const routeOrg = async (message: JsonRecord, kind: MessageKind): Promise<Route> => {
    const needsOrg = kind !== 'informational';
    const { present, id } = assistantIdOf(message);
    const claims = claimedOrgs(message);
    if (present) {
      const cachedAgent = id ? agentCache.get(id, () => store.findAgentByAssistantId(id)) : null;
      const agent = cachedAgent instanceof Promise ? await cachedAgent : cachedAgent;
      if (agent) {
        const bad = claims.find((c) => c.value !== agent.orgId.toLowerCase());
        if (bad) {
          throw forbid(
            `The org claimed in ${bad.path} does not match the calling assistant's org.`,
            `${bad.path} claims org ${bad.value ?? '(not a string)'} but assistant ${id} is linked to org ${agent.orgId}`,
          );
        }
        const cachedOrg = orgCache.get(agent.orgId, () => store.getOrg(agent.orgId));
        const org = cachedOrg instanceof Promise ? await cachedOrg : cachedOrg;
        if (org) return { org, agent };
      }
      if (!needsOrg) return { org: null, agent: null };
      throw forbid(
        'The calling assistant is not linked to any org in this store.',
        `assistant ${id ?? '(invalid id)'} is not linked (voxctl agents link --org <id> --type <type> --assistant-id ${id ?? '<id>'})`,
      );
    }
    if (claims.length === 0) {
      if (!needsOrg) return { org: null, agent: null };
      throw forbid('The message names no assistant (message.call.assistantId) and no org.', 'no assistant id and no org claim');
    }
    const values = new Set(claims.map((c) => c.value));
    const claimed = claims[0]!.value;
    if (values.size > 1 || claimed === null) {
      throw forbid('The message claims conflicting orgs.', `claims: ${claims.map((c) => `${c.path}=${c.value ?? '(not a string)'}`).join(', ')}`);
    }
    const org = isUuid(claimed) ? await orgCache.get(claimed, () => store.getOrg(claimed)) : null;
    if (org) return { org, agent: null };
    if (!needsOrg) return { org: null, agent: null };
    throw forbid('The org the message claims does not exist in this store.', `claimed org ${clip(claimed, 80)} does not exist`);
  };

  // ---- handlers -----------------------------------------------------------------------------
  const SORRY = 'Sorry, something went wrong on our side. Please try again in a moment.';
  const toolFailed = (call: ToolCall, org: Org, e: unknown): ToolOutcome => {
    warn(`tool ${call.name} failed for org ${org.id}: ${e instanceof Error ? e.message : String(e)}`);
    return { error: SORRY };
  };

  // One watchdog for every running tool instead of a timer per call (the hot path stays cheap).
  const running = new Set<{ deadline: number; fail: () => void }>();
  const watchdog = setInterval(
    () => {
      const t = performance.now();
      for (const r of running) if (r.deadline <= t) r.fail();
    },
    Math.max(10, Math.min(250, Math.floor(toolTimeoutMs / 4))),
  );
  watchdog.unref();

  /**
   * Runs one call. A tool that throws, rejects or runs past `toolTimeoutMs` gets the generic
   * error result (and a warning); the answer never waits longer than the deadline.
   */
  const runTool = (call: ToolCall, org: Org, at: Date): ToolOutcome | Promise<ToolOutcome> => {
    if (!call.name) return { error: 'The tool call has no function name.' };
    if (!call.args) return { error: call.argsError ?? 'The tool arguments could not be read.' };
    const handler = tools.get(call.name);
    if (!handler) {
      return { error: `Unknown tool "${clip(call.name, 64)}". This receiver handles ${toolList.join(', ')}.` };
    }
    let work: Promise<ToolOutcome>;
    try {
      work = handler(call.args, { org, store, now: at, availability });
    } catch (e) {
      return toolFailed(call, org, e);
    }
    return new Promise<ToolOutcome>((resolve) => {
      const entry = {
        deadline: performance.now() + toolTimeoutMs,
        fail: () => {
          running.delete(entry);
          resolve(toolFailed(call, org, new Error(`${call.name} took longer than ${toolTimeoutMs} ms`)));
        },
      };
      running.add(entry);
      Promise.resolve(work).then(
        (v) => {
          if (running.delete(entry)) resolve(v);
        },
        (e: unknown) => {
          if (running.delete(entry)) resolve(toolFailed(call, org, e));
        },
      );
    });
  };

  const handleToolCalls = async (message: JsonRecord, org: Org, pathTool: string | undefined, ev: RequestEvent, at: Date) => {
    const calls = extractToolCalls(message, pathTool);
    ev.tools = calls.slice(0, MAX_TOOL_CALLS).map((c) => clip(c.name, 64));
    const results: Array<{ toolCallId: string; name: string; result?: string; error?: string }> = [];
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]!;
      let outcome: ToolOutcome | Promise<ToolOutcome> =
        i < MAX_TOOL_CALLS ? runTool(call, org, at) : { error: `Too many tool calls in one message (at most ${MAX_TOOL_CALLS}).` };
      if (outcome instanceof Promise) outcome = await outcome;
      results.push({ toolCallId: call.id, name: call.name, ...outcome });
    }
    ev.results = results.slice(0, MAX_TOOL_CALLS).map((r) => ({
      toolCallId: clip(r.toolCallId, 100),
      name: clip(r.name, 64),
      ...(r.result !== undefined ? { result: clip(r.result, 300) } : { error: clip(r.error ?? '', 300) }),
    }));
    return { results };
  };

  const handleFunctionCall = async (message: JsonRecord, org: Org, pathTool: string | undefined, ev: RequestEvent, at: Date) => {
    const call = extractFunctionCall(message, pathTool);
    if (!call) {
      ev.error = 'function-call without message.functionCall';
      const text = 'The function call has no message.functionCall {name, parameters}.';
      return { result: text, error: text };
    }
    ev.tools = [clip(call.name, 64)];
    const outcome = await runTool(call, org, at);
    if ('result' in outcome) {
      ev.summary = clip(outcome.result, 300);
      return { result: outcome.result };
    }
    ev.error = clip(outcome.error, 300);
    return { result: outcome.error, error: outcome.error };
  };

  const handleAssistantRequest = async (org: Org, ev: RequestEvent) => {
    const agents = await orgAgentsCache.get(org.id, () => store.listAgents({ orgId: org.id }));
    const chosen = agents.find((a) => a.type === 'inbound') ?? (agents.length === 1 ? agents[0] : undefined);
    if (!chosen) {
      ev.error = `org ${org.id} has no inbound agent (voxctl agents link --type inbound)`;
      return { error: 'Sorry, this number is not set up to take calls yet. Please try again later.' };
    }
    ev.summary = `assistantId ${chosen.vapiAssistantId} (${chosen.type})`;
    return { assistantId: chosen.vapiAssistantId };
  };

  // ---- the request ----------------------------------------------------------------------------
  const send = (res: ServerResponse, status: number, body: unknown, close = false) => {
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    };
    if (close) headers.connection = 'close';
    res.writeHead(status, headers);
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> => {
    const started = performance.now();
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
    let bodyRead = false;
    const finish = (status: number, body: unknown, close = false) => {
      if (!res.headersSent && req.socket.writable) send(res, status, body, close);
      ev.status = status;
      ev.latencyMs = Math.round((performance.now() - started) * 100) / 100;
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
          ev.status = answer.status;
          ev.latencyMs = Math.round((performance.now() - started) * 100) / 100;
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
        route = (present && routeCached(env.message, id)) || (await routeOrg(env.message, kind));
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
        answer = await handleToolCalls(env.message, route.org, pathTool, ev, arrived);
      } else if (kind === 'function-call') {
        answer = await handleFunctionCall(env.message, route.org, pathTool, ev, arrived);
      } else {
        answer = await handleAssistantRequest(route.org, ev);
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
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') timedOut.add(socket);
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
      clearInterval(watchdog);
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
