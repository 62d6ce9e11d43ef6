import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { openEventLog, type EventLog, type RequestEvent } from '../../src/receiver/event-log.js';
import { startWebhookReceiver, type ReceiverOptions, type WebhookReceiver } from '../../src/receiver/server.js';
import { Redactor } from '../../src/util/mask.js';
import { request } from '../helpers/http.js';
import { useTestDb } from '../helpers/store.js';
import { assistantRequestMessage, functionCallMessage, informationalMessage, toolCallsMessage } from '../helpers/vapi-messages.js';

const ORG_A = '0a000000-0000-4000-8000-00000000000a';
const ORG_B = '0b000000-0000-4000-8000-00000000000b';
const ASSISTANT_A = 'asst-a-inbound';
const ASSISTANT_A2 = 'asst-a-followup';
const ASSISTANT_B = 'asst-b-inbound';
const SECRET = 'whsec-test-0123456789abcdef';
// Monday 2030-03-04 08:00 UTC: 09:00 in Berlin (org A), 08:00 in UTC (org B).
const NOW = new Date('2030-03-04T08:00:00Z');

const testDb = useTestDb();
let store: Store;
let receiver: WebhookReceiver | undefined;
let events: RequestEvent[];
let warnings: string[];
let dir: string;

beforeAll(async () => {
  store = testDb.store;
});
beforeEach(async () => {
  await store.addOrg({ id: ORG_A, name: 'Sunrise Dental', timezone: 'Europe/Berlin' });
  await store.addOrg({ id: ORG_B, name: 'Harbor Clinic', timezone: 'UTC' });
  await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: ASSISTANT_A });
  await store.linkAgent({ orgId: ORG_A, type: 'follow-up', vapiAssistantId: ASSISTANT_A2 });
  await store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: ASSISTANT_B });
  events = [];
  warnings = [];
  dir = mkdtempSync(path.join(tmpdir(), 'voxctl-recv-'));
});
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function start(extra: Partial<ReceiverOptions> = {}): Promise<WebhookReceiver> {
  receiver = await startWebhookReceiver({
    port: 0,
    store,
    now: () => NOW,
    onEvent: (e) => events.push(e),
    onWarning: (w) => warnings.push(w),
    ...extra,
  });
  return receiver;
}

const book = (id: string, args: Record<string, unknown>) => ({ id, name: 'bookClinicAppointment', args });
const bookArgs = (over: Record<string, unknown> = {}) => ({
  appointmentDate: '2030-03-05',
  appointmentTime: '10:30',
  patientEmail: 'Jane@Example.com',
  patientName: 'Jane Doe',
  ...over,
});
const toolsUrl = (r: WebhookReceiver, tool = 'bookClinicAppointment') => `${r.url}/api/vapi/tools/${tool}`;
const countAppointments = async () => testDb.rows<{ n: number }>('select count(*) as n from appointments')[0]!.n;

describe('health and routes', () => {
  it('answers GET /healthz without logging it', async () => {
    const r = await start();
    const res = await request(`${r.url}/healthz`, { method: 'GET' });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(events).toHaveLength(0);
  });

  it('answers unknown paths 404 and other methods 405, as JSON, and logs them', async () => {
    const r = await start();
    const a = await request(`${r.url}/nope`, { body: {} });
    expect(a.status).toBe(404);
    expect(a.json()).toMatchObject({ error: 'not_found' });
    const b = await request(`${r.url}/api/vapi/tools`, { method: 'GET' });
    expect(b.status).toBe(405);
    expect(b.headers.allow).toBe('POST');
    const c = await request(`${r.url}/api/vapi/tools/bad%20name`, { body: {} });
    expect(c.status).toBe(404);
    expect(events.map((e) => e.status)).toEqual([404, 405, 404]);
  });

  it('accepts the bare /api/vapi/tools path and a trailing slash', async () => {
    const r = await start();
    const body = informationalMessage('status-update', { assistantId: ASSISTANT_A }, { status: 'ringing' });
    expect((await request(`${r.url}/api/vapi/tools`, { body })).status).toBe(200);
    expect((await request(`${r.url}/api/vapi/tools/`, { body })).status).toBe(200);
  });
});

