import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, StoreBusyError, UsageError, VoxError } from '../../src/errors.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { migrateEmbeddedStore, openEmbeddedStore, SQLITE_SCHEMA_VERSION, STORE_FILE } from '../../src/store/sqlite.js';
import { driverNamed, NODE_SQLITE_MIN, type DriverName, type SqliteDriver } from '../../src/store/sqlite-driver.js';
import { mapSqliteError } from '../../src/store/sqlite-errors.js';
import { createTestDb, resetDb, runtimeDriver, sharedStore } from '../helpers/store.js';
import { describeStoreContract } from './store-contract.js';
import { thrown } from '../helpers/thrown.js';

const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const hasNodeSqlite = major > 22 || (major === 22 && minor >= Number(NODE_SQLITE_MIN.split('.')[1]));

it(`runs the store on the runtime's own SQLite from Node ${NODE_SQLITE_MIN} on, and on better-sqlite3 only below`, () => {
  expect(runtimeDriver.name).toBe(hasNodeSqlite ? 'node:sqlite' : 'better-sqlite3');
});

/**
 * Everything below runs once per driver that loads on this Node: node:sqlite on 22.16+,
 * better-sqlite3 where its addon is built for this Node (Node 20 here). The same contract, the
 * same files, the same errors.
 */
const drivers: Array<[DriverName, SqliteDriver | undefined]> = [
  ['node:sqlite', await driverNamed('node:sqlite')],
  ['better-sqlite3', await driverNamed('better-sqlite3')],
];

// A driver that does not load on this Node registers nothing (rather than a row of skipped
// tests): .ci/run checks that each driver's suite ran on the runtimes it belongs to.
for (const [name, driver] of drivers) {
  if (!driver) continue;
  describe(`SQLite driver ${name}`, () => {
    const d = driver;
    describeStoreContract(`embedded (SQLite, ${name})`, async () => {
      const db = createTestDb(d);
      return {
        store: sharedStore(db),
        query: async <T>(sql: string) => db.prepare(sql).all() as T[],
        reset: async () => resetDb(db),
        close: async () => void db.close(),
      };
    });
    onDisk(d);
    errorMapping(d);
  });
}

