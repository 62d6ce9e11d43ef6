import { afterAll, beforeAll, beforeEach } from 'vitest';
import { configure, dbSource, migrateSqlite, SqliteStore } from '../../src/store/sqlite.js';
import { sqliteDriver, type SqliteDatabase, type SqliteDriver } from '../../src/store/sqlite-driver.js';
import type { Store } from '../../src/store/types.js';

export type TestDatabase = SqliteDatabase;

/** The driver the CLI uses on the Node running the tests (node:sqlite, or better-sqlite3 on Node 20). */
export const runtimeDriver: SqliteDriver = await sqliteDriver();

/**
 * The embedded store in tests: one in-memory SQLite database (opening and migrating one takes
 * about a millisecond), at the schema the CLI creates, on `driver` (default: the runtime's).
 * `sharedStore` hands commands a Store over it that does not close it.
 */
export function createTestDb(driver: SqliteDriver = runtimeDriver): TestDatabase {
  const db = configure(driver.open(':memory:'));
  migrateSqlite(db);
  return db;
}

export function resetDb(db: TestDatabase): void {
  db.exec('delete from appointments; delete from contacts; delete from agent_claims; delete from agents; delete from organizations;');
}

export function sharedStore(db: TestDatabase): Store {
  return new SqliteStore(dbSource(db, false), 'test store');
}

export interface TestDb {
  /** The file's database (only inside tests and hooks). */
  readonly db: TestDatabase;
  /** A Store over it that commands may "close" without closing it. */
  readonly store: Store;
  /** For runCli's `storeFactory`. */
  readonly factory: () => Promise<Store>;
  /** Rows of a query on the database. */
  rows<T = Record<string, unknown>>(sql: string, ...params: unknown[]): T[];
}

/**
 * One in-memory database for the calling test file: created before its tests, emptied before
 * each one (ahead of the file's own beforeEach hooks, which run in the order they are
 * registered), closed after all. Call it at the top of the file.
 */
export function useTestDb(): TestDb {
  let db: TestDatabase | undefined;
  beforeAll(() => {
    db = createTestDb();
  });
  afterAll(() => {
    db?.close();
  });
  beforeEach(() => {
    resetDb(current());
  });
  function current(): TestDatabase {
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
    rows: <T>(sql: string, ...params: unknown[]) => current().prepare(sql).all(...params) as T[],
  };
}
