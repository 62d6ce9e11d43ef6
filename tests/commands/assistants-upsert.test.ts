import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { FAKE_VAPI_URL, FakeVapi, vapiHandlers } from '../fakes/vapi.js';
import { createMswServer } from '../msw/server.js';
import { runCli } from '../helpers/run-cli.js';
import { useTestDb } from '../helpers/store.js';

const BASE = 'https://clinic-hooks.ngrok-free.dev/api/vapi/tools';
const SECRET = 'whsec-upsert-0123456789abcdef';

let fake = new FakeVapi();
const msw = createMswServer(...vapiHandlers({ handle: (r) => fake.handle(r) } as FakeVapi));
const testDb = useTestDb();
let store: Store;
let orgId: string;
let dir: string;

beforeAll(async () => {
  msw.listen();
  store = testDb.store;
  dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-upsert-'));
});
afterAll(async () => {
  msw.close();
});
beforeEach(async () => {
  fake = new FakeVapi();
  orgId = (await store.addOrg({ name: 'Sunrise Dental', timezone: 'Europe/Berlin' })).id;
});
afterEach(() => msw.reset());

const env = (extra: Record<string, string> = {}) => ({ VAPI_PRIVATE_KEY: fake.apiKey, VAPI_BASE_URL: FAKE_VAPI_URL, WEBHOOK_URL: BASE, ...extra });
const upsert = (args: string[] = [], extra: Record<string, string> = {}, services: Record<string, unknown> = {}) =>
  runCli(['assistants', 'upsert', '--org', orgId, '--type', 'inbound', ...args], { env: env(extra), cwd: dir, storeFactory: testDb.factory, services });

type Assistant = Record<string, unknown> & {
  id: string;
  name: string;
  metadata: Record<string, unknown>;
  server: { url: string; headers?: Record<string, string> };
  model: { tools: Array<{ function: { name: string }; server: { url: string; headers?: Record<string, string> } }> };
};
const assistants = () => fake.all('assistant') as Assistant[];
const posts = () => fake.requests('POST').filter((r) => r.path === '/assistant');
const linked = async () => (await store.listAgents({ orgId })).map((a) => `${a.type}=${a.vapiAssistantId}`);

