/**
 * Hostile bodies against the real receiver over the embedded store: wrong types, nulls, deep
 * nesting, huge strings, `__proto__`/`constructor` keys, broken JSON and bytes. The receiver
 * must answer every one of them with a JSON status below 500, never crash, never pollute
 * Object.prototype, and log each one. The generator is seeded, so a failure replays exactly.
 */
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import type { RequestEvent } from '../../src/receiver/event-log.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/receiver/server.js';
import { request } from '../helpers/http.js';
import { createTestDb, sharedStore, type TestDatabase } from '../helpers/store.js';

const SEED = 0x5eed_2030;
const CASES = 2400;
const ORG = '0a000000-0000-4000-8000-00000000000a';
const ASSISTANT = 'asst-fuzz';

/** mulberry32: small, fast, deterministic. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

type R = ReturnType<typeof rng>;

const NASTY_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'null',
  'undefined',
  '{}',
  '[]',
  '{"a":',
  '"',
  '\\',
  '\ud800',
  '🦷🦷🦷',
  "'; drop table appointments; --",
  '$1',
  '%s%n%x',
  '../../etc/passwd',
  '2030-03-05',
  '2030-02-30',
  '99:99',
  '10:30',
  '16:30',
  'jane@example.com',
  'a@b',
  '0a000000-0000-4000-8000-00000000000a',
  '0b000000-0000-4000-8000-00000000000b',
  'asst-fuzz',
  ...NASTY_KEYS,
  'bookClinicAppointment',
  'checkAvailability',
  'cancelAppointment',
  'tool-calls',
  'function-call',
  'assistant-request',
  'status-update',
];

function scalar(r: R): unknown {
  switch (r.int(9)) {
    case 0:
      return null;
    case 1:
      return r.next() < 0.5;
    case 2:
      return r.pick([0, -1, 1e308, -0, 3.5, Number.MAX_SAFE_INTEGER + 2]);
    case 3:
      return r.pick(NASTY_STRINGS);
    case 4:
      return 'x'.repeat(r.int(5000));
    case 5:
      return String.fromCharCode(...Array.from({ length: r.int(40) }, () => r.int(0xd7ff)));
    default:
      return r.pick(NASTY_STRINGS);
  }
}

function value(r: R, depth: number): unknown {
  if (depth <= 0) return scalar(r);
  switch (r.int(6)) {
    case 0:
      return Array.from({ length: r.int(4) }, () => value(r, depth - 1));
    case 1:
    case 2: {
      const o: Record<string, unknown> = {};
      for (let i = r.int(5); i > 0; i--) {
        const k = r.next() < 0.3 ? r.pick(NASTY_KEYS) : r.pick(['type', 'message', 'call', 'assistantId', 'function', 'name', 'arguments', 'org_id', 'metadata', 'id', 'x']);
        Object.defineProperty(o, k, { value: value(r, depth - 1), enumerable: true, configurable: true, writable: true });
      }
      return o;
    }
    default:
      return scalar(r);
  }
}

/** An object whose keys may include `__proto__` as an own key (JSON.stringify keeps it). */
function obj(entries: Array<[string, unknown]>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
  return o;
}

/** Mostly the well-formed value (so later layers are reached), sometimes garbage in its place. */
function maybe(r: R, good: unknown, p = 0.8): unknown {
  return r.next() < p ? good : value(r, 2);
}

function toolCall(r: R): unknown {
  const args = obj([
    ['appointmentDate', maybe(r, r.pick(['2030-03-05', '2030-03-06', '2030-03-09', '2030-02-30', '2029-01-01']))],
    ['appointmentTime', maybe(r, r.pick(['09:00', '10:30', '16:30', '17:00', '10:15']))],
    ['patientEmail', maybe(r, r.pick(['jane@example.com', 'JOE@EXAMPLE.COM', 'x@y.z']))],
    ['patientName', maybe(r, r.next() < 0.7 ? 'Jane' : r.pick(['Joe\u0000Null', 'x'.repeat(300), '  ']))],
    ...(r.next() < 0.3 ? ([[r.pick(NASTY_KEYS), value(r, 2)]] as Array<[string, unknown]>) : []),
  ]);
  const fn = obj([
    ['name', maybe(r, r.next() < 0.5 ? 'bookClinicAppointment' : r.pick(['checkAvailability', 'cancelAppointment', ...NASTY_KEYS]))],
    ['arguments', r.next() < 0.3 ? JSON.stringify(args) : r.next() < 0.8 ? args : value(r, 2)],
  ]);
  return obj([
    ['id', maybe(r, `call_${r.int(1e6)}`)],
    ['type', 'function'],
    ['function', maybe(r, fn)],
  ]);
}

