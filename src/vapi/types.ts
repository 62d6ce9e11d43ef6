/**
 * Vapi resources as voxctl sees them: the few fields it reads are typed, every other field is
 * kept verbatim (Vapi PATCH replaces nested objects whole, so nothing may be dropped).
 */
export interface VapiServer {
  url?: string;
  timeoutSeconds?: number;
  credentialId?: string;
  headers?: Record<string, unknown>;
  backoffPlan?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface VapiFunctionTool {
  type: string;
  function?: { name?: string; [key: string]: unknown };
  server?: VapiServer;
  [key: string]: unknown;
}

export interface VapiAssistant {
  id: string;
  orgId?: string;
  name?: string;
  createdAt: string;
  updatedAt?: string;
  server?: VapiServer;
  metadata?: Record<string, unknown>;
  model?: { toolIds?: string[]; tools?: VapiFunctionTool[]; [key: string]: unknown };
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
  server?: VapiServer;
  [key: string]: unknown;
}

export type VapiResourceKind = 'assistant' | 'tool' | 'phoneNumber';

export interface VapiRequestStats {
  requests: number;
  retries: number;
  rateLimited: number;
}

export interface VapiClient {
  /** Every assistant, paginated with limit=1000 then createdAtLt, de-duplicated by id. */
  listAssistants(): Promise<VapiAssistant[]>;
  listTools(): Promise<VapiTool[]>;
  listPhoneNumbers(): Promise<VapiPhoneNumber[]>;
  /** null on 404. */
  getAssistant(id: string): Promise<VapiAssistant | null>;
  getTool(id: string): Promise<VapiTool | null>;
  getPhoneNumber(id: string): Promise<VapiPhoneNumber | null>;
  createAssistant(body: Record<string, unknown>): Promise<VapiAssistant>;
  /** Sends exactly `body` (only changed top-level keys, nested objects complete). */
  patchAssistant(id: string, body: Record<string, unknown>): Promise<VapiAssistant>;
  patchTool(id: string, body: Record<string, unknown>): Promise<VapiTool>;
  patchPhoneNumber(id: string, body: Record<string, unknown>): Promise<VapiPhoneNumber>;
  readonly stats: VapiRequestStats;
}
