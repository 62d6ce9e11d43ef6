import { PGlite } from '@electric-sql/pglite';
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
