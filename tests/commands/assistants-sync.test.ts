/* eslint-disable @typescript-eslint/no-explicit-any -- Vapi resources are free-form JSON */
/**
 * `voxctl assistants sync | status | restore` end to end in-process: real embedded (SQLite) store, the msw
 * fake of Vapi (tests/fakes/vapi.ts), the real Vapi client with instant backoff.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Context } from '../../src/context.js';
import type { Store } from '../../src/store/types.js';
import { createVapiClient } from '../../src/vapi/client.js';
import type { VapiClient } from '../../src/vapi/types.js';
import { Interrupts } from '../../src/util/signals.js';
import { isJsonObject as isObj } from '../../src/util/json.js';
import { FAKE_VAPI_URL, FakeVapi, vapiHandlers, type Json } from '../fakes/vapi.js';
import { runCli, type RunCliOptions } from '../helpers/run-cli.js';
import { useTestDb } from '../helpers/store.js';
import { createMswServer } from '../msw/server.js';

const URL_NEW = 'https://new.ngrok-free.dev/api/vapi/tools';
const URL_OLD = 'http://localhost:3001/api/vapi/tools';
const SECRET = 'whsec-test-0123456789abcdef';
const ORG_A = '11111111-1111-4111-8111-111111111111';
const ORG_B = '22222222-2222-4222-8222-222222222222';

const testDb = useTestDb();
let store: Store;
let fake: FakeVapi;
let dir: string;
const msw = createMswServer(...vapiHandlers({ handle: (r) => fake.handle(r) } as FakeVapi));

beforeAll(async () => {
  store = testDb.store;
  msw.listen();
});
afterAll(async () => {
  msw.close();
});
beforeEach(async () => {
  fake = new FakeVapi();
  dir = mkdtempSync(path.join(tmpdir(), 'voxctl-sync-'));
  await store.addOrg({ id: ORG_A, name: 'Sunrise Dental' });
  await store.addOrg({ id: ORG_B, name: 'Harbor Clinic' });
});
afterEach(() => msw.reset());

/** The real client against the fake, with backoff that does not wait. */
const fastClient = (ctx: Context): VapiClient =>
  createVapiClient({ baseURL: FAKE_VAPI_URL, apiKey: fake.apiKey, redactor: ctx.redactor, sleep: async () => {} });

function cli(argv: string[], opts: RunCliOptions & { env?: Record<string, string> } = {}) {
  return runCli(argv, {
    cwd: dir,
    storeFactory: testDb.factory,
    vapiFactory: fastClient,
    ...opts,
    env: { VAPI_PRIVATE_KEY: fake.apiKey, VAPI_BASE_URL: FAKE_VAPI_URL, VOXCTL_DATA_DIR: path.join(dir, 'data'), ...(opts.env ?? {}) },
  });
}

const link = (orgId: string, type: string, a: Json) => store.linkAgent({ orgId, type, vapiAssistantId: String(a.id) });

/** Everything but the keys a sync may change (and updatedAt). */
function rest(obj: Json | undefined, changed: string[]): Json {
  const copy: Json = { ...(obj ?? {}) };
  for (const k of [...changed, 'updatedAt']) delete copy[k];
  return copy;
}

/** An org with the full range of resources the contract covers. */
function seedRich() {
  const book = fake.addTool({
    function: { name: 'bookClinicAppointment', description: 'Books', parameters: { type: 'object', properties: { appointmentDate: { type: 'string' } } } },
    server: { url: `${URL_OLD}/bookClinicAppointment`, timeoutSeconds: 25, headers: { 'X-Env': 'prod' } },
    messages: [{ type: 'request-start', content: 'One moment' }],
  });
  const cancel = fake.addTool({ function: { name: 'cancelAppointment' } }); // no server at all
  const transfer = fake.addTool({ type: 'transferCall', destinations: [{ type: 'number', number: '+14155550100' }] });
  const assistant = fake.addAssistant({
    name: 'Sarah',
    server: {
      url: URL_OLD,
      timeoutSeconds: 20,
      headers: { 'X-Env': 'prod' },
      backoffPlan: { type: 'exponential', maxRetries: 3, baseDelaySeconds: 1 },
    },
    metadata: { team: 'blue', tier: 2 },
    model: {
      provider: 'openai',
      model: 'gpt-4o',
      messages: [{ role: 'system', content: 'You are Sarah, the receptionist of Sunrise Dental.' }],
      toolIds: [book.id, cancel.id, transfer.id],
      tools: [
        { type: 'function', function: { name: 'lookupPatient', parameters: { type: 'object', properties: {} } }, server: { url: `${URL_OLD}/lookupPatient`, timeoutSeconds: 15 } },
        { type: 'endCall' },
      ],
    },
    voice: { provider: '11labs', voiceId: 'sarah', stability: 0.5 },
  });
  const phone = fake.addPhoneNumber({ assistantId: assistant.id, server: { url: URL_OLD, timeoutSeconds: 20 } });
  const otherPhone = fake.addPhoneNumber({ assistantId: null, server: { url: 'https://elsewhere.example/hook' } });
  return { book, cancel, transfer, assistant: fake.get('assistant', String(assistant.id))!, phone, otherPhone };
}

