import { EventEmitter } from 'node:events';
import { Interrupts } from '../../src/util/signals.js';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunSync } from '../../src/commands/tunnel.js';
import { ngrokError } from '../../src/tunnel/ngrok.js';
import { parseEventLines } from '../../src/receiver/event-log.js';
import type { TunnelFactory, TunnelOpenOptions, TunnelStatus } from '../../src/tunnel/types.js';
import { FAKE_VAPI_URL, FakeVapi, vapiHandlers } from '../fakes/vapi.js';
import { untilFile } from '../helpers/events.js';
import { request } from '../helpers/http.js';
import { createMswServer } from '../msw/server.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { useTestDb } from '../helpers/store.js';
import { informationalMessage, toolCallsMessage } from '../helpers/vapi-messages.js';

const ORG_A = '0a000000-0000-4000-8000-00000000000a';
const ORG_B = '0b000000-0000-4000-8000-00000000000b';
const PUBLIC = 'https://fake-tunnel-42.ngrok-free.dev';
const TOKEN = 'ngrok-token-0123456789abcdef';
const SECRET = 'whsec-0123456789abcdef';
const ENV_BEFORE = '# my project\nFOO=bar\n\n# where Vapi calls us\nBACKEND_URL=http://localhost:3001\nWEBHOOK_URL=http://localhost:3001/api/vapi/tools # old\nZED="quoted value"\n';

const testDb = useTestDb();
let cwd: string;

beforeEach(async () => {
  const store = testDb.store;
  await store.addOrg({ id: ORG_A, name: 'Sunrise Dental', timezone: 'Europe/Berlin' });
  await store.addOrg({ id: ORG_B, name: 'Harbor Clinic' });
  await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst-a' });
  await store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: 'asst-b' });
  cwd = mkdtempSync(path.join(tmpdir(), 'voxctl-tunnel-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

interface FakeTunnel {
  factory: TunnelFactory;
  opened: TunnelOpenOptions[];
  closed: number;
  status(s: TunnelStatus): void;
}

function fakeTunnel(fail?: unknown): FakeTunnel {
  const t: FakeTunnel = {
    opened: [],
    closed: 0,
    status: () => {},
    factory: {
      name: 'ngrok',
      async open(o) {
        t.opened.push(o);
        if (fail) throw fail;
        t.status = (s) => o.onStatus?.(s);
        return {
          url: PUBLIC,
          close: async () => {
            t.closed++;
          },
        };
      },
    },
  };
  return t;
}

/** A signal source the test fires, and a way to wait until the command listens to it. */
function fakeSignals() {
  const em = new EventEmitter();
  const interrupts = new Interrupts(em);
  return {
    interrupts,
    /** Resolves once the command waits for Ctrl-C (it is up). */
    listening: () => interrupts.waiting(),
    fire(sig: 'SIGINT' | 'SIGTERM') {
      em.emit(sig);
    },
    count: () => em.listenerCount('SIGINT') + em.listenerCount('SIGTERM'),
  };
}

const localUrl = (t: FakeTunnel) => `http://${t.opened[0]!.addr}`;

async function portClosed(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`${url}/healthz`, { agent: false }, (res) => {
      res.resume();
      resolve(false);
    });
    req.on('error', () => resolve(true));
  });
}

