import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startProjectInspector } from '../../src/inspector/project.js';
import { openEventLog, type RequestEvent } from '../../src/receiver/event-log.js';
import type { Store } from '../../src/store/types.js';
import { request } from '../helpers/http.js';
import { runCli } from '../helpers/run-cli.js';
import { createTestDb, sharedStore, type TestDatabase } from '../helpers/store.js';
import { bookArgs, ORG_A, SECRET, sendTool, startCli, startTunnel } from './session.js';
import { openSse, requestsOf } from './sse.js';

let db: TestDatabase;
let cwd: string;
beforeEach(async () => {
  db = createTestDb();
  const store = sharedStore(db);
  await store.addOrg({ id: ORG_A, name: 'Sunrise Dental' });
  await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst-a' });
  cwd = mkdtempSync(path.join(tmpdir(), 'voxctl-inspect-cmd-'));
});
afterEach(() => {
  db.close();
  rmSync(cwd, { recursive: true, force: true });
});
const factory = () => Promise.resolve(sharedStore(db));
const env = { VAPI_WEBHOOK_SECRET: SECRET };

/** The session cookie for an inspector URL (the token exchange). */
async function login(inspectorUrl: string): Promise<string> {
  const u = new URL(inspectorUrl);
  const r = await request(inspectorUrl, { method: 'GET', headers: { host: u.host }, keepAlive: false });
  expect(r.status).toBe(303);
  return String(r.headers['set-cookie']![0]).split(';')[0]!;
}

async function listen(): Promise<http.Server> {
  const s = http.createServer((_q, r) => r.end());
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return s;
}

const ev = (i: number): RequestEvent => ({
  id: `logged-${i}`,
  time: '2030-03-04T09:00:00.000Z',
  method: 'POST',
  path: '/api/vapi/tools/checkAvailability',
  type: 'tool-calls',
  tools: ['checkAvailability'],
  orgId: ORG_A,
  assistantId: 'asst-a',
  status: 200,
  latencyMs: 2,
  body: '{"message":{"type":"tool-calls"}}',
});