describe('assistants sync', () => {
  it('points the assistant, its saved and inline function tools and its phone number at the URL, sending only what changes', async () => {
    const s = seedRich();
    await link(ORG_A, 'inbound', s.assistant);
    const before = {
      assistant: fake.get('assistant', String(s.assistant.id))!,
      book: fake.get('tool', String(s.book.id))!,
      cancel: fake.get('tool', String(s.cancel.id))!,
      transfer: fake.get('tool', String(s.transfer.id))!,
      phone: fake.get('phoneNumber', String(s.phone.id))!,
      otherPhone: fake.get('phoneNumber', String(s.otherPhone.id))!,
    };

    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json']);
    expect(r.exitCode).toBe(0);
    const doc = r.json<any>();
    expect(doc).toEqual({
      ok: true,
      dryRun: false,
      webhookUrl: URL_NEW,
      summary: { updated: 5, wouldUpdate: 0, unchanged: 0, failed: 0, missing: 0 },
      results: [
        { orgId: ORG_A, kind: 'assistant', id: s.assistant.id, action: 'updated', before: URL_OLD, after: URL_NEW },
        { orgId: ORG_A, kind: 'inlineTool', id: s.assistant.id, name: 'lookupPatient', action: 'updated', before: `${URL_OLD}/lookupPatient`, after: `${URL_NEW}/lookupPatient` },
        { orgId: ORG_A, kind: 'tool', id: s.book.id, name: 'bookClinicAppointment', action: 'updated', before: `${URL_OLD}/bookClinicAppointment`, after: `${URL_NEW}/bookClinicAppointment` },
        { orgId: ORG_A, kind: 'tool', id: s.cancel.id, name: 'cancelAppointment', action: 'updated', before: null, after: `${URL_NEW}/cancelAppointment` },
        { orgId: ORG_A, kind: 'phoneNumber', id: s.phone.id, action: 'updated', before: URL_OLD, after: URL_NEW },
      ],
    });

    // Exactly one read per list and one PATCH per changed resource.
    expect(fake.requests('GET').map((q) => q.path).sort()).toEqual(['/assistant', '/phone-number', '/tool']);
    const patches = Object.fromEntries(fake.requests('PATCH').map((q) => [q.path, q.body]));
    expect(Object.keys(patches)).toHaveLength(4);
    expect(patches[`/assistant/${s.assistant.id}`]).toEqual({
      server: { url: URL_NEW, timeoutSeconds: 20, headers: { 'X-Env': 'prod' }, backoffPlan: { type: 'exponential', maxRetries: 3, baseDelaySeconds: 1 } },
      metadata: { team: 'blue', tier: 2, org_id: ORG_A },
      model: {
        ...(before.assistant.model as Json),
        tools: [
          { type: 'function', function: { name: 'lookupPatient', parameters: { type: 'object', properties: {} } }, server: { url: `${URL_NEW}/lookupPatient`, timeoutSeconds: 15 } },
          { type: 'endCall' },
        ],
      },
    });
    expect(patches[`/tool/${s.book.id}`]).toEqual({ server: { url: `${URL_NEW}/bookClinicAppointment`, timeoutSeconds: 25, headers: { 'X-Env': 'prod' } } });
    // A resource without a server gets exactly {url}.
    expect(patches[`/tool/${s.cancel.id}`]).toEqual({ server: { url: `${URL_NEW}/cancelAppointment` } });
    expect(patches[`/phone-number/${s.phone.id}`]).toEqual({ provider: 'twilio', server: { url: URL_NEW, timeoutSeconds: 20 } });

    // Every other field is deep-equal before and after.
    const after = fake.get('assistant', String(s.assistant.id))!;
    expect(rest(after, ['server', 'metadata', 'model'])).toEqual(rest(before.assistant, ['server', 'metadata', 'model']));
    expect({ ...(after.model as Json), tools: undefined }).toEqual({ ...(before.assistant.model as Json), tools: undefined });
    expect((after.model as any).tools[1]).toEqual({ type: 'endCall' });
    expect(rest(fake.get('tool', String(s.book.id)), ['server'])).toEqual(rest(before.book, ['server']));
    expect(rest(fake.get('tool', String(s.cancel.id)), ['server'])).toEqual(rest(before.cancel, ['server']));
    expect(fake.get('tool', String(s.transfer.id))).toEqual(before.transfer); // other tool types are left alone
    expect(rest(fake.get('phoneNumber', String(s.phone.id)), ['server'])).toEqual(rest(before.phone, ['server']));
    expect(fake.get('phoneNumber', String(s.otherPhone.id))).toEqual(before.otherPhone); // not linked
  });

  it('a rerun makes zero writes and reports everything unchanged', async () => {
    const s = seedRich();
    await link(ORG_A, 'inbound', s.assistant);
    expect((await cli(['assistants', 'sync', '--all-orgs', '--url', URL_NEW, '--json'])).exitCode).toBe(0);
    fake.clearLog();
    const again = await cli(['assistants', 'sync', '--all-orgs', '--url', URL_NEW, '--json']);
    expect(again.exitCode).toBe(0);
    expect(fake.requests('PATCH')).toHaveLength(0);
    expect(again.json<any>().summary).toEqual({ updated: 0, wouldUpdate: 0, unchanged: 5, failed: 0, missing: 0 });
    expect(again.json<any>().results.every((x: any) => x.action === 'unchanged')).toBe(true);
  });

  it("leaves out the demo assistant `webhook test --local` links (it is not in Vapi), saying so", async () => {
    const s = seedRich();
    await link(ORG_A, 'inbound', s.assistant);
    await store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: 'demo-5f0c2a9e-1111-4111-8111-111111111111' });
    const r = await cli(['assistants', 'sync', '--all-orgs', '--url', URL_NEW, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.json<any>().summary).toMatchObject({ failed: 0, missing: 0 });
    expect(r.json<any>().results.some((x: any) => String(x.id).startsWith('demo-'))).toBe(false);
  });

  it('merges metadata.org_id into existing metadata and writes it when only that is wrong', async () => {
    const a = fake.addAssistant({ server: { url: URL_NEW }, metadata: { org_id: ORG_B, keep: 'me' } });
    await link(ORG_A, 'inbound', a);
    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json']);
    expect(r.json<any>().results).toEqual([{ orgId: ORG_A, kind: 'assistant', id: a.id, action: 'updated', before: URL_NEW, after: URL_NEW }]);
    expect(fake.requests('PATCH')[0]!.body).toEqual({ metadata: { org_id: ORG_A, keep: 'me' } });
  });

  describe('the X-Vapi-Secret header', () => {
    it('is set on every server without a credentialId, replacing any letter case, never doubled', async () => {
      const tool = fake.addTool({ function: { name: 'book' }, server: { url: 'https://old/book', headers: { 'x-vapi-secret': 'old-secret-value', 'X-Env': 'prod' } } });
      const credTool = fake.addTool({ function: { name: 'credTool' }, server: { url: 'https://old/credTool', credentialId: 'cred-123' } });
      const a = fake.addAssistant({
        server: { url: 'https://old', headers: { 'X-VAPI-SECRET': 'a', 'x-vapi-secret': 'b' } },
        model: { provider: 'openai', toolIds: [tool.id, credTool.id], tools: [{ type: 'function', function: { name: 'inline' } }] },
      });
      const bare = fake.addAssistant({ model: { provider: 'openai' } }); // no server
      delete fake.store.assistant.get(String(bare.id))!.server;
      const phone = fake.addPhoneNumber({ assistantId: a.id, server: { url: 'https://old', credentialId: 'cred-9' } });
      await link(ORG_A, 'inbound', a);
      await link(ORG_A, 'outbound', bare);

      const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json'], { env: { VAPI_WEBHOOK_SECRET: SECRET } });
      expect(r.exitCode).toBe(0);
      const by = (p: string) => fake.requests('PATCH').find((q) => q.path === p)?.body as any;
      expect(by(`/assistant/${a.id}`).server).toEqual({ url: URL_NEW, headers: { 'X-Vapi-Secret': SECRET } });
      expect(by(`/assistant/${a.id}`).model.tools[0].server).toEqual({ url: `${URL_NEW}/inline`, headers: { 'X-Vapi-Secret': SECRET } });
      expect(by(`/assistant/${bare.id}`).server).toEqual({ url: URL_NEW, headers: { 'X-Vapi-Secret': SECRET } });
      expect(by(`/tool/${tool.id}`)).toEqual({ server: { url: `${URL_NEW}/book`, headers: { 'X-Env': 'prod', 'X-Vapi-Secret': SECRET } } });
      // credentialId present: no header.
      expect(by(`/tool/${credTool.id}`)).toEqual({ server: { url: `${URL_NEW}/credTool`, credentialId: 'cred-123' } });
      expect(by(`/phone-number/${phone.id}`)).toEqual({ provider: 'twilio', server: { url: URL_NEW, credentialId: 'cred-9' } });
      // The secret is sent to Vapi but never printed.
      expect(r.stdout + r.stderr).not.toContain(SECRET);

      // A header already right in another letter case is left alone: the rerun writes nothing.
      fake.clearLog();
      const again = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json'], { env: { VAPI_WEBHOOK_SECRET: SECRET } });
      expect(fake.requests('PATCH')).toHaveLength(0);
      expect(again.json<any>().summary.unchanged).toBe(6);
    });

    it('a lower-case header with the right value counts as in sync', async () => {
      const a = fake.addAssistant({ server: { url: URL_NEW, headers: { 'x-vapi-secret': SECRET } }, metadata: { org_id: ORG_A } });
      await link(ORG_A, 'inbound', a);
      const r = await cli(['assistants', 'status', '--org', ORG_A, '--url', URL_NEW, '--json'], { env: { VAPI_WEBHOOK_SECRET: SECRET } });
      expect(r.exitCode).toBe(0);
    });
  });

  it('writes a saved tool shared by assistants of two orgs once', async () => {
    const shared = fake.addTool({ function: { name: 'bookClinicAppointment' }, server: { url: 'https://old/x' } });
    const a = fake.addAssistant({ model: { provider: 'openai', toolIds: [shared.id] } });
    const b = fake.addAssistant({ model: { provider: 'openai', toolIds: [shared.id] } });
    await link(ORG_A, 'inbound', a);
    await link(ORG_B, 'inbound', b);
    const r = await cli(['assistants', 'sync', '--all-orgs', '--url', URL_NEW, '--json']);
    expect(r.exitCode).toBe(0);
    expect(fake.requests('PATCH').filter((q) => q.path === `/tool/${shared.id}`)).toHaveLength(1);
    const toolRows = r.json<any>().results.filter((x: any) => x.kind === 'tool');
    // Listed once, under the first org in the store's order (by name: Harbor Clinic).
    expect(toolRows).toEqual([{ orgId: ORG_B, kind: 'tool', id: shared.id, name: 'bookClinicAppointment', action: 'updated', before: 'https://old/x', after: `${URL_NEW}/bookClinicAppointment` }]);
  });

  it('--org selects that org only', async () => {
    const a = fake.addAssistant({ server: { url: URL_OLD } });
    const b = fake.addAssistant({ server: { url: URL_OLD } });
    fake.addPhoneNumber({ assistantId: b.id, server: { url: URL_OLD } });
    await link(ORG_A, 'inbound', a);
    await link(ORG_B, 'inbound', b);
    const bBefore = fake.get('assistant', String(b.id));
    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json']);
    expect(r.json<any>().results.map((x: any) => x.orgId)).toEqual([ORG_A]);
    expect(fake.requests('PATCH').map((q) => q.path)).toEqual([`/assistant/${a.id}`]);
    expect(fake.get('assistant', String(b.id))).toEqual(bBefore);
  });

  it('reports unknown assistants and tool ids as missing (exit 1) and still does the rest', async () => {
    const a = fake.addAssistant({ model: { provider: 'openai', toolIds: ['no-such-tool'] } });
    await link(ORG_A, 'inbound', a);
    await store.linkAgent({ orgId: ORG_A, type: 'outbound', vapiAssistantId: 'deleted-assistant-id' });
    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json']);
    expect(r.exitCode).toBe(1);
    const doc = r.json<any>();
    // "ok" mirrors the exit code; summary and results are kept, and an error sums it up.
    expect(doc.ok).toBe(false);
    expect(doc.error).toEqual({ code: 'not_found', message: expect.stringContaining('2 missing'), hint: expect.stringContaining('agents link') });
    expect(doc.summary).toEqual({ updated: 1, wouldUpdate: 0, unchanged: 0, failed: 0, missing: 2 });
    expect(doc.results).toContainEqual({ orgId: ORG_A, kind: 'assistant', id: 'deleted-assistant-id', action: 'missing', before: null, after: URL_NEW, error: 'Vapi has no assistant with this id' });
    expect(doc.results).toContainEqual(expect.objectContaining({ kind: 'tool', id: 'no-such-tool', action: 'missing' }));
  });

  it('a permanent 500 on one resource fails that one with a readable reason; the others are updated', async () => {
    const tools = [1, 2, 3].map((i) => fake.addTool({ function: { name: `t${i}` }, server: { url: 'https://old' } }));
    const a = fake.addAssistant({ model: { provider: 'openai', toolIds: tools.map((t) => t.id) } });
    await link(ORG_A, 'inbound', a);
    fake.fail({ method: 'PATCH', id: String(tools[1]!.id), status: 500 });
    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json']);
    expect(r.exitCode).toBe(1);
    const doc = r.json<any>();
    expect(doc.summary).toMatchObject({ updated: 3, failed: 1 });
    const failed = doc.results.find((x: any) => x.action === 'failed');
    expect(failed).toMatchObject({ kind: 'tool', id: tools[1]!.id, name: 't2' });
    expect(failed.error).toBe(`Vapi answered 500 to PATCH /tool/${tools[1]!.id}: Internal Server Error.`);
    // Bounded: five attempts, then it gave up.
    expect(fake.requests('PATCH').filter((q) => q.path === `/tool/${tools[1]!.id}`)).toHaveLength(5);
    expect((fake.get('tool', String(tools[2]!.id))!.server as Json).url).toBe(`${URL_NEW}/t3`);
  });

  it('survives a 429 storm: every write lands, none twice, concurrency adapts below the cap', async () => {
    fake.latencyMs = 5;
    fake.concurrencyCap = 3;
    fake.retryAfterSeconds = 0;
    for (let i = 0; i < 20; i++) {
      const t = fake.addTool({ function: { name: `fn${i}` }, server: { url: 'https://old' } });
      const a = fake.addAssistant({ server: { url: 'https://old' }, model: { provider: 'openai', toolIds: [t.id] } });
      await store.linkAgent({ orgId: i % 2 ? ORG_A : ORG_B, type: `t${i}`, vapiAssistantId: String(a.id) });
    }
    const r = await cli(['assistants', 'sync', '--all-orgs', '--url', URL_NEW, '--concurrency', '12', '--json']);
    expect(r.exitCode).toBe(0);
    expect(r.json<any>().summary).toMatchObject({ updated: 40, failed: 0 });
    const ok = fake.requests('PATCH').filter((q) => q.status === 200);
    expect(ok).toHaveLength(40);
    expect(new Set(ok.map((q) => q.path)).size).toBe(40);
    expect(fake.requests().some((q) => q.status === 429)).toBe(true);
    for (const t of fake.all('tool')) expect((t.server as Json).url).toMatch(new RegExp(`^${URL_NEW}/fn\\d+$`));
  });

  it('a PATCH response without the change is a failure', async () => {
    const a = fake.addAssistant({ server: { url: URL_OLD } });
    await link(ORG_A, 'inbound', a);
    const lying = (ctx: Context): VapiClient => {
      const real = fastClient(ctx);
      return { ...real, patchAssistant: async (id, body, o) => ({ ...(await real.patchAssistant(id, body, o)), server: { url: URL_OLD } }) };
    };
    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json'], { vapiFactory: lying });
    expect(r.exitCode).toBe(1);
    expect(r.json<any>().results[0].error).toBe(`Vapi accepted the change but returned server.url = "${URL_OLD}" (expected "${URL_NEW}")`);
  });

  it('--dry-run writes nothing and reports would-update', async () => {
    const s = seedRich();
    await link(ORG_A, 'inbound', s.assistant);
    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--dry-run', '--json']);
    expect(r.exitCode).toBe(0);
    expect(fake.requests('PATCH')).toHaveLength(0);
    const doc = r.json<any>();
    expect(doc.dryRun).toBe(true);
    expect(doc.summary).toEqual({ updated: 0, wouldUpdate: 5, unchanged: 0, failed: 0, missing: 0 });
    expect(existsDir(path.join(dir, 'data', 'snapshots'))).toBe(false);
  });

  it('takes WEBHOOK_URL when --url is not given', async () => {
    const a = fake.addAssistant();
    await link(ORG_A, 'inbound', a);
    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--json'], { env: { WEBHOOK_URL: URL_NEW } });
    expect(r.exitCode).toBe(0);
    expect(r.json<any>().webhookUrl).toBe(URL_NEW);
  });

  it.each([
    [['--url', 'http://localhost:3001/api/vapi/tools'], {}, /--url must be an https:\/\/ URL/],
    [[], { WEBHOOK_URL: 'http://localhost:3001/api/vapi/tools' }, /WEBHOOK_URL \(from environment\) must be an https:\/\/ URL/],
    [['--url', 'not a url'], {}, /--url is not a URL/],
  ])('rejects a non-https URL with exit 2 (%j)', async (flags, env, message) => {
    fake.addAssistant();
    const r = await cli(['assistants', 'sync', '--org', ORG_A, ...flags, '--json'], { env });
    expect(r.exitCode).toBe(2);
    expect(r.json<any>().error.message).toMatch(message);
    expect(fake.requests()).toHaveLength(0);
  });

  it('without any URL exits 2 with a hint to run `voxctl tunnel up`', async () => {
    const r = await cli(['assistants', 'sync', '--all-orgs']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('No webhook URL');
    expect(r.stderr).toContain('voxctl tunnel up');
  });

  it.each([
    [[], /--org <id> \(repeatable\) or --all-orgs/],
    [['--org', ORG_A, '--all-orgs'], /not both/],
    [['--org', 'nope'], /--org must be a uuid/],
    [['--all-orgs', '--concurrency', '0'], /--concurrency: must be at least 1/],
  ])('usage errors exit 2: %j', async (flags, message) => {
    const r = await cli(['assistants', 'sync', ...flags, '--url', URL_NEW, '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.json<any>().error.message).toMatch(message);
  });

  it('an unknown org is named (exit 1) before anything is read from Vapi', async () => {
    const r = await cli(['assistants', 'sync', '--org', '33333333-3333-4333-8333-333333333333', '--url', URL_NEW, '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json<any>().error.message).toContain('33333333-3333-4333-8333-333333333333 does not exist');
    expect(fake.requests()).toHaveLength(0);
  });

  it('a rejected key exits 4 with the hint, the key never shown', async () => {
    const a = fake.addAssistant();
    await link(ORG_A, 'inbound', a);
    const wrong = 'sk-wrong-0123456789abcdef';
    const r = await runCli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW], {
      cwd: dir,
      storeFactory: testDb.factory,
      env: { VAPI_PRIVATE_KEY: wrong, VAPI_BASE_URL: FAKE_VAPI_URL, VOXCTL_DATA_DIR: path.join(dir, 'data') },
    });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain('Vapi rejected the API key');
    expect(r.stderr).toContain('private API key');
    expect(r.stdout + r.stderr).not.toContain(wrong);
  });

  it('Ctrl-C stops new writes, waits for those in flight, and reports what was done (exit 130)', async () => {
    fake.latencyMs = 20;
    for (let i = 0; i < 30; i++) {
      const a = fake.addAssistant({ server: { url: URL_OLD } });
      await store.linkAgent({ orgId: ORG_A, type: `t${i}`, vapiAssistantId: String(a.id) });
    }
    const interrupts = new Interrupts(new EventEmitter());
    let seen = 0;
    fake.onRequest = ({ method }) => {
      if (method === 'PATCH' && ++seen === 6) interrupts.interrupt('SIGINT');
    };
    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--concurrency', '4', '--json'], { interrupts });
    expect(r.exitCode).toBe(130);
    const doc = r.json<any>();
    expect(doc).toMatchObject({ ok: false, error: { code: 'interrupted' } });
    const patched = fake.requests('PATCH');
    // Everything sent was answered and counted as updated; nothing was started after the abort.
    expect(patched.every((q) => q.status === 200)).toBe(true);
    expect(doc.summary.updated).toBe(patched.length);
    expect(patched.length).toBeLessThan(12);
    expect(doc.summary.failed).toBe(30 - patched.length);
    expect(doc.results.filter((x: any) => x.action === 'failed').every((x: any) => x.error === 'not written: interrupted')).toBe(true);
  });

  it('prints a plan table per org on a TTY and tab-separated lines when piped', async () => {
    const a = fake.addAssistant({ server: { url: URL_OLD } });
    const b = fake.addAssistant({ server: { url: URL_NEW }, metadata: { org_id: ORG_A } });
    await link(ORG_A, 'inbound', a);
    await link(ORG_A, 'outbound', b);
    const tty = await cli(['assistants', 'status', '--org', ORG_A, '--url', URL_NEW], { tty: true });
    // eslint-disable-next-line no-control-regex
    const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');
    tty.stdout = plain(tty.stdout);
    tty.stderr = plain(tty.stderr);
    expect(tty.exitCode).toBe(3);
    expect(tty.stdout).toContain('Sunrise Dental');
    expect(tty.stdout).toContain(`${URL_OLD} → ${URL_NEW}`);
    expect(tty.stdout).toContain('would-update');
    expect(tty.stdout).toContain('1 already in sync');
    expect(tty.stderr).toContain('1 to update, 1 in sync');
    const piped = await cli(['assistants', 'status', '--org', ORG_A, '--url', URL_NEW]);
    expect(piped.stdout.split('\n').filter(Boolean)).toEqual([
      [ORG_A, 'assistant', a.id, '-', 'would-update', URL_OLD, URL_NEW, ''].join('\t'),
      [ORG_A, 'assistant', b.id, '-', 'unchanged', URL_NEW, URL_NEW, ''].join('\t'),
    ]);
  });

  it('on a TTY, a real sync shows the plan first, then only what failed, then the summary', async () => {
    const a = fake.addAssistant({ server: { url: URL_OLD } });
    const b = fake.addAssistant({ server: { url: URL_OLD } });
    await link(ORG_A, 'inbound', a);
    await link(ORG_A, 'outbound', b);
    fake.fail({ method: 'PATCH', id: String(b.id), status: 503 });
    const r = await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW], { tty: true, env: { NO_COLOR: '1' } });
    expect(r.exitCode).toBe(1);
    const [plan, after] = r.stdout.split('Sunrise Dental').slice(1);
    expect(plan).toContain(a.id);
    expect(plan).toContain(b.id);
    expect(plan!.match(/would-update/g)).toHaveLength(2);
    expect(after).toContain(b.id);
    expect(after).not.toContain(a.id);
    expect(after).toContain(`failed  ${URL_OLD} → ${URL_NEW}  Vapi answered 503 to PATCH /assistant/${b.id}`);
    expect(r.stderr).toContain(`1 updated, 0 unchanged, 1 failed → ${URL_NEW}`);
    expect(r.stderr).toContain('Saved the previous values to');
  });

  it('saves the previous values (mode 0600) before writing', async () => {
    const a = fake.addAssistant({ server: { url: URL_OLD, headers: { 'x-vapi-secret': 'old-secret-value' } } });
    await link(ORG_A, 'inbound', a);
    let snapshotSeenBeforeFirstPatch = false;
    fake.onRequest = ({ method }) => {
      if (method === 'PATCH') snapshotSeenBeforeFirstPatch = existsDir(path.join(dir, 'data', 'snapshots'));
    };
    await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json']);
    expect(snapshotSeenBeforeFirstPatch).toBe(true);
    const files = readdirSync(path.join(dir, 'data', 'snapshots'));
    expect(files).toHaveLength(1);
    const file = path.join(dir, 'data', 'snapshots', files[0]!);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const snap = JSON.parse(readFileSync(file, 'utf8'));
    expect(snap.entries[0]).toMatchObject({ resource: 'assistant', id: a.id, orgId: ORG_A, previous: { server: { url: URL_OLD, headers: { 'x-vapi-secret': 'old-secret-value' } }, metadata: null } });
  });
});

