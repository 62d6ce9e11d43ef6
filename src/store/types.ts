/**
 * The multi-tenant store. One interface, two implementations (embedded PGlite, Supabase), one
 * contract test suite (tests/store/store-contract.ts) that both must pass.
 */
export interface Org {
  id: string;
  name: string;
  /** IANA time zone, e.g. Europe/Berlin. */
  timezone: string;
  settings: OrgSettings;
  createdAt: string;
}

/** Per-org settings (jsonb). All optional; see DEFAULT_OPENING_HOURS. */
export interface OrgSettings {
  /** Opening hours per ISO weekday (1 = Monday … 7 = Sunday): list of ["HH:MM","HH:MM"] ranges. */
  openingHours?: Partial<Record<'1' | '2' | '3' | '4' | '5' | '6' | '7', Array<[string, string]>>>;
  [key: string]: unknown;
}

export interface Agent {
  orgId: string;
  orgName: string;
  type: string;
  vapiAssistantId: string;
  createdAt: string;
  updatedAt: string;
}

export interface NewOrg {
  id?: string | undefined;
  name: string;
  timezone?: string | undefined;
  settings?: OrgSettings | undefined;
}

export interface AgentLink {
  orgId: string;
  type: string;
  vapiAssistantId: string;
}

export interface ImportRow {
  org_id: string;
  org_name?: string | undefined;
  type: string;
  vapi_assistant_id: string;
}

export interface ImportResult {
  imported: number;
  orgsCreated: number;
}

export type StoreKind = 'embedded' | 'supabase';

export interface Store {
  readonly kind: StoreKind;
  /** Human description for messages, e.g. "embedded store at .voxctl/pgdata". */
  readonly description: string;

  /** Creates an org. An existing id → ConflictError. */
  addOrg(org: NewOrg): Promise<Org>;
  getOrg(id: string): Promise<Org | null>;
  listOrgs(): Promise<Org[]>;

  /**
   * Upserts the agent slot (org, type). Unknown org → NotFoundError; the assistant id already
   * linked to another org or slot → ConflictError. Nothing changes on error.
   */
  linkAgent(link: AgentLink): Promise<Agent>;
  listAgents(filter?: { orgId?: string | undefined }): Promise<Agent[]>;
  /** The agent linked to a Vapi assistant id, or null. */
  findAgentByAssistantId(vapiAssistantId: string): Promise<Agent | null>;
  /** Validated rows, all or nothing, in one transaction; creates missing orgs. */
  importAgents(rows: ImportRow[]): Promise<ImportResult>;

  /**
   * Books one slot atomically: upserts the contact by (org, email) and inserts a booked
   * appointment, in one transaction. A slot already booked → `{ status: 'taken' }`, nothing
   * written. Business rules (opening hours, past times) are checked by the caller.
   */
  bookSlot(req: BookSlotRequest): Promise<BookSlotResult>;
  /** Start times (ISO, UTC) of booked appointments of the org in [fromIso, toIso). */
  listBookedStarts(orgId: string, fromIso: string, toIso: string): Promise<string[]>;
  /** Cancels the contact's booked appointment at that start; false when there is none. */
  cancelAppointment(req: { orgId: string; email: string; startsAt: string }): Promise<boolean>;

  /** Closes connections / the embedded database. Safe to call twice. */
  close(): Promise<void>;
}

export interface BookSlotRequest {
  orgId: string;
  /** Absolute start time, ISO-8601 UTC. */
  startsAt: string;
  /** Lower-cased. */
  email: string;
  name: string;
  phone?: string | undefined;
}

export type BookSlotResult =
  | { status: 'booked'; appointmentId: string; contactId: string; startsAt: string }
  | { status: 'taken' };