describe('authentication', () => {
  it('without a secret header answers 401, touches nothing, and logs the refusal', async () => {
    const r = await start({ secret: SECRET });
    const res = await request(toolsUrl(r), { body: toolCallsMessage([book('c1', bookArgs())], { assistantId: ASSISTANT_A }) });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'unauthorized' });
    expect(await countAppointments()).toBe(0);
    expect(events[0]).toMatchObject({ status: 401, orgId: null, type: null });
    expect(events[0]!.error).toContain('no X-Vapi-Secret');
  });

  it('refuses a wrong secret in either header, and masks what was presented', async () => {
    const r = await start({ secret: SECRET });
    const body = toolCallsMessage([book('c1', bookArgs())], { assistantId: ASSISTANT_A });
    const wrong = 'wrong-secret-0123456789';
    expect((await request(toolsUrl(r), { body, headers: { 'x-vapi-secret': wrong } })).status).toBe(401);
    expect((await request(toolsUrl(r), { body, headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
    expect((await request(toolsUrl(r), { body, headers: { authorization: SECRET } })).status).toBe(401);
    // A prefix of the secret is not the secret.
    expect((await request(toolsUrl(r), { body, headers: { 'x-vapi-secret': SECRET.slice(0, -1) } })).status).toBe(401);
    expect(await countAppointments()).toBe(0);
    const logged = JSON.stringify(events);
    expect(logged).not.toContain(wrong);
    expect(logged).toContain('wron…6789');
  });

  it('accepts X-Vapi-Secret (any letter case) and Authorization: Bearer', async () => {
    const r = await start({ secret: SECRET });
    const a = await request(toolsUrl(r), { body: toolCallsMessage([book('c1', bookArgs())], { assistantId: ASSISTANT_A }), headers: { 'X-VAPI-SECRET': SECRET } });
    expect(a.status).toBe(200);
    expect(a.json<{ results: Array<{ result?: string }> }>().results[0]!.result).toMatch(/^Booked/);
    const b = await request(toolsUrl(r), {
      body: toolCallsMessage([book('c2', bookArgs({ appointmentTime: '11:00' }))], { assistantId: ASSISTANT_A }),
      headers: { authorization: `bearer ${SECRET}` },
    });
    expect(b.status).toBe(200);
    expect(await countAppointments()).toBe(2);
    expect(warnings).toEqual([]);
  });

  it('checks the secret before reading the body: a huge unauthenticated body is refused with 401, not 413', async () => {
    const r = await start({ secret: SECRET });
    const res = await request(toolsUrl(r), { body: Buffer.alloc(3 * 1024 * 1024, 0x20) });
    expect(res.status).toBe(401);
  });

  it('with Expect: 100-continue, refuses before the body is sent, and continues for the right secret', async () => {
    const r = await start({ secret: SECRET });
    const body = JSON.stringify(informationalMessage('status-update', { assistantId: ASSISTANT_A }));
    const send = (headers: Record<string, string>) =>
      new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
        let continued = false;
        const req = http.request(toolsUrl(r), { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': String(body.length), expect: '100-continue', ...headers } });
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, continued }));
        });
        req.on('error', reject);
        req.flushHeaders();
      });
    expect(await send({})).toEqual({ status: 401, continued: false });
    expect(await send({ 'x-vapi-secret': SECRET })).toEqual({ status: 200, continued: true });
  });

  it('without a secret it runs, and warns that anyone can call it', async () => {
    const r = await start();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/VAPI_WEBHOOK_SECRET is not set: anyone/);
    const res = await request(toolsUrl(r), { body: toolCallsMessage([book('c1', bookArgs())], { assistantId: ASSISTANT_A }) });
    expect(res.status).toBe(200);
  });
});

