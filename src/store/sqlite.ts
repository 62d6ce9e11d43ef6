/**
 * The embedded store: one SQLite file (`<dataDir>/store.db`) through the runtime's own SQLite
 * (node:sqlite; better-sqlite3 on Node 20, see sqlite-driver.ts), shared by
 * every voxctl process on that data dir at once (`tunnel up` in one terminal, anything else in
 * another). Same tables, rules, answers and errors as the Postgres schema in templates/schema.sql
 * (tests/store/store-contract.ts proves it).
 *
 * Sharing: WAL journal (readers never block the writer and vice versa), every write is one
 * `BEGIN IMMEDIATE` transaction (it takes the write lock up front, so two writers never both read
 * and then fail to upgrade), and a busy timeout makes a writer wait for another process's
 * transaction instead of failing. Transactions here last microseconds to milliseconds. Commands
 * wait up to BUSY_TIMEOUT_MS; the receiver bounds its wait far shorter (`boundLockWait`) and
 * answers 503 past it, so another process's long write never freezes its event loop.
 *
 * Durability: `synchronous = NORMAL` in WAL mode. A COMMIT returns once its frames are written
 * into the WAL file with write(2), i.e. they sit in the kernel's page cache, which survives the
 * death of the process: `kill -9` at any moment loses no committed write and leaves a database
 * the next process opens (SQLite replays or ignores a torn WAL tail by checksum). What NORMAL
 * gives up versus FULL is an fsync per commit, which only matters when the whole machine loses
 * power or the kernel crashes (the last commits may then roll back, never corrupt). FULL would put
 * an fsync on every booking for a failure mode the embedded dev store does not promise to survive.
 *
 * Read-only commands never create the file: without one, reads answer as an empty store; the
 * first write creates the folder and the file and migrates it.
 */
import { ensureWritableDir, fileError } from '../util/fs-errors.js';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import { InternalError, NotFoundError, UsageError, VoxError } from '../errors.js';
import { sqliteDriver, type SqliteDatabase, type SqliteDriver, type SqliteStatement } from './sqlite-driver.js';
import { mapSqliteError, withSqliteErrors, type SqliteErrorContext } from './sqlite-errors.js';
import type { Checkpointer } from './sqlite-checkpointer.js';
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
import { assertUuid, assistantTaken, isUuid, orgHasAgents, unknownOrg } from './validate.js';

type Db = SqliteDatabase;
type Row = Record<string, unknown>;

/** The database file inside a data dir. */
export const STORE_FILE = 'store.db';
/** How long a writer waits for another process's write transaction before giving up. */
export const BUSY_TIMEOUT_MS = 5000;

const NOW_SQL = `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')`;
const TYPE_CHECK = `type glob '[a-z0-9]*' and length(type) between 1 and 40 and type not glob '*[^a-z0-9_-]*'`;

