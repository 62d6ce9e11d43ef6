/**
 * The receiver's core, runtime-neutral: no `node:` module, no socket, no file. Two adapters
 * serve it: node:http (server.ts, `tunnel up` and `webhook test --local`, kept direct: no
 * Request/Response per call) and fetch (fetch.ts, `(Request) => Promise<Response>`, the Edge
 * Function under Deno). tests/edge/core-imports.test.ts proves no `node:` import reaches it.
 *
 *   POST /api/vapi/tools[/<toolName>]   Vapi server messages ({"message":{…}})
 *   GET  /healthz                        200 {"ok":true}
 *
 * A request goes through it in two steps, so a refusal never waits for (or reads) a body:
 *   begin(method, path, headers)  route → secret (constant time) → Content-Type → Content-Length;
 *                                 answers at once (health, refusals) or asks for the body
 *   pending.complete(bytes)       JSON → envelope → org routing → the message's handler
 * Either way the adapter gets an `Answered`: status, the JSON text as sent, extra headers,
 * whether to close the connection, and the request's event, which the adapter hands back to
 * `record` once the answer is on its way (event log, listeners).
 */
import type { Store } from '../store/types.js';
import { AvailabilityCache, BUILTIN_TOOLS, type ToolHandler } from '../clinic/booking.js';
import type { RequestEvent } from './event-log.js';
import { assistantIdOf, extractToolCalls, MAX_TOOL_CALLS, messageKind, parseEnvelope, TOOL_NAME } from './messages.js';
import { createAuthenticator } from './auth.js';
import { handleAssistantRequest, handleFunctionCall, handleToolCalls } from './handlers.js';
import {
  clip,
  errorAnswer,
  HttpError,
  JSON_TYPE,
  loggedHeaders,
  monotonic,
  storeFailure,
  type Answer,
  type Clock,
  type RequestHeaders,
} from './http.js';
import { createRouter, type Route } from './routing.js';
import { createToolRunner } from './tool-runner.js';
import { TOOLS_PATH } from '../config/spec.js';

export const MAX_BODY_BYTES = 1024 * 1024;
/** Request bodies and answers up to this size are kept on the event (replay, the inspector). */
export const MAX_LOGGED_TEXT = 64 * 1024;

export interface CoreOptions {
  store: Store;
  /** VAPI_WEBHOOK_SECRET. Without it every caller is accepted. */
  secret?: string | undefined;
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
  /** Unexpected failures (a tool that threw, a store that is down). */
  warn?: (message: string) => void;
  /** Called once per answered webhook request (from `record`). */
  emit?: (event: RequestEvent) => void;
  /** Event ids (default crypto.randomUUID). */
  newId?: () => string;
}

/** An answer with the request's event (null: nothing to log, e.g. /healthz). */
export interface Answered extends Answer {
  event: RequestEvent | null;
  /** `clock()` when the request arrived, for the event's latency. */
  started: number;
}

export interface ReceiverCore {
  /** Answers at once (an `Answered`) or asks for the body (a `PendingRequest`). */
  begin(method: string, path: string, headers: RequestHeaders): Answered | PendingRequest;
  /** Sets the event's latency and hands it to `emit`: call once the answer is sent. */
  record(answered: Answered): void;
  /** The secret check alone (the Node adapter's --forward-to relay uses it). */
  authenticate(headers: RequestHeaders): void;
  /** A fresh event for a request (the relay's). */
  newEvent(method: string, path: string, headers: RequestHeaders): RequestEvent;
  /** An answer for a failure, on that event (the one error-to-HTTP mapping: `errorAnswer`). */
  failed(ev: RequestEvent, started: number, e: unknown, close: boolean): Answered;
  readonly maxBodyBytes: number;
  readonly clock: Clock;
  close(): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 length of `text` when it is at most `max` bytes, else -1 (without encoding long texts). */
function utf8LengthUpTo(text: string, max: number): number {
  if (text.length > max) return -1;
  if (text.length * 3 <= max) return text.length; // any length fits; exact size not needed
  const n = encoder.encode(text).length;
  return n <= max ? n : -1;
}

const PATH = /^\/api\/vapi\/tools(?:\/([^/]+))?\/?$/;
const HEALTH: Answer = { status: 200, text: '{"ok":true}', close: false };

/** A request whose body the core needs; the adapter reads it (at most `maxBytes`) and calls `complete`. */
export class PendingRequest {
  constructor(
    readonly core: CoreState,
    readonly ev: RequestEvent,
    readonly started: number,
    readonly arrived: Date,
    readonly pathTool: string | undefined,
  ) {}