describe('tunnel up end to end (fake tunnel)', () => {
  it('--json: ready first, .env written, sync called, one request line per webhook, clean shutdown', async () => {
    writeFileSync(path.join(cwd, '.env'), ENV_BEFORE);
    const tunnel = fakeTunnel();
    const signals = fakeSignals();
    const syncCalls: Array<Parameters<RunSync>[0]> = [];
    const runSync: RunSync = async (req) => {
      syncCalls.push(req);
      return { exitCode: 0, document: { ok: true, dryRun: false, webhookUrl: req.url, summary: { updated: 2, unchanged: 0, failed: 0, missing: 0 }, results: [] } };
    };
    const running = runCli(['tunnel', 'up', '--port', '0', '--sync', '--org', ORG_A, '--org', ORG_B, '--json'], {
      cwd,
      env: { NGROK_AUTHTOKEN: TOKEN, VAPI_WEBHOOK_SECRET: SECRET },
      storeFactory: testDb.factory,
      interrupts: signals.interrupts,
      services: { tunnelFactory: tunnel.factory, runSync },
    });
    await signals.listening();

    // The tunnel was opened to the receiver with the token passed explicitly.
    expect(tunnel.opened).toEqual([{ addr: expect.stringMatching(/^127\.0\.0\.1:\d+$/), authtoken: TOKEN, domain: undefined, onStatus: expect.any(Function) }]);
    // .env: only the two keys changed; every other line, comment and order kept.
    expect(readFileSync(path.join(cwd, '.env'), 'utf8')).toBe(
      `# my project\nFOO=bar\n\n# where Vapi calls us\nBACKEND_URL=${PUBLIC}\nWEBHOOK_URL=${PUBLIC}/api/vapi/tools # old\nZED="quoted value"\n`,
    );
    expect(existsSync(path.join(cwd, '.env.local'))).toBe(false);
    expect(syncCalls).toEqual([{ orgIds: [ORG_A, ORG_B], allOrgs: false, url: `${PUBLIC}/api/vapi/tools`, json: true }]);

    const base = localUrl(tunnel);
    const tool = await request(`${base}/api/vapi/tools/checkAvailability`, {
      body: toolCallsMessage([{ id: 't1', name: 'checkAvailability', args: { appointmentDate: '2030-03-09' } }], { assistantId: 'asst-a' }),
      headers: { 'x-vapi-secret': SECRET },
    });
    expect(tool.status).toBe(200);
    const denied = await request(`${base}/api/vapi/tools`, { body: informationalMessage('status-update', { assistantId: 'asst-b' }) });
    expect(denied.status).toBe(401);

    signals.fire('SIGINT');
    const r = await running;
    expect(r.exitCode).toBe(0);
    const lines = r.lines<Record<string, unknown>>();
    expect(lines[0]).toEqual({
      event: 'ready',
      localUrl: base,
      publicUrl: PUBLIC,
      webhookUrl: `${PUBLIC}/api/vapi/tools`,
      forwardTo: null,
      secretRequired: true,
      orgs: 2,
      assistants: 2,
      eventLog: path.join(cwd, '.voxctl', 'events.ndjson'),
      env: { file: '.env', changes: [expect.objectContaining({ key: 'BACKEND_URL', action: 'changed' }), expect.objectContaining({ key: 'WEBHOOK_URL', action: 'changed' })] },
      inspectorUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/),
    });
    expect(lines[1]).toMatchObject({ event: 'sync', exitCode: 0, result: { ok: true, summary: { updated: 2 } } });
    expect(lines[2]).toMatchObject({ event: 'request', status: 200, type: 'tool-calls', tools: ['checkAvailability'], orgId: ORG_A, assistantId: 'asst-a' });
    expect(lines[3]).toMatchObject({ event: 'request', status: 401, orgId: null });
    expect(lines[4]).toEqual({ event: 'stopped', signal: 'SIGINT' });
    // The URL it wrote is dead now, and it says so (a random URL: --sync re-points next time).
    expect(r.stderr).toContain(`WEBHOOK_URL in .env (${PUBLIC}/api/vapi/tools) no longer answers now that the tunnel is closed`);
    expect(r.stderr).toContain('(with a new URL: add --sync to re-point the assistants)');
    expect(lines).toHaveLength(5);
    // Secrets never reach stdout or stderr.
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    // Both closed; listeners removed; the log is on disk.
    expect(tunnel.closed).toBe(1);
    expect(await portClosed(base)).toBe(true);
    expect(signals.count()).toBe(0);
    const logged = readFileSync(path.join(cwd, '.voxctl', 'events.ndjson'), 'utf8').trim().split('\n');
    expect(logged.map((l) => (JSON.parse(l) as { status: number }).status)).toEqual([200, 401]);
  });

  it('prints a banner and one line per request, warns when no secret is set, stops on SIGTERM', async () => {
    const tunnel = fakeTunnel();
    const signals = fakeSignals();
    const running = runCli(['tunnel', 'up', '--port', '0', '--domain', 'https://Fake-Tunnel-42.ngrok-free.dev/'], {
      cwd,
      env: { NGROK_AUTHTOKEN: TOKEN },
      storeFactory: testDb.factory,
      interrupts: signals.interrupts,
      services: { tunnelFactory: tunnel.factory },
    });
    await signals.listening();
    expect(tunnel.opened[0]!.domain).toBe('fake-tunnel-42.ngrok-free.dev');
    await request(`${localUrl(tunnel)}/api/vapi/tools/bookClinicAppointment`, {
      body: toolCallsMessage([{ id: 'b1', name: 'bookClinicAppointment', args: { appointmentDate: '2020-01-01', appointmentTime: '10:00', patientEmail: 'a@b.co', patientName: 'A' } }], { assistantId: 'asst-b' }),
    });
    signals.fire('SIGTERM');
    const r = await running;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('voxctl receiver is up');
    expect(r.stdout).toMatch(new RegExp(`Public URL +${PUBLIC}`));
    expect(r.stdout).toMatch(new RegExp(`Webhook URL +${PUBLIC}/api/vapi/tools`));
    expect(r.stdout).toMatch(/Local URL +http:\/\/127\.0\.0\.1:\d+/);
    expect(r.stdout).toMatch(/Orgs served +2 \(2 assistants\): Harbor Clinic, Sunrise Dental/);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d {2}[0-9a-f]{8} {2}200 {2}tool-calls {2}bookClinicAppointment {2}Harbor Clinic {2}\d+ms {2}error: Wednesday, January 1, 2020 has already passed/m);
    expect(r.stderr).toMatch(/VAPI_WEBHOOK_SECRET is not set: anyone/);
    expect(r.stderr).toContain('Updated .env: added BACKEND_URL');
    expect(r.stderr).toContain('SIGTERM received');
    expect(r.stderr).toContain('no longer answers now that the tunnel is closed: `webhook test` and Vapi\'s calls to it fail until `voxctl tunnel up` runs again (fake-tunnel-42.ngrok-free.dev is fixed: the same URL comes back).');
    expect(readFileSync(path.join(cwd, '.env'), 'utf8')).toBe(`BACKEND_URL=${PUBLIC}\nWEBHOOK_URL=${PUBLIC}/api/vapi/tools\n`);
  });

  it('names an org linked after it started (in another terminal) in its request lines', async () => {
    const signals = fakeSignals();
    const running = runCli(['tunnel', 'up', '--no-tunnel', '--port', '0'], {
      cwd,
      env: {},
      storeFactory: testDb.factory,
      interrupts: signals.interrupts,
      services: {},
    });
    await signals.listening();
    const ORG_C = '0c000000-0000-4000-8000-00000000000c';
    await testDb.store.addOrg({ id: ORG_C, name: 'Late Clinic' });
    await testDb.store.linkAgent({ orgId: ORG_C, type: 'inbound', vapiAssistantId: 'asst-c' });
    const state = JSON.parse(readFileSync(path.join(cwd, '.voxctl', 'receiver.json'), 'utf8')) as { localUrl: string };
    const res = await request(`${state.localUrl}/api/vapi/tools/checkAvailability`, {
      body: toolCallsMessage([{ id: 'c1', name: 'checkAvailability', args: { appointmentDate: '2030-01-07' } }], { assistantId: 'asst-c' }),
    });
    expect(res.status).toBe(200);
    signals.fire('SIGINT');
    const r = await running;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d {2}[0-9a-f]{8} {2}200 {2}tool-calls {2}checkAvailability {2}Late Clinic {2}/m);
  });

  it('warns when .env.local or the environment shadows the URLs it wrote', async () => {
    writeFileSync(path.join(cwd, '.env.local'), 'WEBHOOK_URL=https://stale.example.com/api/vapi/tools\n');
    const tunnel = fakeTunnel();
    const signals = fakeSignals();
    const running = runCli(['tunnel', 'up', '--port', '0'], {
      cwd,
      env: { NGROK_AUTHTOKEN: TOKEN, BACKEND_URL: 'https://also-stale.example.com' },
      storeFactory: testDb.factory,
      interrupts: signals.interrupts,
      services: { tunnelFactory: tunnel.factory },
    });
    await signals.listening();
    signals.fire('SIGINT');
    const r = await running;
    expect(r.stderr).toContain('WEBHOOK_URL is also set in .env.local, which overrides .env');
    expect(r.stderr).toContain('BACKEND_URL is also set in the environment, which overrides .env');
  });

  it('--no-tunnel runs the receiver alone and writes no env file', async () => {
    const tunnel = fakeTunnel();
    const signals = fakeSignals();
    const running = runCli(['tunnel', 'up', '--no-tunnel', '--port', '0', '--json'], {
      cwd,
      env: {},
      storeFactory: testDb.factory,
      interrupts: signals.interrupts,
      services: { tunnelFactory: tunnel.factory },
    });
    await signals.listening();
    signals.fire('SIGINT');
    const r = await running;
    expect(r.exitCode).toBe(0);
    expect(r.lines()[0]).toMatchObject({ event: 'ready', localUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), publicUrl: null, webhookUrl: null, env: null });
    // It wrote no URL, so it leaves none dead behind.
    expect(r.stderr).not.toContain('no longer answers');
    expect(tunnel.opened).toHaveLength(0);
    expect(existsSync(path.join(cwd, '.env'))).toBe(false);
  });

  it('publishes where it listens, so webhook test and webhook replay find it while other commands share the store', async () => {
    const signals = fakeSignals();
    const running = runCli(['tunnel', 'up', '--no-tunnel', '--port', '0', '--json'], {
      cwd,
      env: {},
      storeFactory: testDb.factory,
      interrupts: signals.interrupts,
      services: {},
    });
    await signals.listening();
    const stateFile = path.join(cwd, '.voxctl', 'receiver.json');
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(state).toMatchObject({ pid: process.pid, localUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), webhookUrl: null });
    // Whom it serves is in the store, which other commands open at the same time.
    expect(state).not.toHaveProperty('agents');

    // With no WEBHOOK_URL, the test finds the running receiver; the org's assistant comes from the store.
    const test = await runCli(['webhook', 'test', 'checkAvailability', '--org', ORG_A, '--json'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(test.exitCode, test.stderr).toBe(0);
    const doc = test.json<{ url: string; answer: { result: string } }>();
    expect(doc.url).toBe(`${state.localUrl}/api/vapi/tools/checkAvailability`);
    expect(doc.answer.result).toMatch(/free/);

    // The receiver logged it (as asst-a of Sunrise Dental); replay finds the running receiver.
    // The log is written in batches: awaited on the file's change events until the first one lands.
    const logFile = path.join(cwd, '.voxctl', 'events.ndjson');
    const logged = await untilFile(
      logFile,
      () => {
        const events = existsSync(logFile) ? (parseEventLines(readFileSync(logFile, 'utf8')) as unknown as Array<{ id: string; orgId: string; assistantId: string }>) : [];
        return events.length ? events : undefined;
      },
      20_000,
      'the request in the event log',
    );
    expect(logged[0]).toMatchObject({ orgId: ORG_A, assistantId: 'asst-a' });
    const replay = await runCli(['webhook', 'replay', logged[0]!.id, '--json'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(replay.exitCode, replay.stderr).toBe(0);
    expect(replay.json()).toMatchObject({ ok: true, url: `${state.localUrl}/api/vapi/tools/checkAvailability`, original: { status: 200 } });

    signals.fire('SIGINT');
    expect((await running).exitCode).toBe(0);
    expect(existsSync(stateFile)).toBe(false);
  });

  it('reports a session that drops and comes back, loudly, after the ready event', async () => {
    const tunnel = fakeTunnel();
    const signals = fakeSignals();
    const running = runCli(['tunnel', 'up', '--port', '0', '--json'], {
      cwd,
      env: { NGROK_AUTHTOKEN: TOKEN },
      storeFactory: testDb.factory,
      interrupts: signals.interrupts,
      services: { tunnelFactory: tunnel.factory },
    });
    await signals.listening();
    tunnel.status('disconnected');
    tunnel.status('connected');
    signals.fire('SIGINT');
    const r = await running;
    const events = r.lines<{ event: string; status?: string }>().map((l) => [l.event, l.status]);
    expect(events).toEqual([
      ['ready', undefined],
      ['tunnel', 'disconnected'],
      ['tunnel', 'connected'],
      ['stopped', undefined],
    ]);
    expect(r.stderr).toContain(`The ngrok session dropped: Vapi cannot reach ${PUBLIC} until it reconnects`);
    expect(r.stderr).toContain('The ngrok session is back');
  });

  it('--sync without an injected runner calls the sync domain directly (no CLI re-entry) against the new URL', async () => {
    const fake = new FakeVapi();
    const msw = createMswServer(...vapiHandlers(fake));
    msw.listen();
    try {
      const tool = fake.addTool({ function: { name: 'bookClinicAppointment' }, server: { url: 'http://localhost:3001/api/vapi/tools/bookClinicAppointment' } });
      const assistant = fake.addAssistant({ model: { provider: 'openai', model: 'gpt-4o', toolIds: [tool.id] }, server: { url: 'http://localhost:3001/api/vapi/tools' } });
      // Re-link Sunrise Dental's inbound slot to an assistant the fake Vapi knows.
      await testDb.store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: String(assistant.id) });
      const tunnel = fakeTunnel();
      const signals = fakeSignals();
      const running = runCli(['tunnel', 'up', '--port', '0', '--sync', '--org', ORG_A, '--json'], {
        cwd,
        env: { NGROK_AUTHTOKEN: TOKEN, VAPI_PRIVATE_KEY: fake.apiKey, VAPI_BASE_URL: FAKE_VAPI_URL },
        storeFactory: testDb.factory,
        interrupts: signals.interrupts,
      services: { tunnelFactory: tunnel.factory },
      });
      await signals.listening();
      // The assistant and its tool now point at the tunnel.
      expect((fake.get('assistant', String(assistant.id))!.server as { url: string }).url).toBe(`${PUBLIC}/api/vapi/tools`);
      expect((fake.get('tool', String(tool.id))!.server as { url: string }).url).toBe(`${PUBLIC}/api/vapi/tools/bookClinicAppointment`);
      signals.fire('SIGINT');
      const r = await running;
      expect(r.exitCode).toBe(0);
      const sync = r.lines<{ event: string; exitCode?: number; result?: { ok: boolean; webhookUrl: string; summary: Record<string, number> } }>()[1]!;
      expect(sync).toMatchObject({ event: 'sync', exitCode: 0, result: { ok: true, webhookUrl: `${PUBLIC}/api/vapi/tools` } });
      expect(sync.result!.summary).toMatchObject({ updated: 2, failed: 0, missing: 0 });
      expect(r.stdout + r.stderr).not.toContain(fake.apiKey);
      // The store survived the sub-command (it was lent, not closed).
      expect((await testDb.store.listOrgs()).length).toBe(2);
    } finally {
      msw.close();
    }
  });

  it('keeps serving when the sync fails, and says how to retry', async () => {
    const tunnel = fakeTunnel();
    const signals = fakeSignals();
    const running = runCli(['tunnel', 'up', '--port', '0', '--sync', '--all-orgs', '--json'], {
      cwd,
      env: { NGROK_AUTHTOKEN: TOKEN },
      storeFactory: testDb.factory,
      interrupts: signals.interrupts,
      services: { tunnelFactory: tunnel.factory },
    });
    await signals.listening();
    expect((await request(`${localUrl(tunnel)}/healthz`, { method: 'GET' })).status).toBe(200);
    signals.fire('SIGINT');
    const r = await running;
    expect(r.exitCode).toBe(0);
    // No Vapi key: `assistants sync` fails with exit 4 and its own JSON error document.
    expect(r.lines()[1]).toMatchObject({ event: 'sync', exitCode: 4, result: { ok: false, error: { code: 'credentials' } } });
    expect(r.stderr).toContain(`assistants sync failed (exit 4)`);
    expect(r.stderr).toContain(`voxctl assistants sync --all-orgs --url ${PUBLIC}/api/vapi/tools`);
  });
});