/**
 * SQLite schema migrations, by the version they bring the file to (`PRAGMA user_version`). The
 * versions follow templates/schema.sql's, so `schemaVersion()` means the same on both stores:
 * version 3 (organizations, agents, contacts, appointments, agent_claims) is the first SQLite one.
 * Times are ISO-8601 UTC text with milliseconds (they sort as text); ids are lower-case uuids.
 */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 3,
    sql: `
create table organizations (
  id         text primary key check (length(id) = 36),
  name       text not null constraint organizations_name_check check (length(trim(name)) between 1 and 200),
  timezone   text not null default 'UTC',
  settings   text not null default '{}' constraint organizations_settings_check check (json_valid(settings) and json_type(settings) = 'object'),
  created_at text not null default (${NOW_SQL}),
  updated_at text not null default (${NOW_SQL})
);
create table agents (
  id                text primary key,
  org_id            text not null references organizations(id) on delete cascade,
  type              text not null constraint agents_type_check check (${TYPE_CHECK}),
  vapi_assistant_id text not null constraint agents_vapi_assistant_id_check check (length(vapi_assistant_id) between 1 and 100),
  created_at        text not null default (${NOW_SQL}),
  updated_at        text not null default (${NOW_SQL}),
  constraint agents_org_type_key unique (org_id, type),
  constraint agents_vapi_assistant_id_key unique (vapi_assistant_id)
);
create table contacts (
  id         text primary key,
  org_id     text not null references organizations(id) on delete cascade,
  email      text not null constraint contacts_email_check check (email = lower(email) and instr(email, '@') > 1),
  phone      text,
  name       text,
  created_at text not null default (${NOW_SQL}),
  updated_at text not null default (${NOW_SQL}),
  constraint contacts_org_email_key unique (org_id, email)
);
create table appointments (
  id         text primary key,
  org_id     text not null references organizations(id) on delete cascade,
  contact_id text not null references contacts(id) on delete cascade,
  starts_at  text not null,
  status     text not null default 'booked' constraint appointments_status_check check (status in ('booked', 'cancelled')),
  created_at text not null default (${NOW_SQL}),
  updated_at text not null default (${NOW_SQL})
);
-- At most one booked appointment per slot and org; cancelled ones do not hold the slot.
create unique index appointments_one_booked_per_slot on appointments (org_id, starts_at) where status = 'booked';
create index agents_org_id_idx on agents (org_id);
create index contacts_org_id_idx on contacts (org_id);
create index appointments_contact_id_idx on appointments (contact_id);
create index appointments_org_starts_idx on appointments (org_id, starts_at);
create table agent_claims (
  org_id     text not null references organizations(id) on delete cascade,
  type       text not null constraint agent_claims_type_check check (${TYPE_CHECK}),
  claim_id   text not null,
  holder     text not null default '' check (length(holder) <= 200),
  claimed_at text not null default (${NOW_SQL}),
  expires_at text not null,
  primary key (org_id, type)
);
`,
  },
  // Version 4 adds the Supabase functions behind orgs rename/remove and agents unlink; the
  // SQLite tables need nothing new (the store runs those as its own transactions).
  { version: 4, sql: '' },
  // Version 5 adds voxctl_events, which only the Edge Function writes (on Supabase); the
  // embedded store's receiver logs to events.ndjson. Nothing new here either.
  { version: 5, sql: '' },
];

/** The schema version this voxctl's SQLite migrations create. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export interface MigrateResult {
  /** True when migrations ran (a new store, or one at an older version). */
  applied: boolean;
  /** The schema version the database is at now. */
  version: number;
  /** The version found before, 0 for an empty database. */
  from: number;
}

function newerStore(from: number): UsageError {
  return new UsageError(`The embedded store was created by a newer voxctl (schema version ${from}; this voxctl knows up to ${SQLITE_SCHEMA_VERSION}).`, {
    hint: 'Upgrade voxctl (npm install voxctl@latest), or point VOXCTL_DATA_DIR at another folder.',
  });
}

/**
 * Brings the database to SQLITE_SCHEMA_VERSION in one IMMEDIATE transaction (racing first
 * openers: one migrates, the others wait for the lock, then find nothing to do).
 */
export function migrateSqlite(db: Db): MigrateResult {
  const read = () => Number(db.pragma('user_version'));
  const seen = read();
  if (seen > SQLITE_SCHEMA_VERSION) throw newerStore(seen);
  if (seen === SQLITE_SCHEMA_VERSION) return { applied: false, version: seen, from: seen };
  return db.immediate((): MigrateResult => {
    const from = read();
    if (from > SQLITE_SCHEMA_VERSION) throw newerStore(from);
    if (from === SQLITE_SCHEMA_VERSION) return { applied: false, version: from, from };
    for (const m of MIGRATIONS) if (m.version > from) db.exec(m.sql);
    db.exec(`pragma user_version = ${SQLITE_SCHEMA_VERSION}`);
    return { applied: true, version: SQLITE_SCHEMA_VERSION, from };
  });
}

/**
 * Opens a database with voxctl's connection settings (see the file comment). An in-memory
 * database keeps its own journal mode; the WAL settings then change nothing.
 */
export function configure(db: Db): Db {
  db.pragma('journal_mode = WAL');
  db.exec('pragma synchronous = NORMAL');
  // A checkpoint (copying the WAL into the file, with an fsync) runs inside whichever commit
  // crosses the threshold and blocks that process's event loop; every 1,000 pages (SQLite's
  // default) it landed on the receiver's booking path every few hundred bookings. At 10,000
  // pages (~40 MB of WAL) it is ten times rarer; the last connection to close checkpoints
  // anyway, and journal_size_limit trims the WAL file back afterwards.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('journal_size_limit = 8388608');
  db.exec('pragma foreign_keys = ON');
  return db;
}