  get maxBytes(): number {
    return this.core.maxBody;
  }

  /** The body could not be read (413 while streaming, 408, the caller hung up): answered, connection closed. */
  fail(e: unknown): Answered {
    return this.core.failed(this.ev, this.started, e, true);
  }

  async complete(raw: Uint8Array, decoded?: string): Promise<Answered> {
    const { ev, core } = this;
    try {
      const text = decoded ?? decoder.decode(raw);
      ev.bodyBytes = raw.length;
      if (raw.length > 0 && raw.length <= MAX_LOGGED_TEXT) ev.body = text;
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
        route = (present && core.router.cached(env.message, id)) || (await core.router.route(env.message, kind));
      } catch (e) {
        if (!(e instanceof HttpError)) core.warn(`store lookup failed: ${(e as Error).message}`);
        throw storeFailure(e);
      }
      ev.orgId = route.org?.id ?? null;

      let answer: unknown;
      if (kind === 'informational' || !route.org) {
        answer = {};
      } else if (kind === 'tool-calls') {
        answer = await handleToolCalls(core.runner, env.message, route.org, this.pathTool, ev, this.arrived);
      } else if (kind === 'function-call') {
        answer = await handleFunctionCall(core.runner, env.message, route.org, this.pathTool, ev, this.arrived);
      } else {
        answer = await handleAssistantRequest(core.router, route.org, ev);
      }
      return core.answer(ev, this.started, 200, JSON.stringify(answer), undefined, false);
    } catch (e) {
      return core.failed(ev, this.started, e, false);
    }
  }
}

/** The core's parts (shared by every request). */
class CoreState {
  readonly router;
  readonly runner;
  readonly authenticate;
  readonly maxBody: number;
  readonly now: () => Date;
  readonly clock: Clock;
  readonly newId: () => string;
  readonly warn: (m: string) => void;
  private readonly emitFn: ((ev: RequestEvent) => void) | undefined;

  constructor(opts: CoreOptions) {
    this.now = opts.now ?? (() => new Date());
    this.clock = opts.clock ?? monotonic;
    this.newId = opts.newId ?? (() => crypto.randomUUID());
    this.emitFn = opts.emit;
    const warn = opts.warn;
    this.warn = (m) => {
      try {
        warn?.(m);
      } catch {
        // a broken listener must not break the receiver
      }
    };
    this.authenticate = createAuthenticator(opts.secret);
    this.maxBody = opts.maxBodyBytes ?? MAX_BODY_BYTES;
    const ttl = opts.cacheTtlMs ?? 5000;
    this.router = createRouter(opts.store, ttl, Math.min(opts.missTtlMs ?? 1000, ttl), this.clock);
    this.runner = createToolRunner({
      tools: opts.tools ?? BUILTIN_TOOLS,
      store: opts.store,
      availability: new AvailabilityCache(),
      timeoutMs: opts.toolTimeoutMs ?? 10_000,
      warn: this.warn,
      clock: this.clock,
    });
  }

  newEvent(method: string, path: string, headers: RequestHeaders, arrived: Date): RequestEvent {
    return {
      id: this.newId(),
      time: arrived.toISOString(),
      method,
      path: clip(path, 200),
      type: null,
      tools: [],
      orgId: null,
      assistantId: null,
      status: 0,
      latencyMs: 0,
      requestHeaders: loggedHeaders(headers),
    };
  }

  answer(ev: RequestEvent, started: number, status: number, text: string, headers: Answer['headers'], close: boolean): Answered {
    ev.status = status;
    if (utf8LengthUpTo(text, MAX_LOGGED_TEXT) >= 0) ev.answer = text;
    return { status, text, headers, close, event: ev, started };
  }

