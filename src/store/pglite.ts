import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { UsageError, type VoxError } from '../errors.js';
import { withDbErrors } from './db-errors.js';
import { acquireDirLock } from './lock.js';
import { readSchemaSql, SCHEMA_VERSION } from './schema.js';
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
} from './types.js';
import { assistantTaken, isUuid, orgHasAgents, unknownOrg } from './validate.js';

type Row = Record<string, unknown>;

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));

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
  return {
    orgId: String(r.org_id),
    orgName: String(r.org_name ?? ''),
    type: String(r.type),
    vapiAssistantId: String(r.vapi_assistant_id),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** The claim function's jsonb answer as a SlotClaim. */
export function toSlotClaim(res: Record<string, unknown>): SlotClaim {
  if (res.status === 'linked') return { status: 'linked', assistantId: String(res.assistantId) };
  const time = (v: unknown) => new Date(String(v)).toISOString();
  if (res.status === 'claimed') return { status: 'claimed', expiresAt: time(res.expiresAt) };
  return {
    status: 'busy',
    claimId: String(res.claimId),
    holder: String(res.holder ?? ''),
    claimedAt: time(res.claimedAt),
    expiresAt: time(res.expiresAt),
  };
}

const AGENT_SELECT = `select a.org_id, o.name as org_name, a.type, a.vapi_assistant_id, a.created_at, a.updated_at
  from agents a join organizations o on o.id = a.org_id`;

export interface MigrateResult {
  /** True when the schema SQL was run (a new store, or one at an older version). */
  applied: boolean;
  /** The schema version the database is at now. */
  version: number;
  /** The version found before, 0 for an empty database. */
  from: number;
}

/** Applies templates/schema.sql unless the database already has this schema version. */
export async function migrate(db: PGlite): Promise<MigrateResult> {
  const has = await db.query<{ ok: boolean }>(
    `select exists (select 1 from information_schema.tables where table_schema = current_schema() and table_name = 'voxctl_schema') as ok`,
  );
  let from = 0;
  if (has.rows[0]?.ok) {
    const v = await db.query<{ v: number | null }>('select max(version) as v from voxctl_schema');
    from = v.rows[0]?.v ?? 0;
    if (from > SCHEMA_VERSION) {
      throw new UsageError(`The store was created by a newer voxctl (schema version ${from}; this voxctl knows up to ${SCHEMA_VERSION}).`, {
        hint: 'Upgrade voxctl (npm install voxctl@latest), or point VOXCTL_DATA_DIR at another folder.',
      });
    }
    if (from === SCHEMA_VERSION) return { applied: false, version: SCHEMA_VERSION, from };
  }
  // The file is idempotent and upgrades older versions in place; exec runs it as one transaction.
  await db.exec(await readSchemaSql());
  return { applied: true, version: SCHEMA_VERSION, from };
}

/**
 * Opens (creating and migrating on first use) the PGlite database under `<dataDir>/pgdata`,
 * holding the data-dir lock until `release` is called.
 */
export async function openPglite(
  dataDir: string,
  label = 'voxctl',
): Promise<{ db: PGlite; release: () => void; migration: MigrateResult }> {
  mkdirSync(dataDir, { recursive: true });
  const release = acquireDirLock(dataDir, label);
  let db: PGlite | undefined;
  try {
    const { PGlite } = await import('@electric-sql/pglite');
    db = await PGlite.create({ dataDir: path.join(dataDir, 'pgdata') });
    const migration = await migrate(db);
    return { db, release, migration };
  } catch (e) {
    await db?.close().catch(() => {});
    release();
    throw e;
  }
}

/** The Store over a PGlite database. `onClose` runs after the database is closed. */
export class PgliteStore implements Store {
  readonly kind = 'embedded' as const;
  private closed = false;

  constructor(
    readonly db: PGlite,
    readonly description: string,
    private readonly onClose: () => void | Promise<void> = () => {},
    /** Tests share one database per file: closing the store then leaves it open. */
    private readonly ownsDb = true,
  ) {}

  async addOrg(org: NewOrg): Promise<Org> {
    return withDbErrors({ orgId: org.id }, async () => {
      const r = await this.db.query<Row>(
        `insert into organizations (id, name, timezone, settings)
         values (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4::jsonb) returning *`,
        [org.id ?? null, org.name, org.timezone ?? 'UTC', JSON.stringify(org.settings ?? {})],
      );
      return toOrg(r.rows[0]!);
    });
  }

  async getOrg(id: string): Promise<Org | null> {
    // Ids come from webhook payloads too: anything that is not a uuid is simply not an org.
    if (!isUuid(id)) return null;
    const r = await this.db.query<Row>('select * from organizations where id = $1', [id]);
    return r.rows[0] ? toOrg(r.rows[0]) : null;
  }

  async listOrgs(): Promise<Org[]> {
    const r = await this.db.query<Row>('select * from organizations order by name, id');
    return r.rows.map(toOrg);
  }

  async renameOrg(id: string, name: string): Promise<Org> {
    if (!isUuid(id)) throw unknownOrg(id);
    const r = await withDbErrors({ orgId: id }, () => this.db.query<Row>('update organizations set name = $2 where id = $1 returning *', [id, name]));
    if (!r.rows[0]) throw unknownOrg(id);
    return toOrg(r.rows[0]);
  }

  async removeOrg(id: string, opts: { force?: boolean | undefined } = {}): Promise<RemoveOrgResult> {
    if (!isUuid(id)) throw unknownOrg(id);
    return withDbErrors({ orgId: id }, () =>
      this.db.transaction(async (tx) => {
        // The row lock makes a concurrent link (its foreign key locks the org row) wait for us.
        const org = await tx.query<Row>('select * from organizations where id = $1 for update', [id]);
        if (!org.rows[0]) throw unknownOrg(id);
        const n = (await tx.query<{ n: number }>('select count(*)::int as n from agents where org_id = $1', [id])).rows[0]!.n;
        if (n > 0 && !opts.force) throw orgHasAgents(id, n);
        // agents, contacts, appointments and agent_claims go with it (on delete cascade).
        await tx.query('delete from organizations where id = $1', [id]);
        return { org: toOrg(org.rows[0]), agentsUnlinked: n };
      }),
    );
  }

  async unlinkAgent(slot: { orgId: string; type: string }): Promise<Agent | null> {
    if (!isUuid(slot.orgId)) throw unknownOrg(slot.orgId);
    return withDbErrors({ orgId: slot.orgId }, () =>
      this.db.transaction(async (tx) => {
        const org = await tx.query<Row>('select name from organizations where id = $1', [slot.orgId]);
        if (!org.rows[0]) throw unknownOrg(slot.orgId);
        const r = await tx.query<Row>('delete from agents where org_id = $1 and type = $2 returning *', [slot.orgId, slot.type]);
        return r.rows[0] ? toAgent({ ...r.rows[0], org_name: org.rows[0].name }) : null;
      }),
    );
  }

  async linkAgent(link: AgentLink): Promise<Agent> {
    const ctx = { orgId: link.orgId, assistantId: link.vapiAssistantId };
    return withDbErrors(ctx, () => this.db.transaction(async (tx) => {
      const org = await tx.query<Row>('select id from organizations where id = $1', [link.orgId]);
      if (!org.rows[0]) throw unknownOrg(link.orgId);
      const other = await tx.query<Row>(
        'select org_id, type from agents where vapi_assistant_id = $1 and not (org_id = $2 and type = $3)',
        [link.vapiAssistantId, link.orgId, link.type],
      );
      if (other.rows[0]) {
        throw assistantTaken(link.vapiAssistantId, { orgId: String(other.rows[0].org_id), type: String(other.rows[0].type) });
      }
      await tx.query(
        `insert into agents (org_id, type, vapi_assistant_id) values ($1, $2, $3)
         on conflict (org_id, type) do update set vapi_assistant_id = excluded.vapi_assistant_id
         where agents.vapi_assistant_id is distinct from excluded.vapi_assistant_id`,
        [link.orgId, link.type, link.vapiAssistantId],
      );
      const r = await tx.query<Row>(`${AGENT_SELECT} where a.org_id = $1 and a.type = $2`, [link.orgId, link.type]);
      return toAgent(r.rows[0]!);
    }));
  }

  async listAgents(filter: { orgId?: string | undefined } = {}): Promise<Agent[]> {
    if (filter.orgId !== undefined && !isUuid(filter.orgId)) return [];
    const r = filter.orgId
      ? await this.db.query<Row>(`${AGENT_SELECT} where a.org_id = $1 order by o.name, a.org_id, a.type`, [filter.orgId])
      : await this.db.query<Row>(`${AGENT_SELECT} order by o.name, a.org_id, a.type`);
    return r.rows.map(toAgent);
  }

  async findAgentByAssistantId(vapiAssistantId: string): Promise<Agent | null> {
    const r = await this.db.query<Row>(`${AGENT_SELECT} where a.vapi_assistant_id = $1`, [vapiAssistantId]);
    return r.rows[0] ? toAgent(r.rows[0]) : null;
  }

  async importAgents(rows: ImportRow[]): Promise<ImportResult> {
    // One statement, so one implicit transaction: all rows or none.
    return withDbErrors({}, async () => {
      const r = await this.db.query<{ res: ImportResult }>('select voxctl_import_agents($1::jsonb) as res', [JSON.stringify(rows)]);
      return r.rows[0]!.res;
    });
  }

  async bookSlot(req: BookSlotRequest): Promise<BookSlotResult> {
    const r = await withDbErrors({ orgId: req.orgId }, () =>
      this.db.query<{ res: Record<string, unknown> }>('select voxctl_book_slot($1::uuid, $2::timestamptz, $3, $4, $5) as res', [
        req.orgId,
        req.startsAt,
        req.email,
        req.name,
        req.phone ?? null,
      ]),
    );
    const res = r.rows[0]!.res;
    if (res.status !== 'booked') return { status: 'taken' };
    return {
      status: 'booked',
      appointmentId: String(res.appointmentId),
      contactId: String(res.contactId),
      startsAt: new Date(String(res.startsAt)).toISOString(),
    };
  }

  async listBookedStarts(orgId: string, fromIso: string, toIso: string): Promise<string[]> {
    if (!isUuid(orgId)) return [];
    const r = await withDbErrors({ orgId }, () =>
      this.db.query<{ starts_at: Date }>(
        `select starts_at from appointments where org_id = $1 and status = 'booked'
           and starts_at >= $2::timestamptz and starts_at < $3::timestamptz order by starts_at`,
        [orgId, fromIso, toIso],
      ),
    );
    return r.rows.map((x) => iso(x.starts_at));
  }

  async cancelAppointment(req: { orgId: string; email: string; startsAt: string }): Promise<boolean> {
    if (!isUuid(req.orgId)) return false;
    const r = await withDbErrors({ orgId: req.orgId }, () =>
      this.db.query<{ ok: boolean }>('select voxctl_cancel_appointment($1::uuid, $2, $3::timestamptz) as ok', [
        req.orgId,
        req.email,
        req.startsAt,
      ]),
    );
    return Boolean(r.rows[0]?.ok);
  }

  async claimAgentSlot(req: SlotClaimRequest): Promise<SlotClaim> {
    if (!isUuid(req.orgId)) throw unknownOrg(req.orgId);
    try {
      const r = await withDbErrors({ orgId: req.orgId }, () =>
        this.db.query<{ res: Record<string, unknown> }>(
          'select voxctl_claim_agent_slot($1::uuid, $2, $3::uuid, $4, $5::integer, $6, $7::uuid) as res',
          [req.orgId, req.type, req.claimId, req.holder, Math.ceil(req.ttlSeconds), req.replaceAssistantId ?? null, req.takeOverClaimId ?? null],
        ),
      );
      return toSlotClaim(r.rows[0]!.res);
    } catch (e) {
      throw (e as VoxError).code === 'not_found' ? unknownOrg(req.orgId) : e;
    }
  }

  async renewAgentClaim(req: { orgId: string; type: string; claimId: string; ttlSeconds: number }): Promise<boolean> {
    const r = await this.db.query<{ ok: boolean }>('select voxctl_renew_agent_claim($1::uuid, $2, $3::uuid, $4::integer) as ok', [
      req.orgId,
      req.type,
      req.claimId,
      Math.ceil(req.ttlSeconds),
    ]);
    return Boolean(r.rows[0]?.ok);
  }

  async completeAgentClaim(req: { orgId: string; type: string; claimId: string; assistantId: string }): Promise<{ status: 'linked' | 'lost' }> {
    try {
      const r = await withDbErrors({ orgId: req.orgId, assistantId: req.assistantId }, () =>
        this.db.query<{ res: { status: string } }>('select voxctl_complete_agent_claim($1::uuid, $2, $3::uuid, $4) as res', [
          req.orgId,
          req.type,
          req.claimId,
          req.assistantId,
        ]),
      );
      return { status: r.rows[0]!.res.status === 'linked' ? 'linked' : 'lost' };
    } catch (e) {
      if ((e as VoxError).code === 'conflict') {
        const other = await this.findAgentByAssistantId(req.assistantId);
        if (other) throw assistantTaken(req.assistantId, other);
      }
      throw e;
    }
  }

  async releaseAgentClaim(req: { orgId: string; type: string; claimId: string }): Promise<void> {
    await this.db.query('select voxctl_release_agent_claim($1::uuid, $2, $3::uuid)', [req.orgId, req.type, req.claimId]);
  }

  async schemaVersion(): Promise<number | null> {
    const has = await this.db.query<{ ok: boolean }>(
      `select exists (select 1 from information_schema.tables where table_name = 'voxctl_schema') as ok`,
    );
    if (!has.rows[0]?.ok) return null;
    const v = await this.db.query<{ v: number | null }>('select max(version) as v from voxctl_schema');
    return v.rows[0]?.v ?? null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDb) await this.db.close();
    await this.onClose();
  }
}

/** Opens the embedded store of a project. */
export async function openEmbeddedStore(dataDir: string, label?: string): Promise<PgliteStore> {
  const { db, release } = await openPglite(dataDir, label);
  return new PgliteStore(db, `embedded store at ${dataDir}`, release);
}