describe('tunnel up failures', () => {
  it('raises a tunnel failure before any env file is written, and frees the port', async () => {
    writeFileSync(path.join(cwd, '.env'), ENV_BEFORE);
    const tunnel = fakeTunnel(ngrokError(Object.assign(new Error(`authentication failed: Your authtoken: ${TOKEN}\n\nERR_NGROK_105`), { errorCode: 'ERR_NGROK_105' }), { authtoken: TOKEN }));
    const r = await runCli(['tunnel', 'up', '--port', '0', '--json'], {
      cwd,
      env: { NGROK_AUTHTOKEN: TOKEN },
      storeFactory: testDb.factory,
      interrupts: fakeSignals().interrupts,
      services: { tunnelFactory: tunnel.factory },
    });
    expect(r.exitCode).toBe(4);
    expect(r.json()).toEqual({
      ok: false,
      error: {
        code: 'credentials',
        message: 'ngrok rejected NGROK_AUTHTOKEN (ERR_NGROK_105): it is not a valid authtoken, or it was reset or revoked.',
        hint: expect.stringContaining('https://dashboard.ngrok.com/get-started/your-authtoken'),
        provider: 'ngrok',
        ngrokCode: 'ERR_NGROK_105',
      },
    });
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(readFileSync(path.join(cwd, '.env'), 'utf8')).toBe(ENV_BEFORE);
    expect(await portClosed(localUrl(tunnel))).toBe(true);
  });

  it.each([
    ['ERR_NGROK_4018', 4, /verified account/],
    ['ERR_NGROK_326', 1, /refused the domain/],
    ['ERR_NGROK_108', 1, /agent sessions/],
    ['ERR_NGROK_334', 1, /already online/],
  ])('maps %s to exit %i', async (code, exit, message) => {
    const tunnel = fakeTunnel(ngrokError(Object.assign(new Error(`failed to start tunnel: something\n\n${code}`), { errorCode: code }), { domain: 'x.ngrok-free.dev' }));
    const r = await runCli(['tunnel', 'up', '--port', '0'], {
      cwd,
      env: { NGROK_AUTHTOKEN: TOKEN },
      storeFactory: testDb.factory,
      interrupts: fakeSignals().interrupts,
      services: { tunnelFactory: tunnel.factory },
    });
    expect(r.exitCode).toBe(exit);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(code);
    expect(r.stderr).toMatch(/Hint: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(cwd, '.env'))).toBe(false);
  });

  it('without NGROK_AUTHTOKEN exits 4 before starting anything', async () => {
    const r = await runCli(['tunnel', 'up', '--port', '0'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain('NGROK_AUTHTOKEN is not set, so ngrok cannot open a tunnel.');
    expect(r.stderr).toContain('--no-tunnel');
    expect(existsSync(path.join(cwd, '.voxctl'))).toBe(false);
    expect(existsSync(path.join(cwd, '.env'))).toBe(false);
  });

  it('wraps the real ngrok SDK offline failure (which never names ngrok) in a message that does, exit 1', async () => {
    writeFileSync(path.join(cwd, '.env'), ENV_BEFORE);
    // The real SDK, pointed at a closed loopback port: its offline failure, no traffic leaves the machine.
    const r = await runCli(['tunnel', 'up', '--port', '0'], { cwd, env: { NGROK_AUTHTOKEN: TOKEN, VOXCTL_NGROK_SERVER_ADDR: '127.0.0.1:1' }, storeFactory: testDb.factory });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/Error: Could not reach ngrok to open the tunnel \(failed to connect session/);
    // The SDK's own failure, not voxctl's open timeout.
    expect(r.stderr).not.toContain('no answer from ngrok');
    expect(r.stderr).toMatch(/Hint: Check your internet connection.*--no-tunnel/);
    expect(r.stderr).not.toContain(TOKEN);
    expect(readFileSync(path.join(cwd, '.env'), 'utf8')).toBe(ENV_BEFORE);
  });

  it('says which port is taken', async () => {
    const blocker = http.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await runCli(['tunnel', 'up', '--no-tunnel', '--port', String(port)], { cwd, env: {}, storeFactory: testDb.factory });
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use.`);
      expect(r.stderr).toContain('--port 0');
    } finally {
      blocker.close();
    }
  });

  it.each([
    [['--sync'], /Choose the organizations: pass --org <id> \(repeatable\) or --all-orgs/],
    [['--org', ORG_A], /--org: only applies with --sync/],
    [['--sync', '--all-orgs', '--org', ORG_A], /Pass either --org <id> or --all-orgs, not both/],
    [['--sync', '--all-orgs', '--no-tunnel'], /--sync: needs the public URL; drop --no-tunnel/],
    [['--port', 'http'], /--port: must be a port number/],
    [['--port', '70000'], /--port: must be a port number/],
    [['--inspect-port', 'http'], /--inspect-port: must be a port number/],
    [['--no-inspect', '--inspect-port', '4243'], /--inspect-port: has no inspector to place/],
    [['--sync', '--org', 'acme'], /--org must be a uuid/],
    [['--forward-to', 'ftp://x'], /--forward-to: "ftp:\/\/x" must be an http:\/\/ or https:\/\/ URL/],
    [['--domain', 'not a domain'], /--domain "not a domain" is not a domain/],
  ])('rejects %j as a usage error (exit 2, JSON document)', async (flags, message) => {
    const r: CliResult = await runCli(['tunnel', 'up', ...flags, '--json'], { cwd, env: { NGROK_AUTHTOKEN: TOKEN }, storeFactory: testDb.factory });
    expect(r.exitCode).toBe(2);
    const doc = r.json<{ ok: boolean; error: { code: string; message: string } }>();
    expect(doc.ok).toBe(false);
    expect(doc.error.code).toBe('usage');
    expect(doc.error.message).toMatch(message);
  });
});