/** A fresh in-memory database at the current schema on this runtime's driver (tests, benchmarks). */
export async function openMemoryDb(driver?: SqliteDriver): Promise<Db> {
  const db = configure((driver ?? (await sqliteDriver())).open(':memory:'));
  migrateSqlite(db);
  return db;
}

/** The old PGlite store's folder in a data dir, when it is there (see `leftoverError`). */
export function pgliteLeftover(dataDir: string): string | null {
  const dir = path.join(dataDir, 'pgdata');
  return existsSync(path.join(dir, 'PG_VERSION')) ? dir : null;
}

/**
 * A data dir that holds a store from a voxctl before 0.2 (PGlite, `pgdata/`) and no SQLite file
 * yet: refused for reads and writes alike (an empty answer would look like lost data, a new
 * file would hide the old one). Nothing is deleted or changed; README "Upgrading from the PGlite
 * store" has the steps.
 */
function leftoverError(dataDir: string, pgdata: string): VoxError {
  return new VoxError(
    'store_outdated',
    1,
    `${pgdata} holds an embedded store of an older voxctl (PGlite); this voxctl keeps it in ${path.join(dataDir, STORE_FILE)} (SQLite) and does not read the old one.`,
    {
      hint:
        `To keep its agents: \`npx voxctl@0.1 agents list --json > agents-old.json\`, then move the old folder aside ` +
        `(\`mv ${pgdata} ${pgdata}.bak\`), then \`voxctl agents import\` the "agents" array of that file (README: "Upgrading from the PGlite store"). ` +
        `To start empty: move the folder aside. voxctl deletes nothing.`,
    },
  );
}

/** Creates the data dir, or a clear error naming the path and the permission (exit 1, not a usage error). */
function ensureDir(dir: string): void {
  ensureWritableDir(dir);
}

/**
 * Creates the empty database file readable by its owner only (it holds contacts' names, e-mails
 * and phones); SQLite gives its -wal and -shm files the same mode.
 */
function createPrivate(file: string): void {
  try {
    closeSync(openSync(file, 'a', 0o600));
  } catch (e) {
    throw fileError(e, file, 'create the embedded store');
  }
}

/**
 * Where a SqliteStore gets its database: `db(false)` for reads may answer null (no store yet),
 * `db(true)` for writes creates it.
 */
export interface DbSource {
  db(create: boolean): Db | null;
  /** Names the database in messages. */
  readonly file?: string | undefined;
  /** How long a statement may wait for another process's lock from now on (ms). */
  setBusyTimeout?(ms: number): void;
  close(): void;
}

/** The data dir's store file, opened on first need (and created on first write). */
export function fileSource(dataDir: string, driver: SqliteDriver): DbSource {
  const file = path.join(dataDir, STORE_FILE);
  let db: Db | null = null;
  let busyTimeoutMs = BUSY_TIMEOUT_MS;
  return {
    file,
    setBusyTimeout(ms) {
      busyTimeoutMs = ms;
      db?.exec(`pragma busy_timeout = ${Math.max(0, Math.round(ms))}`);
    },
    db(create) {
      if (db) return db;
      if (!existsSync(file)) {
        const old = pgliteLeftover(dataDir);
        if (old) throw leftoverError(dataDir, old);
        if (!create) return null;
        ensureDir(dataDir);
        createPrivate(file);
      }
      const opened = withSqliteErrors({ file }, () => driver.open(file, { timeoutMs: busyTimeoutMs }));
      try {
        withSqliteErrors({ file }, () => migrateSqlite(configure(opened)));
      } catch (e) {
        opened.close();
        throw e;
      }
      db = opened;
      return db;
    },
    close() {
      db?.close();
      db = null;
    },
  };
}

/** An open database handed in (tests share one per file; `owns` false leaves it open on close). */
export function dbSource(db: Db, owns = true): DbSource {
  return {
    db: () => db,
    close: () => {
      if (owns) db.close();
    },
  };
}

/** The receiver's WAL size limit (bytes) while a worker checkpoints (see `checkpointInBackground`). */
const RECEIVER_WAL_LIMIT = 64 * 1024 * 1024;

const iso = (ms: number) => new Date(ms).toISOString();