function envelope(r: R): unknown {
  const call = obj([
    ['assistantId', r.next() < 0.6 ? ASSISTANT : value(r, 2)],
    ...(r.next() < 0.3 ? ([['assistantOverrides', obj([['variableValues', obj([['org_id', maybe(r, ORG)]])]])]] as Array<[string, unknown]>) : []),
  ]);
  const listKey = r.pick(['toolCallList', 'toolCalls', 'toolWithToolCallList', '__proto__']);
  const list = r.next() < 0.8 ? Array.from({ length: r.int(4) }, () => (listKey === 'toolWithToolCallList' ? obj([['toolCall', toolCall(r)]]) : toolCall(r))) : value(r, 3);
  const message = obj([
    ['type', maybe(r, r.next() < 0.5 ? 'tool-calls' : r.pick(['function-call', 'assistant-request', 'status-update', 'end-of-call-report']))],
    ['call', maybe(r, call)],
    [listKey, list],
    ['functionCall', maybe(r, obj([['name', maybe(r, 'bookClinicAppointment')], ['parameters', value(r, 2)]]))],
    ['assistant', maybe(r, obj([['metadata', obj([['org_id', maybe(r, ORG)]])]]))],
    ['customer', value(r, 2)],
  ]);
  return r.next() < 0.9 ? obj([['message', maybe(r, message)]]) : value(r, 3);
}

function deepNesting(r: R): string {
  const n = 1000 + r.int(200_000);
  const kind = r.int(3);
  if (kind === 0) return '['.repeat(n) + ']'.repeat(n);
  if (kind === 1) return '{"message":'.repeat(Math.min(n, 90_000)) + '{}' + '}'.repeat(Math.min(n, 90_000));
  // Deep nesting inside a tool call's string arguments.
  const inner = '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000);
  return JSON.stringify({ message: { type: 'tool-calls', call: { assistantId: ASSISTANT }, toolCallList: [{ id: 'deep', function: { name: 'bookClinicAppointment', arguments: inner } }] } });
}

function hugeString(r: R): string {
  const big = 'A'.repeat(700_000 + r.int(300_000));
  const where = r.int(4);
  if (where === 0) return JSON.stringify({ message: { type: big } });
  if (where === 1) return JSON.stringify({ message: { type: 'tool-calls', call: { assistantId: big } } });
  if (where === 2) return JSON.stringify({ message: { type: 'tool-calls', call: { assistantId: ASSISTANT }, toolCallList: [{ id: big.slice(0, 100_000), function: { name: big.slice(0, 200_000), arguments: '{}' } }] } });
  return JSON.stringify({ message: { type: 'tool-calls', call: { assistantId: ASSISTANT }, toolCallList: [{ id: 'h', function: { name: 'bookClinicAppointment', arguments: { patientName: big, patientEmail: big } } }] } });
}

function rawBytes(r: R): Buffer | string {
  return r.pick<Buffer | string>([
    '',
    'null',
    '"message"',
    '42',
    'true',
    '[]',
    '\ufeff{"message":{"type":"status-update"}}',
    '{"message":{"type":"tool-calls"}}garbage',
    '{"message":{"type":"tool-calls","toolCallList":[',
    Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x22]),
    Buffer.from(Array.from({ length: 200 }, () => r.int(256))),
    '{"__proto__":{"polluted":true},"message":{"type":"status-update"}}',
    '{"message":{"__proto__":{"type":"tool-calls"},"type":"tool-calls","call":{"assistantId":"asst-fuzz"},"toolCallList":[{"id":"p","function":{"name":"__proto__","arguments":{"__proto__":{"polluted":1}}}}]}}',
    '{"message":{"type":"tool-calls","call":{"assistantId":"asst-fuzz"},"toolCallList":[{"id":"c","function":{"name":"constructor","arguments":"{\\"__proto__\\":{\\"polluted\\":2}}"}}]}}',
  ]);
}

