/**
 * The driver choice (node:sqlite from Node 22.16, better-sqlite3 below, else one clear error),
 * the ExperimentalWarning filter, and the error names both drivers share. The choice is made
 * through an injected loader; the end-to-end cases spawn the built bin (`npm run build` first).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VoxError } from '../../src/errors.js';
import { defaultLoader, loadNodeSqlite, sqliteDriver, sqliteErrorCode, type DriverLoader } from '../../src/store/sqlite-driver.js';
import { thrown } from '../helpers/thrown.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');
const noAddon = () => Promise.reject(new Error('Could not locate the bindings file.'));
/** Stands in for better-sqlite3's constructor: the choice only needs to get one. */
const FakeBetter = class {} as unknown as Awaited<ReturnType<DriverLoader['betterSqlite3']>>;
const fakeNodeSqlite = {} as unknown as NonNullable<ReturnType<DriverLoader['nodeSqlite']>>;

const SENTENCE = (v: string) =>
  `The embedded store needs SQLite, which Node.js ${v} does not have built in and better-sqlite3 (its stand-in on Node.js 20) is not built here: ` +
  'use Node.js 22.16 or newer (24 and 26 are the LTS lines), or stay on Node.js 20.17+ and build better-sqlite3 with ' +
  '`npm install-scripts approve better-sqlite3 && npm rebuild better-sqlite3`.';

describe('choosing the driver', () => {
  it('takes node:sqlite from Node 22.16 on without loading better-sqlite3', async () => {
    let better = 0;
    const loader: DriverLoader = { nodeVersion: '22.16.0', nodeSqlite: () => fakeNodeSqlite, betterSqlite3: () => (better++, Promise.resolve(FakeBetter)) };
    expect((await sqliteDriver(loader)).name).toBe('node:sqlite');
    expect((await sqliteDriver({ ...loader, nodeVersion: '26.12.1' })).name).toBe('node:sqlite');
    expect(better).toBe(0);
  });

  it('leaves a node:sqlite older than 22.16 (no busy timeout) alone and takes better-sqlite3', async () => {
    let asked = 0;
    const loader: DriverLoader = { nodeVersion: '22.15.1', nodeSqlite: () => (asked++, fakeNodeSqlite), betterSqlite3: () => Promise.resolve(FakeBetter) };
    expect((await sqliteDriver(loader)).name).toBe('better-sqlite3');
    expect(asked).toBe(0);
  });

  it('takes better-sqlite3 where node:sqlite is missing (Node 20)', async () => {
    expect((await sqliteDriver({ nodeVersion: '20.20.2', nodeSqlite: () => undefined, betterSqlite3: () => Promise.resolve(FakeBetter) })).name).toBe('better-sqlite3');
  });

  it('fails with one sentence naming the Node found, the ones supported and both fixes when neither loads (exit 1)', async () => {
    const e = await thrown<VoxError>(() => sqliteDriver({ nodeVersion: '20.20.2', nodeSqlite: () => undefined, betterSqlite3: noAddon }));
    expect(e).toBeInstanceOf(VoxError);
    expect(e.code).toBe('sqlite_unavailable');
    expect(e.exitCode).toBe(1);
    expect(e.message).toBe(SENTENCE('20.20.2'));
    expect(e.hint).toBeUndefined();
    expect((e.cause as Error).message).toBe('Could not locate the bindings file.');
  });

  it('is the same loader the CLI uses, and it loads on this Node', async () => {
    expect(defaultLoader.nodeVersion).toBe(process.versions.node);
    expect(['node:sqlite', 'better-sqlite3']).toContain((await sqliteDriver()).name);
  });
});

describe('the ExperimentalWarning of node:sqlite', () => {
  it('drops exactly that warning while the module loads, passes every other one, and puts process.emitWarning back', () => {
    const seen: string[] = [];
    const original = process.emitWarning;
    const spy = ((w: string | Error, t?: unknown) => void seen.push(`${typeof t === 'string' ? t : (t as { type?: string } | undefined)?.type}: ${String(w)}`)) as typeof process.emitWarning;
    process.emitWarning = spy;
    try {
      const mod = loadNodeSqlite((id) => {
        expect(id).toBe('node:sqlite');
        process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
        process.emitWarning('SQLite is an experimental feature and might change at any time', { type: 'ExperimentalWarning' });
        process.emitWarning('Some other feature is an experimental feature and might change at any time', 'ExperimentalWarning');
        process.emitWarning('SQLite is an experimental feature and might change at any time', 'DeprecationWarning');
        process.emitWarning('a plain warning');
        return fakeNodeSqlite;
      });
      expect(mod).toBe(fakeNodeSqlite);
      expect(process.emitWarning).toBe(spy);
      process.emitWarning('SQLite is an experimental feature and might change at any time', 'ExperimentalWarning');
    } finally {
      process.emitWarning = original;
    }
    expect(seen).toEqual([
      'ExperimentalWarning: Some other feature is an experimental feature and might change at any time',
      'DeprecationWarning: SQLite is an experimental feature and might change at any time',
      'undefined: a plain warning',
      // After loading, nothing is filtered any more.
      'ExperimentalWarning: SQLite is an experimental feature and might change at any time',
    ]);
  });

  it('answers undefined where the runtime has no node:sqlite, and restores emitWarning when loading throws', () => {
    const original = process.emitWarning;
    expect(loadNodeSqlite(() => undefined)).toBeUndefined();
    expect(
      loadNodeSqlite(() => {
        throw new Error('No such built-in module: node:sqlite');
      }),
    ).toBeUndefined();
    expect(process.emitWarning).toBe(original);
  });
});

