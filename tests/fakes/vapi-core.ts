/**
 * A fake of the Vapi REST API that behaves like the real one (shared/vapi-reference.md §2–§5,
 * §11): the pure core. It holds assistants, tools and phone numbers in memory and answers
 * `handle(request)`; two thin adapters put it on the wire: msw handlers (tests/fakes/vapi.ts)
 * and a real node:http server (tests/fakes/vapi-http.ts).
 *
 * This file must not import vitest or msw: the sync benchmark transpiles and runs it under plain
 * node.
 */
import { randomUUID } from 'node:crypto';

export type FakeKind = 'assistant' | 'tool' | 'phoneNumber';
export type Json = Record<string, unknown>;

export interface FakeRequest {
  method: string;
  /** Path without query, e.g. `/assistant/abc`. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  /** Parsed JSON body (undefined when none); `invalid` for unparseable JSON. */
  body: unknown;
}

export type FakeResponse =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: unknown }
  | { kind: 'network-error' };

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  body: unknown;
  status: number | 'network-error';
  /** Requests in flight when this one arrived (itself included). */
  inFlight: number;
}

export interface FailureRule {
  method?: string | undefined;
  kind?: FakeKind | undefined;
  id?: string | undefined;
  /** Answer this status (5xx, 429…) or drop the connection. */
  status: number | 'network-error';
  /** How many matching requests fail (default: all of them). */
  times?: number | undefined;
  /** With status 429/503: the Retry-After header value. */
  retryAfter?: string | undefined;
}

export interface FakeVapiOptions {
  apiKey?: string;
  orgId?: string;
  /** Added to every answered request, in ms. */
  latencyMs?: number;
  /** More requests in flight than this → 429 with Retry-After. */
  concurrencyCap?: number | undefined;
  /** Retry-After (seconds) sent with the concurrency cap's 429s (default "1"). */
  retryAfterSeconds?: number;
  /** List order by createdAt (Vapi's is undocumented; descending by default). */
  sortOrder?: 'desc' | 'asc';
  /** Start of the fake clock used for createdAt/updatedAt. */
  startTime?: Date;
  /** Replaces the latency wait (tests with fake timers). */
  sleep?: (ms: number) => Promise<void>;
  /**
   * How many writes share one timestamp before the clock moves on (default 1). Real Vapi stamps
   * in milliseconds, so a bulk import ties; set this above 1 to make ties happen.
   */
  writesPerMs?: number;
}

export const FAKE_VAPI_KEY = 'sk-fake-vapi-0123456789abcdef';
export const UNAUTHORIZED_BODY = {
  message: 'Invalid Key. Hot tip, you may be using the private key instead of the public key, or vice versa.',
  error: 'Unauthorized',
  statusCode: 401,
};

const PATHS: Record<string, FakeKind> = { assistant: 'assistant', tool: 'tool', 'phone-number': 'phoneNumber' };
const LABEL: Record<FakeKind, string> = { assistant: 'Assistant', tool: 'Tool', phoneNumber: 'Phone Number' };

/** UpdateAssistantDTO (OAS). */
const ASSISTANT_UPDATE = new Set([
  'transcriber', 'model', 'voice', 'firstMessage', 'firstMessageInterruptionsEnabled', 'firstMessageMode',
  'voicemailDetection', 'clientMessages', 'serverMessages', 'maxDurationSeconds', 'backgroundSound',
  'modelOutputInMessagesEnabled', 'transportConfigurations', 'observabilityPlan', 'credentials', 'hooks', 'name',
  'voicemailMessage', 'endCallMessage', 'endCallPhrases', 'compliancePlan', 'metadata', 'backgroundSpeechDenoisingPlan',
  'analysisPlan', 'artifactPlan', 'startSpeakingPlan', 'stopSpeakingPlan', 'monitorPlan', 'credentialIds', 'server',
  'keypadInputPlan',
]);

