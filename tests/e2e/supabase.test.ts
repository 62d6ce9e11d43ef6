/**
 * voxctl end to end on the Supabase store, against a real PostgREST 12 on a real Postgres (the
 * run's stack, tests/supabase/stack.ts): commands in-process, and the built bin where processes
 * race (`tunnel up`, `assistants upsert`). Counts are checked in Postgres itself.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeVapiServer, type FakeVapiServer } from '../fakes/vapi-http.js';
import { request } from '../helpers/http.js';
import { runCli } from '../helpers/run-cli.js';
import { toolCallsMessage } from '../helpers/vapi-messages.js';
import { leaseProject, releaseProject, useProject, type TestProject } from '../supabase/project.js';
import { signJwt } from '../supabase/stack.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');
const ORG_A = '0a000000-0000-4000-8000-00000000000a';
const ORG_B = '0b000000-0000-4000-8000-00000000000b';

const main = useProject();
let tmp: string;
beforeEach(() => {
  main.current.reset();
  tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-e2e-supabase-'));
  return () => rmSync(tmp, { recursive: true, force: true });
});

const envOf = (p: TestProject, key = p.keys.serviceRole) => ({ SUPABASE_URL: p.url, SUPABASE_SERVICE_ROLE_KEY: key });
const cli = (argv: string[], p: TestProject = main.current, key?: string) => runCli(argv, { cwd: tmp, env: envOf(p, key) });

/** The built CLI as its own process; resolves with its exit code and output. */
function bin(args: string[], env: Record<string, string>, cwd = tmp) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', CI: '1', ...env } });
  let stdout = '';
  let stderr = '';
  const lines: Array<Record<string, unknown>> = [];
  let pending = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    pending += c.toString();
    const parts = pending.split('\n');
    pending = parts.pop()!;
    for (const l of parts) if (l.trim().startsWith('{')) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Resolves when a stdout JSON line matches (bounded; fails early when the process exits). */
  const line = (pred: (l: Record<string, unknown>) => boolean, ms = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`no matching line in ${ms} ms; stderr: ${stderr}`)), ms);
      const check = () => {
        const hit = lines.find(pred);
        if (hit) done(undefined, hit);
      };
      const onExit = () => done(new Error(`exited before the line; stderr: ${stderr}`));
      function done(e?: Error, l?: Record<string, unknown>) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        child.off('exit', onExit);
        if (e) reject(e);
        else resolve(l!);
      }
      child.stdout.on('data', check);
      child.once('exit', onExit);
      check();
    });
  return { child, exited, line, out: () => ({ stdout, stderr }) };
}

