/**
 * The Store over a Supabase project, through @supabase/supabase-js with the service-role key:
 * plain table queries for orgs and agents, and the schema's SQL functions (via PostgREST `rpc`)
 * wherever several writes must happen in one transaction. Every PostgREST error is turned into a
 * voxctl error in one place (`toStoreError`); the key never appears in a message.
 */
import type { SupabaseClient } from '@supabase/supabase-js';
import { ApiError, AuthError, ExitCode, UsageError, VoxError } from '../errors.js';
import type { Redactor } from '../util/mask.js';
import { mapDbError, type DbErrorContext } from './db-errors.js';
import type {
  Agent,
  AgentLink,
  BookSlotRequest,
  BookSlotResult,
  ImportResult,
  ImportRow,
  NewOrg,
  Org,
  RemoveOrgResult,
  SlotClaim,
  SlotClaimRequest,
  Store,
  EventStore,
  StoredEvent,
} from './types.js';
import { assertUuid, assistantTaken, isUuid, orgHasAgents, unknownOrg } from './validate.js';
import { supabaseKeyRole } from '../config/supabase-key.js';
import { SCHEMA_VERSION } from './schema-version.js';

export interface SupabaseStoreOptions {
  /** The project URL, e.g. https://abcd.supabase.co (a trailing /rest/v1 is tolerated). */
  url: string;
  serviceRoleKey: string;
  /** Masks the key (it is registered here) in every message. */
  redactor: Redactor;
  /** Replaces global fetch (tests). */
  fetch?: typeof fetch;
  /**
   * Let postgrest-js retry reads on network errors, 503 and 520 (1 s, 2 s, 4 s). Default true;
   * tests of unreachable hosts turn it off.
   */
  retry?: boolean;
  /**
   * Abort each request after this many ms (an unreachable host then fails fast instead of
   * waiting on the TCP connect timeout). Default: no limit of voxctl's own.
   */
  timeoutMs?: number;
}

type Row = Record<string, unknown>;

/** What a supabase-js call resolves to (the parts used here). */
interface PgResponse<T> {
  data: T | null;
  error: { code?: string; message?: string; details?: string | null; hint?: string | null } | null;
  status: number;
  count?: number | null;
}

/** Rows per request when listing. Supabase caps responses at max-rows (1000 by default). */
const PAGE = 1000;
/** Bounds listing loops: 10,000 pages of at least one row. */
const MAX_PAGES = 10_000;

const ORG_COLUMNS = 'id,name,timezone,settings,created_at';
const AGENT_COLUMNS = 'org_id,type,vapi_assistant_id,created_at,updated_at,organizations(name)';

const iso = (v: unknown) => new Date(String(v)).toISOString();

function toOrg(r: Row): Org {
  return {
    id: String(r.id),
    name: String(r.name),
    timezone: String(r.timezone),
    settings: (r.settings ?? {}) as Org['settings'],
    createdAt: iso(r.created_at),
  };
}

