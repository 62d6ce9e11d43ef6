import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { templatesDir } from '../../src/config/paths.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { runCli, type RunCliOptions } from '../helpers/run-cli.js';
import { useTestDb } from '../helpers/store.js';

const ORG_A = '0a000000-0000-4000-8000-00000000000a';
const ORG_B = '0b000000-0000-4000-8000-00000000000b';
const MISSING = '0f000000-0000-4000-8000-00000000000f';
const SUPABASE_URL = 'https://voxctl-cmd.supabase.co';
const SUPABASE_KEY = 'sb_secret_CmdTestKey0123456789abcdef';

const testDb = useTestDb();
let tmp: string;
beforeEach(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-cmd-'));
  return () => rmSync(tmp, { recursive: true, force: true });
});

/** voxctl in-process on the file's in-memory embedded store, in a temp project dir. */
const cli = (argv: string[], opts: RunCliOptions = {}) => runCli(argv, { cwd: tmp, storeFactory: testDb.factory, ...opts });
const rows = async <T>(sql: string) => testDb.rows<T>(sql);
const counts = async () =>
  (await rows<{ orgs: number; agents: number }>('select (select count(*) from organizations) as orgs, (select count(*) from agents) as agents'))[0]!;
const writeJson = (name: string, data: unknown) => {
  writeFileSync(path.join(tmp, name), typeof data === 'string' ? data : JSON.stringify(data));
  return name;
};