describe('orgs and agents on Supabase', () => {
  it('adds and lists orgs, links and lists agents', async () => {
    const add = await cli(['orgs', 'add', '--name', 'Alpha Dental', '--id', ORG_A, '--json']);
    expect(add.exitCode).toBe(0);
    expect(add.json()).toEqual({ ok: true, org: { id: ORG_A, name: 'Alpha Dental', timezone: 'UTC' } });
    const human = await cli(['orgs', 'add', '--name', 'Beta Clinic', '--id', ORG_B, '--timezone', 'Europe/Berlin']);
    expect(human.stderr).toBe('✓ Added Beta Clinic (Europe/Berlin) to the supabase store.\n');
    expect((await cli(['orgs', 'list', '--json'])).json()).toEqual({
      ok: true,
      orgs: [
        { id: ORG_A, name: 'Alpha Dental', timezone: 'UTC' },
        { id: ORG_B, name: 'Beta Clinic', timezone: 'Europe/Berlin' },
      ],
    });

    const link = await cli(['agents', 'link', '--org', ORG_A, '--type', 'inbound', '--assistant-id', 'asst_1', '--json']);
    expect(link.json()).toEqual({ ok: true, agent: { org_id: ORG_A, org_name: 'Alpha Dental', type: 'inbound', vapi_assistant_id: 'asst_1' } });
    const conflict = await cli(['agents', 'link', '--org', ORG_B, '--type', 'inbound', '--assistant-id', 'asst_1', '--json']);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.json<{ error: { message: string } }>().error.message).toBe(
      `Assistant asst_1 is already linked to org ${ORG_A} (type inbound); one assistant serves one org.`,
    );
    await cli(['agents', 'link', '--org', ORG_B, '--type', 'outbound', '--assistant-id', 'asst_2']);
    const list = await cli(['agents', 'list', '--json']);
    expect(list.json<{ agents: unknown[] }>().agents).toEqual([
      { org_id: ORG_A, org_name: 'Alpha Dental', type: 'inbound', vapi_assistant_id: 'asst_1' },
      { org_id: ORG_B, org_name: 'Beta Clinic', type: 'outbound', vapi_assistant_id: 'asst_2' },
    ]);
    expect(main.current.query('select (select count(*)::int from organizations) as orgs, (select count(*)::int from agents) as agents')).toEqual([
      { orgs: 2, agents: 2 },
    ]);
    // It all went to Postgres: no embedded store was made.
    expect(existsSync(path.join(tmp, '.voxctl'))).toBe(false);
  });

  it('exits 4 when the gateway rejects the key, without printing it', async () => {
    const wrong = signJwt({ role: 'service_role', iss: 'supabase' }, 'another-projects-jwt-secret-0123456789');
    for (const json of [true, false]) {
      const r = await cli(['orgs', 'list', ...(json ? ['--json'] : [])], main.current, wrong);
      expect(r.exitCode).toBe(4);
      expect(r.stdout + r.stderr).not.toContain(wrong.split('.')[2]);
      expect(r.stdout + r.stderr).toContain('SUPABASE_SERVICE_ROLE_KEY');
      if (json) expect(r.json<{ error: { code: string } }>().error.code).toBe('credentials');
    }
  });

  it('agents import lists format and store problems in one pass, exactly as the embedded store does', async () => {
    const seed = async (run: (argv: string[]) => Promise<{ exitCode: number }>) => {
      expect((await run(['orgs', 'add', '--name', 'Beta', '--id', ORG_B])).exitCode).toBe(0);
      expect((await run(['agents', 'link', '--org', ORG_B, '--type', 'inbound', '--assistant-id', 'asst-taken'])).exitCode).toBe(0);
    };
    const rows = [
      { org_id: '0f000000-0000-4000-8000-00000000000f', type: 'inbound', vapi_assistant_id: 'asst-1' },
      { org_id: 'nope', type: 'inbound', vapi_assistant_id: 'asst-2' },
      { org_id: ORG_A, org_name: 'Alpha', type: 'outbound', vapi_assistant_id: 'asst-taken' },
      { org_id: ORG_A, org_name: 'Alpha', type: 'inbonud', vapi_assistant_id: 'asst-4' },
    ];
    writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify(rows));
    await seed((argv) => cli(argv));
    const onSupabase = await cli(['agents', 'import', 'agents.json', '--json']);
    const embeddedDir = mkdtempSync(path.join(tmpdir(), 'voxctl-e2e-embedded-'));
    try {
      writeFileSync(path.join(embeddedDir, 'agents.json'), JSON.stringify(rows));
      const embedded = (argv: string[]) => runCli(argv, { cwd: embeddedDir, env: {} });
      await seed(embedded);
      const onEmbedded = await embedded(['agents', 'import', 'agents.json', '--json']);
      expect(onSupabase.exitCode).toBe(2);
      expect(onSupabase.json<{ error: { problems: Array<{ row: number; code: string }> } }>().error.problems.map((p) => [p.row, p.code])).toEqual([
        [1, 'not_found'], [2, 'usage'], [3, 'conflict'], [4, 'usage'],
      ]);
      expect([onSupabase.exitCode, onSupabase.json()]).toEqual([onEmbedded.exitCode, onEmbedded.json()]);
    } finally {
      rmSync(embeddedDir, { recursive: true, force: true });
    }
    expect(main.current.query('select count(*)::int as n from agents')).toEqual([{ n: 1 }]);
  });

  it('imports 5,000 agents and lists every one, past max-rows 1000 and 100', async () => {
    const rows = [];
    for (let o = 0; o < 50; o++) {
      const orgId = `${String(o).padStart(8, '0')}-0000-4000-8000-00000000b001`;
      for (let i = 0; i < 100; i++) rows.push({ org_id: orgId, org_name: `Clinic ${String(o).padStart(2, '0')}`, type: `line-${String(i).padStart(3, '0')}`, vapi_assistant_id: `asst_${o}_${i}` });
    }
    writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify(rows));
    const imp = await cli(['agents', 'import', 'agents.json', '--custom-type', '--json']);
    expect(imp.exitCode).toBe(0);
    expect(imp.json()).toEqual({ ok: true, imported: 5000, orgsCreated: 50 });
    expect(main.current.query('select count(*)::int as n from agents')).toEqual([{ n: 5000 }]);

    // The same database behind a PostgREST with max-rows 100.
    const small = await leaseProject({ database: main.current.database, maxRows: 100 });
    try {
      for (const p of [main.current, small]) {
        const list = await cli(['agents', 'list', '--json'], p);
        expect(list.exitCode).toBe(0);
        const agents = list.json<{ agents: Array<{ org_name: string; type: string; vapi_assistant_id: string }> }>().agents;
        expect(agents).toHaveLength(5000);
        expect(new Set(agents.map((a) => a.vapi_assistant_id)).size).toBe(5000);
        // Ordered by org name, then type: row k of the file is agent k.
        expect(agents.map((a) => a.vapi_assistant_id)).toEqual(rows.map((r) => r.vapi_assistant_id));
        const one = await cli(['agents', 'list', '--org', rows[4321]!.org_id, '--json'], p);
        expect(one.json<{ agents: unknown[] }>().agents).toHaveLength(100);
      }
    } finally {
      await releaseProject(small);
    }
  }, 120_000);
});