describe('org routing and spoofing', () => {
  const check = (assistantId: string | null, extra: Record<string, unknown> = {}) =>
    toolCallsMessage([{ id: 'c1', name: 'checkAvailability', args: { appointmentDate: '2030-03-05' } }], { assistantId, ...extra });

  it('routes by the calling assistant, and logs org and assistant', async () => {
    const r = await start();
    const res = await request(toolsUrl(r, 'checkAvailability'), { body: check(ASSISTANT_A2) });
    expect(res.status).toBe(200);
    expect(events[0]).toMatchObject({ orgId: ORG_A, assistantId: ASSISTANT_A2, type: 'tool-calls', tools: ['checkAvailability'], status: 200 });
  });

  it('accepts a claimed org that matches the assistant (in any letter case)', async () => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: check(ASSISTANT_A, { assistantMetadataOrg: ORG_A.toUpperCase(), variableValuesOrg: ORG_A }) });
    expect(res.status).toBe(200);
  });

  it.each([
    ['assistant.metadata', { assistantMetadataOrg: ORG_B }],
    ['assistantOverrides.metadata', { overridesMetadataOrg: ORG_B }],
    ['assistantOverrides.variableValues', { variableValuesOrg: ORG_B }],
    ['customer.metadata', { customerMetadataOrg: ORG_B }],
    ['a non-string claim', { variableValuesOrg: 42 }],
  ])('answers 403 when %s claims another org than the assistant’s', async (_where, claim) => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: toolCallsMessage([book('c1', bookArgs())], { assistantId: ASSISTANT_A, ...claim }) });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ error: 'forbidden' });
    // The caller is not told which org the assistant belongs to; the local log is.
    expect(res.text).not.toContain(ORG_A);
    expect(events[0]!.error).toContain(ORG_A);
    expect(await countAppointments()).toBe(0);
  });

  it('answers 403 for an assistant the store does not link', async () => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: toolCallsMessage([book('c1', bookArgs())], { assistantId: 'asst-unknown', assistantMetadataOrg: ORG_A }) });
    expect(res.status).toBe(403);
    expect(events[0]).toMatchObject({ status: 403, assistantId: 'asst-unknown', orgId: null });
    expect(await countAppointments()).toBe(0);
  });

  it('without an assistant id, routes to a claimed org that exists', async () => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: toolCallsMessage([book('c1', bookArgs())], { assistantId: null, variableValuesOrg: ORG_B }) });
    expect(res.status).toBe(200);
    expect(events[0]).toMatchObject({ orgId: ORG_B, assistantId: null });
    const rows = testDb.rows<{ org_id: string }>('select org_id from appointments');
    expect(rows).toEqual([{ org_id: ORG_B }]);
  });

  it.each([
    ['a claimed org that does not exist', { variableValuesOrg: '0c000000-0000-4000-8000-00000000000c' }],
    ['a claim that is not a uuid', { customerMetadataOrg: "x' or 1=1 --" }],
    ['no claim at all', {}],
    ['conflicting claims', { assistantMetadataOrg: ORG_A, variableValuesOrg: ORG_B }],
  ])('without an assistant id, answers 403 for %s', async (_what, claim) => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: toolCallsMessage([book('c1', bookArgs())], { assistantId: null, ...claim }) });
    expect(res.status).toBe(403);
    expect(await countAppointments()).toBe(0);
  });

  it('answers informational messages that route to no org with 200, logged with no org', async () => {
    const r = await start();
    const a = await request(toolsUrl(r), { body: informationalMessage('end-of-call-report', { assistantId: 'asst-unknown' }) });
    const b = await request(toolsUrl(r), { body: informationalMessage('status-update', { assistantId: null }) });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json()).toEqual({});
    expect(events.map((e) => [e.type, e.orgId])).toEqual([
      ['end-of-call-report', null],
      ['status-update', null],
    ]);
  });

  it('still refuses an informational message whose claimed org contradicts its assistant', async () => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: informationalMessage('status-update', { assistantId: ASSISTANT_A, customerMetadataOrg: ORG_B }) });
    expect(res.status).toBe(403);
  });

  it('caches "not linked" for about a second: an assistant linked meanwhile (by any process) routes after that', async () => {
    let clock = 1_000_000;
    const r = await start({ clock: () => clock });
    const body = check('asst-new');
    expect((await request(toolsUrl(r), { body })).status).toBe(403);
    await store.linkAgent({ orgId: ORG_B, type: 'outbound', vapiAssistantId: 'asst-new' });
    clock += 999;
    expect((await request(toolsUrl(r), { body })).status).toBe(403); // still the cached miss
    clock += 2;
    expect((await request(toolsUrl(r), { body })).status).toBe(200);
    expect(events.at(-1)).toMatchObject({ orgId: ORG_B, assistantId: 'asst-new' });
  });

  it('keeps a found route for its TTL (5 s by default), then reads the store again', async () => {
    let clock = 1_000_000;
    const r = await start({ clock: () => clock });
    const body = check(ASSISTANT_B);
    expect((await request(toolsUrl(r), { body })).status).toBe(200);
    // Re-pointed elsewhere: the cached route serves until the TTL, then the store's answer.
    await store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: 'asst-replacement' });
    clock += 4_999;
    expect((await request(toolsUrl(r), { body })).status).toBe(200);
    clock += 2;
    expect((await request(toolsUrl(r), { body })).status).toBe(403);
  });
});

