/**
 * `voxctl db schema --migration [dir]`: the schema as Supabase CLI migration files. The files are
 * applied to a real Postgres behind a real PostgREST (the run's stack), one transaction per file
 * as `supabase db push` does, on a fresh database and on top of schema version 1.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { writeMigration } from '../../src/commands/db-migration.js';
import { readSchemaSql, SCHEMA_VERSION } from '../../src/store/schema.js';
import { runCli } from '../helpers/run-cli.js';
import { leaseProject, releaseProject } from '../supabase/project.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-migration-'));
  return () => rmSync(tmp, { recursive: true, force: true });
});

const AT = new Date('2031-04-05T06:07:08.900Z');
const cli = (argv: string[], now = AT) => runCli(argv, { cwd: tmp, now: () => now });
const files = (dir = path.join(tmp, 'supabase', 'migrations')) => (existsSync(dir) ? readdirSync(dir).sort() : []);
const read = (rel: string) => readFileSync(path.join(tmp, rel), 'utf8');

describe('db schema --migration', () => {
  it('writes supabase/migrations/<timestamp>_voxctl.sql holding the schema, and says where (JSON)', async () => {
    const r = await cli(['db', 'schema', '--migration', '--json']);
    expect(r.exitCode).toBe(0);
    const file = path.join('supabase', 'migrations', '20310405060708_voxctl.sql');
    expect(r.json()).toEqual({ ok: true, path: file, version: SCHEMA_VERSION, upToDate: false, existing: null });
    const text = read(file);
    expect(text.split('\n')[0]).toBe(`-- voxctl schema version ${SCHEMA_VERSION}, as a Supabase migration: apply it with \`supabase db push\`.`);
    expect(text.endsWith(await readSchemaSql())).toBe(true);
  });

  it('prints the path on stdout and a confirmation on stderr; a second run writes nothing', async () => {
    const r = await cli(['db', 'schema', '--migration']);
    expect(r.stdout).toBe(`${path.join('supabase', 'migrations', '20310405060708_voxctl.sql')}\n`);
    expect(r.stderr).toContain('supabase db push');
    const again = await cli(['db', 'schema', '--migration', '--json'], new Date('2031-05-01T00:00:00Z'));
    expect(again.exitCode).toBe(0);
    expect(again.json()).toMatchObject({ ok: true, path: null, upToDate: true, existing: { version: SCHEMA_VERSION } });
    expect(files()).toEqual(['20310405060708_voxctl.sql']);
  });

  it('writes a later schema version as a further file, after every existing migration', async () => {
    const dir = path.join(tmp, 'db', 'migrations');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '20240101000000_voxctl.sql'), '-- voxctl schema version 1, as a Supabase migration\nselect 1;\n');
    // A project migration newer than the clock: the new file must still come after it.
    writeFileSync(path.join(dir, '20310405235959_add_reports.sql'), 'select 1;\n');
    const r = await cli(['db', 'schema', '--migration', 'db/migrations', '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({
      ok: true,
      path: path.join('db', 'migrations', `20310406000000_voxctl_v${SCHEMA_VERSION}.sql`),
      version: SCHEMA_VERSION,
      upToDate: false,
      existing: { path: path.join('db', 'migrations', '20240101000000_voxctl.sql'), version: 1 },
    });
    expect(read(path.join('db', 'migrations', `20310406000000_voxctl_v${SCHEMA_VERSION}.sql`))).toContain('Upgrades version 1 (20240101000000_voxctl.sql) in place.');
    expect(files(dir)).toHaveLength(3);
  });

  it('refuses a voxctl file it cannot read the version of (exit 2), and never overwrites a file', async () => {
    const dir = path.join(tmp, 'supabase', 'migrations');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, '20240101000000_voxctl.sql'), 'edited by hand\n');
    const r = await cli(['db', 'schema', '--migration']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('does not start with "-- voxctl schema version N"');
    expect(files()).toEqual(['20240101000000_voxctl.sql']);

    const taken = path.join(dir, '20310405060708_voxctl.sql');
    writeFileSync(taken, 'mine\n');
    const e = await writeMigration(taken, 'new').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConflictError);
    expect(readFileSync(taken, 'utf8')).toBe('mine\n');
  });

  it('refuses a --migration path that is a file (exit 1 naming the path, as any folder it cannot use)', async () => {
    writeFileSync(path.join(tmp, 'plain'), 'x');
    const r = await cli(['db', 'schema', '--migration', 'plain', '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'file_access', message: expect.stringContaining('plain') } });
  });

  it('the files apply with PostgREST on top: on an empty database, and as an upgrade of version 1', async () => {
    const first = await cli(['db', 'schema', '--migration', '--json']);
    const v1 = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema-v1.sql'), 'utf8');
    const dir = path.join(tmp, 'old');
    mkdirSync(dir);
    writeFileSync(path.join(dir, '20240101000000_voxctl.sql'), `-- voxctl schema version 1, as a Supabase migration\n${v1}`);
    const up = await cli(['db', 'schema', '--migration', 'old', '--json']);
    // One transaction per file, as `supabase db push` applies them.
    const fresh = await leaseProject({ schema: 'none', apply: [read(first.json<{ path: string }>().path)] });
    const old = await leaseProject({ schema: 'none', apply: [v1, read(up.json<{ path: string }>().path)] });
    try {
      for (const p of [fresh, old]) {
        expect(p.query('select max(version)::int as v from voxctl_schema')).toEqual([{ v: SCHEMA_VERSION }]);
        const env = { SUPABASE_URL: p.url, SUPABASE_SERVICE_ROLE_KEY: p.keys.serviceRole };
        const org = await runCli(['orgs', 'add', '--name', 'Alpha', '--json'], { cwd: tmp, env });
        expect(org.exitCode, org.stdout).toBe(0);
      }
    } finally {
      await releaseProject(fresh);
      await releaseProject(old);
    }
  });
});
