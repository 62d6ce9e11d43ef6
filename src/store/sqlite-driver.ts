/**
 * The SQLite driver under the embedded store. Where the runtime has SQLite built in
 * (`node:sqlite`, Node 22.16 and newer: the first release with every option the store uses, the
 * busy `timeout` above all) that is the driver; only where it does not (Node 20) is the optional
 * better-sqlite3 addon loaded. Both come down to the few calls the store makes: prepare → run /
 * get / all, exec, a pragma's value, one BEGIN IMMEDIATE transaction, close. Their statements
 * already agree on those calls (positional `?` parameters; `get` gives undefined for no row;
 * `run` gives `changes`), so statements are handed out as the driver makes them, unwrapped. Rows
 * from node:sqlite have a null prototype; the store reads them by key and builds its own objects.
 *
 * Errors stay the driver's own; `sqliteErrorCode` names them alike (node:sqlite's numeric
 * `errcode`, better-sqlite3's `code` string) for sqlite-errors.ts.
 */
import { VoxError } from '../errors.js';
import type * as NodeSqliteModule from 'node:sqlite';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type BetterSqlite3 from 'better-sqlite3';

export type DriverName = 'node:sqlite' | 'better-sqlite3';
export type Row = Record<string, unknown>;

/** A prepared statement: node:sqlite's StatementSync and better-sqlite3's Statement both fit. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
}

export interface SqliteDatabase {
  readonly driver: DriverName;
  prepare(sql: string): SqliteStatement;
  /** Runs one or more statements that return nothing. */
  exec(sql: string): void;
  /** The first column of the first row of `pragma <text>` (undefined when it returns none). */
  pragma(text: string): unknown;
  /** Runs `fn` inside BEGIN IMMEDIATE … COMMIT (ROLLBACK when it throws); `fn` must be synchronous. */
  immediate<T>(fn: () => T): T;
  close(): void;
}

export interface OpenOptions {
  /** How long a statement waits for another connection's lock before SQLITE_BUSY (ms, default 0). */
  timeoutMs?: number | undefined;
  /** Open an existing file for reading only (never creates it). */
  readOnly?: boolean | undefined;
}

export interface SqliteDriver {
  readonly name: DriverName;
  open(file: string, options?: OpenOptions): SqliteDatabase;
}

/** The oldest Node release whose node:sqlite has everything the store uses. */
export const NODE_SQLITE_MIN = '22.16.0';

/** node:sqlite's `errcode` (SQLite's extended result code) → the name better-sqlite3 gives it. */
const PRIMARY: Readonly<Record<number, string>> = {
  1: 'SQLITE_ERROR',
  5: 'SQLITE_BUSY',
  6: 'SQLITE_LOCKED',
  8: 'SQLITE_READONLY',
  10: 'SQLITE_IOERR',
  11: 'SQLITE_CORRUPT',
  13: 'SQLITE_FULL',
  14: 'SQLITE_CANTOPEN',
  19: 'SQLITE_CONSTRAINT',
  26: 'SQLITE_NOTADB',
};
const EXTENDED: Readonly<Record<number, string>> = {
  261: 'SQLITE_BUSY_RECOVERY',
  517: 'SQLITE_BUSY_SNAPSHOT',
  773: 'SQLITE_BUSY_TIMEOUT',
  275: 'SQLITE_CONSTRAINT_CHECK',
  787: 'SQLITE_CONSTRAINT_FOREIGNKEY',
  1299: 'SQLITE_CONSTRAINT_NOTNULL',
  1555: 'SQLITE_CONSTRAINT_PRIMARYKEY',
  2067: 'SQLITE_CONSTRAINT_UNIQUE',
};

/**
 * The SQLite result code of a driver error as better-sqlite3 names it (`SQLITE_BUSY`,
 * `SQLITE_CONSTRAINT_UNIQUE`…), or undefined when `e` is not a SQLite error. An extended code
 * without a name here keeps its primary name plus `_<n>` (so `startsWith('SQLITE_IOERR_')` holds).
 */
export function sqliteErrorCode(e: unknown): string | undefined {
  if (!e || typeof e !== 'object') return undefined;
  const x = e as { code?: unknown; errcode?: unknown };
  if (typeof x.errcode === 'number' && x.code === 'ERR_SQLITE_ERROR') {
    const named = EXTENDED[x.errcode];
    if (named) return named;
    const primary = PRIMARY[x.errcode & 0xff] ?? `SQLITE_${x.errcode & 0xff}`;
    return x.errcode > 0xff ? `${primary}_${x.errcode >> 8}` : primary;
  }
  return typeof x.code === 'string' && x.code.startsWith('SQLITE_') ? x.code : undefined;
}

type NodeSqlite = typeof NodeSqliteModule;
type BetterCtor = typeof BetterSqlite3;

function nodeSqliteDriver(mod: NodeSqlite): SqliteDriver {
  return {
    name: 'node:sqlite',
    open(file, options = {}) {
      const db: DatabaseSync = new mod.DatabaseSync(file, { timeout: options.timeoutMs ?? 0, readOnly: options.readOnly ?? false });
      return {
        driver: 'node:sqlite',
        prepare: (sql) => db.prepare(sql) as StatementSync as unknown as SqliteStatement,
        exec: (sql) => db.exec(sql),
        pragma(text) {
          const row = db.prepare(`pragma ${text}`).get();
          return row ? Object.values(row)[0] : undefined;
        },
        immediate<T>(fn: () => T): T {
          // node:sqlite has no transaction helper; this is the one better-sqlite3's `.immediate()` is.
          db.exec('begin immediate');
          let result: T;
          try {
            result = fn();
          } catch (e) {
            if (db.isTransaction) db.exec('rollback');
            throw e;
          }
          try {
            db.exec('commit');
          } catch (e) {
            if (db.isTransaction) db.exec('rollback');
            throw e;
          }
          return result;
        },
        close: () => db.close(),
      };
    },
  };
}

