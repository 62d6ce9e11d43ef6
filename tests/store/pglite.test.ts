import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { acquireDirLock } from '../../src/store/lock.js';
import { migrate, openEmbeddedStore, openPglite } from '../../src/store/pglite.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { createTestDb, resetDb, sharedStore } from '../helpers/store.js';
import { describeStoreContract } from './store-contract.js';

describeStoreContract('embedded (PGlite)', async () => {
  const db = await createTestDb();
  return { store: sharedStore(db), db, reset: () => resetDb(db), close: () => db.close() };
});

describe('embedded store on disk', () => {
  it('creates and migrates a data dir on first open, locks it, and reopens it without migrating', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxctl-store-'));
    try {
      const first = await openPglite(dir, 'test first');
      expect(first.migration).toEqual({ applied: true, version: SCHEMA_VERSION, from: 0 });
      // A second opener is refused while the first holds the lock.
      const e = await openPglite(dir, 'test second').catch((x: unknown) => x as Error);
      expect(e).toBeInstanceOf(ConflictError);
      expect((e as Error).message).toContain('already open in this process');
      await first.db.close();
      first.release();

      const store = await openEmbeddedStore(dir, 'test reopen');
      const org = await store.addOrg({ name: 'Kept' });
      await store.close();
      await store.close(); // safe twice

      const again = await openPglite(dir, 'test again');
      expect(again.migration.applied).toBe(false);
      const rows = await again.db.query<{ name: string }>('select name from organizations where id = $1', [org.id]);
      expect(rows.rows).toEqual([{ name: 'Kept' }]);
      await again.db.close();
      again.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('data-dir lock', () => {
  const withDir = (fn: (dir: string) => void) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'voxctl-lock-'));
    try {
      fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const writeLock = (dir: string, pid: number) =>
    writeFileSync(path.join(dir, 'store.lock'), JSON.stringify({ pid, command: 'voxctl tunnel up', since: '2030-01-01T00:00:00Z' }));

  it('refuses a lock held by another live process, naming it', () => {
    withDir((dir) => {
      writeLock(dir, process.ppid);
      expect(() => acquireDirLock(dir, 'x')).toThrow(new RegExp(`in use by another voxctl process \\(pid ${process.ppid}: voxctl tunnel up\\)`));
    });
  });

  it('takes over a lock left by a dead process, or by an earlier process that had our pid', () => {
    withDir((dir) => {
      writeLock(dir, 2 ** 22 + 12345); // above Linux's pid_max: never alive
      const release = acquireDirLock(dir, 'x');
      release();
      expect(existsSync(path.join(dir, 'store.lock'))).toBe(false);
      writeLock(dir, process.pid);
      acquireDirLock(dir, 'y')();
    });
  });
});

describe('schema SQL', () => {
  it('upgrades a version-1 store in place and, on Supabase roles, grants the service role only', { timeout: 60_000 }, async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const db = await PGlite.create();
    try {
      // Supabase's roles (the service role bypasses row-level security there).
      await db.exec('create role anon; create role authenticated; create role service_role bypassrls;');
      await db.exec(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema-v1.sql'), 'utf8'));
      await db.exec(`insert into organizations (id, name) values ('0a000000-0000-4000-8000-00000000000a', 'Alpha');
                     insert into agents (org_id, type, vapi_assistant_id) values ('0a000000-0000-4000-8000-00000000000a', 'inbound', 'asst_1');`);
      expect(await migrate(db)).toEqual({ applied: true, version: SCHEMA_VERSION, from: 1 });
      expect(await migrate(db)).toEqual({ applied: false, version: SCHEMA_VERSION, from: SCHEMA_VERSION });

      const q = async (sql: string) => (await db.query<Record<string, unknown>>(sql)).rows[0]!;
      expect(await q(`select condeferrable as d from pg_constraint where conname = 'agents_vapi_assistant_id_key'`)).toEqual({ d: true });
      expect(
        await q(`select has_function_privilege('service_role', 'voxctl_import_agents(jsonb)', 'execute') as sr,
                        has_function_privilege('anon', 'voxctl_import_agents(jsonb)', 'execute') as anon,
                        has_function_privilege('authenticated', 'voxctl_book_slot(uuid, timestamptz, text, text, text)', 'execute') as auth`),
      ).toEqual({ sr: true, anon: false, auth: false });

      // As the service role (not a superuser): the data survived, and a move between slots imports.
      await db.exec('set role service_role');
      const store = sharedStore(db);
      expect((await store.listAgents()).map((a) => a.vapiAssistantId)).toEqual(['asst_1']);
      const rows = [
        { org_id: '0a000000-0000-4000-8000-00000000000a', type: 'outbound', vapi_assistant_id: 'asst_1' },
        { org_id: '0a000000-0000-4000-8000-00000000000a', type: 'inbound', vapi_assistant_id: 'asst_2' },
      ];
      expect(await store.importAgents(rows)).toEqual({ imported: 2, orgsCreated: 0 });
      await db.exec('reset role');
    } finally {
      await db.close();
    }
  });
});