describe('bookings through `tunnel up --no-tunnel` on Supabase', () => {
  const slot = { appointmentDate: '2030-03-05', appointmentTime: '10:30' };
  const book = (url: string, i: number, tool = 'bookClinicAppointment', extra: Record<string, unknown> = {}) =>
    request(`${url}/api/vapi/tools`, {
      body: toolCallsMessage(
        [{ id: `call-${i}`, name: tool, args: { ...slot, patientEmail: `patient${i}@example.com`, patientName: `Patient ${i}`, ...extra } }],
        { assistantId: 'asst-race' },
      ),
    });
  const resultOf = (body: string) => (JSON.parse(body) as { results: Array<{ result?: string; error?: string }> }).results[0]!;

  it('30 racing bookings of one slot: exactly one booked, one row in Postgres; cancel frees it', async () => {
    const p = main.current;
    p.exec(`insert into organizations (id, name) values ('${ORG_A}', 'Alpha Dental'); insert into agents (org_id, type, vapi_assistant_id) values ('${ORG_A}', 'inbound', 'asst-race');`);
    const proc = bin(['tunnel', 'up', '--no-tunnel', '--port', '0', '--json'], envOf(p));
    try {
      const ready = await proc.line((l) => l.event === 'ready');
      const url = String(ready.localUrl);
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => book(url, i)));
      expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
      const results = answers.map((a) => resultOf(a.text));
      const booked = results.filter((r) => r.result?.startsWith('Booked:'));
      expect(booked).toHaveLength(1);
      expect(results.filter((r) => r.error)).toHaveLength(29);
      expect(p.query("select status, count(*)::int as n from appointments group by status")).toEqual([{ status: 'booked', n: 1 }]);
      expect(p.query('select count(*)::int as n from contacts')).toEqual([{ n: 1 }]);
      const winner = p.query<{ email: string }>('select c.email from appointments a join contacts c on c.id = a.contact_id')[0]!.email;
      const i = Number(/patient(\d+)@/.exec(winner)![1]);

      const cancel = resultOf((await book(url, i, 'cancelAppointment')).text);
      expect(cancel.result).toMatch(/^Cancelled:/);
      expect(p.query('select status from appointments')).toEqual([{ status: 'cancelled' }]);
      const again = resultOf((await book(url, 99)).text);
      expect(again.result).toMatch(/^Booked: Patient 99/);
      expect(p.query("select count(*)::int as n from appointments where status = 'booked'")).toEqual([{ n: 1 }]);
    } finally {
      proc.child.kill('SIGINT');
      await proc.exited;
    }
    expect(proc.out().stderr).not.toContain(p.keys.serviceRole);
  }, 120_000);
});

