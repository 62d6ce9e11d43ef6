import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { migrate, PgliteStore } from '../../src/store/pglite.js';
import type { Store } from '../../src/store/types.js';

/**
 * One in-memory PGlite per test file (initialising one costs seconds): call in beforeAll, reset
 * with `resetDb` in beforeEach. `storeFactory` hands commands a Store over the shared database
 * that does not close it.
 */
export async function createTestDb(): Promise<PGlite> {
  const db = await PGlite.create();
  await migrate(db);
  return db;
}

export async function resetDb(db: PGlite): Promise<void> {
  await db.exec('truncate appointments, contacts, agents, organizations cascade');
}

export function sharedStore(db: PGlite): Store {
  return new PgliteStore(db, 'test store', () => {}, false);
}

export function storeFactory(db: PGlite): () => Promise<Store> {
  return async () => sharedStore(db);
}

export interface TestDb {
  /** The file's database (only inside tests and hooks). */
  readonly db: PGlite;
  /** A Store over it that commands may "close" without closing it. */
  readonly store: Store;
  /** For runCli's `storeFactory`. */
  readonly factory: () => Promise<Store>;
}

/**
 * One in-memory database for the calling test file: created before its tests, emptied before
 * each one (ahead of the file's own beforeEach hooks, which run in the order they are
 * registered), closed after all. Call it at the top of the file.
 */
export function useTestDb(): TestDb {
  let db: PGlite | undefined;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await resetDb(current());
  });
  function current(): PGlite {
    if (!db) throw new Error('useTestDb: the database exists only inside tests and hooks.');
    return db;
  }
  return {
    get db() {
      return current();
    },
    get store() {
      return sharedStore(current());
    },
    factory: () => Promise.resolve(sharedStore(current())),
  };
}
