/**
 * The Vapi REST client: one axios instance with keep-alive agents, zod validation at the
 * boundary, complete list pagination, bounded retries (429, 5xx, network) with exponential
 * backoff, full jitter and Retry-After, and typed errors. Nothing raw from axios escapes: no
 * Authorization header, no key, no stack of request config.
 */
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { z } from 'zod';
import { ApiError, AuthError, CancelledError, NotFoundError } from '../errors.js';
import { Redactor } from '../util/mask.js';
import { describeIssues, schemas, type ResourceTypes } from './schemas.js';
import type {
  VapiAssistant,
  VapiCallOptions,
  VapiClient,
  VapiPhoneNumber,
  VapiRequestStats,
  VapiResponseInfo,
  VapiTool,
} from './types.js';

export interface RetryOptions {
  /** Attempts per request, the first included (default 5). */
  maxAttempts: number;
  /** First backoff ceiling in ms; doubles per retry (default 500). */
  baseDelayMs: number;
  /** Backoff ceiling in ms (default 8000). */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited out; the request fails instead (default 60 s). */
  maxRetryAfterMs: number;
}

export interface VapiClientOptions {
  baseURL: string;
  apiKey: string;
  redactor?: Redactor | undefined;
  log?: ((msg: string) => void) | undefined;
  retry?: Partial<RetryOptions> | undefined;
  /** Per-attempt timeout in ms (default 30 s). */
  timeoutMs?: number | undefined;
  /** Called after every attempt with its status (0 = network error) and latency. */
  onResponse?: ((info: VapiResponseInfo) => void) | undefined;
  /** Injectable for tests: waiting and randomness. */
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  random?: (() => number) | undefined;
  now?: (() => number) | undefined;
  /** Sockets per host (default 64). */
  maxSockets?: number | undefined;
  /** Items per list page (default and Vapi's maximum: 1000). */
  pageSize?: number | undefined;
  /** Host name resolution for the sockets (default: dns.lookup); tests inject a resolver that fails. */
  lookup?: LookupFunction | undefined;
}

const DEFAULT_RETRY: RetryOptions = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 8000, maxRetryAfterMs: 60_000 };
/** A hard stop for pagination: 1,000 pages of 1,000 items. */
const MAX_PAGES = 1000;

const PATHS = { assistant: '/assistant', tool: '/tool', phoneNumber: '/phone-number' } as const;
type Kind = keyof typeof PATHS;
const LABEL: Record<Kind, string> = { assistant: 'assistant', tool: 'tool', phoneNumber: 'phone number' };

const AUTH_HINT =
  'Check VAPI_PRIVATE_KEY in .env.local (or VAPI_API_KEY): it must be the private API key from the Vapi dashboard, not the public one. Run `voxctl doctor`.';

/** Sleeps `ms`, or rejects with CancelledError when the signal aborts. */
function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError('Interrupted while waiting to retry.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError('Interrupted while waiting to retry.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After as ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, nowMs: number): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** NestJS error bodies: `message` is a string or an array of strings. */
function apiMessages(data: unknown): string[] {
  if (data && typeof data === 'object') {
    const m = (data as { message?: unknown }).message;
    if (typeof m === 'string') return [m];
    if (Array.isArray(m)) return m.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
    const e = (data as { error?: unknown }).error;
    if (typeof e === 'string') return [e];
  }
  if (typeof data === 'string' && data.trim()) return [data.trim().slice(0, 300)];
  return [];
}

interface Attempt {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  params?: Record<string, string | number> | undefined;
  body?: unknown;
}

const NETWORK_HINTS: Record<string, string> = {
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the DNS lookup got no answer (offline, or no DNS server reachable)',
  EAI_FAIL: 'the DNS lookup failed',
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ETIMEDOUT: 'the connection timed out',
  ECONNABORTED: 'the request timed out',
  EPIPE: 'the connection was closed',
};