describe('orgs add / list', () => {
  it('adds an org and prints exactly {"ok":true,"org":{"id","name","timezone"}}', async () => {
    const r = await cli(['orgs', 'add', '--name', 'Demo', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = r.json<{ ok: boolean; org: { id: string } }>();
    expect(doc).toEqual({ ok: true, org: { id: doc.org.id, name: 'Demo', timezone: 'UTC' } });
    expect(doc.org.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(r.stderr).toBe('');
    expect(await rows('select id, name, timezone from organizations')).toEqual([{ id: doc.org.id, name: 'Demo', timezone: 'UTC' }]);
  });

  it('prints the new id on stdout and the confirmation on stderr without --json', async () => {
    const r = await cli(['orgs', 'add', '--name', 'Sunrise Dental', '--id', ORG_A.toUpperCase(), '--timezone', 'Europe/Berlin']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`${ORG_A}\n`);
    expect(r.stderr).toBe('✓ Added Sunrise Dental (Europe/Berlin) to the embedded store.\n');
  });

  it('lists orgs as JSON, as a table on a TTY, and as tab-separated lines when piped', async () => {
    await cli(['orgs', 'add', '--name', 'Beta Clinic', '--id', ORG_B]);
    await cli(['orgs', 'add', '--name', 'Alpha Dental', '--id', ORG_A, '--timezone', 'America/New_York']);
    const json = await cli(['orgs', 'list', '--json']);
    expect(json.json()).toEqual({
      ok: true,
      orgs: [
        { id: ORG_A, name: 'Alpha Dental', timezone: 'America/New_York' },
        { id: ORG_B, name: 'Beta Clinic', timezone: 'UTC' },
      ],
    });
    const piped = await cli(['orgs', 'list']);
    expect(piped.stdout).toBe(`${ORG_A}\tAlpha Dental\tAmerica/New_York\n${ORG_B}\tBeta Clinic\tUTC\n`);
    const tty = await cli(['orgs', 'list', '--no-color'], { tty: true });
    expect(tty.stdout).toBe(
      [
        'ID                                    NAME          TIMEZONE',
        `${ORG_A}  Alpha Dental  America/New_York`,
        `${ORG_B}  Beta Clinic   UTC`,
        '',
      ].join('\n'),
    );
  });

  it('says how to add one when there are none', async () => {
    const r = await cli(['orgs', 'list']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('voxctl orgs add --name');
    expect((await cli(['orgs', 'list', '--json'])).json()).toEqual({ ok: true, orgs: [] });
  });

  it.each([
    [['--name', 'X', '--id', 'not-a-uuid'], 2, 'usage', '--id: the org id must be a uuid such as'],
    [['--name', '  '], 2, 'usage', '--name: must not be empty'],
    [['--name', 'X', '--timezone', 'Mars/Olympus'], 2, 'usage', '"Mars/Olympus" is not a known IANA time zone.'],
  ])('refuses bad input %j (exit %i) and writes nothing', async (args, exit, code, message) => {
    const r = await cli(['orgs', 'add', ...args, '--json']);
    expect(r.exitCode).toBe(exit);
    const err = r.json<{ ok: boolean; error: { code: string; message: string; hint: string } }>();
    expect(err.ok).toBe(false);
    expect(err.error.code).toBe(code);
    expect(err.error.message).toContain(message);
    expect(err.error.hint).toBeTruthy();
    expect((await counts()).orgs).toBe(0);
  });

  it('refuses a duplicate id (exit 1) and keeps the first org', async () => {
    await cli(['orgs', 'add', '--name', 'First', '--id', ORG_A]);
    const r = await cli(['orgs', 'add', '--name', 'Second', '--id', ORG_A]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Error: Organization ${ORG_A} already exists.`);
    expect(r.stderr).toContain('Hint: Use another --id');
    expect(await rows('select name from organizations')).toEqual([{ name: 'First' }]);
  });

  it('refuses control characters in a name (escape codes would rewrite the terminal; tabs and line breaks break the lines)', async () => {
    for (const name of ['Bad\u001b[31mRed', 'Two\nLines', 'Tab\tbed']) {
      const r = await cli(['orgs', 'add', '--name', name, '--json']);
      expect(r.exitCode).toBe(2);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'usage', message: '--name: must not contain control characters (line breaks, tabs or escape codes)' } });
    }
    expect((await counts()).orgs).toBe(0);
    const ok = await cli(['orgs', 'add', '--name', 'Zahnarztpraxis Müller & Söhne', '--json']);
    expect(ok.exitCode).toBe(0);
    const { id } = ok.json<{ org: { id: string } }>().org;
    const rename = await cli(['orgs', 'rename', id, '--name', 'x\u001b]0;pwned\u0007', '--json']);
    expect(rename.exitCode).toBe(2);
    expect(await rows('select name from organizations')).toEqual([{ name: 'Zahnarztpraxis Müller & Söhne' }]);
    const file = writeJson('agents.json', [{ org_id: ORG_A, org_name: 'Esc\u001b[2J', type: 'inbound', vapi_assistant_id: 'asst-x' }]);
    const imp = await cli(['agents', 'import', file, '--json']);
    expect(imp.exitCode).toBe(2);
    expect(imp.json()).toMatchObject({ error: { problems: [{ row: 1, message: 'org_name must not contain control characters (line breaks, tabs or escape codes)' }] } });
    expect(await counts()).toEqual({ orgs: 1, agents: 0 });
  });
});

describe('agents link / list', () => {
  beforeEach(async () => {
    await cli(['orgs', 'add', '--name', 'Alpha Dental', '--id', ORG_A]);
    await cli(['orgs', 'add', '--name', 'Beta Clinic', '--id', ORG_B]);
  });

  it('links and prints exactly {"ok":true,"agent":{"org_id","org_name","type","vapi_assistant_id"}}', async () => {
    const r = await cli(['agents', 'link', '--org', ORG_A, '--type', 'inbound', '--assistant-id', 'asst_1', '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({ ok: true, agent: { org_id: ORG_A, org_name: 'Alpha Dental', type: 'inbound', vapi_assistant_id: 'asst_1' } });
  });

  it('re-links a slot (upsert on org and type)', async () => {
    await cli(['agents', 'link', '--org', ORG_A, '--type', 'inbound', '--assistant-id', 'asst_1']);
    const r = await cli(['agents', 'link', '--org', ORG_A, '--type', 'inbound', '--assistant-id', 'asst_2']);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('✓ Linked asst_2 as inbound of Alpha Dental.\n');
    expect(await rows('select vapi_assistant_id from agents')).toEqual([{ vapi_assistant_id: 'asst_2' }]);
  });

  it('refuses an unknown org (exit 1) and a malformed org id (exit 2), writing nothing', async () => {
    const unknown = await cli(['agents', 'link', '--org', MISSING, '--type', 'inbound', '--assistant-id', 'asst_1', '--json']);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.json()).toEqual({
      ok: false,
      error: {
        code: 'not_found',
        message: `Organization ${MISSING} does not exist.`,
        hint: 'Run `voxctl orgs list` to see the orgs, or `voxctl orgs add --name <name>` to create it.',
      },
    });
    const malformed = await cli(['agents', 'link', '--org', '0a000000-0000', '--type', 'inbound', '--assistant-id', 'asst_1']);
    expect(malformed.exitCode).toBe(2);
    expect(malformed.stderr).toContain('Error: --org: the org id must be a uuid such as');
    expect(malformed.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect((await counts()).agents).toBe(0);
  });

  it('refuses one assistant id for two orgs (exit 1) and changes nothing', async () => {
    await cli(['agents', 'link', '--org', ORG_A, '--type', 'inbound', '--assistant-id', 'asst_1']);
    const r = await cli(['agents', 'link', '--org', ORG_B, '--type', 'inbound', '--assistant-id', 'asst_1', '--json']);
    expect(r.exitCode).toBe(1);
    const err = r.json<{ error: { code: string; message: string; hint: string } }>().error;
    expect(err.code).toBe('conflict');
    expect(err.message).toBe(`Assistant asst_1 is already linked to org ${ORG_A} (type inbound); one assistant serves one org.`);
    // The hint is the exact command that frees the assistant.
    expect(err.hint).toBe(`Link a different assistant, or free this one first: \`voxctl agents unlink --org ${ORG_A} --type inbound\`.`);
    expect(await rows('select org_id, type, vapi_assistant_id from agents')).toEqual([
      { org_id: ORG_A, type: 'inbound', vapi_assistant_id: 'asst_1' },
    ]);
  });

  it('refuses a bad agent type (exit 2)', async () => {
    const r = await cli(['agents', 'link', '--org', ORG_A, '--type', 'In Bound', '--assistant-id', 'asst_1']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--type: use 1-40 lower-case letters');
  });

  it('lists agents as JSON (all or one org), as a table on a TTY and tab-separated when piped', async () => {
    await cli(['agents', 'link', '--org', ORG_B, '--type', 'inbound', '--assistant-id', 'asst_b']);
    await cli(['agents', 'link', '--org', ORG_A, '--type', 'outbound', '--assistant-id', 'asst_a2']);
    await cli(['agents', 'link', '--org', ORG_A, '--type', 'inbound', '--assistant-id', 'asst_a1']);
    expect((await cli(['agents', 'list', '--json'])).json()).toEqual({
      ok: true,
      agents: [
        { org_id: ORG_A, org_name: 'Alpha Dental', type: 'inbound', vapi_assistant_id: 'asst_a1' },
        { org_id: ORG_A, org_name: 'Alpha Dental', type: 'outbound', vapi_assistant_id: 'asst_a2' },
        { org_id: ORG_B, org_name: 'Beta Clinic', type: 'inbound', vapi_assistant_id: 'asst_b' },
      ],
    });
    expect((await cli(['agents', 'list', '--org', ORG_B, '--json'])).json()).toEqual({
      ok: true,
      agents: [{ org_id: ORG_B, org_name: 'Beta Clinic', type: 'inbound', vapi_assistant_id: 'asst_b' }],
    });
    expect((await cli(['agents', 'list', '--org', ORG_B])).stdout).toBe(`${ORG_B}\tBeta Clinic\tinbound\tasst_b\n`);
    const tty = await cli(['agents', 'list', '--org', ORG_B, '--no-color'], { tty: true });
    expect(tty.stdout).toBe(
      ['ORG ID                                ORG          TYPE     ASSISTANT ID', `${ORG_B}  Beta Clinic  inbound  asst_b`, ''].join('\n'),
    );
    const unknown = await cli(['agents', 'list', '--org', MISSING]);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain(`Organization ${MISSING} does not exist.`);
  });
});

describe('agents import', () => {
  const good = [
    { org_id: ORG_A, type: 'inbound', vapi_assistant_id: 'asst_a1' },
    { org_id: ORG_B, org_name: 'Beta Clinic', type: 'inbound', vapi_assistant_id: 'asst_b1' },
    { org_id: MISSING.replace('0f', '0e'), org_name: 'Epsilon', type: 'outbound', vapi_assistant_id: 'asst_e1' },
  ];

  it('imports a file, creating missing orgs: {"ok":true,"imported":3,"orgsCreated":2}', async () => {
    await cli(['orgs', 'add', '--name', 'Alpha Dental', '--id', ORG_A]);
    const r = await cli(['agents', 'import', writeJson('agents.json', good), '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({ ok: true, imported: 3, orgsCreated: 2 });
    expect(await counts()).toEqual({ orgs: 3, agents: 3 });
    const human = await cli(['agents', 'import', 'agents.json']);
    expect(human.stderr).toBe('✓ Imported 3 agents (0 new orgs) into the embedded store.\n');
  });

  const ROW3 = 'agents.json: row 3:';
  it.each([
    ['not JSON', '[{"org_id": ', 'agents.json is not valid JSON'],
    ['not an array', { org_id: ORG_A }, 'agents.json: expected a JSON array at the top level'],
    ['an empty array', [], 'agents.json: the array is empty'],
    ['a malformed uuid', [...good.slice(0, 2), { org_id: '1234', org_name: 'X', type: 'inbound', vapi_assistant_id: 'x' }], `${ROW3} org_id must be a uuid`],
    ['a missing type', [...good.slice(0, 2), { org_id: ORG_B, vapi_assistant_id: 'x' }], `${ROW3} type is missing or not a string`],
    ['a bad type', [...good.slice(0, 2), { org_id: ORG_B, type: 'Front Desk', vapi_assistant_id: 'x' }], `${ROW3} type must be 1-40 lower-case`],
    ['an unknown field', [...good.slice(0, 2), { ...good[2], assistant: 'x' }], `${ROW3} unknown field "assistant"`],
    ['a non-object row', [...good.slice(0, 2), 'asst_x'], `${ROW3} expected an object`],
    ['a repeated slot', [...good.slice(0, 2), { org_id: ORG_B, type: 'inbound', vapi_assistant_id: 'asst_z' }], `${ROW3} org ${ORG_B} type inbound already appears in row 2`],
    ['one assistant in two rows', [...good.slice(0, 2), { org_id: ORG_B, type: 'outbound', vapi_assistant_id: 'asst_a1' }], `${ROW3} assistant asst_a1 is also in row 1`],
    ['two names for one new org', [...good.slice(0, 2), { org_id: ORG_B, org_name: 'Beta 2', type: 'outbound', vapi_assistant_id: 'asst_b2' }], `${ROW3} org_name "Beta 2" differs from "Beta Clinic"`],
  ])('imports nothing from a file with %s, naming the row and the reason', async (_what, data, message) => {
    await cli(['orgs', 'add', '--name', 'Alpha Dental', '--id', ORG_A]);
    const r = await cli(['agents', 'import', writeJson('agents.json', data), '--json']);
    expect(r.exitCode).toBe(2);
    const err = r.json<{ ok: boolean; error: { code: string; message: string; hint: string } }>();
    expect(err.ok).toBe(false);
    expect(err.error.code).toBe('usage');
    expect(err.error.message).toContain(message);
    expect(err.error.message).toMatch(/Nothing was imported\.$/);
    expect(await counts()).toEqual({ orgs: 1, agents: 0 });
  });

  it('imports nothing when a row takes an assistant already linked to another org (exit 1 conflict, as agents link)', async () => {
    await cli(['orgs', 'add', '--name', 'Alpha Dental', '--id', ORG_A]);
    await cli(['agents', 'link', '--org', ORG_A, '--type', 'inbound', '--assistant-id', 'asst_taken']);
    const data = [good[1], { org_id: ORG_B, org_name: 'Beta Clinic', type: 'outbound', vapi_assistant_id: 'asst_taken' }];
    const r = await cli(['agents', 'import', writeJson('agents.json', data)]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`agents.json: row 2: Assistant asst_taken is already linked to org ${ORG_A} (type inbound)`);
    expect(await counts()).toEqual({ orgs: 1, agents: 1 });
    const link = await cli(['agents', 'link', '--org', ORG_A, '--type', 'outbound', '--assistant-id', 'asst_taken', '--json']);
    const imp = await cli(['agents', 'import', writeJson('agents.json', data), '--json']);
    expect([imp.exitCode, imp.json<{ error: { code: string } }>().error.code]).toEqual([link.exitCode, link.json<{ error: { code: string } }>().error.code]);
  });

  it('imports nothing when a row names an unknown org without org_name (exit 1 not_found, as agents link)', async () => {
    await cli(['orgs', 'add', '--name', 'Alpha Dental', '--id', ORG_A]);
    const data = [good[0], good[1], { org_id: MISSING, type: 'inbound', vapi_assistant_id: 'asst_m' }];
    const r = await cli(['agents', 'import', writeJson('agents.json', data), '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json()).toEqual({
      ok: false,
      error: { code: 'not_found', message: `agents.json: row 3: Organization ${MISSING} does not exist. Give it an org_name to create it. Nothing was imported.`,
        hint: expect.stringContaining('orgs list'),
        problems: [{ row: 3, code: 'not_found', message: `Organization ${MISSING} does not exist. Give it an org_name to create it` }],
      },
    });
    expect(await counts()).toEqual({ orgs: 1, agents: 0 });
  });

  it('says when the file is missing or not a file: exit 1 naming it, as every file voxctl cannot read', async () => {
    const r = await cli(['agents', 'import', 'nope.json']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('Cannot read nope.json: no such file or folder (ENOENT).');
    const j = await cli(['agents', 'import', 'nope.json', '--json']);
    expect(j.exitCode).toBe(1);
    expect(j.json()).toMatchObject({ ok: false, error: { code: 'file_access', message: expect.stringContaining('nope.json'), hint: expect.any(String) } });
    const folder = await cli(['agents', 'import', '.', '--json']);
    expect(folder.exitCode).toBe(1);
    expect(folder.json()).toMatchObject({ ok: false, error: { code: 'file_access', message: 'Cannot read .: it is a folder, not a file (EISDIR).' } });
  });

  it('loads 5,000 rows for 50 new orgs in one command', async () => {
    const data = [];
    for (let o = 0; o < 50; o++) {
      const orgId = `${String(o).padStart(8, '0')}-0000-4000-8000-000000000001`;
      for (let i = 0; i < 100; i++) data.push({ org_id: orgId, org_name: `Clinic ${o}`, type: `line-${i}`, vapi_assistant_id: `asst_${o}_${i}` });
    }
    const r = await cli(['agents', 'import', writeJson('big.json', data), '--custom-type', '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toEqual({ ok: true, imported: 5000, orgsCreated: 50 });
    expect(await counts()).toEqual({ orgs: 50, agents: 5000 });
    const list = await cli(['agents', 'list', '--json']);
    expect(list.json<{ agents: unknown[] }>().agents).toHaveLength(5000);
  });
});

describe('db schema / migrate', () => {
  it('prints templates/schema.sql as is', async () => {
    const sql = readFileSync(path.join(templatesDir(), 'schema.sql'), 'utf8');
    const r = await runCli(['db', 'schema'], { cwd: tmp });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(sql);
    expect((await runCli(['db', 'schema', '--json'], { cwd: tmp })).json()).toEqual({ ok: true, version: SCHEMA_VERSION, sql });
  });

  it('creates the embedded store on disk, then finds it up to date; commands use it by default', async () => {
    const dataDir = path.join(tmp, 'data');
    const env = { VOXCTL_DATA_DIR: 'data' };
    const first = await runCli(['db', 'migrate', '--json'], { cwd: tmp, env });
    expect(first.exitCode).toBe(0);
    const file = path.join(dataDir, 'store.db');
    expect(first.json()).toEqual({ ok: true, store: 'embedded', dataDir, file, version: SCHEMA_VERSION, applied: true });
    expect(existsSync(file)).toBe(true);

    // The default store factory opens the same data dir (no storeFactory here).
    const add = await runCli(['orgs', 'add', '--name', 'Demo', '--json'], { cwd: tmp, env });
    expect(add.exitCode).toBe(0);

    const again = await runCli(['db', 'migrate', '--json'], { cwd: tmp, env });
    expect(again.json()).toEqual({ ok: true, store: 'embedded', dataDir, file, version: SCHEMA_VERSION, applied: false });
    const list = await runCli(['orgs', 'list', '--json'], { cwd: tmp, env });
    expect(list.json()).toEqual({ ok: true, orgs: [add.json<{ org: unknown }>().org] });
  });

  it('refuses to migrate when Supabase is configured (exit 2)', async () => {
    const r = await runCli(['db', 'migrate'], { cwd: tmp, env: { SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY: SUPABASE_KEY } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('Apply `voxctl db schema` in the Supabase SQL editor');
  });
});

// The Supabase store end to end (orgs, agents, import, key errors) runs on a real PostgREST: tests/e2e/supabase.test.ts.