describe('tunnel up', () => {
  it('every id it prints for a refused request is one `webhook logs` and `webhook replay` find, and the page shows it', async () => {
    const t = await startTunnel(factory, [], env, cwd);
    let unauthorized: Record<string, unknown>;
    let forbidden: Record<string, unknown>;
    try {
      // 401: refused before the body was read. 403: an assistant nobody linked (its body was read).
      expect((await sendTool(t.localUrl, 'bookClinicAppointment', bookArgs(), { secret: 'not-the-secret-123' })).status).toBe(401);
      unauthorized = await t.line((l) => l.event === 'request' && l.status === 401, 'the 401 line');
      expect((await sendTool(t.localUrl, 'bookClinicAppointment', bookArgs(), { assistantId: 'asst-nobody' })).status).toBe(403);
      forbidden = await t.line((l) => l.event === 'request' && l.status === 403, 'the 403 line');
      const sse = await openSse(t.origin, { cookie: await login(t.inspectorUrl) });
      await sse.next((m) => m.data.includes(forbidden.id as string), 'the 403 in the page');
      expect(requestsOf(sse).map((e) => e.id)).toEqual([unauthorized.id, forbidden.id]);
      sse.close();
    } finally {
      expect((await t.stop()).exitCode).toBe(0);
    }
    const logs = await runCli(['webhook', 'logs', '-n', '0', '--json'], { cwd, env, storeFactory: factory });
    expect(logs.json<{ events: Array<{ id: string }> }>().events.map((e) => e.id)).toEqual([unauthorized.id, forbidden.id]);
    // The 401 is found (it has no body to send: not_replayable, not not_found).
    const r401 = await runCli(['webhook', 'replay', unauthorized.id as string, '--json'], { cwd, env, storeFactory: factory });
    expect(r401.json()).toMatchObject({ ok: false, error: { code: 'not_replayable' } });
    // The 403 is replayed, and refused again by a receiver on the same store.
    const r403 = await runCli(['webhook', 'replay', forbidden.id as string, '--local', '--json'], { cwd, env, storeFactory: factory });
    expect(r403.json()).toMatchObject({ eventId: forbidden.id, status: 403 });
  });

  it('--no-inspect serves no inspector (inspectorUrl null); --inspect-port on a taken port is exit 1 naming it', async () => {
    const t = await startTunnel(factory, ['--no-inspect'], env, cwd);
    const ready = await t.line((l) => l.event === 'ready', 'ready');
    expect(ready.inspectorUrl).toBeNull();
    expect((await t.stop()).exitCode).toBe(0);

    const taken = await listen();
    try {
      const port = (taken.address() as AddressInfo).port;
      const r = await runCli(['tunnel', 'up', '--no-tunnel', '--port', '0', '--inspect-port', String(port), '--json'], { cwd, env, storeFactory: factory });
      expect(r.exitCode).toBe(1);
      expect(r.json()).toMatchObject({ ok: false, error: { code: 'port_in_use', message: expect.stringContaining(`Port ${port}`), hint: expect.stringContaining('--inspect-port') } });
      const both = await runCli(['tunnel', 'up', '--no-tunnel', '--no-inspect', '--inspect-port', '0', '--json'], { cwd, env, storeFactory: factory });
      expect(both.exitCode).toBe(2);
      // The default port steps aside when taken.
      const notices: string[] = [];
      const i = await startProjectInspector({
        port,
        portIsDefault: true,
        mode: 'tunnel',
        logFile: null,
        receiverUrl: () => null,
        secret: () => undefined,
        redact: (s) => s,
        orgs: () => ({}),
        notice: (m) => notices.push(m),
      });
      expect(i.port).not.toBe(port);
      expect(notices).toEqual([`Port ${port} is taken; the inspector listens on ${i.port} instead.`]);
      await i.close();
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('webhook inspect', () => {
  it("serves the folder's log without a receiver: the tail at once, new lines as they are written", async () => {
    const file = path.join(cwd, '.voxctl', 'events.ndjson');
    const log = openEventLog({ file });
    for (let n = 1; n <= 3; n++) log.append(ev(n));
    await log.flush();
    const cli = startCli(['webhook', 'inspect', '--port', '0'], { cwd, env, storeFactory: factory });
    try {
      const ready = await cli.line((l) => l.event === 'ready', 'ready');
      expect(ready).toEqual({ event: 'ready', inspectorUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/) });
      const url = ready.inspectorUrl as string;
      const cookie = await login(url);
      const sse = await openSse(new URL(url).origin, { cookie });
      await sse.next((m) => m.data.includes('"logged-3"'), 'the tail');
      // Another process (a receiver) writes: it appears.
      log.append(ev(4));
      await log.flush();
      await sse.next((m) => m.data.includes('"logged-4"'), 'the new line');
      expect(requestsOf(sse).map((e) => e.id)).toEqual(['logged-1', 'logged-2', 'logged-3', 'logged-4']);
      sse.close();
      const info = await request(`${new URL(url).origin}/api/info`, { method: 'GET', headers: { cookie }, keepAlive: false });
      expect(info.json()).toMatchObject({ mode: 'log', receiverUrl: null, secretRequired: true, orgs: { [ORG_A]: 'Sunrise Dental' } });
    } finally {
      await log.close();
      expect((await cli.stop()).exitCode).toBe(0);
    }
  });

  it('--remote shows the events a deployed function stored, polled from the store', async () => {
    const stored: RequestEvent[] = [ev(1)];
    const remoteStore = Object.assign(sharedStore(db), { listEvents: async ({ limit }: { limit: number }) => stored.slice(-limit) }) as Store;
    const cli = startCli(['webhook', 'inspect', '--port', '0', '--remote'], { cwd, env, storeFactory: () => Promise.resolve(remoteStore) });
    try {
      const url = (await cli.line((l) => l.event === 'ready', 'ready')).inspectorUrl as string;
      const sse = await openSse(new URL(url).origin, { cookie: await login(url) });
      await sse.next((m) => m.data.includes('"logged-1"'), 'the stored event');
      stored.push(ev(2));
      await sse.next((m) => m.data.includes('"logged-2"'), 'the next stored event');
      expect(requestsOf(sse).map((e) => e.id)).toEqual(['logged-1', 'logged-2']);
      sse.close();
    } finally {
      expect((await cli.stop()).exitCode).toBe(0);
    }
    // A store that keeps no function events: a clear exit 1.
    const r = await runCli(['webhook', 'inspect', '--remote', '--port', '0', '--json'], { cwd, env, storeFactory: factory });
    expect(r.exitCode).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'unsupported', hint: expect.stringContaining('SUPABASE_URL') } });
  });
});