function toAgent(r: Row): Agent {
  const org = (r.organizations ?? {}) as { name?: unknown };
  return {
    orgId: String(r.org_id),
    orgName: String(org.name ?? ''),
    type: String(r.type),
    vapiAssistantId: String(r.vapi_assistant_id),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}


const KEY_HINT =
  'Check SUPABASE_SERVICE_ROLE_KEY in .env.local: use the service_role (secret) key from the Supabase dashboard (Project Settings → API keys), not the anon key.';
const SCHEMA_HINT =
  'Apply `voxctl db schema` in the Supabase SQL editor (or `voxctl db schema | psql "$DATABASE_URL"`, or `voxctl db schema --migration` then `supabase db push`), then retry.';
const RELOAD_HINT =
  "Reload PostgREST's schema cache: run `notify pgrst, 'reload schema';` in the Supabase SQL editor (the dashboard does it when you change tables there), then retry.";

/** PostgREST's answers when what it was asked for is not in its schema cache (or not in the database). */
const SCHEMA_CODES = new Set(['PGRST200', 'PGRST202', 'PGRST204', 'PGRST205', '42883', '42P01', '42703']);

/** The schema is not there (or too old): the user must apply it. Exit 2, like other set-up mistakes. */
function schemaMissing(message: string): VoxError {
  return new VoxError('schema_missing', ExitCode.usage, message, { hint: SCHEMA_HINT });
}

/**
 * An id the database stores as a uuid, checked before any query (a malformed one would come back
 * as a raw 22P02 "invalid input syntax for type uuid"). An org id that is not a uuid names no org.
 */
function requireOrgUuid(orgId: string): void {
  if (!isUuid(orgId)) throw unknownOrg(orgId);
}
function requireClaimUuid(claimId: string): void {
  if (!isUuid(claimId)) {
    throw new UsageError(`Claim id "${String(claimId).slice(0, 40)}" is not a UUID.`, { hint: 'This is a bug in voxctl; please report it.' });
  }
}

export class SupabaseStore implements Store, EventStore {
  readonly kind = 'supabase' as const;
  readonly description: string;
  private closed = false;

  constructor(
    private readonly client: SupabaseClient,
    private readonly host: string,
    private readonly key: string,
    private readonly redactor: Redactor,
    private readonly retry: boolean,
  ) {
    this.description = `Supabase project at ${host}`;
  }

  // ---- error mapping (the one place) -------------------------------------------------------

  private clean(text: string): string {
    // The redactor knows the key; the explicit replace also covers a redactor that was reset.
    return this.redactor.redact(text).split(this.key).join('…');
  }

  /** A PostgREST / network failure as a voxctl error. */
  private toStoreError(what: string, res: PgResponse<unknown>, ctx: DbErrorContext = {}): VoxError {
    const err = res.error ?? {};
    const code = err.code ?? '';
    const message = this.clean(String(err.message ?? '').slice(0, 500));
    const status = res.status;

    if (status === 0) {
      // No HTTP answer: postgrest-js puts "TypeError: fetch failed" in message and the cause in details.
      const cause = /Caused by: ([^\n]+)/.exec(String(err.details ?? ''))?.[1];
      const reason = /^TimeoutError\b/.test(message) ? 'no answer in time (timed out)' : this.clean((cause ?? message).replace(/^(Type)?Error: /, ''));
      return new ApiError(`Cannot reach Supabase at ${this.host} while trying to ${what}: ${reason}.`, {
        code: 'network',
        hint: 'Check SUPABASE_URL (https://<project-ref>.supabase.co) and your network; a paused project must be resumed in the Supabase dashboard.',
      });
    }
    if (
      status === 401 ||
      code === 'PGRST301' ||
      code === 'PGRST302' ||
      /invalid api key|no api key|jwt|jws/i.test(message)
    ) {
      return new AuthError(`Supabase rejected the service-role key (HTTP ${status}${message ? `: ${message}` : ''}).`, { hint: KEY_HINT });
    }
    if (code === '22023' && /^role ".*" does not exist$/.test(message)) {
      // PostgREST switches to the key's role first: a role the database lacks is a key problem.
      return new AuthError(`Supabase has no database role for this key (${message}).`, {
        hint: `${KEY_HINT} On a self-hosted Supabase, create its roles (anon, authenticated, service_role) first.`,
      });
    }
    if (code === '42501') {
      return new AuthError(`Supabase denied access while trying to ${what}: ${message}.`, { hint: KEY_HINT });
    }
    if (SCHEMA_CODES.has(code)) {
      return schemaMissing(`The Supabase project at ${this.host} is missing voxctl's schema (${message}).`);
    }
    if (code) {
      const mapped = mapDbError({ code, message, details: err.details ? this.clean(err.details) : null, hint: err.hint }, ctx);
      if (mapped) return mapped;
    }
    if (status === 404) {
      return new ApiError(`Supabase at ${this.host} answered 404 (${message || 'not found'}) while trying to ${what}.`, {
        status,
        hint: 'Check SUPABASE_URL: it is the project URL, e.g. https://<project-ref>.supabase.co, with no path.',
      });
    }
    if (status >= 500) {
      return new ApiError(`Supabase at ${this.host} failed (HTTP ${status}${message ? `: ${message}` : ''}) while trying to ${what}.`, {
        status,
        hint: 'Try again in a moment; check the project status in the Supabase dashboard.',
      });
    }
    return new ApiError(
      `Supabase refused to ${what} (HTTP ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}).`,
      { status, hint: err.hint ? this.clean(err.hint) : 'Re-run with --debug for details.' },
    );
  }

  private async run<T>(what: string, query: PromiseLike<PgResponse<T>>, ctx?: DbErrorContext): Promise<T | null> {
    this.assertOpen();
    const res = await query;
    if (res.error) throw await this.failure(what, res, ctx);
    return res.data;
  }

  /**
   * The error for a failed call. When PostgREST says it does not know a table, function,
   * column or relationship (or answers a write with PostgREST 12's bare `404 {}`), one read of
   * `voxctl_schema` tells the cases apart: the schema is missing or too old (apply it), or it is
   * there and PostgREST's schema cache is stale (reload it).
   */
  private async failure(what: string, res: PgResponse<unknown>, ctx?: DbErrorContext): Promise<VoxError> {
    const err = res.error ?? {};
    const bare404 = res.status === 404 && !err.code && !err.message;
    if (!bare404 && !SCHEMA_CODES.has(err.code ?? '')) return this.toStoreError(what, res, ctx);
    const probe = this.client.from('voxctl_schema').select('version').order('version', { ascending: false }).limit(1);
    probe.retry(false);
    const seen = (await probe) as PgResponse<Row[]>;
    const detail = err.message ? `: ${this.clean(String(err.message).slice(0, 300))}` : '';
    if (!seen.error) {
      const version = Number(seen.data?.[0]?.version ?? 0);
      if (version < SCHEMA_VERSION) {
        return schemaMissing(
          `The Supabase project at ${this.host} has voxctl's schema version ${version}; this voxctl needs version ${SCHEMA_VERSION} (could not ${what}${detail}).`,
        );
      }
      return new ApiError(
        `PostgREST at ${this.host} does not see voxctl's schema yet, though it is in the database: its schema cache is stale (could not ${what}${detail}).`,
        { status: res.status, code: 'schema_cache_stale', hint: RELOAD_HINT },
      );
    }
    if (['42P01', 'PGRST205'].includes(seen.error.code ?? '')) {
      return schemaMissing(`The Supabase project at ${this.host} does not have voxctl's schema (could not ${what}${detail}).`);
    }
    return this.toStoreError(what, res, ctx);
  }

  /**
   * Every row of a query, page by page. The first page asks for the exact count, so a project
   * whose max-rows is below PAGE is still read completely.
   */
  private async all(
    what: string,
    build: (withCount: boolean) => {
      range(from: number, to: number): PromiseLike<PgResponse<Row[]>> & { retry(enabled: boolean): unknown };
    },
  ): Promise<Row[]> {
    this.assertOpen();
    const out: Row[] = [];
    let total: number | null | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const q = build(page === 0).range(out.length, out.length + PAGE - 1);
      q.retry(this.retry);
      const res = await q;
      if (res.error) throw await this.failure(what, res);
      const rows = res.data ?? [];
      if (page === 0) total = res.count;
      out.push(...rows);
      const done = rows.length === 0 || (typeof total === 'number' ? out.length >= total : rows.length < PAGE);
      if (done) break;
    }
    return out;
  }

  private assertOpen(): void {
    if (this.closed) throw new ApiError('The Supabase store is closed.', { hint: 'This is a bug in voxctl; please report it.' });
  }

  // ---- orgs --------------------------------------------------------------------------------

  async addOrg(org: NewOrg): Promise<Org> {
    const row: Row = { name: org.name, timezone: org.timezone ?? 'UTC', settings: org.settings ?? {} };
    if (org.id) row.id = org.id;
    const data = await this.run('add the organization', this.client.from('organizations').insert(row).select(ORG_COLUMNS).single(), {
      orgId: org.id,
    });
    return toOrg(data as unknown as Row);
  }

  async getOrg(id: string): Promise<Org | null> {
    if (!isUuid(id)) return null;
    const q = this.client.from('organizations').select(ORG_COLUMNS).eq('id', id).maybeSingle();
    q.retry(this.retry);
    const data = await this.run('read the organization', q);
    return data ? toOrg(data as Row) : null;
  }

  async listOrgs(): Promise<Org[]> {
    const rows = await this.all('list organizations', (withCount) =>
      this.client
        .from('organizations')
        .select(ORG_COLUMNS, withCount ? { count: 'exact' } : undefined)
        .order('name')
        .order('id'),
    );
    return rows.map(toOrg);
  }

  async renameOrg(id: string, name: string): Promise<Org> {
    if (!isUuid(id)) throw unknownOrg(id);
    const data = (await this.run('rename the organization', this.client.rpc('voxctl_rename_org', { p_org_id: id, p_name: name }), { orgId: id })) as Row | null;
    if (!data) throw unknownOrg(id);
    return toOrg(data);
  }

  async removeOrg(id: string, opts: { force?: boolean | undefined } = {}): Promise<RemoveOrgResult> {
    if (!isUuid(id)) throw unknownOrg(id);
    // One function call is one transaction: the agent check and the delete cannot be split by a link.
    const res = (await this.run('remove the organization', this.client.rpc('voxctl_remove_org', { p_org_id: id, p_force: Boolean(opts.force) }), {
      orgId: id,
    })) as { status?: string; agents?: number; org?: Row } | null;
    if (res?.status === 'not_found') throw unknownOrg(id);
    if (res?.status === 'has_agents') throw orgHasAgents(id, Number(res.agents));
    if (res?.status !== 'removed' || !res.org) throw new ApiError('Supabase answered the removal with an unexpected result.', { hint: SCHEMA_HINT });
    return { org: toOrg(res.org), agentsUnlinked: Number(res.agents ?? 0) };
  }

  // ---- agents ------------------------------------------------------------------------------

  async unlinkAgent(slot: { orgId: string; type: string }): Promise<Agent | null> {
    if (!isUuid(slot.orgId)) throw unknownOrg(slot.orgId);
    // One function call: the org check and the delete in one transaction.
    const res = (await this.run('unlink the agent', this.client.rpc('voxctl_unlink_agent', { p_org_id: slot.orgId, p_type: slot.type }), {
      orgId: slot.orgId,
    })) as { status?: string; agent?: Row } | null;
    if (res?.status === 'not_found') throw unknownOrg(slot.orgId);
    if (res?.status === 'empty') return null;
    if (res?.status !== 'unlinked' || !res.agent) throw new ApiError('Supabase answered the unlink with an unexpected result.', { hint: SCHEMA_HINT });
    return toAgent(res.agent);
  }

  async linkAgent(link: AgentLink): Promise<Agent> {
    requireOrgUuid(link.orgId);
    const ctx = { orgId: link.orgId, assistantId: link.vapiAssistantId };
    // The same checks, in the same order, as the embedded store, so the errors read the same.
    const orgQ = this.client.from('organizations').select('id').eq('id', link.orgId).maybeSingle();
    orgQ.retry(this.retry);
    const org = await this.run('check the organization', orgQ, ctx);
    if (!org) throw unknownOrg(link.orgId);

    const otherQ = this.client.from('agents').select('org_id,type').eq('vapi_assistant_id', link.vapiAssistantId);
    otherQ.retry(this.retry);
    const others = ((await this.run('check the assistant', otherQ, ctx)) ?? []) as Row[];
    const other = others.find((r) => !(r.org_id === link.orgId && r.type === link.type));
    if (other) throw assistantTaken(link.vapiAssistantId, { orgId: String(other.org_id), type: String(other.type) });

    // A racing writer is still caught by the constraints (23505 / 23503 → Conflict / NotFound).
    const data = await this.run(
      'link the agent',
      this.client
        .from('agents')
        .upsert({ org_id: link.orgId, type: link.type, vapi_assistant_id: link.vapiAssistantId }, { onConflict: 'org_id,type' })
        .select(AGENT_COLUMNS)
        .single(),
      ctx,
    );
    return toAgent(data as unknown as Row);
  }

  async listAgents(filter: { orgId?: string | undefined } = {}): Promise<Agent[]> {
    const orgId = filter.orgId;
    if (orgId !== undefined && !isUuid(orgId)) return [];
    const rows = await this.all('list agents', (withCount) => {
      let q = this.client.from('agents').select(AGENT_COLUMNS, withCount ? { count: 'exact' } : undefined);
      if (orgId !== undefined) q = q.eq('org_id', orgId);
      return q.order('organizations(name)').order('org_id').order('type');
    });
    return rows.map(toAgent);
  }

  async findAgentByAssistantId(vapiAssistantId: string): Promise<Agent | null> {
    const q = this.client.from('agents').select(AGENT_COLUMNS).eq('vapi_assistant_id', vapiAssistantId).maybeSingle();
    q.retry(this.retry);
    const data = await this.run('look up the assistant', q, { assistantId: vapiAssistantId });
    return data ? toAgent(data as Row) : null;
  }

  async importAgents(rows: ImportRow[]): Promise<ImportResult> {
    const bad = rows.findIndex((r) => !isUuid(r.org_id));
    if (bad >= 0) assertUuid(String(rows[bad]!.org_id), `row ${bad + 1}: org_id`);
    // One function call is one transaction in PostgREST: all rows or none.
    const data = (await this.run('import agents', this.client.rpc('voxctl_import_agents', { p_rows: rows }))) as ImportResult | null;
    if (!data || typeof data.imported !== 'number') {
      throw new ApiError('Supabase answered the import with an unexpected result.', { hint: SCHEMA_HINT });
    }
    return { imported: data.imported, orgsCreated: data.orgsCreated };
  }

  // ---- appointments ------------------------------------------------------------------------

  async bookSlot(req: BookSlotRequest): Promise<BookSlotResult> {
    requireOrgUuid(req.orgId);
    const res = (await this.run(
      'book the slot',
      this.client.rpc('voxctl_book_slot', {
        p_org_id: req.orgId,
        p_starts_at: req.startsAt,
        p_email: req.email,
        p_name: req.name,
        p_phone: req.phone ?? null,
      }),
      { orgId: req.orgId },
    )) as Row | null;
    if (!res || res.status !== 'booked') return { status: 'taken' };
    return {
      status: 'booked',
      appointmentId: String(res.appointmentId),
      contactId: String(res.contactId),
      startsAt: iso(res.startsAt),
    };
  }

  async listBookedStarts(orgId: string, fromIso: string, toIso: string): Promise<string[]> {
    if (!isUuid(orgId)) return [];
    const rows = await this.all('list booked slots', (withCount) =>
      this.client
        .from('appointments')
        .select('starts_at', withCount ? { count: 'exact' } : undefined)
        .eq('org_id', orgId)
        .eq('status', 'booked')
        .gte('starts_at', fromIso)
        .lt('starts_at', toIso)
        .order('starts_at'),
    );
    return rows.map((r) => iso(r.starts_at));
  }

  async cancelAppointment(req: { orgId: string; email: string; startsAt: string }): Promise<boolean> {
    if (!isUuid(req.orgId)) return false;
    const ok = await this.run(
      'cancel the appointment',
      this.client.rpc('voxctl_cancel_appointment', { p_org_id: req.orgId, p_email: req.email, p_starts_at: req.startsAt }),
      { orgId: req.orgId },
    );
    return ok === true;
  }

  // ---- agent slot claims (assistants upsert) ----------------------------------------------

  async claimAgentSlot(req: SlotClaimRequest): Promise<SlotClaim> {
    requireOrgUuid(req.orgId);
    requireClaimUuid(req.claimId);
    if (req.takeOverClaimId) requireClaimUuid(req.takeOverClaimId);
    const res = (await this.run(
      'claim the agent slot',
      this.client.rpc('voxctl_claim_agent_slot', {
        p_org_id: req.orgId,
        p_type: req.type,
        p_claim_id: req.claimId,
        p_holder: req.holder,
        p_ttl_seconds: Math.ceil(req.ttlSeconds),
        p_replace_assistant: req.replaceAssistantId ?? null,
        p_take_over: req.takeOverClaimId ?? null,
      }),
      { orgId: req.orgId },
    ).catch((e: VoxError) => {
      throw e.code === 'not_found' ? unknownOrg(req.orgId) : e;
    })) as Row | null;
    if (!res || typeof res.status !== 'string') {
      throw new ApiError('Supabase answered the slot claim with an unexpected result.', { hint: SCHEMA_HINT });
    }
    if (res.status === 'linked') return { status: 'linked', assistantId: String(res.assistantId) };
    if (res.status === 'claimed') return { status: 'claimed', expiresAt: iso(res.expiresAt) };
    return { status: 'busy', claimId: String(res.claimId), holder: String(res.holder ?? ''), claimedAt: iso(res.claimedAt), expiresAt: iso(res.expiresAt) };
  }

  async renewAgentClaim(req: { orgId: string; type: string; claimId: string; ttlSeconds: number }): Promise<boolean> {
    // A claim on an org that cannot exist is not ours to renew.
    if (!isUuid(req.orgId)) return false;
    requireClaimUuid(req.claimId);
    const ok = await this.run(
      'renew the agent slot claim',
      this.client.rpc('voxctl_renew_agent_claim', {
        p_org_id: req.orgId,
        p_type: req.type,
        p_claim_id: req.claimId,
        p_ttl_seconds: Math.ceil(req.ttlSeconds),
      }),
      { orgId: req.orgId },
    );
    return ok === true;
  }

  async completeAgentClaim(req: { orgId: string; type: string; claimId: string; assistantId: string }): Promise<{ status: 'linked' | 'lost' }> {
    if (!isUuid(req.orgId)) return { status: 'lost' };
    requireClaimUuid(req.claimId);
    try {
      const res = (await this.run(
        'link the new assistant',
        this.client.rpc('voxctl_complete_agent_claim', {
          p_org_id: req.orgId,
          p_type: req.type,
          p_claim_id: req.claimId,
          p_assistant_id: req.assistantId,
        }),
        { orgId: req.orgId, assistantId: req.assistantId },
      )) as Row | null;
      return { status: res?.status === 'linked' ? 'linked' : 'lost' };
    } catch (e) {
      if ((e as VoxError).code === 'conflict') {
        const other = await this.findAgentByAssistantId(req.assistantId);
        if (other) throw assistantTaken(req.assistantId, other);
      }
      throw e;
    }
  }

  async releaseAgentClaim(req: { orgId: string; type: string; claimId: string }): Promise<void> {
    if (!isUuid(req.orgId)) return;
    requireClaimUuid(req.claimId);
    await this.run(
      'release the agent slot claim',
      this.client.rpc('voxctl_release_agent_claim', { p_org_id: req.orgId, p_type: req.type, p_claim_id: req.claimId }),
      { orgId: req.orgId },
    );
  }

  // ---- events of the deployed receiver (schema version 5) ---------------------------------------

  async appendEvents(events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map((ev) => ({
      id: ev.id,
      time: ev.time,
      status: typeof ev.status === 'number' ? ev.status : 0,
      org_id: typeof ev.orgId === 'string' && isUuid(ev.orgId) ? ev.orgId : null,
      event: ev,
    }));
    // An id already stored (a retried write) is skipped, not an error.
    await this.run('store webhook events', this.client.from('voxctl_events').upsert(rows, { onConflict: 'id', ignoreDuplicates: true }));
  }

  async listEvents(query: { since?: string | undefined; limit: number }): Promise<StoredEvent[]> {
    const limit = Math.max(1, Math.min(query.limit, PAGE));
    let q = this.client.from('voxctl_events').select('event').order('time', { ascending: false }).order('id', { ascending: false }).limit(limit);
    if (query.since) q = q.gte('time', query.since);
    q.retry(this.retry);
    const rows = ((await this.run('read webhook events', q)) ?? []) as Array<{ event: StoredEvent }>;
    return rows.map((r) => r.event).reverse();
  }

  async schemaVersion(): Promise<number | null> {
    this.assertOpen();
    const q = this.client.from('voxctl_schema').select('version').order('version', { ascending: false }).limit(1);
    q.retry(this.retry);
    const res = (await q) as PgResponse<Row[]>;
    if (res.error) {
      const err = this.toStoreError('read the schema version', res);
      if (err.code === 'schema_missing') return null;
      throw err;
    }
    const v = res.data?.[0]?.version;
    return typeof v === 'number' ? v : v === undefined ? null : Number(v);
  }

  async close(): Promise<void> {
    // Nothing is held open: no session, no realtime socket; fetch keeps no state of ours.
    this.closed = true;
  }
}