/** Update<X>ToolDTO fields by tool type; `type` itself is accepted when unchanged. */
const TOOL_COMMON = ['type', 'messages', 'rejectionPlan'];
const TOOL_UPDATE: Record<string, Set<string>> = {
  function: new Set([...TOOL_COMMON, 'async', 'function', 'server', 'variableExtractionPlan', 'parameters']),
  apiRequest: new Set([...TOOL_COMMON, 'url', 'method', 'headers', 'body', 'credentialId', 'timeoutSeconds', 'name', 'description', 'backoffPlan', 'variableExtractionPlan']),
  transferCall: new Set([...TOOL_COMMON, 'destinations', 'function']),
  endCall: new Set([...TOOL_COMMON, 'function']),
  dtmf: new Set([...TOOL_COMMON, 'function']),
  code: new Set([...TOOL_COMMON, 'async', 'function', 'server', 'code', 'environmentVariables']),
  mcp: new Set([...TOOL_COMMON, 'function', 'server', 'metadata']),
};
const TOOL_DEFAULT_UPDATE = new Set([...TOOL_COMMON, 'function', 'server']);

/** Update<X>PhoneNumberDTO: common fields; `provider` accepted when unchanged. */
const PHONE_UPDATE = new Set([
  'provider', 'name', 'assistantId', 'squadId', 'workflowId', 'fallbackDestination', 'hooks', 'server',
  'numberE164CheckEnabled', 'credentialId', 'twilioAccountSid', 'twilioAuthToken', 'twilioApiKey', 'twilioApiSecret',
  'number', 'sipUri', 'authentication', 'smsEnabled',
]);

/** The Server schema (OAS components.schemas.Server). */
const SERVER_KEYS = new Set(['url', 'timeoutSeconds', 'credentialId', 'headers', 'staticIpAddressesEnabled', 'encryptedPaths', 'backoffPlan']);
/** What an inline tool in model.tools (a Create<X>ToolDTO) may carry. */
const INLINE_TOOL_KEYS = new Set(['type', 'async', 'messages', 'function', 'server', 'rejectionPlan', 'variableExtractionPlan', 'destinations', 'parameters', 'url', 'method', 'headers', 'body', 'credentialId', 'timeoutSeconds', 'name', 'description', 'metadata']);

/**
 * Nested DTOs the real API whitelists too (forbidNonWhitelisted reaches nested objects:
 * `voice.property enableSsmlParsing should not exist`, vapi-reference §2). The union over the
 * providers' schemas: a key no provider has is refused.
 */
const NESTED_KEYS: Record<'voice' | 'model' | 'transcriber', Set<string>> = {
  voice: new Set([
    'provider', 'voiceId', 'model', 'stability', 'similarityBoost', 'style', 'useSpeakerBoost', 'speed', 'optimizeStreamingLatency',
    'enableSsmlParsing', 'autoMode', 'language', 'chunkPlan', 'fallbackPlan', 'cachingEnabled', 'emotion', 'pronunciationDictionaryLocators',
    'inputPreprocessingEnabled', 'inputReformattingEnabled', 'inputMinCharacters', 'inputPunctuationBoundaries', 'server', 'temperature',
  ]),
  model: new Set([
    'provider', 'model', 'messages', 'tools', 'toolIds', 'temperature', 'maxTokens', 'emotionRecognitionEnabled', 'numFastTurns',
    'knowledgeBase', 'knowledgeBaseId', 'fallbackModels', 'toolStrictCompatibilityMode', 'url', 'headers', 'timeoutSeconds',
    'metadataSendMode', 'thinking', 'reasoningEffort',
  ]),
  transcriber: new Set([
    'provider', 'model', 'language', 'smartFormat', 'keywords', 'keyterm', 'endpointing', 'numerals', 'confidenceThreshold',
    'fallbackPlan', 'languageDetectionEnabled', 'codeSwitchingEnabled', 'mipOptOut', 'punctuate', 'profanityFilter', 'redaction',
    // Custom transcribers carry a Server (vapi-reference §4).
    'server',
  ]),
};
/** Phone-number providers: `provider` is the discriminator of the create and update DTOs. */
const PHONE_PROVIDERS = ['byo-phone-number', 'twilio', 'vonage', 'vapi', 'telnyx'];

const clone = <T>(v: T): T => structuredClone(v);
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function badRequest(messages: string[]): FakeResponse {
  return { kind: 'response', status: 400, headers: {}, body: { message: messages, error: 'Bad Request', statusCode: 400 } };
}
function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeResponse {
  return { kind: 'response', status, headers, body };
}