describe('assistants status', () => {
  it('exits 3 on drift, 0 when in sync, 1 on missing; writes nothing', async () => {
    const s = seedRich();
    await link(ORG_A, 'inbound', s.assistant);
    const drift = await cli(['assistants', 'status', '--org', ORG_A, '--url', URL_NEW, '--json']);
    expect(drift.exitCode).toBe(3);
    // "ok" mirrors the exit code: drift is exit 3, so ok is false, with an error that sums it up.
    expect(drift.json<any>()).toMatchObject({ ok: false, dryRun: true, summary: { wouldUpdate: 5 }, error: { code: 'drift' } });
    expect(fake.requests('PATCH')).toHaveLength(0);
    await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW]);
    expect((await cli(['assistants', 'status', '--org', ORG_A, '--url', URL_NEW])).exitCode).toBe(0);
    await store.linkAgent({ orgId: ORG_A, type: 'gone', vapiAssistantId: 'gone-id' });
    expect((await cli(['assistants', 'status', '--org', ORG_A, '--url', URL_NEW])).exitCode).toBe(1);
  });
});

describe('assistants restore', () => {
  it('puts the old URLs (and everything the sync replaced) back', async () => {
    const s = seedRich();
    await link(ORG_A, 'inbound', s.assistant);
    const originals = {
      assistant: fake.get('assistant', String(s.assistant.id))!,
      book: fake.get('tool', String(s.book.id))!,
      cancel: fake.get('tool', String(s.cancel.id))!,
      phone: fake.get('phoneNumber', String(s.phone.id))!,
    };
    await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW, '--json']);
    const r = await cli(['assistants', 'restore', '--json']);
    expect(r.exitCode).toBe(0);
    const doc = r.json<any>();
    expect(doc.summary).toEqual({ restored: 4, unchanged: 0, skipped: 0, failed: 0, missing: 0 });
    expect(doc.results).toContainEqual({ orgId: ORG_A, kind: 'assistant', id: s.assistant.id, action: 'restored', before: URL_NEW, after: URL_OLD });
    expect(rest(fake.get('assistant', String(s.assistant.id)), [])).toEqual(rest(originals.assistant, []));
    expect(rest(fake.get('tool', String(s.book.id)), [])).toEqual(rest(originals.book, []));
    // The tool had no server before. Vapi refuses server: null (not nullable in its API); restore
    // sends an empty Server, so the tool has no URL of its own again and everything else is as it was.
    expect(originals.cancel.server).toBeUndefined();
    expect(fake.get('tool', String(s.cancel.id))!.server).toEqual({});
    expect(rest(fake.get('tool', String(s.cancel.id)), ['server'])).toEqual(rest(originals.cancel, ['server']));
    const patches = fake.requests('PATCH');
    expect(patches.find((q) => q.path === `/tool/${String(s.cancel.id)}` && isObj(q.body) && isObj(q.body.server) && Object.keys(q.body.server).length === 0)).toBeDefined();
    expect(JSON.stringify(patches.map((q) => q.body))).not.toContain('null');
    expect(rest(fake.get('phoneNumber', String(s.phone.id)), [])).toEqual(rest(originals.phone, []));
    // Restoring twice changes nothing more.
    fake.clearLog();
    const again = await cli(['assistants', 'restore', '--json']);
    expect(again.json<any>().summary.unchanged).toBe(4);
    expect(fake.requests('PATCH')).toHaveLength(0);
  });

  it('a --snapshot that cannot be read is exit 1 naming it', async () => {
    const file = path.join(dir, 'no-such-snapshot.json');
    const r = await cli(['assistants', 'restore', '--snapshot', file, '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'file_access', message: `Cannot read the snapshot ${file}: no such file or folder (ENOENT).` } });
  });

  it('skips a resource someone changed since the sync, and takes --snapshot', async () => {
    const a = fake.addAssistant({ server: { url: URL_OLD } });
    await link(ORG_A, 'inbound', a);
    await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW]);
    fake.store.assistant.get(String(a.id))!.server = { url: 'https://someone-else.example/hook' };
    const snapDir = path.join(dir, 'data', 'snapshots');
    const file = path.join(snapDir, readdirSync(snapDir)[0]!);
    const r = await cli(['assistants', 'restore', '--snapshot', file, '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json<any>().results[0]).toMatchObject({ action: 'skipped', error: 'changed since the sync (server); not overwritten' });
    expect((fake.get('assistant', String(a.id))!.server as Json).url).toBe('https://someone-else.example/hook');
  });

  it('keeps VAPI_WEBHOOK_SECRET out of the snapshot (a reference to the variable) and resolves it at restore', async () => {
    const env = { VAPI_WEBHOOK_SECRET: SECRET };
    const a = fake.addAssistant({ server: { url: URL_OLD, headers: { 'X-Vapi-Secret': SECRET } } });
    await link(ORG_A, 'inbound', a);
    const original = fake.get('assistant', String(a.id))!;
    expect((await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW], { env })).exitCode).toBe(0);
    const snapDir = path.join(dir, 'data', 'snapshots');
    const file = path.join(snapDir, readdirSync(snapDir)[0]!);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(SECRET);
    const entry = (JSON.parse(text) as { entries: Array<{ previous: Json; written: Json }> }).entries[0]!;
    expect(entry.previous.server).toEqual({ url: URL_OLD, headers: { 'X-Vapi-Secret': { $env: 'VAPI_WEBHOOK_SECRET' } } });

    // Without the variable, restore names it and writes nothing.
    fake.clearLog();
    const missing = await cli(['assistants', 'restore', '--json']);
    expect(missing.exitCode).toBe(2);
    expect(missing.json<any>().error.message).toBe(`Snapshot ${file} refers to VAPI_WEBHOOK_SECRET, which is not set.`);
    expect(fake.requests('PATCH')).toHaveLength(0);

    const r = await cli(['assistants', 'restore', '--json'], { env });
    expect(r.exitCode).toBe(0);
    expect(fake.get('assistant', String(a.id))!.server).toEqual(original.server);
  });

  it('still restores an old snapshot that holds the literal header values', async () => {
    const env = { VAPI_WEBHOOK_SECRET: SECRET };
    const a = fake.addAssistant({ server: { url: URL_OLD, headers: { 'X-Vapi-Secret': 'old-literal-secret' } } });
    await link(ORG_A, 'inbound', a);
    await cli(['assistants', 'sync', '--org', ORG_A, '--url', URL_NEW], { env });
    const snapDir = path.join(dir, 'data', 'snapshots');
    const file = path.join(snapDir, readdirSync(snapDir)[0]!);
    // As written before references existed: the current secret spelled out in `written`.
    const literal = readFileSync(file, 'utf8').replaceAll('{\n              "$env": "VAPI_WEBHOOK_SECRET"\n            }', JSON.stringify(SECRET));
    expect(literal).toContain(SECRET);
    writeFileSync(file, literal);
    const r = await cli(['assistants', 'restore', '--json']);
    expect(r.exitCode).toBe(0);
    expect(fake.get('assistant', String(a.id))!.server).toEqual({ url: URL_OLD, headers: { 'X-Vapi-Secret': 'old-literal-secret' } });
  });

  it('without a snapshot exits 2 with a hint', async () => {
    const r = await cli(['assistants', 'restore', '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.json<any>().error.message).toMatch(/No snapshot found/);
  });
});

function existsDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