function generate(r: R): { body: Buffer | string; contentType: string; path: string } {
  const roll = r.next();
  let body: Buffer | string;
  if (roll < 0.02) body = deepNesting(r);
  else if (roll < 0.04) body = hugeString(r);
  else if (roll < 0.12) body = rawBytes(r);
  else body = JSON.stringify(envelope(r));
  const contentType = r.next() < 0.97 ? 'application/json' : r.pick(['text/plain', 'application/json; charset=latin1', 'application/vnd.api+json', '']);
  const path =
    r.next() < 0.9
      ? r.pick(['/api/vapi/tools', '/api/vapi/tools/bookClinicAppointment'])
      : r.pick(['/api/vapi/tools/__proto__', '/api/vapi/tools/constructor', '/api/vapi/tools/%E0%A4%A', '/api/vapi/tools/a/b']);
  return { body, contentType, path };
}

let db: TestDatabase;
let store: Store;
let receiver: WebhookReceiver;
const events: RequestEvent[] = [];
const warnings: string[] = [];

beforeAll(async () => {
  db = createTestDb();
  store = sharedStore(db);
  await store.addOrg({ id: ORG, name: 'Fuzz Clinic', timezone: 'Europe/Berlin' });
  await store.linkAgent({ orgId: ORG, type: 'inbound', vapiAssistantId: ASSISTANT });
  receiver = await startWebhookReceiver({
    port: 0,
    store,
    now: () => new Date('2030-03-04T08:00:00Z'),
    onEvent: (e) => events.push(e),
    onWarning: (w) => warnings.push(w),
  });
});
afterAll(async () => {
  await receiver.close();
  db.close();
});

function send(agent: http.Agent, c: { body: Buffer | string; contentType: string; path: string }): Promise<{ status: number; text: string; contentType: string }> {
  const u = new URL(receiver.url);
  const payload = Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: u.hostname,
        port: u.port,
        path: c.path,
        method: 'POST',
        agent,
        headers: { ...(c.contentType ? { 'content-type': c.contentType } : {}), 'content-length': String(payload.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), contentType: String(res.headers['content-type'] ?? '') }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

it(`answers ${CASES} hostile bodies with no 5xx and no crash`, { timeout: 240_000 }, async () => {
  const r = rng(SEED);
  const cases = Array.from({ length: CASES }, () => generate(r));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i]!;
      const res = await send(agent, c);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status >= 500) failures.push(`case ${i}: ${res.status} ${res.text.slice(0, 200)}`);
      if (!res.contentType.startsWith('application/json')) failures.push(`case ${i}: content-type ${res.contentType}`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.text);
      } catch {
        failures.push(`case ${i}: answer is not JSON: ${res.text.slice(0, 100)}`);
        continue;
      }
      // Whatever a tool-calls answer holds, it is what Vapi can use: strings only.
      const results = (parsed as { results?: unknown }).results;
      if (Array.isArray(results)) {
        for (const x of results as Array<Record<string, unknown>>) {
          const text = x.result ?? x.error;
          if (typeof text !== 'string' || typeof x.toolCallId !== 'string') failures.push(`case ${i}: bad result ${JSON.stringify(x).slice(0, 200)}`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();

  expect(failures).toEqual([]);
  // The hostile mix reached every layer: parse errors, refusals and answered tool calls.
  expect(statuses.get(200)).toBeGreaterThan(300);
  expect(statuses.get(400)).toBeGreaterThan(50);
  expect(statuses.get(403)).toBeGreaterThan(50);
  expect(statuses.get(413)).toBeGreaterThan(0);
  // Some calls got all the way to a booking write.
  const booked = db.prepare('select count(*) as n from appointments').get() as { n: number };
  expect(booked.n).toBeGreaterThan(0);
  expect(events).toHaveLength(CASES);
  expect(warnings.filter((w) => !w.startsWith('VAPI_WEBHOOK_SECRET'))).toEqual([]);
  // No prototype pollution.
  const probe = {} as Record<string, unknown>;
  expect(probe.polluted).toBeUndefined();
  expect(probe.type).toBeUndefined();
  expect(probe.message).toBeUndefined();
  // Still healthy, and still answering real work correctly.
  expect((await request(`${receiver.url}/healthz`, { method: 'GET' })).status).toBe(200);
  const ok = await send(new http.Agent(), {
    body: JSON.stringify({
      message: {
        type: 'tool-calls',
        call: { assistantId: ASSISTANT },
        toolCallList: [{ id: 'final', function: { name: 'checkAvailability', arguments: { appointmentDate: '2030-03-10' } } }],
      },
    }),
    contentType: 'application/json',
    path: '/api/vapi/tools',
  });
  expect(JSON.parse(ok.text)).toEqual({ results: [{ toolCallId: 'final', name: 'checkAvailability', result: 'The clinic is closed on Sunday, March 10. The next open day is Monday, March 11.' }] });
});