/**
 * Network failures that another attempt a moment later will not fix, so they fail at once:
 * - ENOTFOUND: the resolver answered that the name does not exist (a typo in VAPI_BASE_URL, or
 *   no DNS at all, as on a machine without a network).
 * - EAI_AGAIN: "try again later" — but the system resolver has already tried (resolv.conf
 *   `attempts` × `timeout`, seconds each), so it means no DNS server answered: offline. Retrying
 *   multiplies that wait and ends the same way.
 * - EAI_FAIL: a non-recoverable resolver failure.
 * ECONNRESET, ETIMEDOUT, ECONNABORTED (our per-attempt timeout), EPIPE and ECONNREFUSED stay
 * transient: the host exists, a connection may work the next time.
 */
const PERMANENT_NETWORK_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL']);
const isDnsFailure = (code: string | undefined) => code !== undefined && PERMANENT_NETWORK_CODES.has(code);

export function createVapiClient(options: VapiClientOptions): VapiClient {
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...(options.retry ?? {}) };
  const redactor = options.redactor ?? new Redactor();
  redactor.add(options.apiKey);
  const log = options.log ?? (() => {});
  const sleep = options.sleep ?? abortableSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const pageSize = options.pageSize ?? 1000;
  const baseURL = options.baseURL.replace(/\/+$/, '');
  const host = (() => {
    try {
      return new URL(baseURL).host;
    } catch {
      return baseURL;
    }
  })();
  const listeners = new Set<(info: VapiResponseInfo) => void>();
  if (options.onResponse) listeners.add(options.onResponse);
  const stats: VapiRequestStats = { requests: 0, retries: 0, rateLimited: 0 };

  const maxSockets = options.maxSockets ?? 64;
  const api: AxiosInstance = axios.create({
    baseURL,
    timeout: options.timeoutMs ?? 30_000,
    headers: { Authorization: `Bearer ${options.apiKey}`, 'Content-Type': 'application/json', Accept: 'application/json' },
    httpAgent: new http.Agent({ keepAlive: true, maxSockets, ...(options.lookup ? { lookup: options.lookup } : {}) }),
    httpsAgent: new https.Agent({ keepAlive: true, maxSockets, ...(options.lookup ? { lookup: options.lookup } : {}) }),
    // Every status is a response to interpret here; axios throws only for network failures.
    validateStatus: () => true,
    // Retries are ours; axios must not follow redirects into another host with our header.
    maxRedirects: 0,
    transitional: { clarifyTimeoutError: true },
  });

  const clean = (s: string) => redactor.redact(s);
  const emit = (info: VapiResponseInfo) => {
    for (const l of listeners) {
      try {
        l(info);
      } catch {
        // A listener's bug must not break the request.
      }
    }
  };

  function networkError(e: unknown, a: Attempt): ApiError {
    const err = e as { code?: string; message?: string };
    const code = err.code ?? 'ERR_NETWORK';
    const why = NETWORK_HINTS[code] ?? clean(String(err.message ?? 'network error')).slice(0, 200);
    const hostname = (() => {
      try {
        return new URL(baseURL).hostname;
      } catch {
        return host;
      }
    })();
    if (isDnsFailure(code)) {
      // Named, not retried: the fix is the network or the host name, not patience.
      const custom = hostname !== 'api.vapi.ai';
      return new ApiError(`Cannot reach Vapi: ${hostname}: ${why} [${code}] (${a.method} ${a.path}; not retried).`, {
        code: 'network',
        hint: custom
          ? `Check that ${hostname} is the right host (VAPI_BASE_URL=${baseURL}; unset it to use https://api.vapi.ai) and that this machine is online.`
          : 'Check that this machine is online and its DNS works (e.g. `nslookup api.vapi.ai`), then run the command again.',
      });
    }
    return new ApiError(`Cannot reach Vapi at ${host} (${a.method} ${a.path}): ${why} [${code}].`, {
      code: 'network',
      hint: `Check your internet connection, proxy and VAPI_BASE_URL (now ${baseURL}).`,
    });
  }

  function httpError(res: AxiosResponse, a: Attempt, kind: Kind | undefined): ApiError | AuthError | NotFoundError {
    const status = res.status;
    const msgs = apiMessages(res.data).map(clean);
    const what = `${a.method} ${a.path}`;
    if (status === 401) {
      return new AuthError(`Vapi rejected the API key (401${msgs.length ? `: ${msgs.join('; ')}` : ''}).`, { hint: AUTH_HINT });
    }
    if (status === 404 && kind) {
      const id = a.path.split('/').pop() ?? '';
      return new NotFoundError(`Vapi has no ${LABEL[kind]} with id ${id} (404).`, {
        hint: `Check the id; \`voxctl agents list\` shows the linked assistant ids.`,
      });
    }
    if (status === 400 || status === 422) {
      const list = msgs.length ? msgs.map((m) => `  - ${m}`).join('\n') : '  - (no details)';
      return new ApiError(`Vapi rejected ${what} (${status} Bad Request):\n${list}`, {
        status,
        code: 'validation',
        hint: 'These fields are not accepted by the Vapi API; this is probably a voxctl bug (run with --debug and report it).',
        details: { messages: msgs },
      });
    }
    if (status === 429) {
      return new ApiError(`Vapi kept rate-limiting ${what} (429) after ${retry.maxAttempts} attempts.`, {
        status,
        code: 'rate_limited',
        hint: 'Wait a minute and run the command again (it skips what is already done), or lower --concurrency.',
      });
    }
    const detail = msgs.length ? `: ${msgs.join('; ')}` : '';
    return new ApiError(`Vapi answered ${status} to ${what}${detail}.`, {
      status,
      code: status >= 500 ? 'server_error' : 'api',
      hint: status >= 500 ? 'Vapi had a server error; try again later (status.vapi.ai).' : undefined,
    });
  }

  const retryable = (status: number) => status === 429 || status === 408 || status >= 500;

  /** One request with retries; returns the final response (status < 500, not 429) or throws. */
  async function request(a: Attempt, kind: Kind | undefined, call: VapiCallOptions = {}): Promise<AxiosResponse> {
    // Creating is not idempotent: retry it only when the server certainly did nothing with it.
    const idempotent = a.method !== 'POST';
    for (let attempt = 1; ; attempt++) {
      if (call.signal?.aborted) throw new CancelledError('Interrupted before the request was sent.');
      const done = call.gate ? await call.gate.acquire(call.signal) : undefined;
      if (attempt > 1) stats.retries++;
      stats.requests++;
      const started = now();
      let res: AxiosResponse | undefined;
      let failure: unknown;
      try {
        res = await api.request({ method: a.method, url: a.path, params: a.params, data: a.body });
      } catch (e) {
        failure = e;
      }
      const latencyMs = now() - started;
      const status = res?.status ?? 0;
      const retryAfterMs = res && (status === 429 || status === 503) ? parseRetryAfter(res.headers['retry-after'], now()) : undefined;
      if (status === 429) stats.rateLimited++;
      const info: VapiResponseInfo = { method: a.method, path: a.path, status, latencyMs, attempt, retryAfterMs };
      done?.(info);
      emit(info);
      log(`${a.method} ${a.path}${a.params ? `?${new URLSearchParams(a.params as Record<string, string>)}` : ''} → ${status || 'network error'} in ${latencyMs} ms`);

      if (res && !retryable(status)) return res;
      const failureCode = res ? undefined : (failure as { code?: string } | undefined)?.code;
      const refused = failureCode === 'ECONNREFUSED';
      const mayRetry = attempt < retry.maxAttempts && !isDnsFailure(failureCode) && (idempotent || status === 429 || refused);
      if (!mayRetry) {
        if (!res) throw networkError(failure, a);
        throw httpError(res, a, kind);
      }
      let delay: number;
      if (retryAfterMs !== undefined) {
        if (retryAfterMs > retry.maxRetryAfterMs) {
          throw new ApiError(`Vapi asked to wait ${Math.ceil(retryAfterMs / 1000)} s before retrying ${a.method} ${a.path} (${status}).`, {
            status,
            code: status === 429 ? 'rate_limited' : 'server_error',
            hint: 'Run the command again later; it skips what is already done.',
          });
        }
        delay = retryAfterMs;
      } else {
        // Full jitter: uniform in [0, min(cap, base·2^(n-1))].
        delay = Math.round(random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1)));
      }
      log(`retrying ${a.method} ${a.path} in ${delay} ms (attempt ${attempt + 1} of ${retry.maxAttempts})`);
      await sleep(delay, call.signal);
    }
  }

  function validate<K extends Kind>(kind: K, data: unknown, what: string): ResourceTypes[K] {
    const res = (schemas[kind] as z.ZodType).safeParse(data);
    if (!res.success) {
      throw new ApiError(`Vapi returned an unexpected ${LABEL[kind]} for ${what}: ${clean(describeIssues(res.error))}.`, {
        code: 'bad_response',
        hint: 'Check VAPI_BASE_URL points at the Vapi API (default https://api.vapi.ai).',
      });
    }
    return res.data as ResourceTypes[K];
  }

  function expectOk(res: AxiosResponse, a: Attempt, kind: Kind): void {
    if (res.status < 200 || res.status >= 300) throw httpError(res, a, kind);
  }

  /** One page of a list: validated items. */
  async function page<K extends Kind>(kind: K, params: Record<string, string | number>, call?: VapiCallOptions): Promise<Array<ResourceTypes[K]>> {
    const a: Attempt = { method: 'GET', path: PATHS[kind], params };
    const res = await request(a, undefined, call);
    expectOk(res, a, kind);
    const data: unknown = res.data;
    const items: unknown[] | undefined = Array.isArray(data)
      ? data
      : data && typeof data === 'object' && Array.isArray((data as { results?: unknown }).results)
        ? ((data as { results: unknown[] }).results)
        : undefined;
    if (!items) {
      throw new ApiError(`Vapi returned something other than a list for GET ${PATHS[kind]}.`, {
        code: 'bad_response',
        hint: 'Check VAPI_BASE_URL points at the Vapi API (default https://api.vapi.ai).',
      });
    }
    return items.map((raw, i) => validate(kind, raw, `GET ${PATHS[kind]} item ${i}`));
  }

  /**
   * Vapi lists have no cursor, only `limit` (≤ 1000) and createdAt/updatedAt filters, and the
   * sort order is not documented. The walk: ask for a page, then for the items created at or
   * before the oldest seen (`createdAtLe`, so items tied with the page boundary are not lost),
   * de-duplicating by id, while pages come back full. A full page made entirely of one createdAt
   * cannot be walked past with createdAt filters: that instant is listed on its own, split by
   * updatedAt the same way, and the walk goes on strictly before it (`createdAtLt`). When the
   * downward walk saw a full page, one upward walk (createdAtGe the newest) catches the other
   * order. Every request counts against MAX_PAGES.
   */
  async function list<K extends Kind>(kind: K, call?: VapiCallOptions): Promise<Array<ResourceTypes[K]>> {
    const byId = new Map<string, ResourceTypes[K]>();
    let pages = 0;
    const fetchPage = async (params: Record<string, string | number>) => {
      if (++pages > MAX_PAGES) throw new ApiError(`Listing ${LABEL[kind]}s did not finish after ${MAX_PAGES} pages.`, { code: 'pagination' });
      const items = await page(kind, { limit: pageSize, ...params }, call);
      let fresh = 0;
      for (const item of items) {
        if (byId.has(item.id)) continue;
        byId.set(item.id, item);
        fresh++;
      }
      return { items, fresh, full: items.length >= pageSize };
    };

    type Field = 'createdAt' | 'updatedAt';
    /** Walks one direction along `field` inside `fixed` filters; true when a full page was seen. */
    const walk = async (field: Field, fixed: Record<string, string>, direction: 'down' | 'up'): Promise<boolean> => {
      // Upward starts at the newest seen so far within `fixed` (downward starts at the top).
      let bound: { value: string; strict: boolean } | undefined;
      if (direction === 'up') {
        let newest: string | undefined;
        for (const item of byId.values()) {
          if (fixed.createdAtGe !== undefined && item.createdAt !== fixed.createdAtGe) continue;
          const v = String(item[field]);
          if (newest === undefined || v > newest) newest = v;
        }
        if (newest !== undefined) bound = { value: newest, strict: false };
      }
      let sawFull = false;
      for (;;) {
        const params: Record<string, string> = { ...fixed };
        if (bound) params[`${field}${direction === 'down' ? (bound.strict ? 'Lt' : 'Le') : bound.strict ? 'Gt' : 'Ge'}`] = bound.value;
        const { items, fresh, full } = await fetchPage(params);
        if (!full) return sawFull;
        sawFull = true;
        const values = items.map((i) => String(i[field]));
        const edge = values.reduce((m, v) => (direction === 'down' ? (v < m ? v : m) : v > m ? v : m));
        if (values.every((v) => v === edge)) {
          // A full page of one instant: list that instant on its own, then step strictly past it.
          if (field === 'updatedAt') {
            throw new ApiError(
              `Cannot list every ${LABEL[kind]}: more than ${pageSize} share createdAt ${fixed.createdAtGe} and updatedAt ${edge}, and Vapi's list has no other way to page.`,
              { code: 'pagination', hint: 'Update a few of them in the Vapi dashboard (any change) and run the command again.' },
            );
          }
          const at = { createdAtGe: edge, createdAtLe: edge };
          if (await walk('updatedAt', at, 'down')) await walk('updatedAt', at, 'up');
          bound = { value: edge, strict: true };
          continue;
        }
        if (fresh === 0) return sawFull; // the server ignores the filter: stop rather than loop
        bound = { value: edge, strict: false };
      }
    };
    if (await walk('createdAt', {}, 'down')) await walk('createdAt', {}, 'up');
    return [...byId.values()];
  }

  async function get<K extends Kind>(kind: K, id: string, call?: VapiCallOptions): Promise<ResourceTypes[K] | null> {
    const a: Attempt = { method: 'GET', path: `${PATHS[kind]}/${encodeURIComponent(id)}` };
    const res = await request(a, kind, call);
    if (res.status === 404) return null;
    expectOk(res, a, kind);
    return validate(kind, res.data, a.path);
  }

  async function create<K extends Kind>(kind: K, body: Record<string, unknown>, call?: VapiCallOptions): Promise<ResourceTypes[K]> {
    const a: Attempt = { method: 'POST', path: PATHS[kind], body };
    const res = await request(a, undefined, call);
    expectOk(res, a, kind);
    return validate(kind, res.data, a.path);
  }

  async function patch<K extends Kind>(kind: K, id: string, body: Record<string, unknown>, call?: VapiCallOptions): Promise<ResourceTypes[K]> {
    const a: Attempt = { method: 'PATCH', path: `${PATHS[kind]}/${encodeURIComponent(id)}`, body };
    const res = await request(a, kind, call);
    expectOk(res, a, kind);
    return validate(kind, res.data, a.path);
  }

  return {
    stats,
    listAssistants: (o) => list('assistant', o) as Promise<VapiAssistant[]>,
    listTools: (o) => list('tool', o) as Promise<VapiTool[]>,
    listPhoneNumbers: (o) => list('phoneNumber', o) as Promise<VapiPhoneNumber[]>,
    getAssistant: (id, o) => get('assistant', id, o),
    getTool: (id, o) => get('tool', id, o),
    getPhoneNumber: (id, o) => get('phoneNumber', id, o),
    createAssistant: (b, o) => create('assistant', b, o),
    createTool: (b, o) => create('tool', b, o),
    createPhoneNumber: (b, o) => create('phoneNumber', b, o),
    patchAssistant: (id, b, o) => patch('assistant', id, b, o),
    patchTool: (id, b, o) => patch('tool', id, b, o),
    patchPhoneNumber: (id, b, o) => patch('phoneNumber', id, b, o),
    onResponse(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