/** class-validator messages for a `Server` object under `prefix` (e.g. "server." or "model.each value in tools.server."). */
function validateServer(server: unknown, prefix: string, out: string[]): void {
  if (server === undefined) return;
  // Server is optional, never nullable (OAS; the SDK types it `server?: Server`): null is refused.
  if (!isObj(server)) {
    out.push(`${prefix.replace(/\.$/, '')} must be an object`);
    return;
  }
  for (const k of Object.keys(server)) if (!SERVER_KEYS.has(k)) out.push(`${prefix}property ${k} should not exist`);
  if (server.url !== undefined && typeof server.url !== 'string') out.push(`${prefix}url must be a string`);
  const t = server.timeoutSeconds;
  if (t !== undefined) {
    if (typeof t !== 'number' || !Number.isFinite(t)) out.push(`${prefix}timeoutSeconds must be a number conforming to the specified constraints`);
    else if (t < 1) out.push(`${prefix}timeoutSeconds must not be less than 1`);
    else if (t > 300) out.push(`${prefix}timeoutSeconds must not be greater than 300`);
  }
  if (server.headers !== undefined && !isObj(server.headers)) out.push(`${prefix}headers must be an object`);
}

/** Top-level fields of the create/update DTOs typed as objects (class-validator: `<k> must be an object`). */
const OBJECT_FIELDS = new Set(['server', 'metadata', 'model', 'voice', 'transcriber', 'function', 'fallbackDestination', 'hooks', 'artifactPlan', 'analysisPlan', 'startSpeakingPlan', 'stopSpeakingPlan', 'monitorPlan', 'voicemailDetection', 'compliancePlan', 'keypadInputPlan', 'observabilityPlan', 'backgroundSpeechDenoisingPlan', 'rejectionPlan', 'variableExtractionPlan', 'authentication']);

/**
 * No field of the assistant, tool or phone-number DTOs is nullable in the OAS (fields that can be
 * cleared say "Pass `null` to clear" and are `nullable: true`; none of these is), so a `null`
 * value is refused rather than taken as "remove" (vapi-reference §2: class-validator messages).
 */
function validateNoNulls(body: Json, out: string[]): void {
  for (const [k, v] of Object.entries(body)) {
    if (v !== null || k === 'server') continue; // server: validateServer says it
    out.push(OBJECT_FIELDS.has(k) ? `${k} must be an object` : `${k} should not be null or undefined`);
  }
}

function validateName(body: Json, out: string[]): void {
  if (body.name === undefined || body.name === null) return;
  if (typeof body.name !== 'string') out.push('name must be a string');
  else if (body.name.length > 40) out.push('name must be shorter than or equal to 40 characters');
}

/** Unknown keys inside voice, model and transcriber (`voice.property bogus should not exist`). */
function validateNested(body: Json, out: string[]): void {
  for (const [key, allowed] of Object.entries(NESTED_KEYS)) {
    const v = body[key];
    if (!isObj(v)) continue;
    for (const k of Object.keys(v)) if (!allowed.has(k)) out.push(`${key}.property ${k} should not exist`);
    // A nested Server (custom voice or transcriber) is validated like any other Server.
    if (v.server !== undefined) validateServer(v.server, `${key}.server.`, out);
  }
}

function validateModel(model: unknown, out: string[]): void {
  if (!isObj(model)) return;
  if (model.tools !== undefined && model.tools !== null) {
    if (!Array.isArray(model.tools)) {
      out.push('model.tools must be an array');
      return;
    }
    for (const tool of model.tools) {
      if (!isObj(tool)) {
        out.push('model.each value in tools must be an object');
        continue;
      }
      for (const k of Object.keys(tool)) if (!INLINE_TOOL_KEYS.has(k)) out.push(`model.each value in tools.property ${k} should not exist`);
      validateServer(tool.server, 'model.each value in tools.server.', out);
    }
  }
  if (model.toolIds !== undefined && model.toolIds !== null && (!Array.isArray(model.toolIds) || model.toolIds.some((x) => typeof x !== 'string'))) {
    out.push('model.each value in toolIds must be a string');
  }
}

