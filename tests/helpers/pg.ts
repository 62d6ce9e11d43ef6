import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { readSchemaSql } from '../../src/store/schema.js';

/**
 * Postgres (PGlite, in memory) behind the PostgREST fake (tests/fakes/postgrest.ts), with
 * templates/schema.sql applied: the Supabase store's tests only. The embedded store is SQLite
 * (tests/helpers/store.ts). Goes away with the fake once the real PostgREST tier replaces it.
 */
export async function createPgTestDb(): Promise<PGlite> {
  const db = await PGlite.create();
  await db.exec(await readSchemaSql());
  return db;
}

export async function resetPgDb(db: PGlite): Promise<void> {
  await db.exec('truncate appointments, contacts, agent_claims, agents, organizations cascade');
}

/** One PGlite for the calling test file, emptied before each test. */
export function usePgTestDb(): { readonly db: PGlite } {
  let db: PGlite | undefined;
  beforeAll(async () => {
    db = await createPgTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    if (db) await resetPgDb(db);
  });
  return {
    get db() {
      if (!db) throw new Error('usePgTestDb: the database exists only inside tests and hooks.');
      return db;
    },
  };
}

/** Applies templates/schema.sql unless the database already has its version (as `db schema` users do by hand). */
export async function migratePg(db: PGlite): Promise<{ applied: boolean; version: number; from: number }> {
  const { SCHEMA_VERSION } = await import('../../src/store/schema.js');
  const has = await db.query<{ ok: boolean }>(
    `select exists (select 1 from information_schema.tables where table_schema = current_schema() and table_name = 'voxctl_schema') as ok`,
  );
  let from = 0;
  if (has.rows[0]?.ok) from = (await db.query<{ v: number | null }>('select max(version) as v from voxctl_schema')).rows[0]?.v ?? 0;
  if (from === SCHEMA_VERSION) return { applied: false, version: SCHEMA_VERSION, from };
  await db.exec(await readSchemaSql());
  return { applied: true, version: SCHEMA_VERSION, from };
}
