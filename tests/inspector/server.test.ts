import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventRing } from '../../src/inspector/ring.js';
import { SECURITY_HEADERS, startInspector, type Inspector, type InspectorOptions } from '../../src/inspector/server.js';
import { openEventLog, readRecentEvents, type RequestEvent } from '../../src/receiver/event-log.js';
import { startWebhookReceiver } from '../../src/receiver/server.js';
import { Redactor } from '../../src/util/mask.js';
import { createTestDb, sharedStore, type TestDatabase } from '../helpers/store.js';
import { request, type HttpAnswer } from '../helpers/http.js';
import { get, loginWith } from './http.js';
import { toolCallsMessage } from '../helpers/vapi-messages.js';
import { openSse, requestsOf } from './sse.js';

const TOKEN = 'test-token-0123456789abcdefghijklmnopqrstuvw';
const SECRET = 'whsec-inspector-0123456789abcdef';

let inspector: Inspector | undefined;
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'voxctl-inspector-http-'));
});
afterEach(async () => {
  await inspector?.close();
  inspector = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const ev = (i: number, extra: Partial<RequestEvent> = {}): RequestEvent => ({
  id: `ev-${i}`,
  time: '2030-03-04T09:00:00.000Z',
  method: 'POST',
  path: '/api/vapi/tools/bookClinicAppointment',
  type: 'tool-calls',
  tools: ['bookClinicAppointment'],
  orgId: null,
  assistantId: 'asst-a',
  status: 200,
  latencyMs: 3,
  ...extra,
});

async function start(o: Partial<InspectorOptions> = {}): Promise<Inspector> {
  inspector = await startInspector({
    port: 0,
    token: TOKEN,
    info: () => ({ mode: 'tunnel', receiverUrl: null, secretRequired: true, eventLog: null, orgs: {} }),
    ...o,
  });
  return inspector;
}

/** The session cookie, from the token exchange. */
const login = (i: Inspector): Promise<string> => loginWith(i, TOKEN);

function expectSecurityHeaders(r: HttpAnswer) {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(r.headers[k], k).toBe(v);
  expect(r.headers['content-security-policy']).toMatch(/^default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'/);
  // No CORS, ever.
  expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
}

describe('the token, the cookie and the Host', () => {
  it('exchanges the printed token for an HttpOnly SameSite=Strict cookie and takes it out of the address bar', async () => {
    const i = await start();
    expect(i.url).toBe(`${i.origin}/?token=${TOKEN}`);
    expect(i.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(i, `/?token=${TOKEN}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/');
    expect(r.headers['set-cookie']).toHaveLength(1);
    const cookie = r.headers['set-cookie']![0]!;
    expect(cookie).toMatch(new RegExp(`^voxctl_inspector_${i.port}=[\\w-]{43}; HttpOnly; SameSite=Strict; Path=/$`));
    // The cookie is not the token (the URL may sit in a shell's history).
    expect(cookie).not.toContain(TOKEN);
    expectSecurityHeaders(r);
    const page = await get(i, '/', { cookie: cookie.split(';')[0]! });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.text).toContain('<script type="module" src="/app.js"></script>');
    expectSecurityHeaders(page);
    for (const [p, type] of [
      ['/app.js', 'text/javascript; charset=utf-8'],
      ['/app.css', 'text/css; charset=utf-8'],
    ] as const) {
      const a = await get(i, p, { cookie: cookie.split(';')[0]! });
      expect(a.status).toBe(200);
      expect(a.headers['content-type']).toBe(type);
      expectSecurityHeaders(a);
    }
  });

  it('answers 403 JSON, with the same headers and no page, without the token or the cookie', async () => {
    const i = await start();
    i.publish(ev(1, { body: '{"message":{"patientName":"Ann Lee"}}' }));
    for (const [p, headers] of [
      ['/', {}],
      ['/?token=wrong', {}],
      [`/?token=${TOKEN}x`, {}],
      ['/app.js', {}],
      ['/api/events', {}],
      ['/api/info', {}],
      ['/', { cookie: `voxctl_inspector_${i.port}=forged` }],
      ['/', { cookie: `voxctl_inspector_1=${TOKEN}` }],
    ] as const) {
      const r = await get(i, p, headers);
      expect(r.status, p).toBe(403);
      expect(r.json()).toMatchObject({ error: 'forbidden' });
      expect(r.headers['set-cookie']).toBeUndefined();
      expect(r.text).not.toContain('Ann Lee');
      expectSecurityHeaders(r);
    }
  });

  it('serves only the Hosts 127.0.0.1:<port>, localhost:<port> and [::1]:<port> (DNS rebinding)', async () => {
    const i = await start();
    const cookie = await login(i);
    for (const host of [`127.0.0.1:${i.port}`, `localhost:${i.port}`, `[::1]:${i.port}`, `LOCALHOST:${i.port}`]) {
      expect((await get(i, '/', { host, cookie })).status, host).toBe(200);
    }
    for (const host of [`evil.test:${i.port}`, '127.0.0.1', `127.0.0.1:${i.port + 1}`, `localhost.evil.test:${i.port}`, `127.0.0.2:${i.port}`, `0.0.0.0:${i.port}`]) {
      const r = await get(i, '/', { host, cookie });
      expect(r.status, host).toBe(403);
      expectSecurityHeaders(r);
      // Not even the token exchange works under a foreign name.
      expect((await get(i, `/?token=${TOKEN}`, { host })).status, host).toBe(403);
    }
  });
});

describe('state-changing requests', () => {
  it('need POST, JSON, the custom header and the page’s own Origin; anything else is 403', async () => {
    const replays: Array<{ id: string; body: string }> = [];
    const i = await start({
      replay: async ({ event, body }) => {
        replays.push({ id: event.id, body });
        return { ok: true, url: 'http://127.0.0.1:1/x', status: 200, latencyMs: 1, answer: '{}', problems: [] };
      },
    });
    i.publish(ev(1, { body: '{"message":{"type":"tool-calls"}}' }));
    await (await openSse(i.origin, { cookie: await login(i) })).next((m) => m.event === 'request', 'the event in the ring');
    const cookie = await login(i);
    const good = { cookie, origin: i.origin, 'content-type': 'application/json', 'x-voxctl-inspector': '1' };
    const without = (k: string) => Object.fromEntries(Object.entries(good).filter(([h]) => h !== k));
    for (const [what, headers, method] of [
      ['no custom header', without('x-voxctl-inspector'), 'POST'],
      ['no Origin', without('origin'), 'POST'],
      ['a foreign Origin', { ...good, origin: 'http://evil.test' }, 'POST'],
      ['localhost as Origin for 127.0.0.1', { ...good, origin: `http://localhost:${i.port}` }, 'POST'],
      ['null Origin', { ...good, origin: 'null' }, 'POST'],
      ['a form type', { ...good, 'content-type': 'application/x-www-form-urlencoded' }, 'POST'],
      ['text/plain', { ...good, 'content-type': 'text/plain' }, 'POST'],
      ['no cookie', without('cookie'), 'POST'],
      ['PUT', good, 'PUT'],
      ['DELETE', good, 'DELETE'],
    ] as const) {
      const r = await get(i, '/api/replay', headers as Record<string, string>, method, { id: 'ev-1' });
      expect(r.status, what).toBe(403);
      expectSecurityHeaders(r);
    }
    // A GET with a foreign Origin (a cross-site fetch) is refused too.
    expect((await get(i, '/api/info', { cookie, origin: 'http://evil.test' })).status).toBe(403);
    expect(replays).toEqual([]);
    const ok = await get(i, '/api/replay', good, 'POST', { id: 'ev-1' });
    expect(ok.status).toBe(200);
    expectSecurityHeaders(ok);
    expect(replays).toEqual([{ id: 'ev-1', body: '{"message":{"type":"tool-calls"}}' }]);
    // Bad input is a clear 400, and nothing is sent.
    expect((await get(i, '/api/replay', good, 'POST', { id: 'ev-1', body: '{not json' })).json()).toMatchObject({ error: 'invalid_json' });
    expect((await get(i, '/api/replay', good, 'POST', { id: 'ev-1', extra: 1 })).status).toBe(400);
    expect((await get(i, '/api/replay', good, 'POST', { id: 'nope' })).status).toBe(404);
    expect(replays).toHaveLength(1);
  });
});

describe('the event stream', () => {
  it('needs the cookie, sends the ring, then live events; Last-Event-ID resumes without loss or doubles', async () => {
    const i = await start({ redact: (t) => new Redactor([SECRET]).redact(t) });
    i.publish(ev(1, { body: `{"leak":"${SECRET}"}` }));
    i.publish(ev(2));
    const denied = await openSse(i.origin, {});
    expect(denied.status).toBe(403);
    const cookie = await login(i);
    const a = await openSse(i.origin, { cookie });
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(a.headers['cache-control']).toBe('no-store');
    await a.next((m) => m.event === 'request' && m.data.includes('"ev-2"'), 'ev-2');
    expect(a.messages[0]!.event).toBe('reset');
    expect(requestsOf(a).map((e) => e.id)).toEqual(['ev-1', 'ev-2']);
    // Masked on the way in: the page never gets the secret.
    expect(a.messages.map((m) => m.data).join('\n')).not.toContain(SECRET);
    expect(requestsOf(a)[0]!.body).toBe('{"leak":"whse…cdef"}');
    i.publish(ev(3));
    await a.next((m) => m.data.includes('"ev-3"'), 'ev-3 live');
    const last = a.messages.at(-1)!.id!;
    a.close();
    await a.closed;
    // Missed while away: ev-4 and ev-5.
    i.publish(ev(4));
    i.publish(ev(5));
    const b = await openSse(i.origin, { cookie, 'last-event-id': last });
    await b.next((m) => m.data.includes('"ev-5"'), 'ev-5 after resuming');
    expect(b.messages.some((m) => m.event === 'reset')).toBe(false);
    expect(requestsOf(b).map((e) => e.id)).toEqual(['ev-4', 'ev-5']);
    // An id from another run (the server restarted): everything, from scratch.
    const c = await openSse(i.origin, { cookie, 'last-event-id': 'deadbeef.2' });
    await c.next((m) => m.data.includes('"ev-5"'), 'ev-5 from scratch');
    expect(c.messages[0]!.event).toBe('reset');
    expect(requestsOf(c).map((e) => e.id)).toEqual(['ev-1', 'ev-2', 'ev-3', 'ev-4', 'ev-5']);
    b.close();
    c.close();
  });

  it('sends live events in batches (one write per page per flush); a page that connects in between gets each event once', async () => {
    // A flush far away: only close() sends the batch, so the order is fixed, not raced.
    const i = await start({ flushMs: 60_000 });
    const cookie = await login(i);
    const a = await openSse(i.origin, { cookie });
    await a.next((m) => m.event === 'reset', 'reset');
    i.publish(ev(1));
    i.publish(ev(2));
    // In the ring at once (a new page gets them from there), not yet written to page a.
    const b = await openSse(i.origin, { cookie });
    await b.next((m) => m.data.includes('"ev-2"'), 'ev-2 from the ring');
    expect(requestsOf(a)).toEqual([]);
    await i.close();
    await a.closed;
    await b.closed;
    expect(requestsOf(a).map((e) => e.id)).toEqual(['ev-1', 'ev-2']);
    expect(requestsOf(b).map((e) => e.id)).toEqual(['ev-1', 'ev-2']);
  });

  it('says how many events a page missed when the ring no longer holds them', async () => {
    const i = await start({ ring: new EventRing(2, 1024 * 1024) });
    const cookie = await login(i);
    i.publish(ev(1));
    const a = await openSse(i.origin, { cookie });
    await a.next((m) => m.data.includes('"ev-1"'), 'ev-1');
    const last = a.messages.at(-1)!.id!;
    a.close();
    for (let n = 2; n <= 5; n++) i.publish(ev(n));
    const b = await openSse(i.origin, { cookie, 'last-event-id': last });
    const gap = await b.next((m) => m.event === 'gap', 'the gap notice');
    expect(JSON.parse(gap.data)).toEqual({ missed: 2 });
    await b.next((m) => m.data.includes('"ev-5"'), 'ev-5');
    expect(requestsOf(b).map((e) => e.id)).toEqual(['ev-4', 'ev-5']);
    b.close();
  });

  it('a browser that stops reading is dropped, and never delays an answer to Vapi', async () => {
    const db: TestDatabase = createTestDb();
    const store = sharedStore(db);
    await store.addOrg({ id: '0a000000-0000-4000-8000-00000000000a', name: 'Sunrise Dental' });
    await store.linkAgent({ orgId: '0a000000-0000-4000-8000-00000000000a', type: 'inbound', vapiAssistantId: 'asst-a' });
    const i = await start({ clientBufferBytes: 64 * 1024 });
    const receiver = await startWebhookReceiver({ port: 0, store, onEvent: (e) => i.publish(e), warnWithoutSecret: false });
    try {
      const stuck = await openSse(i.origin, { cookie: await login(i) });
      await stuck.next((m) => m.event === 'reset', 'the stream opened');
      // The page stops reading (a frozen tab): its socket is paused.
      stuck.res.pause();
      stuck.req.socket!.pause();
      const big = 'x'.repeat(20_000); // sent twice (toolCallList and toolCalls): the body stays under 64 KiB, so it is kept
      const answered: number[] = [];
      // Every webhook is answered while the stuck page's backlog grows, until it is dropped.
      for (let n = 0; n < 400 && i.clients() > 0; n++) {
        const r = await request(`${receiver.url}/api/vapi/tools/noteTaker`, {
          body: toolCallsMessage([{ id: `c${n}`, name: 'noteTaker', args: { note: big } }], { assistantId: 'asst-a' }),
          keepAlive: false,
        });
        answered.push(r.status);
      }
      // Dropped: once the page reads again, it finds its stream closed (and would reconnect).
      stuck.req.socket!.resume();
      stuck.res.resume();
      await stuck.closed;
      expect(answered.length).toBeGreaterThan(0);
      expect(answered.length).toBeLessThan(400);
      expect(answered.every((s) => s === 200)).toBe(true);
      expect(i.clients()).toBe(0);
      // It comes back with Last-Event-ID and gets what it missed.
      const back = await openSse(i.origin, { cookie: await login(i), 'last-event-id': stuck.messages.at(-1)!.id ?? '' });
      const lastCall = `"c${answered.length - 1}"`;
      await back.next((m) => m.event === 'request' && m.data.includes(lastCall), 'the last request after coming back');
      back.close();
    } finally {
      await receiver.close();
      db.close();
    }
  });
});

describe('the ring and the log tail', () => {
  it('is bounded by count and by bytes, dropping the oldest', () => {
    const byCount = new EventRing(3, 1e9);
    for (let n = 1; n <= 5; n++) byCount.add(`e${n}`, `{"n":${n}}`);
    expect(byCount.after(0).map((e) => e.id)).toEqual(['e3', 'e4', 'e5']);
    expect(byCount.get('e1')).toBeUndefined();
    const byBytes = new EventRing(1000, 250);
    for (let n = 1; n <= 5; n++) byBytes.add(`e${n}`, 'x'.repeat(100));
    expect(byBytes.after(0).map((e) => e.id)).toEqual(['e4', 'e5']);
    expect(byBytes.bytes).toBe(200);
    // One id once.
    expect(byBytes.add('e5', '{}')).toBeNull();
    expect(byBytes.firstSeq).toBe(4);
  });

  it('reads only the newest events of the log, across a rotation', async () => {
    const file = path.join(dir, 'events.ndjson');
    const log = openEventLog({ file, maxBytes: 2000, keep: 3 });
    for (let n = 0; n < 40; n++) log.append(ev(n));
    await log.close();
    expect((await readRecentEvents(file, { maxEvents: 12, maxBytes: 1e6 })).map((e) => e.id)).toEqual(Array.from({ length: 12 }, (_, k) => `ev-${28 + k}`));
    // A byte bound cuts inside a line: that line is skipped, the rest are whole.
    const few = await readRecentEvents(file, { maxEvents: 100, maxBytes: 700 });
    expect(few.length).toBeGreaterThan(0);
    expect(few.at(-1)!.id).toBe('ev-39');
  });
});