describe('assistants upsert on Supabase', () => {
  let vapi: FakeVapiServer;
  beforeAll(async () => {
    vapi = await startFakeVapiServer({ latencyMs: 25 });
  });
  afterAll(async () => {
    await vapi.close();
  });

  it('racing processes create exactly one assistant (the claim is held in Postgres)', async () => {
    const p = main.current;
    p.exec(`insert into organizations (id, name) values ('${ORG_A}', 'Sunrise Dental');`);
    const env = { ...envOf(p), VAPI_PRIVATE_KEY: vapi.fake.apiKey, VAPI_BASE_URL: vapi.url, WEBHOOK_URL: 'https://clinic-hooks.example.com/api/vapi/tools' };
    const runs = Array.from({ length: 5 }, () => bin(['assistants', 'upsert', '--org', ORG_A, '--type', 'inbound', '--json'], env));
    const codes = await Promise.all(runs.map((r) => r.exited));
    expect(codes, runs.map((r) => r.out().stderr).join('\n')).toEqual([0, 0, 0, 0, 0]);
    const docs = runs.map((r) => JSON.parse(r.out().stdout) as { action: string; assistantId: string });
    expect(docs.filter((d) => d.action === 'created')).toHaveLength(1);
    expect(new Set(docs.map((d) => d.assistantId)).size).toBe(1);
    expect(vapi.fake.all('assistant')).toHaveLength(1);
    expect(p.query('select type, vapi_assistant_id from agents')).toEqual([{ type: 'inbound', vapi_assistant_id: docs[0]!.assistantId }]);
    expect(p.query('select count(*)::int as n from agent_claims')).toEqual([{ n: 0 }]);
  }, 120_000);
});

describe('what the real service showed, through the CLI', () => {
  it('missing schema: exit 2 with the hint to apply `voxctl db schema`', async () => {
    const bare = await leaseProject({ schema: 'none' });
    try {
      const r = await cli(['orgs', 'add', '--name', 'Alpha', '--json'], bare);
      expect(r.exitCode).toBe(2);
      const err = r.json<{ ok: boolean; error: { code: string; message: string; hint: string } }>().error;
      expect(err.code).toBe('schema_missing');
      expect(err.hint).toContain('voxctl db schema');
      expect(err.message).not.toContain('SUPABASE_URL');
    } finally {
      await releaseProject(bare);
    }
  });

  it("stale schema cache: doctor's store check says to reload it", async () => {
    const stale = await leaseProject({ schema: 'stale' });
    try {
      const r = await cli(['doctor', '--json'], stale);
      expect(r.exitCode).toBe(1);
      const store = r.json<{ checks: Array<{ id: string; ok: boolean; message: string; hint: string }> }>().checks.find((c) => c.id === 'store')!;
      expect(store.ok).toBe(false);
      expect(store.message).toContain('its schema cache is stale');
      expect(store.hint).toContain("notify pgrst, 'reload schema'");
    } finally {
      await releaseProject(stale);
    }
  });

  it("a user's token instead of the service-role key: exit 4 naming the key to use, not an empty list", async () => {
    await cli(['orgs', 'add', '--name', 'Alpha']);
    const r = await cli(['orgs', 'list'], main.current, main.current.keys.authenticated);
    expect(r.exitCode).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('voxctl needs the service_role key');
    expect(r.stderr).not.toContain(main.current.keys.authenticated.slice(10, 40));
  });
});