describe('limits and malformed requests', () => {
  it('refuses a body over 1 MiB by its Content-Length with 413 and a JSON body', async () => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: Buffer.alloc(1024 * 1024 + 1, 0x20) });
    expect(res.status).toBe(413);
    expect(res.json()).toMatchObject({ error: 'payload_too_large' });
    expect(events[0]).toMatchObject({ status: 413 });
    expect(events[0]!.error).toContain('Content-Length');
  });

  it('refuses a chunked body that grows past 1 MiB while streaming', async () => {
    const r = await start();
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const res = await request(toolsUrl(r), { chunks: Array.from({ length: 40 }, () => chunk), body: '' });
    expect(res.status).toBe(413);
    expect(events[0]!.error).toContain('streaming');
    // The receiver is still fine.
    expect((await request(`${r.url}/healthz`, { method: 'GET' })).status).toBe(200);
  });

  it('accepts a body of exactly 1 MiB', async () => {
    const r = await start();
    const msg = JSON.stringify(informationalMessage('transcript', { assistantId: ASSISTANT_A }));
    const padded = msg.slice(0, -1) + ' '.repeat(1024 * 1024 - msg.length) + '}';
    expect(Buffer.byteLength(padded)).toBe(1024 * 1024);
    expect((await request(toolsUrl(r), { body: padded })).status).toBe(200);
  });

  it('answers 400 for a body that is not JSON, and for JSON that is not a Vapi message', async () => {
    const r = await start();
    const a = await request(toolsUrl(r), { body: '{"message": {"type": "tool-calls",' });
    expect(a.status).toBe(400);
    expect(a.json()).toMatchObject({ error: 'invalid_json' });
    const b = await request(toolsUrl(r), { body: { type: 'tool-calls' } });
    expect(b.status).toBe(400);
    expect(b.json()).toMatchObject({ error: 'invalid_message' });
    const c = await request(toolsUrl(r), { body: { message: { type: 7 } } });
    expect(c.status).toBe(400);
  });

  it('answers 415 for a body that is not declared as JSON', async () => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: 'message=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(415);
    expect(res.json()).toMatchObject({ error: 'unsupported_media_type' });
    const ok = await request(toolsUrl(r), {
      body: informationalMessage('hang', { assistantId: ASSISTANT_A }),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(ok.status).toBe(200);
  });

  it('keeps connections alive between well-formed requests', async () => {
    const r = await start();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request(`${r.url}/api/vapi/tools`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
          ports.add((req.socket!.address() as AddressInfo).port);
          expect(res.headers.connection).toBe('keep-alive');
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(JSON.stringify(informationalMessage('speech-update', { assistantId: ASSISTANT_A })));
      });
    }
    agent.destroy();
    expect(ports.size).toBe(1);
  });

  it('times out a request whose body never finishes', async () => {
    // The event is awaited, not slept for: it arrives when the receiver has logged the 408.
    let seen!: (e: RequestEvent) => void;
    const nextEvent = new Promise<RequestEvent>((resolve) => (seen = resolve));
    const r = await start({ requestTimeoutMs: 300, onEvent: (e) => seen(e) });
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(toolsUrl(r));
      const req = http.request({ hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '100' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"message":');
    });
    expect(status).toBe(408);
    expect(await nextEvent).toMatchObject({ status: 408 });
  });
});

