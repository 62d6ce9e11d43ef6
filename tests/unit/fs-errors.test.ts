/**
 * A folder voxctl cannot use is exit 1 naming the path and the reason, fast: never "Unexpected
 * error … bug", never a usage error, never a 20 s spin (`VOXCTL_DATA_DIR=/proc/nope`).
 */
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveSnapshot } from '../../src/sync/snapshot.js';
import { ensureWritableDir, fileError, FileAccessError } from '../../src/util/fs-errors.js';
import { runCli } from '../helpers/run-cli.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'voxctl-fs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('ensureWritableDir', () => {
  it('creates missing parents and returns the absolute path', () => {
    const target = path.join(dir, 'a', 'b', 'c');
    expect(ensureWritableDir(target)).toBe(target);
    expect(existsSync(target)).toBe(true);
  });

  it('names the file that sits where a folder should be', () => {
    writeFileSync(path.join(dir, 'file'), 'x');
    expect(() => ensureWritableDir(path.join(dir, 'file', 'data'))).toThrow(FileAccessError);
    expect(() => ensureWritableDir(path.join(dir, 'file', 'data'))).toThrow(`${path.join(dir, 'file')} is a file, not a folder`);
  });

  it.skipIf(!existsSync('/proc/self'))('fails at once under /proc (Node’s recursive mkdir spins there forever)', () => {
    let err: unknown;
    try {
      ensureWritableDir('/proc/nope/data');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FileAccessError);
    expect((err as FileAccessError).message).toMatch(/^Cannot create the folder \/proc\/nope: no such file or folder \(ENOENT\)\.$/);
    expect((err as FileAccessError).exitCode).toBe(1);
  });
});

describe('the other folders voxctl creates fail fast under /proc too', () => {
  it.skipIf(!existsSync('/proc/self'))('db schema --migration /proc/nope: exit 1 naming the folder, no spin', async () => {
    const r = await runCli(['db', 'schema', '--migration', '/proc/nope/migrations', '--json'], { cwd: dir, env: {} });
    expect(r.exitCode).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'file_access', message: 'Cannot create the folder /proc/nope: no such file or folder (ENOENT).' } });
  });

  it.skipIf(!existsSync('/proc/self'))('a sync snapshot under /proc/nope (e.g. VOXCTL_DATA_DIR with the Supabase store): FileAccessError, no spin', async () => {
    const snapshot = { version: 1 as const, createdAt: new Date(0).toISOString(), webhookUrl: 'https://x.example/api/vapi/tools', entries: [] };
    await expect(saveSnapshot('/proc/nope/data', snapshot)).rejects.toThrow(FileAccessError);
  });

  it('snapshots are still written, in a 0700 folder', async () => {
    const snapshot = { version: 1 as const, createdAt: new Date(0).toISOString(), webhookUrl: 'https://x.example/api/vapi/tools', entries: [] };
    const file = await saveSnapshot(path.join(dir, 'data'), snapshot);
    expect(existsSync(file)).toBe(true);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });
});

describe('fileError', () => {
  it('names the path and the permission, with a hint; leaves other errors alone', () => {
    const denied = Object.assign(new Error("EACCES: permission denied, open '/srv/x/.env.local'"), { code: 'EACCES', path: '/srv/x/.env.local' });
    const e = fileError(denied, '/srv/x/.env.local', 'write') as FileAccessError;
    expect(e).toBeInstanceOf(FileAccessError);
    expect(e.message).toBe('Cannot write /srv/x/.env.local: permission denied (EACCES).');
    expect(e.hint).toMatch(/writable/);
    expect(e.code).toBe('file_access');
    const other = new TypeError('not fs');
    expect(fileError(other, '/x', 'write')).toBe(other);
  });
});

describe('commands on a data dir they cannot use', () => {
  it.skipIf(!existsSync('/proc/self'))('VOXCTL_DATA_DIR=/proc/nope: exit 1 naming the path, not a bug report', async () => {
    // A read-only command reads no store there and creates nothing (issue 9): an empty answer.
    const list = await runCli(['orgs', 'list', '--json'], { cwd: dir, env: { VOXCTL_DATA_DIR: '/proc/nope' } });
    expect([list.exitCode, list.json()]).toEqual([0, { ok: true, orgs: [] }]);
    // The first write must create it: it fails fast, naming the path.
    const r = await runCli(['orgs', 'add', '--name', 'X', '--json'], { cwd: dir, env: { VOXCTL_DATA_DIR: '/proc/nope' } });
    expect(r.exitCode).toBe(1);
    expect(r.json()).toEqual({
      ok: false,
      error: { code: 'file_access', message: 'Cannot create the folder /proc/nope: no such file or folder (ENOENT).', hint: 'Check the path /proc/nope.', path: '/proc/nope' },
    });
  });

  it('a data dir below a file: exit 1 naming it, for the store and for the event log', async () => {
    writeFileSync(path.join(dir, 'blocker'), 'x');
    const env = { VOXCTL_DATA_DIR: path.join(dir, 'blocker', 'data') };
    const store = await runCli(['orgs', 'add', '--name', 'X'], { cwd: dir, env });
    expect(store.exitCode).toBe(1);
    expect(store.stderr).toContain(`${path.join(dir, 'blocker')} is a file, not a folder`);
    expect(store.stderr).not.toMatch(/bug in voxctl|--help/);
    const log = await runCli(['webhook', 'test', 'bookClinicAppointment', '--local'], { cwd: dir, env });
    expect(log.exitCode).toBe(1);
    expect(log.stderr).toContain('is a file, not a folder');
  });
});