function betterSqliteDriver(D: BetterCtor): SqliteDriver {
  return {
    name: 'better-sqlite3',
    open(file, options = {}) {
      const db = new D(file, { timeout: options.timeoutMs ?? 0, readonly: options.readOnly ?? false, fileMustExist: options.readOnly ?? false });
      return {
        driver: 'better-sqlite3',
        prepare: (sql) => db.prepare(sql) as unknown as SqliteStatement,
        exec: (sql) => void db.exec(sql),
        pragma: (text) => db.pragma(text, { simple: true }),
        immediate: <T>(fn: () => T): T => db.transaction(fn).immediate(),
        close: () => void db.close(),
      };
    },
  };
}

const atLeast = (version: string, min: string): boolean => {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
};

const isSqliteExperimentalWarning = (warning: unknown, type: unknown): boolean => {
  const t = typeof type === 'string' ? type : type && typeof type === 'object' ? (type as { type?: unknown }).type : warning instanceof Error ? warning.name : undefined;
  const text = warning instanceof Error ? warning.message : String(warning);
  return t === 'ExperimentalWarning' && text.startsWith('SQLite is an experimental feature');
};

/**
 * `node:sqlite` when the runtime has it (undefined otherwise). Node 22 announces the module with
 * an ExperimentalWarning the user cannot act on; exactly that warning is dropped, and only while
 * the module loads (any other warning, then or later, goes through untouched).
 */
export function loadNodeSqlite(get: (id: string) => unknown = (id) => process.getBuiltinModule(id)): NodeSqlite | undefined {
  const emit = process.emitWarning;
  process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
    if (isSqliteExperimentalWarning(warning, rest[0])) return;
    return (emit as (...a: unknown[]) => void).call(this, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    return get('node:sqlite') as NodeSqlite | undefined;
  } catch {
    return undefined;
  } finally {
    process.emitWarning = emit;
  }
}

/** better-sqlite3 when it is installed AND its native addon loads on this Node (it opens a :memory: database to know). */
export async function loadBetterSqlite3(): Promise<BetterCtor> {
  const D = (await import('better-sqlite3')).default;
  new D(':memory:').close();
  return D;
}

/** What the driver choice depends on (tests replace it). */
export interface DriverLoader {
  nodeVersion: string;
  nodeSqlite(): NodeSqlite | undefined;
  betterSqlite3(): Promise<BetterCtor>;
}

export const defaultLoader: DriverLoader = { nodeVersion: process.versions.node, nodeSqlite: () => loadNodeSqlite(), betterSqlite3: loadBetterSqlite3 };

/** The driver named, or undefined when it does not load on this runtime (tests run the store on each one that does). */
export async function driverNamed(name: DriverName, loader: DriverLoader = defaultLoader): Promise<SqliteDriver | undefined> {
  if (name === 'node:sqlite') {
    const mod = atLeast(loader.nodeVersion, NODE_SQLITE_MIN) ? loader.nodeSqlite() : undefined;
    return mod ? nodeSqliteDriver(mod) : undefined;
  }
  try {
    return betterSqliteDriver(await loader.betterSqlite3());
  } catch {
    return undefined;
  }
}

/**
 * The one clear sentence for a runtime where neither driver loads (Node 20 whose npm skipped
 * better-sqlite3's install script, as npm 12 does by default): the Node found, the ones
 * supported, the two fixes. `npm install-scripts approve` (npm 12, and 11.19; `approve-scripts`
 * is its older alias) records the approval in package.json; `npm rebuild` then runs the script.
 */
export function noDriverError(nodeVersion: string, cause?: unknown): VoxError {
  return new VoxError(
    'sqlite_unavailable',
    1,
    `The embedded store needs SQLite, which Node.js ${nodeVersion} does not have built in and better-sqlite3 (its stand-in on Node.js 20) is not built here: ` +
      `use Node.js ${NODE_SQLITE_MIN.replace(/\.0$/, '')} or newer (24 and 26 are the LTS lines), or stay on Node.js 20.17+ and build better-sqlite3 with ` +
      '`npm install-scripts approve better-sqlite3 && npm rebuild better-sqlite3`.',
    cause === undefined ? {} : { cause },
  );
}

let chosen: Promise<SqliteDriver> | undefined;

/**
 * The driver of this runtime: node:sqlite where it is new enough, else better-sqlite3, else a
 * VoxError (exit 1) saying what to do. Loaded on first use only (`--help` never pays for it).
 */
export function sqliteDriver(loader: DriverLoader = defaultLoader): Promise<SqliteDriver> {
  if (loader !== defaultLoader) return pick(loader);
  chosen ??= pick(loader);
  return chosen;
}

async function pick(loader: DriverLoader): Promise<SqliteDriver> {
  const native = await driverNamed('node:sqlite', loader);
  if (native) return native;
  try {
    return betterSqliteDriver(await loader.betterSqlite3());
  } catch (e) {
    throw noDriverError(loader.nodeVersion, e);
  }
}