function onDisk(driver: SqliteDriver): void {
describe('embedded store on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'voxctl-sqlite-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads as empty and creates nothing until the first write, which creates and migrates the file', async () => {
    const data = path.join(dir, '.voxctl');
    const store = await openEmbeddedStore(data, driver);
    expect(await store.listOrgs()).toEqual([]);
    expect(await store.listAgents()).toEqual([]);
    expect(await store.getOrg('0a000000-0000-4000-8000-00000000000a')).toBeNull();
    expect(await store.findAgentByAssistantId('asst')).toBeNull();
    expect(await store.listBookedStarts('0a000000-0000-4000-8000-00000000000a', '2030-01-01T00:00:00Z', '2030-01-02T00:00:00Z')).toEqual([]);
    expect(await store.schemaVersion()).toBeNull();
    expect(existsSync(data)).toBe(false);

    const org = await store.addOrg({ name: 'Kept' });
    expect(statSync(path.join(data, STORE_FILE)).mode & 0o777).toBe(0o600);
    expect(await store.schemaVersion()).toBe(SCHEMA_VERSION);
    await store.close();
    await store.close(); // safe twice

    const raw = driver.open(path.join(data, STORE_FILE), { readOnly: true });
    expect(raw.pragma('journal_mode')).toBe('wal');
    expect(raw.pragma('user_version')).toBe(SQLITE_SCHEMA_VERSION);
    expect(raw.prepare('select name from organizations where id = ?').all(org.id).map((r) => ({ ...(r as object) }))).toEqual([{ name: 'Kept' }]);
    raw.close();

    expect(await migrateEmbeddedStore(data, driver)).toMatchObject({ applied: false, version: SQLITE_SCHEMA_VERSION, from: SQLITE_SCHEMA_VERSION });
  });

  it('is shared: two open stores on one file see each other’s writes at once, and a slot is booked once', async () => {
    const a = await openEmbeddedStore(dir, driver);
    const b = await openEmbeddedStore(dir, driver);
    try {
      expect(await b.listOrgs()).toEqual([]); // b looked before the file existed
      const org = await a.addOrg({ name: 'Shared' });
      expect((await b.listOrgs()).map((o) => o.id)).toEqual([org.id]);
      await b.linkAgent({ orgId: org.id, type: 'inbound', vapiAssistantId: 'asst_b' });
      expect((await a.findAgentByAssistantId('asst_b'))?.orgId).toBe(org.id);
      const slot = '2030-01-07T09:00:00.000Z';
      const x = await a.bookSlot({ orgId: org.id, startsAt: slot, email: 'a@example.com', name: 'A' });
      const y = await b.bookSlot({ orgId: org.id, startsAt: slot, email: 'b@example.com', name: 'B' });
      expect([x.status, y.status]).toEqual(['booked', 'taken']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('migrates once when many openers race on a new file', async () => {
    const results = await Promise.all(Array.from({ length: 4 }, () => migrateEmbeddedStore(dir, driver)));
    expect(results.filter((r) => r.applied)).toHaveLength(1);
  });

  it('refuses a store made by a newer voxctl, changing nothing', async () => {
    const file = path.join(dir, STORE_FILE);
    const raw = driver.open(file);
    raw.exec(`pragma user_version = ${SQLITE_SCHEMA_VERSION + 1}`);
    raw.close();
    const store = await openEmbeddedStore(dir, driver);
    const e = await thrown(() => store.listOrgs());
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain(`schema version ${SQLITE_SCHEMA_VERSION + 1}`);
    await store.close();
    const again = driver.open(file, { readOnly: true });
    expect(again.pragma('user_version')).toBe(SQLITE_SCHEMA_VERSION + 1);
    expect({ ...(again.prepare(`select count(*) as n from sqlite_master`).get() as object) }).toEqual({ n: 0 });
    again.close();
  });

  it('recognises a PGlite data dir and says what to do, deleting and creating nothing', async () => {
    mkdirSync(path.join(dir, 'pgdata'));
    writeFileSync(path.join(dir, 'pgdata', 'PG_VERSION'), '17\n');
    const before = readdirSync(dir, { recursive: true }).sort();
    const store = await openEmbeddedStore(dir, driver);
    for (const op of [() => store.listOrgs(), () => store.addOrg({ name: 'X' }), () => migrateEmbeddedStore(dir, driver)]) {
      const e = await thrown(op);
      expect(e).toBeInstanceOf(VoxError);
      expect((e as VoxError).code).toBe('store_outdated');
      expect((e as VoxError).exitCode).toBe(1);
      expect(e.message).toContain(path.join(dir, 'pgdata'));
      expect((e as VoxError).hint).toContain(`mv ${path.join(dir, 'pgdata')}`);
      expect((e as VoxError).hint).toContain('agents list --json');
    }
    await store.close();
    expect(readdirSync(dir, { recursive: true }).sort()).toEqual(before);
  });

  it('waits for another connection’s write only as long as bound, then fails with store_busy, writing nothing; once released it writes', async () => {
    const store = await openEmbeddedStore(dir, driver);
    await store.addOrg({ id: '0a000000-0000-4000-8000-00000000000a', name: 'First' });
    const holder = driver.open(path.join(dir, STORE_FILE));
    try {
      holder.exec('begin immediate');
      store.boundLockWait(20);
      const e = (await thrown(() => store.addOrg({ name: 'Blocked' }))) as VoxError;
      expect(e).toBeInstanceOf(StoreBusyError);
      expect(e.code).toBe('store_busy');
      expect(e.exitCode).toBe(1);
      expect(e.message).toBe(`The embedded store at ${path.join(dir, STORE_FILE)} stayed locked by another voxctl process for too long.`);
      // Reads are not blocked by a writer (WAL).
      expect((await store.listOrgs()).map((o) => o.name)).toEqual(['First']);
      holder.exec('rollback');
      await store.addOrg({ name: 'Later' });
      expect((await store.listOrgs()).map((o) => o.name)).toEqual(['First', 'Later']);
    } finally {
      holder.close();
      await store.close();
    }
  });

  it('answers store_corrupt for a file that is not a SQLite database, leaving it as it was', async () => {
    const file = path.join(dir, STORE_FILE);
    writeFileSync(file, 'not a database, just text that is long enough to be a header of some kind\n'.repeat(20));
    const before = readFileSync(file, 'utf8');
    const store = await openEmbeddedStore(dir, driver);
    const e = (await thrown(() => store.listOrgs())) as VoxError;
    expect(e.code).toBe('store_corrupt');
    expect(e.message).toBe(`The embedded store at ${file} is not a readable SQLite database.`);
    await store.close();
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('names the path when the data folder cannot be created (exit 1, fails fast)', async () => {
    const store = await openEmbeddedStore('/proc/nope/voxctl', driver);
    expect(await store.listOrgs()).toEqual([]);
    const e = (await thrown(() => store.addOrg({ name: 'X' }))) as VoxError;
    expect(e.code).toBe('file_access');
    expect(e.exitCode).toBe(1);
    expect(e.message).toContain('/proc/nope');
  });
});

}

function errorMapping(driver: SqliteDriver): void {
describe('SQLite error mapping', () => {
  it('maps constraint failures to the same typed errors, without copying row values', () => {
    const db = createTestDb(driver);
    try {
      db.prepare(`insert into organizations (id, name) values ('0a000000-0000-4000-8000-00000000000a', 'Secret Name')`).run();
      const fail = (sql: string) => {
        try {
          db.prepare(sql).run();
        } catch (e) {
          return e;
        }
        throw new Error('expected a failure');
      };
      const dup = mapSqliteError(fail(`insert into organizations (id, name) values ('0a000000-0000-4000-8000-00000000000a', 'Secret Name')`), {
        orgId: '0a000000-0000-4000-8000-00000000000a',
      });
      expect(dup).toBeInstanceOf(ConflictError);
      expect(dup!.message).toBe('Organization 0a000000-0000-4000-8000-00000000000a already exists.');
      const check = mapSqliteError(fail(`insert into contacts (id, org_id, email) values ('c', '0a000000-0000-4000-8000-00000000000a', 'NO-AT-SIGN.example')`));
      expect(check).toBeInstanceOf(UsageError);
      expect(check!.message).toBe('Invalid value: the contacts_email_check rule failed.');
      expect(check!.message).not.toContain('NO-AT-SIGN');
      const fk = mapSqliteError(fail(`insert into agents (id, org_id, type, vapi_assistant_id) values ('x', '0f000000-0000-4000-8000-00000000000f', 'inbound', 'a')`), {
        orgId: '0f000000-0000-4000-8000-00000000000f',
      });
      expect(fk?.code).toBe('not_found');
      db.prepare(`insert into agents (id, org_id, type, vapi_assistant_id) values ('g1', '0a000000-0000-4000-8000-00000000000a', 'inbound', 'asst_1')`).run();
      const taken = mapSqliteError(fail(`insert into agents (id, org_id, type, vapi_assistant_id) values ('g2', '0a000000-0000-4000-8000-00000000000a', 'outbound', 'asst_1')`), {
        assistantId: 'asst_1',
      });
      expect(taken).toBeInstanceOf(ConflictError);
      expect(taken!.message).toBe('Assistant asst_1 is already linked to another agent slot; one assistant serves one org.');
      const notNull = mapSqliteError(fail(`insert into organizations (id, name) values ('0b000000-0000-4000-8000-00000000000b', null)`));
      expect(notNull).toBeInstanceOf(UsageError);
      expect(notNull!.message).toBe('Invalid value: the organizations.name rule failed.');
      expect(mapSqliteError(new Error('not sqlite'))).toBeUndefined();
    } finally {
      db.close();
    }
  });
});
}
