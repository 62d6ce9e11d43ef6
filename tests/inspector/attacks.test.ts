/**
 * The inspector as an attacker sees it: raw requests a browser would not send (absolute-form
 * targets), requests another page on this machine can make (Sec-Fetch-Site), and replays that
 * could carry the webhook secret somewhere else.
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { replayRequest } from '../../src/inspector/replay.js';
import { SECURITY_HEADERS, startInspector, type Inspector, type InspectorOptions } from '../../src/inspector/server.js';
import { Redactor } from '../../src/util/mask.js';
import { get, loginWith } from './http.js';

const TOKEN = 'attack-token-0123456789abcdefghijklmnopqrstuv';
const SECRET = 'whsec-attack-0123456789abcdef';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function start(o: Partial<InspectorOptions> = {}): Promise<Inspector> {
  const i = await startInspector({
    port: 0,
    token: TOKEN,
    info: () => ({ mode: 'tunnel', receiverUrl: null, secretRequired: true, eventLog: null, orgs: {} }),
    ...o,
  });
  closers.push(() => i.close());
  return i;
}

/** The session cookie, from the token exchange. */
const login = (i: Inspector): Promise<string> => loginWith(i, TOKEN);

/** One request exactly as written, on its own connection; the whole answer as text. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.write(text));
    let out = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (out += d));
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0);

describe('request targets', () => {
  it('refuses absolute-form and scheme-relative targets, whatever their authority (only origin-form is served)', async () => {
    const i = await start();
    const cookie = await login(i);
    const host = `127.0.0.1:${i.port}`;
    // The control: origin-form with the right Host and the cookie is served.
    expect(statusOf(await raw(i.port, `GET / HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`))).toBe(200);
    for (const target of ['http://evil.test/', `http://evil.test:${i.port}/app.js`, `http://${host}/`, '//evil.test/app.js', `http://evil.test/?token=${TOKEN}`]) {
      const answer = await raw(i.port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
      expect(statusOf(answer), target).toBe(403);
      expect(answer, target).not.toMatch(/set-cookie/i);
      expect(answer, target).toContain(`content-security-policy: ${SECURITY_HEADERS['content-security-policy']}`);
    }
  });

  it('refuses HTTP/1.0 without a Host, and a foreign Host on HTTP/1.0', async () => {
    const i = await start();
    const cookie = await login(i);
    expect(statusOf(await raw(i.port, `GET / HTTP/1.0\r\nCookie: ${cookie}\r\n\r\n`))).toBe(403);
    expect(statusOf(await raw(i.port, `GET / HTTP/1.0\r\nHost: evil.test:${i.port}\r\nCookie: ${cookie}\r\n\r\n`))).toBe(403);
    expect(statusOf(await raw(i.port, `GET / HTTP/1.0\r\nHost: 127.0.0.1:${i.port}.\r\nCookie: ${cookie}\r\n\r\n`))).toBe(403);
    expect(statusOf(await raw(i.port, `GET / HTTP/1.0\r\nHost: 127.0.0.1:${i.port}\r\nCookie: ${cookie}\r\n\r\n`))).toBe(200);
  });
});

describe('what was already refused (kept that way)', () => {
  it('Host: only the exact three forms (no trailing dot, other IPv6 spellings, userinfo or case games on the port)', async () => {
    const i = await start();
    const cookie = await login(i);
    for (const host of [`127.0.0.1.:${i.port}`, `localhost.:${i.port}`, `[0:0:0:0:0:0:0:1]:${i.port}`, `[::ffff:127.0.0.1]:${i.port}`, `[::1]`, `::1:${i.port}`, `a@127.0.0.1:${i.port}`, `127.1:${i.port}`, `2130706433:${i.port}`, `127.0.0.1:0${i.port}`]) {
      const answer = await raw(i.port, `GET / HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
      expect([400, 403], host).toContain(statusOf(answer));
    }
  });

  it('a preflight gets 403 and no CORS header; traversal reaches no file but the four assets', async () => {
    const i = await start();
    const cookie = await login(i);
    const host = `127.0.0.1:${i.port}`;
    const pre = await raw(i.port, `OPTIONS /api/replay HTTP/1.1\r\nHost: ${host}\r\nOrigin: http://evil.test\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: x-voxctl-inspector, content-type\r\nConnection: close\r\n\r\n`);
    expect(statusOf(pre)).toBe(403);
    expect(pre).not.toMatch(/access-control-/i);
    for (const p of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/app.js/../../package.json', '/%2e%2e%2f%2e%2e%2fpackage.json', '/index.html', '/inspector/app.js', '/app.js%00.css']) {
      const answer = await raw(i.port, `GET ${p} HTTP/1.1\r\nHost: ${host}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`);
      expect(answer, p).not.toContain('"name": "voxctl"');
      expect([400, 403, 404], p).toContain(statusOf(answer));
    }
  });
});

describe('Sec-Fetch-Site', () => {
  it('refuses what another site, or another port on this machine, asks for, even with the cookie (no Origin on no-cors GETs)', async () => {
    const i = await start();
    i.publish({ id: 'ev-1', time: '2030-03-04T09:00:00.000Z', method: 'POST', path: '/api/vapi/tools/x', type: 'tool-calls', tools: [], orgId: null, assistantId: null, status: 200, latencyMs: 1, body: '{"patient":"Ann Lee"}' });
    const cookie = await login(i);
    // A page at http://127.0.0.1:3000 is same-site with the inspector: SameSite=Strict sends the
    // cookie, and a <script>/<img> GET carries no Origin.
    for (const site of ['same-site', 'cross-site']) {
      for (const p of ['/', '/app.js', '/api/info', '/api/events', `/?token=${TOKEN}`]) {
        const r = await get(i, p, { cookie, 'sec-fetch-site': site });
        expect(r.status, `${site} ${p}`).toBe(403);
        expect(r.text).not.toContain('Ann Lee');
        expect(r.headers['set-cookie']).toBeUndefined();
      }
    }
    // The page itself, and the user typing or clicking the printed URL, pass.
    expect((await get(i, `/?token=${TOKEN}`, { 'sec-fetch-site': 'none' })).status).toBe(303);
    expect((await get(i, '/api/info', { cookie, 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    expect((await get(i, '/', { cookie, 'sec-fetch-site': 'none' })).status).toBe(200);
  });
});

describe('replay', () => {
  /** A server that records what reaches it. */
  async function listener(): Promise<{ url: string; seen: Array<{ url: string; secret: string | undefined }> }> {
    const seen: Array<{ url: string; secret: string | undefined }> = [];
    const s = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', secret: req.headers['x-vapi-secret'] as string | undefined });
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => s.close(() => r())));
    return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`, seen };
  }

  it('never sends the secret to another origin than the receiver, whatever path the event logged', async () => {
    const receiver = await listener();
    const elsewhere = await listener();
    const other = new URL(elsewhere.url).host;
    for (const p of [`@${other}/x`, `.evil.test/x`, `//${other}/x`, `http://${other}/x`, 'x']) {
      await expect(replayRequest({ baseUrl: receiver.url, path: p, body: '{}', secret: SECRET }), p).rejects.toThrow(/path/);
    }
    expect(elsewhere.seen).toEqual([]);
    expect(receiver.seen).toEqual([]);
    // An ordinary path still goes to the receiver, with the secret.
    const ok = await replayRequest({ baseUrl: `${receiver.url}/`, path: '/api/vapi/tools/x?a=1', body: '{}', secret: SECRET });
    expect(ok.url).toBe(`${receiver.url}/api/vapi/tools/x?a=1`);
    expect(receiver.seen).toEqual([{ url: '/api/vapi/tools/x?a=1', secret: SECRET }]);
  });

  it('masks the secret everywhere in the answer to the page (problems and url too)', async () => {
    const redactor = new Redactor([SECRET]);
    const i = await start({
      redact: (t) => redactor.redact(t),
      replay: async () => ({ ok: false, url: `http://127.0.0.1:1/x?k=${SECRET}`, status: 500, latencyMs: 1, answer: `{"echo":"${SECRET}"}`, problems: [`the answer says ${SECRET}`] }),
    });
    i.publish({ id: 'ev-1', time: '2030-03-04T09:00:00.000Z', method: 'POST', path: '/x', type: 'tool-calls', tools: [], orgId: null, assistantId: null, status: 200, latencyMs: 1, body: '{}' });
    const cookie = await login(i);
    // Let the queued event reach the ring.
    await new Promise<void>((r) => setImmediate(r));
    const r = await get(i, '/api/replay', { cookie, origin: i.origin, 'content-type': 'application/json', 'x-voxctl-inspector': '1' }, 'POST', { id: 'ev-1' });
    expect(r.status).toBe(200);
    expect(r.text).not.toContain(SECRET);
    expect(r.json()).toMatchObject({ problems: [expect.stringContaining('whse…')] });
  });
});
