/**
 * Vapi resources as voxctl sees them: the few fields it reads are typed, every other field is
 * kept verbatim (Vapi PATCH replaces nested objects whole, so nothing may be dropped).
 */
export interface VapiServer {
  url?: string;
  timeoutSeconds?: number;
  credentialId?: string | null;
  headers?: Record<string, unknown> | null;
  backoffPlan?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface VapiFunctionTool {
  type: string;
  function?: { name?: string; [key: string]: unknown } | null;
  server?: VapiServer | null;
  [key: string]: unknown;
}

export interface VapiAssistant {
  id: string;
  orgId?: string;
  name?: string | null;
  createdAt: string;
  updatedAt?: string;
  server?: VapiServer | null;
  metadata?: Record<string, unknown> | null;
  model?: { toolIds?: string[] | null; tools?: VapiFunctionTool[] | null; [key: string]: unknown } | null;
  [key: string]: unknown;
}

export interface VapiTool extends VapiFunctionTool {
  id: string;
  orgId?: string;
  createdAt: string;
  updatedAt?: string;
}

export interface VapiPhoneNumber {
  id: string;
  provider?: string;
  assistantId?: string | null;
  number?: string;
  createdAt: string;
  updatedAt?: string;
  server?: VapiServer | null;
  [key: string]: unknown;
}

export type VapiResourceKind = 'assistant' | 'tool' | 'phoneNumber';

export interface VapiRequestStats {
  /** HTTP requests sent (every attempt counts). */
  requests: number;
  /** Attempts that were retries of an earlier one. */
  retries: number;
  /** Responses with status 429. */
  rateLimited: number;
}

/** What the client reports about every HTTP attempt (status 0: no response, a network error). */
export interface VapiResponseInfo {
  method: string;
  /** Path without the query, e.g. `/assistant/123`. */
  path: string;
  status: number;
  latencyMs: number;
  /** 1 for the first attempt. */
  attempt: number;
  /** Parsed Retry-After of a 429/503, in ms. */
  retryAfterMs?: number | undefined;
}

/**
 * Admission control for HTTP attempts (the sync's adaptive concurrency). `acquire` resolves when
 * an attempt may be sent and returns the function to call with its outcome; a retry waiting out
 * its backoff holds no slot.
 */
export interface RequestGate {
  acquire(signal?: AbortSignal): Promise<(info: VapiResponseInfo) => void>;
}

export interface VapiCallOptions {
  /** Aborts waiting (backoff, gate); a request already on the wire is left to finish. */
  signal?: AbortSignal | undefined;
  gate?: RequestGate | undefined;
}

export interface VapiClient {
  /** Every assistant, paginated with limit=1000 then createdAtLt, de-duplicated by id. */
  listAssistants(opts?: VapiCallOptions): Promise<VapiAssistant[]>;
  listTools(opts?: VapiCallOptions): Promise<VapiTool[]>;
  listPhoneNumbers(opts?: VapiCallOptions): Promise<VapiPhoneNumber[]>;
  /** null on 404. */
  getAssistant(id: string, opts?: VapiCallOptions): Promise<VapiAssistant | null>;
  getTool(id: string, opts?: VapiCallOptions): Promise<VapiTool | null>;
  getPhoneNumber(id: string, opts?: VapiCallOptions): Promise<VapiPhoneNumber | null>;
  createAssistant(body: Record<string, unknown>, opts?: VapiCallOptions): Promise<VapiAssistant>;
  createTool?(body: Record<string, unknown>, opts?: VapiCallOptions): Promise<VapiTool>;
  createPhoneNumber?(body: Record<string, unknown>, opts?: VapiCallOptions): Promise<VapiPhoneNumber>;
  /** Sends exactly `body` (only changed top-level keys, nested objects complete). 404 → NotFoundError. */
  patchAssistant(id: string, body: Record<string, unknown>, opts?: VapiCallOptions): Promise<VapiAssistant>;
  patchTool(id: string, body: Record<string, unknown>, opts?: VapiCallOptions): Promise<VapiTool>;
  patchPhoneNumber(id: string, body: Record<string, unknown>, opts?: VapiCallOptions): Promise<VapiPhoneNumber>;
  readonly stats: VapiRequestStats;
  /** Subscribes to every response (status and latency); returns the unsubscribe function. */
  onResponse?(listener: (info: VapiResponseInfo) => void): () => void;
}