describe('assistants upsert', () => {
  it('creates the assistant from the template on the first run, with org metadata and every URL set', async () => {
    const r = await upsert(['--json']);
    expect(r.exitCode).toBe(0);
    const doc = r.json<Record<string, unknown>>();
    expect(Object.keys(doc)).toEqual(['ok', 'orgId', 'type', 'assistantId', 'action']);
    expect(doc).toEqual({ ok: true, orgId, type: 'inbound', assistantId: expect.any(String), action: 'created' });
    expect(posts()).toHaveLength(1);
    const a = assistants()[0]!;
    expect(a.id).toBe(doc.assistantId);
    expect(a.name).toBe('Sarah · Sunrise Dental');
    expect(a.metadata).toEqual({ role: 'inbound receptionist', org_id: orgId, voxctl_agent_type: 'inbound' });
    expect(a.server).toEqual({ url: BASE });
    expect(a.model.tools.map((t) => [t.function.name, t.server.url])).toEqual([
      ['checkAvailability', `${BASE}/checkAvailability`],
      ['bookClinicAppointment', `${BASE}/bookClinicAppointment`],
      ['cancelAppointment', `${BASE}/cancelAppointment`],
    ]);
    expect(String(a.firstMessage)).toContain('Sunrise Dental');
    expect(JSON.stringify(a)).not.toContain('${');
    expect(a).not.toHaveProperty('$comment');
    expect(await linked()).toEqual([`inbound=${a.id}`]);
  });

  it('updates on later runs: same id, only changed fields sent, nothing sent when up to date', async () => {
    const first = (await upsert(['--json'])).json<{ assistantId: string }>().assistantId;
    const again = await upsert(['--json']);
    expect(again.json()).toMatchObject({ action: 'updated', assistantId: first });
    expect(fake.requests('PATCH')).toHaveLength(0);
    expect(posts()).toHaveLength(1);

    const file = path.join(dir, 'sarah.json');
    const tpl = JSON.parse(await readFile(path.resolve('templates/assistants/inbound.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...tpl, firstMessage: 'Hello from ${ORG_NAME}!' }));
    const changed = await upsert(['--file', 'sarah.json']);
    expect(changed.exitCode).toBe(0);
    expect(changed.stdout.trim()).toBe(first);
    expect(changed.stderr).toContain('Updated the inbound assistant of Sunrise Dental');
    expect(changed.stderr).toContain('firstMessage');
    const patches = fake.requests('PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0]!.path).toBe(`/assistant/${first}`);
    expect(patches[0]!.body).toEqual({ firstMessage: 'Hello from Sunrise Dental!' });
    expect(assistants()).toHaveLength(1);
  });

  it('keeps metadata and server fields the file does not set; re-points a moved webhook URL', async () => {
    const id = (await upsert(['--json'])).json<{ assistantId: string }>().assistantId;
    fake.store.assistant.get(id)!.metadata = { ...(fake.get('assistant', id)!.metadata as object), crm: 'hubspot' };
    fake.store.assistant.get(id)!.server = { url: BASE, timeoutSeconds: 30 };
    const moved = 'https://new-tunnel.ngrok-free.dev/api/vapi/tools';
    const r = await upsert(['--url', moved, '--json']);
    expect(r.json()).toMatchObject({ action: 'updated', assistantId: id });
    const a = fake.get('assistant', id) as Assistant;
    expect(a.metadata).toEqual({ role: 'inbound receptionist', org_id: orgId, voxctl_agent_type: 'inbound', crm: 'hubspot' });
    expect(a.server).toEqual({ url: moved, timeoutSeconds: 30 });
    expect(a.model.tools[1]!.server.url).toBe(`${moved}/bookClinicAppointment`);
    // metadata already carries org_id and the type, so only the URLs change.
    expect(Object.keys(fake.requests('PATCH')[0]!.body as object).sort()).toEqual(['model', 'server']);
  });

  it('leaves nothing for `assistants status` to report: upsert and sync agree on every URL and header', async () => {
    const r = await upsert([], { VAPI_WEBHOOK_SECRET: SECRET });
    expect(r.exitCode).toBe(0);
    const status = await runCli(['assistants', 'status', '--org', orgId, '--json'], { env: env({ VAPI_WEBHOOK_SECRET: SECRET }), cwd: dir, storeFactory: testDb.factory });
    expect(status.exitCode).toBe(0);
    const doc = status.json<{ summary: Record<string, number>; results: Array<{ action: string }> }>();
    expect(doc.summary).toMatchObject({ wouldUpdate: 0, failed: 0, missing: 0 });
    expect(doc.results.length).toBeGreaterThan(0);
  });

  it('sends X-Vapi-Secret on the assistant and its tools when VAPI_WEBHOOK_SECRET is set, and never prints it', async () => {
    const r = await upsert(['--debug'], { VAPI_WEBHOOK_SECRET: SECRET });
    expect(r.exitCode).toBe(0);
    const a = assistants()[0]!;
    expect(a.server.headers).toEqual({ 'X-Vapi-Secret': SECRET });
    expect(a.model.tools.every((t) => t.server.headers?.['X-Vapi-Secret'] === SECRET)).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('creates exactly one assistant when runs race: one reports created, the others wait and report updated', async () => {
    fake.latencyMs = 25;
    const runs = await Promise.all(Array.from({ length: 6 }, () => upsert(['--json'])));
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0, 0, 0, 0, 0]);
    const docs = runs.map((r) => r.json<{ action: string; assistantId: string }>());
    expect(docs.filter((d) => d.action === 'created')).toHaveLength(1);
    expect(docs.filter((d) => d.action === 'updated')).toHaveLength(5);
    expect(new Set(docs.map((d) => d.assistantId)).size).toBe(1);
    expect(posts()).toHaveLength(1);
    expect(assistants()).toHaveLength(1);
    expect(await linked()).toEqual([`inbound=${docs[0]!.assistantId}`]);
    expect(testDb.rows('select * from agent_claims')).toHaveLength(0);
  });

  it('tells the waiting racers what they wait for (human output)', async () => {
    fake.latencyMs = 25;
    const runs = await Promise.all(Array.from({ length: 3 }, () => upsert()));
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0, 0]);
    expect(runs.filter((r) => r.stderr.includes('Created the inbound assistant of Sunrise Dental'))).toHaveLength(1);
    const waiters = runs.filter((r) => r.stderr.includes('is creating the inbound assistant of Sunrise Dental; waiting for its id'));
    expect(waiters).toHaveLength(2);
    for (const w of waiters) expect(w.stderr).toContain('Updated the inbound assistant of Sunrise Dental');
    expect(new Set(runs.map((r) => r.stdout.trim())).size).toBe(1);
  });

  it('races of different types create one assistant each', async () => {
    fake.latencyMs = 10;
    const runs = await Promise.all(
      ['inbound', 'follow-up', 'outbound', 'inbound', 'follow-up', 'outbound'].map((type) =>
        runCli(['assistants', 'upsert', '--org', orgId, '--type', type, '--json'], { env: env(), cwd: dir, storeFactory: testDb.factory }),
      ),
    );
    expect(runs.every((r) => r.exitCode === 0)).toBe(true);
    expect(posts()).toHaveLength(3);
    expect((await linked()).map((x) => x.split('=')[0])).toEqual(['follow-up', 'inbound', 'outbound']);
  });

  it('recovers an assistant created by a run that died before recording it (claim expired): no duplicate', async () => {
    const orphan = fake.addAssistant({ name: 'Sarah · Sunrise Dental', metadata: { org_id: orgId, voxctl_agent_type: 'inbound' } });
    testDb.db
      .prepare(`insert into agent_claims (org_id, type, claim_id, holder, expires_at) values (?, 'inbound', ?, 'voxctl@elsewhere:4242', ?)`)
      .run(orgId, randomUUID(), new Date(Date.now() - 1000).toISOString());
    const r = await upsert();
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(orphan.id);
    expect(r.stderr).toContain('Recovered the inbound assistant of Sunrise Dental');
    expect(posts()).toHaveLength(0);
    expect(await linked()).toEqual([`inbound=${orphan.id}`]);
    // Brought in line with the template.
    expect((fake.get('assistant', String(orphan.id)) as Assistant).server).toEqual({ url: BASE });
  });

  it('takes over at once from a dead process on this machine that still holds a live claim', async () => {
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    testDb.db
      .prepare(`insert into agent_claims (org_id, type, claim_id, holder, expires_at) values (?, 'inbound', ?, ?, ?)`)
      .run(orgId, randomUUID(), `voxctl@${os.hostname()}:${deadPid}`, new Date(Date.now() + 600_000).toISOString());
    // At once: it never waits (no sleep) for the dead holder's claim to expire.
    const slept: number[] = [];
    const r = await upsert(['--json', '--wait', '5'], {}, { upsertDeps: { sleep: async (ms: number) => void slept.push(ms) } });
    expect(r.exitCode).toBe(0);
    expect(slept).toEqual([]);
    expect(r.json()).toMatchObject({ action: 'created' });
    expect(r.stderr).toContain('is gone; taking over');
  });

  it('does not duplicate when recording failed after the create: the next run adopts it', async () => {
    const failing: Store = Object.create(store) as Store;
    failing.completeAgentClaim = async () => {
      throw new Error('connection to the store lost');
    };
    const crashed = await runCli(['assistants', 'upsert', '--org', orgId, '--type', 'inbound'], {
      env: env(),
      cwd: dir,
      storeFactory: async () => failing,
    });
    expect(crashed.exitCode).toBe(1);
    expect(assistants()).toHaveLength(1);
    expect(await linked()).toEqual([]);

    const next = await upsert(['--json']);
    expect(next.exitCode).toBe(0);
    expect(next.json()).toMatchObject({ action: 'updated', assistantId: assistants()[0]!.id });
    expect(posts()).toHaveLength(1);
    expect(await linked()).toEqual([`inbound=${assistants()[0]!.id}`]);
  });

  it('gives up waiting for a live claim of another run after --wait, creating nothing', async () => {
    testDb.db
      .prepare(`insert into agent_claims (org_id, type, claim_id, holder, expires_at) values (?, 'inbound', ?, 'voxctl@build-7:1234', ?)`)
      .run(orgId, randomUUID(), new Date(Date.now() + 600_000).toISOString());
    // A fake clock: each wait between looks advances it by what was asked, and takes no time.
    let clock = 0;
    const slept: number[] = [];
    const upsertDeps = {
      now: () => clock,
      sleep: async (ms: number) => {
        slept.push(ms);
        clock += ms;
      },
    };
    const r = await upsert(['--wait', '0.3', '--json'], {}, { upsertDeps });
    expect(r.exitCode).toBe(1);
    // It kept looking until --wait had passed on its clock, then gave up.
    expect(slept.length).toBeGreaterThan(1);
    expect(clock).toBeGreaterThan(300);
    expect(clock - slept.at(-1)!).toBeLessThanOrEqual(300);
    const { error } = r.json<{ error: { code: string; message: string; hint: string } }>();
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('voxctl@build-7:1234');
    expect(error.hint).toContain('expires at');
    expect(fake.requests('POST')).toHaveLength(0);
  });

  it('replaces a linked assistant that was deleted in Vapi', async () => {
    await store.linkAgent({ orgId, type: 'inbound', vapiAssistantId: randomUUID() });
    const r = await upsert(['--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toMatchObject({ action: 'created' });
    expect(r.stderr).toContain('no longer exists in Vapi');
    expect(await linked()).toEqual([`inbound=${assistants()[0]!.id}`]);
  });

  it.each([
    [['--url', 'http://localhost:3001/api/vapi/tools'], {}, 2, 'must be an https:// URL'],
    [[], { WEBHOOK_URL: '' }, 2, 'No webhook URL'],
    [['--type', 'billing'], {}, 2, 'no assistant template for type "billing".'],
    [['--type', 'inbonud'], {}, 2, 'no assistant template for type "inbonud"; did you mean inbound?'],
    [['--type', 'billing', '--file', 'missing.json'], {}, 2, 'Type "billing" is not a known agent type (inbound, outbound or follow-up).'],
    [['--file', 'missing.json'], {}, 1, 'Cannot read --file missing.json: no such file or folder'],
    [[], { VAPI_PRIVATE_KEY: '' }, 4, 'No Vapi API key'],
    [[], { VAPI_PRIVATE_KEY: 'sk-wrong-key-0000000000' }, 4, 'rejected the API key'],
  ])('fails clearly: %j %j → exit %i', async (args, extra, code, message) => {
    const r = await runCli(['assistants', 'upsert', '--org', orgId, '--type', 'inbound', ...args, '--json'], {
      env: { ...env(), ...extra },
      cwd: dir,
      storeFactory: testDb.factory,
    });
    expect(r.exitCode).toBe(code);
    expect(r.json<{ error: { message: string } }>().error.message).toContain(message);
    expect(posts()).toHaveLength(0);
  });

  it('refuses legacy fields with the fix, and an unknown org', async () => {
    await writeFile(path.join(dir, 'legacy.json'), JSON.stringify({ name: 'Old', serverUrl: 'https://old', model: { functions: [] } }));
    const legacy = await upsert(['--file', 'legacy.json']);
    expect(legacy.exitCode).toBe(2);
    expect(legacy.stderr).toContain('"serverUrl" was removed from the Vapi API');
    expect(legacy.stderr).toContain('"model.functions" is gone');
    const unknown = await runCli(['assistants', 'upsert', '--org', randomUUID(), '--type', 'inbound'], { env: env(), cwd: dir, storeFactory: testDb.factory });
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toContain('does not exist');
  });

  it('drops read-only fields copied from a GET and shortens a name a long org name made too long', async () => {
    const long = (await store.addOrg({ name: 'The Extremely Long Named Family Dental Practice' })).id;
    await writeFile(path.join(dir, 'copied.json'), JSON.stringify({ id: 'x', orgId: 'y', createdAt: 'z', name: 'Ann · ${ORG_NAME}', firstMessage: 'Hi' }));
    const r = await runCli(['assistants', 'upsert', '--org', long, '--type', 'custom', '--file', 'copied.json', '--custom-type', '--json'], {
      env: env(),
      cwd: dir,
      storeFactory: testDb.factory,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('ignoring read-only id, orgId, createdAt');
    const created = posts()[0]!.body as Record<string, unknown>;
    expect(created).not.toHaveProperty('id');
    expect(String(created.name).length).toBeLessThanOrEqual(40);
  });

  it('every template is accepted by Vapi and uses the same tool schemas as the webhook test payloads', async () => {
    for (const type of ['inbound', 'follow-up', 'outbound']) {
      const r = await runCli(['assistants', 'upsert', '--org', orgId, '--type', type, '--json'], { env: env(), cwd: dir, storeFactory: testDb.factory });
      expect(r.exitCode).toBe(0);
    }
    for (const a of assistants()) {
      for (const t of a.model.tools) {
        const payload = JSON.parse(await readFile(path.resolve(`templates/payloads/${t.function.name}.json`), 'utf8')) as { tool: { function: unknown } };
        expect(t.function).toEqual(payload.tool.function);
      }
    }
  });
});