/** A point in time as the store writes it (ISO-8601 UTC with milliseconds), or a UsageError. */
function instant(v: string, what: string): string {
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new UsageError(`Invalid value: ${what} is not a date-time.`, { hint: 'Pass an ISO-8601 time such as 2030-01-07T09:00:00Z.' });
  return iso(ms);
}

function toOrg(r: Row): Org {
  return {
    id: String(r.id),
    name: String(r.name),
    timezone: String(r.timezone),
    settings: JSON.parse(String(r.settings ?? '{}')) as Org['settings'],
    createdAt: String(r.created_at),
  };
}

function toAgent(r: Row): Agent {
  return {
    orgId: String(r.org_id),
    orgName: String(r.org_name ?? ''),
    type: String(r.type),
    vapiAssistantId: String(r.vapi_assistant_id),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

const AGENT_SELECT = `select a.org_id, o.name as org_name, a.type, a.vapi_assistant_id, a.created_at, a.updated_at
  from agents a join organizations o on o.id = a.org_id`;

/** Postgres's btrim + lower for e-mail addresses. */
const normEmail = (email: string) => email.replace(/^ +| +$/g, '').toLowerCase();

export class SqliteStore implements Store {
  readonly kind = 'embedded' as const;
  private closed = false;
  private readonly stmts = new Map<string, SqliteStatement>();
  private cachedFor: Db | null = null;
  private checkpointer: Promise<Checkpointer | null> | null = null;

  constructor(
    private readonly source: DbSource,
    readonly description: string,
  ) {}

  /** The database for a read, or null when no store exists yet (reads then answer empty). */
  private reader(): Db | null {
    this.assertOpen();
    return this.source.db(false);
  }

  private writer(): Db {
    this.assertOpen();
    return this.source.db(true)!;
  }

  /** A closed store stays closed: a late call (a tool still running at shutdown) must not reopen the file. */
  private assertOpen(): void {
    if (this.closed) throw new InternalError('The embedded store was used after it was closed.');
  }

  /** Creates (and migrates) the store now if it does not exist yet (`init`). */
  create(): void {
    withSqliteErrors({ file: this.source.file }, () => this.writer());
  }

  /**
   * Bounds how long a write waits for another process's write transaction (the receiver: about
   * 100 ms); past it the write fails with StoreBusyError instead of blocking the event loop.
   */
  boundLockWait(ms: number): void {
    this.source.setBusyTimeout?.(ms);
  }

  /**
   * For the long-running receiver: WAL checkpoints move to a worker thread (sqlite-checkpointer.ts)
   * instead of stalling a commit on the request path. Without a store file yet (nothing to book
   * into), or when the worker cannot start, SQLite's own checkpoints stay as they are.
   */
  async checkpointInBackground(): Promise<void> {
    const file = this.source.file;
    if (!file || this.checkpointer) return;
    const db = withSqliteErrors({ file }, () => this.reader());
    if (!db) return;
    this.checkpointer = import('./sqlite-checkpointer.js').then(({ startCheckpointer }) => startCheckpointer(file, db.driver)).then(
      (c) => {
        // A safety net only (~400 MB of WAL): the worker keeps it far smaller.
        db.pragma('wal_autocheckpoint = 100000');
        // Resetting the WAL after a checkpoint does not truncate it below this on the request path.
        db.pragma(`journal_size_limit = ${RECEIVER_WAL_LIMIT}`);
        return c;
      },
      () => null,
    );
    await this.checkpointer;
  }

  /** A prepared statement (prepared once per database). */
  private st(db: Db, sql: string): SqliteStatement {
    if (this.cachedFor !== db) {
      this.stmts.clear();
      this.cachedFor = db;
    }
    let s = this.stmts.get(sql);
    if (!s) {
      s = db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private all(sql: string, ...params: unknown[]): Row[] {
    const db = this.reader();
    return db ? (withSqliteErrors({ file: this.source.file }, () => this.st(db, sql).all(...params)) as Row[]) : [];
  }

  private one(sql: string, ...params: unknown[]): Row | null {
    const db = this.reader();
    return db ? ((withSqliteErrors({ file: this.source.file }, () => this.st(db, sql).get(...params)) as Row | undefined) ?? null) : null;
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction, mapping SQLite errors with `ctx`. */
  private write<T>(ctx: SqliteErrorContext, fn: (db: Db) => T): T {
    const db = withSqliteErrors({ file: this.source.file }, () => this.writer());
    return withSqliteErrors({ file: this.source.file, ...ctx }, () => db.immediate(() => fn(db)));
  }

  async addOrg(org: NewOrg): Promise<Org> {
    const id = org.id === undefined ? randomUUID() : assertUuid(org.id, 'Organization id');
    return this.write({ orgId: id }, (db) => {
      const now = iso(Date.now());
      const r = this.st(db, 'insert into organizations (id, name, timezone, settings, created_at, updated_at) values (?, ?, ?, ?, ?, ?) returning *').get(
        id,
        org.name,
        org.timezone ?? 'UTC',
        JSON.stringify(org.settings ?? {}),
        now,
        now,
      ) as Row;
      return toOrg(r);
    });
  }

  async getOrg(id: string): Promise<Org | null> {
    // Ids come from webhook payloads too: anything that is not a uuid is simply not an org.
    if (!isUuid(id)) return null;
    const r = this.one('select * from organizations where id = ?', id.toLowerCase());
    return r ? toOrg(r) : null;
  }

  async listOrgs(): Promise<Org[]> {
    return this.all('select * from organizations order by name, id').map(toOrg);
  }

  async renameOrg(id: string, name: string): Promise<Org> {
    if (!isUuid(id)) throw unknownOrg(id);
    const orgId = id.toLowerCase();
    return this.write({ orgId }, (db) => {
      const r = this.st(db, 'update organizations set name = ?, updated_at = ? where id = ? returning *').get(name, iso(Date.now()), orgId) as Row | undefined;
      if (!r) throw unknownOrg(id);
      return toOrg(r);
    });
  }

  async removeOrg(id: string, opts: { force?: boolean | undefined } = {}): Promise<RemoveOrgResult> {
    if (!isUuid(id)) throw unknownOrg(id);
    const orgId = id.toLowerCase();
    // One BEGIN IMMEDIATE transaction: no other process can link an agent between the count and
    // the delete. Agents, contacts, appointments and claims go with the org (on delete cascade).
    return this.write({ orgId }, (db) => {
      const org = this.st(db, 'select * from organizations where id = ?').get(orgId) as Row | undefined;
      if (!org) throw unknownOrg(id);
      const n = Number((this.st(db, 'select count(*) as n from agents where org_id = ?').get(orgId) as Row).n);
      if (n > 0 && !opts.force) throw orgHasAgents(id, n);
      this.st(db, 'delete from organizations where id = ?').run(orgId);
      return { org: toOrg(org), agentsUnlinked: n };
    });
  }

  async unlinkAgent(slot: { orgId: string; type: string }): Promise<Agent | null> {
    if (!isUuid(slot.orgId)) throw unknownOrg(slot.orgId);
    const orgId = slot.orgId.toLowerCase();
    return this.write({ orgId }, (db) => {
      if (!this.orgExists(db, orgId)) throw unknownOrg(slot.orgId);
      const agent = this.st(db, `${AGENT_SELECT} where a.org_id = ? and a.type = ?`).get(orgId, slot.type) as Row | undefined;
      if (!agent) return null;
      this.st(db, 'delete from agents where org_id = ? and type = ?').run(orgId, slot.type);
      return toAgent(agent);
    });
  }

  private orgExists(db: Db, orgId: string): boolean {
    return this.st(db, 'select 1 from organizations where id = ?').get(orgId) !== undefined;
  }

  /** Upserts (org, type) → assistant; updated_at moves only when the assistant changes. */
  private upsertAgent(db: Db, orgId: string, type: string, assistantId: string, now: string): void {
    this.st(
      db,
      `insert into agents (id, org_id, type, vapi_assistant_id, created_at, updated_at) values (?, ?, ?, ?, ?, ?)
       on conflict (org_id, type) do update set vapi_assistant_id = excluded.vapi_assistant_id, updated_at = excluded.updated_at
       where agents.vapi_assistant_id is not excluded.vapi_assistant_id`,
    ).run(randomUUID(), orgId, type, assistantId, now, now);
  }

  async linkAgent(link: AgentLink): Promise<Agent> {
    const orgId = assertUuid(link.orgId, 'Organization id');
    return this.write({ orgId, assistantId: link.vapiAssistantId }, (db) => {
      if (!this.orgExists(db, orgId)) throw unknownOrg(link.orgId);
      const other = this.st(db, 'select org_id, type from agents where vapi_assistant_id = ? and not (org_id = ? and type = ?)').get(
        link.vapiAssistantId,
        orgId,
        link.type,
      ) as Row | undefined;
      if (other) throw assistantTaken(link.vapiAssistantId, { orgId: String(other.org_id), type: String(other.type) });
      this.upsertAgent(db, orgId, link.type, link.vapiAssistantId, iso(Date.now()));
      return toAgent(this.st(db, `${AGENT_SELECT} where a.org_id = ? and a.type = ?`).get(orgId, link.type) as Row);
    });
  }

  async listAgents(filter: { orgId?: string | undefined } = {}): Promise<Agent[]> {
    if (filter.orgId !== undefined && !isUuid(filter.orgId)) return [];
    const rows = filter.orgId
      ? this.all(`${AGENT_SELECT} where a.org_id = ? order by o.name, a.org_id, a.type`, filter.orgId.toLowerCase())
      : this.all(`${AGENT_SELECT} order by o.name, a.org_id, a.type`);
    return rows.map(toAgent);
  }

  async findAgentByAssistantId(vapiAssistantId: string): Promise<Agent | null> {
    const r = this.one(`${AGENT_SELECT} where a.vapi_assistant_id = ?`, vapiAssistantId);
    return r ? toAgent(r) : null;
  }

  /**
   * All rows or none, in one transaction, with the Postgres function's checks in its order
   * (unknown org without org_name, then a slot given twice) and messages. Postgres defers the
   * one-org-per-assistant check to the commit so an assistant may move to a slot whose old
   * assistant is re-pointed in the same call; here the slots being re-pointed are parked on a
   * placeholder first, so only a real clash (another slot keeps that assistant) fails.
   */
  async importAgents(rows: ImportRow[]): Promise<ImportResult> {
    if (!Array.isArray(rows)) throw new UsageError('Invalid value: p_rows must be a JSON array.');
    const norm = rows.map((r, i) => {
      if (!isUuid(r.org_id)) throw new UsageError(`Invalid value: row ${i + 1}: org_id is not a uuid.`, { hint: 'Org ids look like 3f2b8c1e-7a4d-4e1f-9b2a-0c5d6e7f8a9b.' });
      const name = typeof r.org_name === 'string' ? r.org_name.trim() : '';
      return { n: i + 1, orgId: r.org_id.toLowerCase(), orgName: name || null, type: String(r.type), assistantId: String(r.vapi_assistant_id) };
    });
    return this.write({}, (db) => {
      const exists = new Map<string, boolean>();
      const known = (id: string) => {
        let v = exists.get(id);
        if (v === undefined) exists.set(id, (v = this.orgExists(db, id)));
        return v;
      };
      const missing = norm.find((r) => r.orgName === null && !known(r.orgId));
      if (missing) {
        throw new NotFoundError(`Row ${missing.n}: organization ${missing.orgId} does not exist and the row gives no org_name.`, {
          hint: 'Give the row an org_name so the org is created, or add the org first with `voxctl orgs add`.',
        });
      }
      const seen = new Set<string>();
      for (const r of norm) {
        const key = `${r.orgId}|${r.type}`;
        if (seen.has(key)) {
          throw new UsageError(`Invalid value: row ${r.n}: org ${r.orgId} type ${r.type} appears more than once.`, {
            hint: 'Check the values passed; org ids are uuids and agent types are lower-case words such as inbound.',
          });
        }
        seen.add(key);
      }
      const now = iso(Date.now());
      let orgsCreated = 0;
      const insertOrg = this.st(db, 'insert into organizations (id, name, created_at, updated_at) values (?, ?, ?, ?)');
      for (const r of norm) {
        if (r.orgName === null || known(r.orgId)) continue;
        insertOrg.run(r.orgId, r.orgName, now, now);
        exists.set(r.orgId, true);
        orgsCreated++;
      }
      const current = this.st(db, 'select id, vapi_assistant_id from agents where org_id = ? and type = ?');
      const park = this.st(db, `update agents set vapi_assistant_id = char(1) || id where id = ?`);
      for (const r of norm) {
        const slot = current.get(r.orgId, r.type) as Row | undefined;
        if (slot && slot.vapi_assistant_id !== r.assistantId) park.run(slot.id);
      }
      for (const r of norm) {
        try {
          this.upsertAgent(db, r.orgId, r.type, r.assistantId, now);
        } catch (e) {
          throw mapSqliteError(e, { assistantId: r.assistantId }) ?? e;
        }
      }
      return { imported: norm.length, orgsCreated };
    });
  }

  async bookSlot(req: BookSlotRequest): Promise<BookSlotResult> {
    const orgId = assertUuid(req.orgId, 'Organization id');
    const startsAt = instant(req.startsAt, 'startsAt');
    const email = normEmail(req.email);
    return this.write({ orgId }, (db): BookSlotResult => {
      if (!this.orgExists(db, orgId)) throw unknownOrg(req.orgId);
      // The partial unique index decides; looking first keeps the loser from touching the contact.
      if (this.st(db, `select 1 from appointments where org_id = ? and starts_at = ? and status = 'booked'`).get(orgId, startsAt)) return { status: 'taken' };
      const now = iso(Date.now());
      const contact = this.st(
        db,
        `insert into contacts (id, org_id, email, name, phone, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)
         on conflict (org_id, email) do update set name = excluded.name, phone = coalesce(excluded.phone, contacts.phone), updated_at = excluded.updated_at
         returning id`,
      ).get(randomUUID(), orgId, email, req.name, req.phone ?? null, now, now) as Row;
      const appointmentId = randomUUID();
      this.st(db, 'insert into appointments (id, org_id, contact_id, starts_at, created_at, updated_at) values (?, ?, ?, ?, ?, ?)').run(
        appointmentId,
        orgId,
        contact.id,
        startsAt,
        now,
        now,
      );
      return { status: 'booked', appointmentId, contactId: String(contact.id), startsAt };
    });
  }

  async listBookedStarts(orgId: string, fromIso: string, toIso: string): Promise<string[]> {
    if (!isUuid(orgId)) return [];
    const from = instant(fromIso, 'from');
    const to = instant(toIso, 'to');
    return this.all(
      `select starts_at from appointments where org_id = ? and status = 'booked' and starts_at >= ? and starts_at < ? order by starts_at`,
      orgId.toLowerCase(),
      from,
      to,
    ).map((r) => String(r.starts_at));
  }

  async cancelAppointment(req: { orgId: string; email: string; startsAt: string }): Promise<boolean> {
    if (!isUuid(req.orgId)) return false;
    const orgId = req.orgId.toLowerCase();
    const startsAt = instant(req.startsAt, 'startsAt');
    if (!this.reader()) return false;
    return this.write({ orgId }, (db) => {
      const r = this.st(
        db,
        `update appointments set status = 'cancelled', updated_at = ?
          where org_id = ? and starts_at = ? and status = 'booked'
            and contact_id in (select id from contacts where org_id = ? and email = ?)`,
      ).run(iso(Date.now()), orgId, startsAt, orgId, normEmail(req.email));
      return r.changes > 0;
    });
  }

  async claimAgentSlot(req: SlotClaimRequest): Promise<SlotClaim> {
    if (!isUuid(req.orgId)) throw unknownOrg(req.orgId);
    const orgId = req.orgId.toLowerCase();
    const claimId = assertUuid(req.claimId, 'Claim id');
    const takeOver = req.takeOverClaimId === undefined ? null : assertUuid(req.takeOverClaimId, 'Claim id');
    return this.write({ orgId }, (db): SlotClaim => {
      if (!this.orgExists(db, orgId)) throw unknownOrg(req.orgId);
      const linked = this.st(db, 'select vapi_assistant_id from agents where org_id = ? and type = ?').get(orgId, req.type) as Row | undefined;
      if (linked && linked.vapi_assistant_id !== (req.replaceAssistantId ?? null)) return { status: 'linked', assistantId: String(linked.vapi_assistant_id) };
      const nowMs = Date.now();
      const now = iso(nowMs);
      const expiresAt = iso(nowMs + Math.ceil(req.ttlSeconds) * 1000);
      const held = this.st(db, 'select claim_id, holder, claimed_at, expires_at from agent_claims where org_id = ? and type = ?').get(orgId, req.type) as Row | undefined;
      if (held && !(String(held.expires_at) <= now || held.claim_id === claimId || held.claim_id === takeOver)) {
        return { status: 'busy', claimId: String(held.claim_id), holder: String(held.holder), claimedAt: String(held.claimed_at), expiresAt: String(held.expires_at) };
      }
      this.st(
        db,
        `insert into agent_claims (org_id, type, claim_id, holder, claimed_at, expires_at) values (?, ?, ?, ?, ?, ?)
         on conflict (org_id, type) do update set claim_id = excluded.claim_id, holder = excluded.holder, claimed_at = excluded.claimed_at, expires_at = excluded.expires_at`,
      ).run(orgId, req.type, claimId, (req.holder ?? '').slice(0, 200), now, expiresAt);
      return { status: 'claimed', expiresAt };
    });
  }

  async renewAgentClaim(req: { orgId: string; type: string; claimId: string; ttlSeconds: number }): Promise<boolean> {
    if (!isUuid(req.orgId) || !isUuid(req.claimId)) return false;
    return this.write({}, (db) => {
      const r = this.st(db, 'update agent_claims set expires_at = ? where org_id = ? and type = ? and claim_id = ?').run(
        iso(Date.now() + Math.ceil(req.ttlSeconds) * 1000),
        req.orgId.toLowerCase(),
        req.type,
        req.claimId.toLowerCase(),
      );
      return r.changes > 0;
    });
  }

  async completeAgentClaim(req: { orgId: string; type: string; claimId: string; assistantId: string }): Promise<{ status: 'linked' | 'lost' }> {
    if (!isUuid(req.orgId) || !isUuid(req.claimId)) return { status: 'lost' };
    const orgId = req.orgId.toLowerCase();
    return this.write({ orgId, assistantId: req.assistantId }, (db) => {
      const held = this.st(db, 'select claim_id from agent_claims where org_id = ? and type = ?').get(orgId, req.type) as Row | undefined;
      if (held?.claim_id !== req.claimId.toLowerCase()) return { status: 'lost' as const };
      const other = this.st(db, `${AGENT_SELECT} where a.vapi_assistant_id = ? and not (a.org_id = ? and a.type = ?)`).get(req.assistantId, orgId, req.type) as
        | Row
        | undefined;
      if (other) throw assistantTaken(req.assistantId, toAgent(other));
      this.upsertAgent(db, orgId, req.type, req.assistantId, iso(Date.now()));
      this.st(db, 'delete from agent_claims where org_id = ? and type = ?').run(orgId, req.type);
      return { status: 'linked' as const };
    });
  }

  async releaseAgentClaim(req: { orgId: string; type: string; claimId: string }): Promise<void> {
    if (!isUuid(req.orgId) || !isUuid(req.claimId) || !this.reader()) return;
    this.write({}, (db) =>
      this.st(db, 'delete from agent_claims where org_id = ? and type = ? and claim_id = ?').run(req.orgId.toLowerCase(), req.type, req.claimId.toLowerCase()),
    );
  }

  async schemaVersion(): Promise<number | null> {
    const db = this.reader();
    if (!db) return null;
    const v = Number(db.pragma('user_version'));
    return v > 0 ? v : null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stmts.clear();
    const c = await this.checkpointer;
    await c?.stop();
    this.source.close();
  }
}

/**
 * The embedded store of a data dir. Nothing is created or opened until a command reads (an
 * existing file) or writes (creating the folder and file).
 */
export async function openEmbeddedStore(dataDir: string, driver?: SqliteDriver): Promise<SqliteStore> {
  const d = driver ?? (await sqliteDriver());
  return new SqliteStore(fileSource(dataDir, d), `embedded store at ${path.join(dataDir, STORE_FILE)}`);
}

/** Opens (creating and migrating) the data dir's store now, for `db migrate`. */
export async function migrateEmbeddedStore(dataDir: string, driver?: SqliteDriver): Promise<MigrateResult & { file: string }> {
  const d = driver ?? (await sqliteDriver());
  const file = path.join(dataDir, STORE_FILE);
  const old = !existsSync(file) && pgliteLeftover(dataDir);
  if (old) throw leftoverError(dataDir, old);
  ensureDir(dataDir);
  createPrivate(file);
  const db = withSqliteErrors({ file }, () => d.open(file, { timeoutMs: BUSY_TIMEOUT_MS }));
  try {
    return { ...withSqliteErrors({ file }, () => migrateSqlite(configure(db))), file };
  } finally {
    db.close();
  }
}