describe('message types', () => {
  it.each(['toolCallList', 'toolCalls', 'toolWithToolCallList'] as const)('reads tool calls from %s', async (only) => {
    const r = await start();
    const body = toolCallsMessage([book('call_only', bookArgs())], { assistantId: ASSISTANT_A }, { only });
    const res = await request(toolsUrl(r), { body });
    expect(res.json<{ results: unknown[] }>().results).toEqual([
      { toolCallId: 'call_only', name: 'bookClinicAppointment', result: 'Booked: Jane Doe is confirmed for 10:30 AM on Tuesday, March 5.' },
    ]);
  });

  it('accepts arguments as a JSON string, and reports unreadable ones as an error result', async () => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: toolCallsMessage([book('s1', bookArgs())], { assistantId: ASSISTANT_A }, { stringArgs: true }) });
    expect(res.json<{ results: Array<{ result?: string }> }>().results[0]!.result).toMatch(/^Booked/);
    const bad = toolCallsMessage([book('s2', bookArgs())], { assistantId: ASSISTANT_A }, { only: 'toolCallList' });
    (bad.message.toolCallList as Array<{ function: { arguments: unknown } }>)[0]!.function.arguments = '{"appointmentDate": ';
    const res2 = await request(toolsUrl(r), { body: bad });
    expect(res2.status).toBe(200);
    expect(res2.json()).toEqual({ results: [{ toolCallId: 's2', name: 'bookClinicAppointment', error: 'The tool arguments are not valid JSON.' }] });
  });

  it('answers several calls in call order, strings only, unknown tools named in an error', async () => {
    const r = await start();
    const body = toolCallsMessage(
      [
        book('a', bookArgs({ appointmentTime: '09:00' })),
        { id: 'b', name: 'sendInvoice', args: {} },
        { id: 'c', name: 'checkAvailability', args: { appointmentDate: '2030-03-05', appointmentTime: '09:00' } },
        book('d', bookArgs({ appointmentTime: '09:00', patientEmail: 'other@example.com' })),
      ],
      { assistantId: ASSISTANT_A },
    );
    const res = await request(toolsUrl(r), { body });
    expect(res.status).toBe(200);
    const results = res.json<{ results: Array<Record<string, unknown>> }>().results;
    expect(results.map((x) => x.toolCallId)).toEqual(['a', 'b', 'c', 'd']);
    for (const x of results) expect(typeof (x.result ?? x.error)).toBe('string');
    expect(results[0]!.result).toMatch(/^Booked/);
    expect(results[1]!.error).toBe('Unknown tool "sendInvoice". This receiver handles bookClinicAppointment, checkAvailability, cancelAppointment.');
    expect(results[2]!.result).toMatch(/^No, 9 AM on Tuesday, March 5 is taken\. The next free times that day are 9:30 AM, 10 AM or 10:30 AM\.$/);
    expect(results[3]!.error).toMatch(/already taken/);
    expect(events[0]!.tools).toEqual(['bookClinicAppointment', 'sendInvoice', 'checkAvailability', 'bookClinicAppointment']);
    expect(events[0]!.results).toHaveLength(4);
  });

  it('uses the tool named in the path when a call carries no name', async () => {
    const r = await start();
    const body = { message: { type: 'tool-calls', call: { assistantId: ASSISTANT_A }, toolCallList: [{ id: 'n1', arguments: { appointmentDate: '2030-03-09' } }] } };
    const res = await request(toolsUrl(r, 'checkAvailability'), { body });
    expect(res.json<{ results: Array<{ name: string; result: string }> }>().results[0]).toMatchObject({ name: 'checkAvailability', result: expect.stringMatching(/closed on Saturday, March 9/) });
  });

  it('answers a tool that runs too long with an error result, in time for Vapi (injected clock)', async () => {
    let t = 0;
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const hang = new Map([['hangs', () => (started(), new Promise<never>(() => {}))]]);
    const r = await start({ tools: hang, toolTimeoutMs: 100, clock: () => t });
    const pending = request(toolsUrl(r, 'hangs'), { body: toolCallsMessage([{ id: 'h', name: 'hangs', args: {} }], { assistantId: ASSISTANT_A }) });
    await running;
    t = 100; // the deadline passes; the watchdog's next look fails the call
    const res = await pending;
    expect(res.json()).toEqual({ results: [{ toolCallId: 'h', name: 'hangs', error: 'Sorry, something went wrong on our side. Please try again in a moment.' }] });
    expect(warnings.some((w) => w.includes('hangs took longer than 100 ms'))).toBe(true);
  });

  it('answers an empty tool call list with no results', async () => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: { message: { type: 'tool-calls', call: { assistantId: ASSISTANT_A }, toolCallList: [] } } });
    expect(res.json()).toEqual({ results: [] });
  });

  it('answers the legacy function-call with {"result"}', async () => {
    const r = await start();
    const ok = await request(toolsUrl(r), { body: functionCallMessage('bookClinicAppointment', bookArgs(), { assistantId: ASSISTANT_A }) });
    expect(ok.json()).toEqual({ result: 'Booked: Jane Doe is confirmed for 10:30 AM on Tuesday, March 5.' });
    const bad = await request(toolsUrl(r), { body: functionCallMessage('bookClinicAppointment', bookArgs({ patientEmail: 'nope' }), { assistantId: ASSISTANT_A }) });
    expect(bad.status).toBe(200);
    expect(bad.json<{ result: string; error: string }>().result).toMatch(/valid email address/);
    expect(events[0]).toMatchObject({ type: 'function-call', tools: ['bookClinicAppointment'], orgId: ORG_A });
  });

  it("answers assistant-request with the org's inbound assistant; its latency is read on the receiver's clock", async () => {
    // The store's first answer "takes" 1.25 s on the injected clock; the event's latency says so.
    let t = 5_000;
    let slowed = false;
    const slowStore = new Proxy(store, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          if (!slowed) {
            slowed = true;
            t += 1250;
          }
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const r = await start({ store: slowStore, clock: () => t });
    const res = await request(`${r.url}/api/vapi/tools`, { body: assistantRequestMessage({ assistantId: null, variableValuesOrg: ORG_A }) });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ assistantId: ASSISTANT_A });
    expect(slowed).toBe(true);
    expect(events[0]!.latencyMs).toBe(1250);
    expect(events[0]!.summary).toContain(ASSISTANT_A);
  });

  it('answers assistant-request with a spoken error when the org has no inbound assistant', async () => {
    const r = await start();
    const orgC = '0c000000-0000-4000-8000-00000000000c';
    await store.addOrg({ id: orgC, name: 'Empty Clinic' });
    const res = await request(`${r.url}/api/vapi/tools`, { body: assistantRequestMessage({ variableValuesOrg: orgC }) });
    expect(res.json<{ error: string }>().error).toMatch(/not set up/);
  });

  it('refuses assistant-request that routes to no org', async () => {
    const r = await start();
    const res = await request(`${r.url}/api/vapi/tools`, { body: assistantRequestMessage() });
    expect(res.status).toBe(403);
  });

  it.each([
    'status-update',
    'end-of-call-report',
    'hang',
    'conversation-update',
    'transcript',
    'transcript[transcriptType="final"]',
    'speech-update',
    'model-output',
    'transfer-update',
    'user-interrupted',
    'language-change-detected',
    'voice-input',
    'phone-call-control',
    'assistant.started',
    'chat.created',
    'call.deleted',
    'some-future-type',
  ])('answers informational %s with 200 {} and logs it with its org', async (type) => {
    const r = await start();
    const res = await request(toolsUrl(r), { body: informationalMessage(type, { assistantId: ASSISTANT_B }) });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({});
    expect(events[0]).toMatchObject({ type, orgId: ORG_B, status: 200 });
  });
});