/**
 * supabase-js builds a realtime client in its constructor, and on Node 20 (no global WebSocket)
 * that throws unless a transport is given. voxctl never subscribes, so the transport only has to
 * exist; opening a socket with it is a bug and says so.
 */
class NoRealtimeSocket {
  constructor() {
    throw new Error('voxctl does not use Supabase realtime.');
  }
}

export async function createSupabaseStore(opts: SupabaseStoreOptions): Promise<Store> {
  const key = opts.serviceRoleKey.trim();
  opts.redactor.add(key);
  const base = opts.url.trim().replace(/\/+$/, '').replace(/\/rest\/v1$/, '');
  let host: string;
  try {
    host = new URL(base).host;
  } catch {
    throw new AuthError(`SUPABASE_URL "${base}" is not a URL.`, { hint: 'Use the project URL, e.g. https://<project-ref>.supabase.co.' });
  }
  // Only the service role sees every org: any other role (RLS hides rows from it) would make
  // `orgs list` print nothing with exit 0. Refuse it before the first request.
  const role = supabaseKeyRole(key);
  if (role === 'anon') {
    throw new AuthError('SUPABASE_SERVICE_ROLE_KEY holds the anon (publishable) key; voxctl needs the service-role key.', {
      hint: KEY_HINT,
    });
  }
  if (role !== undefined && role !== 'service_role') {
    const what = role === 'authenticated' ? "a signed-in user's token (role authenticated)" : `a key of role "${role.slice(0, 60)}"`;
    throw new AuthError(`SUPABASE_SERVICE_ROLE_KEY holds ${what}; voxctl needs the service_role key.`, { hint: KEY_HINT });
  }
  const { createClient } = await import('@supabase/supabase-js');
  const client = createClient(base, key, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    realtime: { transport: NoRealtimeSocket as unknown as never },
    global: opts.fetch || opts.timeoutMs ? { fetch: withTimeout(opts.fetch ?? fetch, opts.timeoutMs) } : {},
  });
  return new SupabaseStore(client, host, key, opts.redactor, opts.retry ?? true);
}

/** `fetch` whose requests are aborted after `ms` (also when the caller's own signal aborts). */
function withTimeout(f: typeof fetch, ms: number | undefined): typeof fetch {
  if (!ms) return f;
  return (input, init) => {
    const timeout = AbortSignal.timeout(ms);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    return f(input, { ...init, signal });
  };
}
