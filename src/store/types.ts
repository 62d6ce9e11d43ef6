/**
 * The multi-tenant store. One interface, two implementations (embedded SQLite, Supabase), one
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

export interface RemoveOrgResult {
  org: Org;
  /** Agents that were linked (and are unlinked now; only with `force`). */
  agentsUnlinked: number;
}

export type StoreKind = 'embedded' | 'supabase';

export interface Store {
  readonly kind: StoreKind;
  /** Human description for messages, e.g. "embedded store at .voxctl/store.db". */
  readonly description: string;

  /** Creates an org. An existing id → ConflictError. */
  addOrg(org: NewOrg): Promise<Org>;
  getOrg(id: string): Promise<Org | null>;
  listOrgs(): Promise<Org[]>;
  /** Renames an org. Unknown org → NotFoundError. */
  renameOrg(id: string, name: string): Promise<Org>;
  /**
   * Removes an org with its contacts, appointments and slot claims, atomically. With agents
   * linked: ConflictError (nothing removed) unless `force`, which unlinks them too. Unknown org →
   * NotFoundError.
   */
  removeOrg(id: string, opts?: { force?: boolean | undefined }): Promise<RemoveOrgResult>;

  /**
   * Upserts the agent slot (org, type). Unknown org → NotFoundError; the assistant id already
   * linked to another org or slot → ConflictError. Nothing changes on error.
   */
  linkAgent(link: AgentLink): Promise<Agent>;
  listAgents(filter?: { orgId?: string | undefined }): Promise<Agent[]>;
  /** Unlinks the slot (org, type) and answers the agent it held, or null when the slot was empty. Unknown org → NotFoundError. */
  unlinkAgent(slot: { orgId: string; type: string }): Promise<Agent | null>;
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

  /**
   * Claims the (org, type) slot before a Vapi assistant is created for it, so racing creators
   * make exactly one. `linked`: the slot already has an assistant (other than
   * `replaceAssistantId`); `claimed`: it is ours until `expiresAt`; `busy`: another live claim
   * holds it. An expired claim, or the one named by `takeOverClaimId`, is taken over.
   * Unknown org → NotFoundError.
   */
  claimAgentSlot(req: SlotClaimRequest): Promise<SlotClaim>;
  /** Extends our claim; false when it is no longer ours (it expired and was taken over). */
  renewAgentClaim(req: { orgId: string; type: string; claimId: string; ttlSeconds: number }): Promise<boolean>;
  /**
   * Links the slot to the assistant we created and drops our claim, atomically. `lost`: the claim
   * is no longer ours and nothing was written. The assistant linked elsewhere → ConflictError.
   */
  completeAgentClaim(req: { orgId: string; type: string; claimId: string; assistantId: string }): Promise<{ status: 'linked' | 'lost' }>;
  /** Gives our claim up (creating failed). */
  releaseAgentClaim(req: { orgId: string; type: string; claimId: string }): Promise<void>;

  /**
   * Bounds how long a write may wait for another process's lock (ms); past it the write fails
   * with StoreBusyError. The receiver sets it short so a long write elsewhere never freezes it.
   * Only stores with local locks (the embedded one) have it.
   */
  boundLockWait?(ms: number): void;

  /**
   * The long-running receiver (`tunnel up`): the store keeps its housekeeping (the embedded
   * store's WAL checkpoints) off the event loop. Only the embedded store has it.
   */
  checkpointInBackground?(): Promise<void>;

  /** The schema version the store has (null: no voxctl schema at all), for `voxctl doctor`. */
  schemaVersion(): Promise<number | null>;

  /** Closes connections / the embedded database. Safe to call twice. */
  close(): Promise<void>;
}

export interface SlotClaimRequest {
  orgId: string;
  type: string;
  /** A fresh uuid per run. */
  claimId: string;
  /** Who holds it, e.g. `voxctl@host:pid`, shown to the runs that wait. */
  holder: string;
  ttlSeconds: number;
  /** The linked assistant is gone from Vapi: claim the slot to replace it. */
  replaceAssistantId?: string | undefined;
  /** A claim whose holder is known to be dead: take it over now instead of waiting for expiry. */
  takeOverClaimId?: string | undefined;
}

export type SlotClaim =
  | { status: 'linked'; assistantId: string }
  | { status: 'claimed'; expiresAt: string }
  | { status: 'busy'; claimId: string; holder: string; claimedAt: string; expiresAt: string };

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

/**
 * One answered webhook request as a deployed receiver (the Edge Function) stores it: the
 * receiver's RequestEvent, secrets masked. `id` and `time` (ISO) are always there.
 */
export interface StoredEvent {
  id: string;
  time: string;
  [field: string]: unknown;
}

/** Where a deployed receiver keeps its events (the Supabase store; the embedded one logs to a file). */
export interface EventStore {
  /** Inserts the events (an id already stored is skipped). */
  appendEvents(events: readonly StoredEvent[]): Promise<void>;
  /** The newest `limit` events (at or after `since`, an ISO time, when given), oldest first. */
  listEvents(query: { since?: string | undefined; limit: number }): Promise<StoredEvent[]>;
}

export function isEventStore(store: object): store is EventStore {
  return typeof (store as Partial<EventStore>).appendEvents === 'function' && typeof (store as Partial<EventStore>).listEvents === 'function';
}