describe('--forward-to', () => {
  let backend: http.Server;
  let backendUrl: string;
  let seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }>;

  beforeEach(async () => {
    seen = [];
    backend = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url?.startsWith('/hang')) return; // never answers
        res.writeHead(201, { 'content-type': 'application/json', 'x-backend': 'yes' });
        res.end(JSON.stringify({ results: [{ toolCallId: 'f1', result: 'from backend' }] }));
      });
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    backend.closeAllConnections();
    await new Promise((resolve) => backend.close(resolve));
  });

  it('relays method, path, headers and body, and hands back status, headers and body', async () => {
    const r = await start({ forwardTo: backendUrl, secret: SECRET });
    const body = toolCallsMessage([book('f1', bookArgs())], { assistantId: ASSISTANT_A });
    const res = await request(`${toolsUrl(r)}?x=1`, { body, headers: { 'x-vapi-secret': SECRET, 'x-custom': 'kept' } });
    expect(res.status).toBe(201);
    expect(res.headers['x-backend']).toBe('yes');
    expect(res.json()).toEqual({ results: [{ toolCallId: 'f1', result: 'from backend' }] });
    expect(seen).toHaveLength(1);
    const got = seen[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/api/vapi/tools/bookClinicAppointment?x=1');
    expect(JSON.parse(got.body)).toEqual(body);
    expect(got.headers['x-custom']).toBe('kept');
    expect(got.headers['x-vapi-secret']).toBe(SECRET);
    expect(got.headers['x-forwarded-for']).toContain('127.0.0.1');
    expect(got.headers['x-forwarded-proto']).toBe('http');
    expect(got.headers['x-forwarded-host']).toBe(new URL(r.url).host);
    expect(got.headers['x-voxctl-request-id']).toBe(events[0]!.id);
    // Nothing was booked here: the backend answered.
    expect(await countAppointments()).toBe(0);
    expect(events[0]).toMatchObject({ status: 201, type: 'tool-calls', tools: ['bookClinicAppointment'], forwardedTo: backendUrl });
  });

  it('keeps a path prefix of the target and still checks the secret', async () => {
    const r = await start({ forwardTo: `${backendUrl}/prefix/`, secret: SECRET });
    expect((await request(toolsUrl(r), { body: {} })).status).toBe(401);
    expect(seen).toHaveLength(0);
    await request(toolsUrl(r), { body: {}, headers: { 'x-vapi-secret': SECRET } });
    expect(seen[0]!.url).toBe('/prefix/api/vapi/tools/bookClinicAppointment');
  });

  it('answers 502 with a clear body when the backend is down', async () => {
    backend.closeAllConnections();
    await new Promise((resolve) => backend.close(resolve));
    backend = http.createServer();
    const r = await start({ forwardTo: backendUrl });
    const res = await request(toolsUrl(r), { body: informationalMessage('status-update', {}) });
    expect(res.status).toBe(502);
    const body = res.json<{ error: string; message: string }>();
    expect(body.error).toBe('bad_gateway');
    expect(body.message).toContain(`The backend at ${backendUrl} is not reachable (connection refused; is it running?)`);
    expect(body.message).toContain('--forward-to');
    expect(events[0]).toMatchObject({ status: 502 });
  });

  it('answers 504 when the backend does not answer in time', async () => {
    const r = await start({ forwardTo: `${backendUrl}/hang`, forwardTimeoutMs: 200 });
    const res = await request(toolsUrl(r), { body: {} });
    expect(res.status).toBe(504);
    expect(res.json<{ message: string }>().message).toMatch(/did not answer within/);
  });
});