  failed(ev: RequestEvent, started: number, e: unknown, close: boolean): Answered {
    const a = errorAnswer(e);
    if (a.unexpected) this.warn(`unexpected receiver failure: ${e instanceof Error ? e.message : String(e)}`);
    ev.error = a.logError;
    return this.answer(ev, started, a.status, JSON.stringify(a.body), a.headers, close || a.unexpected);
  }

  record(answered: Answered): void {
    const ev = answered.event;
    if (!ev) return;
    ev.latencyMs = Math.round((this.clock() - answered.started) * 100) / 100;
    try {
      this.emitFn?.(ev);
    } catch {
      // logging never fails a request
    }
  }

  begin(method: string, path: string, headers: RequestHeaders): Answered | PendingRequest {
    const started = this.clock();
    if ((path === '/healthz' || path === '/healthz/') && (method === 'GET' || method === 'HEAD')) {
      return { ...HEALTH, event: null, started };
    }
    // One clock reading per request: the event's time, and "now" for the tools it runs.
    const arrived = this.now();
    const ev = this.newEvent(method, path, headers, arrived);
    try {
      const m = PATH.exec(path);
      if (!m) throw new HttpError(404, 'not_found', `Nothing here. Vapi messages go to POST ${TOOLS_PATH} or ${TOOLS_PATH}/<toolName>.`);
      let pathTool: string | undefined;
      if (m[1] !== undefined) {
        let name = '';
        try {
          name = m[1].includes('%') ? decodeURIComponent(m[1]) : m[1];
        } catch {
          name = '';
        }
        if (!TOOL_NAME.test(name)) throw new HttpError(404, 'not_found', 'Tool names in the path are 1-64 letters, digits, "_" or "-".');
        pathTool = name;
      }
      if (method !== 'POST') throw new HttpError(405, 'method_not_allowed', `Use POST for ${TOOLS_PATH}.`, undefined, { allow: 'POST' });
      this.authenticate(headers);
      const ctype = headers['content-type'];
      if (typeof ctype !== 'string' || !JSON_TYPE.test(ctype)) {
        throw new HttpError(415, 'unsupported_media_type', 'Send the body as JSON with Content-Type: application/json.', `Content-Type ${clip(String(ctype ?? '(none)'), 80)}`);
      }
      const declared = headers['content-length'];
      if (typeof declared === 'string' && Number(declared) > this.maxBody) {
        throw new HttpError(413, 'payload_too_large', `The body is larger than ${this.maxBody} bytes.`, `Content-Length ${declared}`);
      }
      return new PendingRequest(this, ev, started, arrived, pathTool);
    } catch (e) {
      // Refused before reading the body: close rather than drain what the caller sends.
      return this.failed(ev, started, e, true);
    }
  }
}

export function createReceiverCore(opts: CoreOptions): ReceiverCore {
  const s = new CoreState(opts);
  return {
    begin: (method, path, headers) => s.begin(method, path, headers),
    record: (a) => s.record(a),
    authenticate: (headers) => s.authenticate(headers),
    newEvent: (method, path, headers) => s.newEvent(method, path, headers, s.now()),
    failed: (ev, started, e, close) => s.failed(ev, started, e, close),
    maxBodyBytes: s.maxBody,
    clock: s.clock,
    close: () => s.runner.close(),
  };
}

/** The 413 a body over the limit gets while it streams (both adapters read bodies). */
export function bodyTooLarge(maxBytes: number, detail = 'body exceeded the limit while streaming'): HttpError {
  return new HttpError(413, 'payload_too_large', `The body is larger than ${maxBytes} bytes.`, detail);
}

/** Best effort `type`, assistant and tool names of a relayed body, for the event only. */
export function describeForLog(text: string, ev: RequestEvent): void {
  if (text.length === 0) return;
  try {
    const env = parseEnvelope(JSON.parse(text));
    if (!env.ok) return;
    ev.type = env.type;
    const { present, id } = assistantIdOf(env.message);
    ev.assistantId = present ? (id ?? '(invalid)') : null;
    if (env.type === 'tool-calls') ev.tools = extractToolCalls(env.message).slice(0, MAX_TOOL_CALLS).map((c) => clip(c.name, 64));
  } catch {
    // not JSON: the backend decides what to make of it
  }
}

export type { CoreState };