describe('SQLite error names', () => {
  it('names node:sqlite errcodes as better-sqlite3 does, and passes its own names through', () => {
    const node = (errcode: number) => Object.assign(new Error('x'), { code: 'ERR_SQLITE_ERROR', errcode });
    expect(sqliteErrorCode(node(5))).toBe('SQLITE_BUSY');
    expect(sqliteErrorCode(node(517))).toBe('SQLITE_BUSY_SNAPSHOT');
    expect(sqliteErrorCode(node(1555))).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    expect(sqliteErrorCode(node(2067))).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect(sqliteErrorCode(node(787))).toBe('SQLITE_CONSTRAINT_FOREIGNKEY');
    expect(sqliteErrorCode(node(275))).toBe('SQLITE_CONSTRAINT_CHECK');
    expect(sqliteErrorCode(node(1299))).toBe('SQLITE_CONSTRAINT_NOTNULL');
    expect(sqliteErrorCode(node(26))).toBe('SQLITE_NOTADB');
    expect(sqliteErrorCode(node(3850))).toBe('SQLITE_IOERR_15');
    expect(sqliteErrorCode(Object.assign(new Error('x'), { code: 'SQLITE_READONLY' }))).toBe('SQLITE_READONLY');
    expect(sqliteErrorCode(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBeUndefined();
    expect(sqliteErrorCode(Object.assign(new Error('x'), { errcode: 5 }))).toBeUndefined();
    expect(sqliteErrorCode('SQLITE_BUSY')).toBeUndefined();
  });
});

describe('the built CLI on this Node', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'voxctl-driver-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the bin; `preload` is an ES module run first (`--import`). */
  function voxctl(args: string[], preload?: string) {
    return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const flags = preload ? ['--import', `data:text/javascript,${encodeURIComponent(preload)}`] : [];
      const child = spawn(process.execPath, [...flags, BIN, ...args, '--cwd', dir], { env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', CI: '1' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('writes and reads the store with nothing on stderr (no ExperimentalWarning on Node 22)', async () => {
    const add = await voxctl(['orgs', 'add', '--name', 'Quiet Clinic', '--json']);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    const list = await voxctl(['orgs', 'list', '--json']);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect((JSON.parse(list.stdout) as { orgs: Array<{ name: string }> }).orgs.map((o) => o.name)).toEqual(['Quiet Clinic']);
  });

  it('still shows any other warning', async () => {
    const r = await voxctl(['orgs', 'list', '--json'], `process.once('beforeExit', () => process.emitWarning('kept warning', 'ExperimentalWarning'));`);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('ExperimentalWarning: kept warning');
  });

  // Only where node:sqlite is missing (Node 20): registered there, absent elsewhere.
  if (loadNodeSqlite() === undefined) it(
    'without node:sqlite and with better-sqlite3 unloadable, a store command exits 1 with the one sentence (nothing created)',
    async () => {
      // A resolve hook that makes better-sqlite3 fail to load as an addon npm did not build does.
      const hooks = `export async function resolve(s, c, next) { if (s === 'better-sqlite3') throw new Error('Could not locate the bindings file.'); return next(s, c); }`;
      const preload = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
      const r = await voxctl(['orgs', 'add', '--name', 'X'], preload);
      expect(r.code).toBe(1);
      expect(existsSync(path.join(dir, '.voxctl'))).toBe(false);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`Error: ${SENTENCE(process.versions.node)}\n`);
      const j = await voxctl(['orgs', 'list', '--json'], preload);
      expect(j.code).toBe(1);
      expect(JSON.parse(j.stdout)).toEqual({ ok: false, error: { code: 'sqlite_unavailable', message: SENTENCE(process.versions.node), hint: null } });
    },
  );
});