describe('event log', () => {
  let log: EventLog;
  afterEach(async () => {
    await log?.close();
  });

  it('appends one NDJSON line per answered request with secrets masked', async () => {
    const file = path.join(dir, 'events.ndjson');
    log = openEventLog({ file, redactor: new Redactor([SECRET]) });
    const r = await start({ secret: SECRET, eventLog: log });
    await request(toolsUrl(r), { body: {}, headers: { 'x-vapi-secret': `${SECRET}x` } });
    // The secret inside a tool argument reaches the log only masked.
    await request(toolsUrl(r), {
      body: toolCallsMessage([{ id: 'l1', name: 'noSuchTool', args: {} }, book('l2', bookArgs({ patientName: `Mr ${SECRET}` }))], { assistantId: ASSISTANT_A }),
      headers: { authorization: `Bearer ${SECRET}` },
    });
    await log.flush();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    const text = lines.join('\n');
    expect(text).not.toContain(SECRET);
    expect(text).toContain('whse…cdef');
    // The refusal is a line of its own (findable by its id), its secret header masked.
    const [first, second] = lines.map((l) => JSON.parse(l) as RequestEvent);
    expect(first).toMatchObject({ status: 401, path: '/api/vapi/tools/bookClinicAppointment', requestHeaders: { 'x-vapi-secret': 'whse…defx' } });
    expect(JSON.parse(first!.answer!)).toMatchObject({ error: 'unauthorized' });
    expect(first!.refused).toBeUndefined();
    expect(second).toMatchObject({ status: 200, type: 'tool-calls', orgId: ORG_A, assistantId: ASSISTANT_A, tools: ['noSuchTool', 'bookClinicAppointment'] });
    expect(Object.keys(second!)).toEqual(expect.arrayContaining(['id', 'time', 'latencyMs', 'results']));
    // The body is kept for `webhook replay` (refused before reading: none), masked like the rest.
    expect(first!.body).toBeUndefined();
    expect(second!.bodyBytes).toBeGreaterThan(200);
    const replayable = JSON.parse(second!.body!) as { message: { toolCallList: Array<{ function: { arguments: { patientName: string } } }> } };
    expect(replayable.message.toolCallList).toHaveLength(2);
    expect(replayable.message.toolCallList[1]!.function.arguments.patientName).toBe('Mr whse…cdef');
  });

  it('keeps bodies up to 64 KiB and only the size of larger ones', async () => {
    const file = path.join(dir, 'events.ndjson');
    log = openEventLog({ file });
    const r = await start({ eventLog: log });
    await request(toolsUrl(r), { body: informationalMessage('status-update', { assistantId: ASSISTANT_A }) });
    const big = informationalMessage('status-update', { assistantId: ASSISTANT_A }) as { message: Record<string, unknown> };
    big.message.padding = 'x'.repeat(70 * 1024);
    await request(toolsUrl(r), { body: big });
    await log.flush();
    const [small, large] = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RequestEvent);
    expect(JSON.parse(small!.body!)).toMatchObject({ message: { type: 'status-update' } });
    expect(large!.body).toBeUndefined();
    expect(large!.bodyBytes).toBeGreaterThan(70 * 1024);
    expect(large!.status).toBe(200);
  });

  it('rotates by size', async () => {
    const file = path.join(dir, 'events.ndjson');
    log = openEventLog({ file, maxBytes: 5000, keep: 2 });
    const r = await start({ eventLog: log });
    for (let i = 0; i < 30; i++) {
      await request(toolsUrl(r), { body: informationalMessage('status-update', { assistantId: ASSISTANT_A }) });
      await log.flush();
    }
    const sizes = [file, `${file}.1`, `${file}.2`].map((f) => readFileSync(f).length);
    for (const s of sizes) expect(s).toBeLessThanOrEqual(5000);
    expect(() => readFileSync(`${file}.3`)).toThrow();
    const all = [`${file}.2`, `${file}.1`, file].flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'));
    expect(all.length).toBeGreaterThan(10);
    for (const l of all) expect(JSON.parse(l)).toMatchObject({ type: 'status-update' });
  });
});