export class FakeVapi {
  readonly apiKey: string;
  readonly orgId: string;
  latencyMs: number;
  concurrencyCap: number | undefined;
  retryAfterSeconds: number;
  sortOrder: 'desc' | 'asc';
  readonly store: Record<FakeKind, Map<string, Json>> = { assistant: new Map(), tool: new Map(), phoneNumber: new Map() };
  readonly log: RequestLogEntry[] = [];
  /** Called as each request arrives (before latency); lets tests act mid-run. */
  onRequest: ((entry: { method: string; path: string; kind?: FakeKind; id?: string }) => void) | undefined;
  private rules: Array<FailureRule & { left: number }> = [];
  private clock: number;
  private ticks = 0;
  writesPerMs: number;
  private inFlight = 0;
  maxInFlight = 0;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: FakeVapiOptions = {}) {
    this.apiKey = opts.apiKey ?? FAKE_VAPI_KEY;
    this.orgId = opts.orgId ?? randomUUID();
    this.latencyMs = opts.latencyMs ?? 0;
    this.concurrencyCap = opts.concurrencyCap;
    this.retryAfterSeconds = opts.retryAfterSeconds ?? 1;
    this.sortOrder = opts.sortOrder ?? 'desc';
    this.clock = (opts.startTime ?? new Date('2025-01-01T00:00:00.000Z')).getTime();
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.writesPerMs = Math.max(1, opts.writesPerMs ?? 1);
  }

  /** A non-decreasing timestamp (ISO with ms, Z): `writesPerMs` writes share each millisecond. */
  private tick(): string {
    if (this.ticks++ % this.writesPerMs === 0) this.clock += 1;
    return new Date(this.clock).toISOString();
  }

  private stamp(kind: FakeKind, fields: Json): Json {
    const t = this.tick();
    const obj: Json = { id: randomUUID(), orgId: this.orgId, createdAt: t, updatedAt: t, ...clone(fields) };
    this.store[kind].set(String(obj.id), obj);
    return clone(obj);
  }

  // ---- factories (seed state directly, no request logged) ----

  addAssistant(fields: Json = {}): Json {
    return this.stamp('assistant', {
      name: 'Test assistant',
      model: { provider: 'openai', model: 'gpt-4o', messages: [{ role: 'system', content: 'You are a helpful clinic receptionist.' }] },
      voice: { provider: '11labs', voiceId: 'burt' },
      firstMessage: 'Hello, how can I help?',
      ...fields,
    });
  }

  addTool(fields: Json = {}): Json {
    const name = (isObj(fields.function) && typeof fields.function.name === 'string' ? fields.function.name : undefined) ?? 'bookClinicAppointment';
    return this.stamp('tool', {
      type: 'function',
      async: false,
      function: { name, description: `Calls ${name}`, parameters: { type: 'object', properties: {} } },
      messages: [],
      ...fields,
    });
  }

  addPhoneNumber(fields: Json = {}): Json {
    return this.stamp('phoneNumber', {
      provider: 'twilio',
      number: `+1415555${String(this.store.phoneNumber.size).padStart(4, '0')}`,
      name: 'Main line',
      assistantId: null,
      ...fields,
    });
  }

  get(kind: FakeKind, id: string): Json | undefined {
    const v = this.store[kind].get(id);
    return v ? clone(v) : undefined;
  }

  all(kind: FakeKind): Json[] {
    return [...this.store[kind].values()].map(clone);
  }

  // ---- injection ----

  /** Fails matching requests with `status` (or drops the connection), `times` times (default forever). */
  fail(rule: FailureRule): void {
    this.rules.push({ ...rule, left: rule.times ?? Number.POSITIVE_INFINITY });
  }

  clearFailures(): void {
    this.rules = [];
  }

  /** Requests seen, optionally only one method (e.g. 'PATCH'). */
  requests(method?: string): RequestLogEntry[] {
    return method ? this.log.filter((r) => r.method === method) : [...this.log];
  }

  clearLog(): void {
    this.log.length = 0;
    this.maxInFlight = 0;
  }

  // ---- the API ----

  async handle(req: FakeRequest): Promise<FakeResponse> {
    const method = req.method.toUpperCase();
    const segs = req.path.replace(/\/+$/, '').split('/').filter(Boolean);
    const kind = segs[0] ? PATHS[segs[0]] : undefined;
    const id = segs[1] ? decodeURIComponent(segs[1]) : undefined;
    const entry: RequestLogEntry = {
      method,
      path: req.path,
      query: Object.fromEntries(req.query.entries()),
      body: req.body === undefined ? undefined : clone(req.body),
      status: 0,
      inFlight: 0,
    };
    this.log.push(entry);
    this.inFlight++;
    entry.inFlight = this.inFlight;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      this.onRequest?.({ method, path: req.path, ...(kind ? { kind } : {}), ...(id ? { id } : {}) });
      const res = await this.answer(method, kind, id, segs.length, req);
      entry.status = res.kind === 'network-error' ? 'network-error' : res.status;
      return res;
    } finally {
      this.inFlight--;
    }
  }

  private async answer(method: string, kind: FakeKind | undefined, id: string | undefined, depth: number, req: FakeRequest): Promise<FakeResponse> {
    const auth = req.headers.authorization ?? '';
    if (auth !== `Bearer ${this.apiKey}`) return json(401, UNAUTHORIZED_BODY);

    // The concurrency cap answers at once: an overloaded server does not make you wait to say so.
    if (this.concurrencyCap !== undefined && this.inFlight > this.concurrencyCap) {
      return json(429, { message: 'Rate limit exceeded', error: 'Too Many Requests', statusCode: 429 }, { 'retry-after': String(this.retryAfterSeconds) });
    }
    const rule = this.rules.find((r) => r.left > 0 && (!r.method || r.method === method) && (!r.kind || r.kind === kind) && (!r.id || r.id === id));
    if (rule) {
      rule.left--;
      if (this.latencyMs) await this.sleep(this.latencyMs);
      if (rule.status === 'network-error') return { kind: 'network-error' };
      const headers: Record<string, string> = rule.retryAfter !== undefined ? { 'retry-after': rule.retryAfter } : {};
      const error = rule.status === 429 ? 'Too Many Requests' : rule.status >= 500 ? 'Internal Server Error' : 'Error';
      return json(rule.status, { message: rule.status === 429 ? 'Rate limit exceeded' : error, error, statusCode: rule.status }, headers);
    }
    if (this.latencyMs) await this.sleep(this.latencyMs);

    if (!kind || depth > 2) return json(404, { message: `Cannot ${method} ${req.path}`, error: 'Not Found', statusCode: 404 });
    if (req.body === 'invalid') return badRequest(['Unexpected token in JSON body']);

    if (depth === 1) {
      if (method === 'GET') return this.list(kind, req.query);
      if (method === 'POST') return this.create(kind, req.body);
      return json(404, { message: `Cannot ${method} ${req.path}`, error: 'Not Found', statusCode: 404 });
    }
    const stored = this.store[kind].get(id!);
    if (!stored) return json(404, { message: `${LABEL[kind]} not found`, error: 'Not Found', statusCode: 404 });
    if (method === 'GET') return json(200, clone(stored));
    if (method === 'DELETE') {
      this.store[kind].delete(id!);
      return json(200, clone(stored));
    }
    if (method === 'PATCH') return this.patch(kind, stored, req.body);
    return json(404, { message: `Cannot ${method} ${req.path}`, error: 'Not Found', statusCode: 404 });
  }

  private list(kind: FakeKind, q: URLSearchParams): FakeResponse {
    const msgs: string[] = [];
    let limit = 100;
    if (q.has('limit')) {
      const n = Number(q.get('limit'));
      if (!Number.isFinite(n)) msgs.push('limit must be a number conforming to the specified constraints');
      else if (n > 1000) msgs.push('limit must not be greater than 1000');
      else if (n < 0) msgs.push('limit must not be less than 0');
      else limit = Math.floor(n);
    }
    const filters: Array<[string, (a: string, b: string) => boolean]> = [
      ['Gt', (a, b) => a > b],
      ['Lt', (a, b) => a < b],
      ['Ge', (a, b) => a >= b],
      ['Le', (a, b) => a <= b],
    ];
    const active: Array<(item: Json) => boolean> = [];
    for (const field of ['createdAt', 'updatedAt']) {
      for (const [suffix, cmp] of filters) {
        const v = q.get(`${field}${suffix}`);
        if (v === null) continue;
        const t = Date.parse(v);
        if (Number.isNaN(t)) {
          msgs.push(`${field}${suffix} must be a valid ISO 8601 date string`);
          continue;
        }
        const iso = new Date(t).toISOString();
        active.push((item) => cmp(String(item[field]), iso));
      }
    }
    if (msgs.length) return badRequest(msgs);
    const dir = this.sortOrder === 'desc' ? -1 : 1;
    const items = [...this.store[kind].values()]
      .filter((it) => active.every((f) => f(it)))
      .sort((a, b) => (String(a.createdAt) < String(b.createdAt) ? -dir : String(a.createdAt) > String(b.createdAt) ? dir : 0))
      .slice(0, limit)
      .map(clone);
    return json(200, items);
  }

  private create(kind: FakeKind, body: unknown): FakeResponse {
    if (!isObj(body)) return badRequest(['body must be an object']);
    const msgs: string[] = [];
    // Create<X>DTO: the update fields (plus `type` for tools); anything else is refused.
    const allowed = kind === 'assistant' ? ASSISTANT_UPDATE : kind === 'tool' ? (TOOL_UPDATE[String(body.type)] ?? TOOL_DEFAULT_UPDATE) : PHONE_UPDATE;
    for (const k of Object.keys(body)) if (!allowed.has(k)) msgs.push(`property ${k} should not exist`);
    validateNoNulls(body, msgs);
    validateName(body, msgs);
    validateServer(body.server, 'server.', msgs);
    if (kind === 'assistant') {
      validateModel(body.model, msgs);
      validateNested(body, msgs);
    }
    if (kind === 'tool' && typeof body.type !== 'string') msgs.push('type must be a string');
    if (kind === 'phoneNumber' && !PHONE_PROVIDERS.includes(String(body.provider))) msgs.push(`provider must be one of the following values: ${PHONE_PROVIDERS.join(', ')}`);
    if (msgs.length) return badRequest(msgs);
    return json(201, this.stamp(kind, body));
  }

  private patch(kind: FakeKind, stored: Json, body: unknown): FakeResponse {
    if (!isObj(body)) return badRequest(['body must be an object']);
    const msgs: string[] = [];
    const allowed =
      kind === 'assistant' ? ASSISTANT_UPDATE : kind === 'tool' ? (TOOL_UPDATE[String(stored.type)] ?? TOOL_DEFAULT_UPDATE) : PHONE_UPDATE;
    for (const k of Object.keys(body)) if (!allowed.has(k)) msgs.push(`property ${k} should not exist`);
    if (kind === 'tool' && 'type' in body && body.type !== stored.type) {
      msgs.push(`type must be equal to ${String(stored.type)} (the type of a tool cannot change)`);
    }
    // The update DTO is chosen by `provider` (a oneOf): without it the API cannot tell which.
    if (kind === 'phoneNumber' && !('provider' in body)) msgs.push(`provider must be one of the following values: ${PHONE_PROVIDERS.join(', ')}`);
    if (kind === 'phoneNumber' && 'provider' in body && body.provider !== stored.provider) {
      msgs.push(`provider must be equal to ${String(stored.provider)} (the provider of a phone number cannot change)`);
    }
    validateNoNulls(body, msgs);
    validateName(body, msgs);
    validateServer(body.server, 'server.', msgs);
    if (kind === 'assistant') {
      validateModel(body.model, msgs);
      validateNested(body, msgs);
    }
    if (body.metadata !== undefined && body.metadata !== null && !isObj(body.metadata)) msgs.push('metadata must be an object');
    if (msgs.length) return badRequest(msgs);
    // Shallow merge of top-level keys; a given nested object replaces the stored one whole.
    for (const [k, v] of Object.entries(body)) stored[k] = clone(v);
    stored.updatedAt = this.tick();
    return json(200, clone(stored));
  }
}

/** Parses a raw body the way the server's JSON middleware would. */
export function parseJsonBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return 'invalid';
  }
}