describe('close', () => {
  it('lets an in-flight request finish, then stops listening', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const slow = new Map([['slowTool', async () => (started(), await gate, { result: 'done' })]]);
    const r = await start({ tools: slow });
    const pending = request(toolsUrl(r, 'slowTool'), { body: toolCallsMessage([{ id: 's', name: 'slowTool', args: {} }], { assistantId: ASSISTANT_A }), keepAlive: false });
    await inFlight;
    const closed = r.close();
    release();
    const res = await pending;
    await closed;
    expect(res.json()).toEqual({ results: [{ toolCallId: 's', name: 'slowTool', result: 'done' }] });
    await expect(request(`${r.url}/healthz`, { method: 'GET', keepAlive: false })).rejects.toThrow();
    receiver = undefined;
  });
});

describe('events for the inspector', () => {
  it('carry the request headers (credentials masked) and the answer as sent', async () => {
    const r = await start({ secret: SECRET });
    const body = toolCallsMessage([{ id: 'c9', name: 'sendFax', args: {} }], { assistantId: ASSISTANT_A });
    const res = await request(toolsUrl(r, 'sendFax'), { body, headers: { 'x-vapi-secret': SECRET, 'x-call-id': 'abc' } });
    expect(res.status).toBe(200);
    await r.close();
    const ev = events[0]!;
    expect(ev.requestHeaders).toMatchObject({ 'x-vapi-secret': 'whse…cdef', 'x-call-id': 'abc', 'content-type': 'application/json' });
    expect(ev.answer).toBe(res.text);
    const refused = await start({ secret: SECRET });
    await request(toolsUrl(refused), { body, headers: { authorization: `Bearer ${SECRET}x` } });
    expect(events[1]!.requestHeaders!.authorization).toBe('Bearer whse…def' + 'x');
    expect(JSON.stringify(events)).not.toContain(SECRET);
  });
});
