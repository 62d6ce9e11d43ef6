import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openEventLog } from '../../src/receiver/event-log.js';
import { writeReceiverState } from '../../src/receiver/state.js';
import { deferred } from '../helpers/events.js';
import { runCli } from '../helpers/run-cli.js';
import { run } from '../../src/main.js';
import { bufferIo } from '../../src/ui/io.js';
import { useTestDb } from '../helpers/store.js';
import { echoResult, startWebhookServer, type RecordedRequest } from '../helpers/webhook-server.js';

// Friday 2030-01-04 15:00 UTC: the next weekday is Monday 2030-01-07.
const NOW = new Date('2030-01-04T15:00:00.000Z');
const now = () => NOW;
const ASSISTANT = '7c1d3b0e-3f2a-4c55-9a51-2f0d6b1e9a77';
const SECRET = 'whsec-test-0123456789abcdef';

interface SentToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: Record<string, unknown> | string };
}
interface SentMessage {
  type: string;
  timestamp: number;
  status?: string;
  endedReason?: string;
  startedAt?: string;
  endedAt?: string;
  toolCallList: SentToolCall[];
  toolCalls: SentToolCall[];
  toolWithToolCallList: Array<Record<string, unknown> & { toolCall: SentToolCall }>;
  call: Record<string, unknown>;
  assistant: { name?: string; metadata?: Record<string, unknown> };
  customer: unknown;
  artifact: { transcript?: string; messages?: unknown[] };
  analysis: { summary?: string };
}
const msgOf = (req: RecordedRequest) => req.json.message as unknown as SentMessage;
const sent = (i = 0) => msgOf(hook.requests.at(i)!);
const argsOf = (m: SentMessage) => m.toolCallList[0]!.function.arguments as Record<string, unknown>;

const testDb = useTestDb();
let hook: Awaited<ReturnType<typeof startWebhookServer>>;

beforeAll(async () => {
  hook = await startWebhookServer();
});
afterAll(async () => {
  await hook.close();
});
beforeEach(async () => {
  hook.requests.length = 0;
  hook.respond(echoResult('Booked Jordan Test for Monday at 10:00.'));
});

const toolUrl = () => `${hook.url}/api/vapi/tools/bookClinicAppointment`;
const cli = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { env, now, storeFactory: testDb.factory });

describe('webhook test <tool> --url', () => {
  it('posts a realistic tool-calls message to the exact URL and reports result, latency and toolCallId', async () => {
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--json']);
    expect(r.exitCode).toBe(0);
    expect(hook.requests).toHaveLength(1);
    const req = hook.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/api/vapi/tools/bookClinicAppointment');
    expect(req.headers['content-type']).toMatch(/^application\/json/);
    expect(req.headers['x-vapi-secret']).toBeUndefined();

    const m = msgOf(req);
    expect(m.type).toBe('tool-calls');
    expect(m.timestamp).toBe(NOW.getTime());
    // The three lists Vapi sends, all for the same call.
    const id = m.toolCallList[0]!.id;
    expect(id).toMatch(/^call_[A-Za-z0-9_-]{24}$/);
    const args = {
      appointmentDate: '2030-01-07',
      appointmentTime: '10:00',
      patientEmail: 'jordan.test@example.com',
      patientName: 'Jordan Test',
      patientPhone: '+14155550123',
    };
    expect(m.toolCallList).toEqual([{ id, type: 'function', function: { name: 'bookClinicAppointment', arguments: args } }]);
    expect(m.toolCalls).toEqual(m.toolCallList);
    expect(m.toolWithToolCallList).toHaveLength(1);
    expect(m.toolWithToolCallList[0]).toMatchObject({
      type: 'function',
      function: { name: 'bookClinicAppointment', parameters: { type: 'object', required: expect.arrayContaining(['appointmentDate']) } },
      server: { url: toolUrl() },
      toolCall: m.toolCallList[0],
    });
    expect(m.call).toMatchObject({ assistantId: ASSISTANT, type: 'inboundPhoneCall', status: 'in-progress', id: expect.any(String) });
    expect(m.customer).toEqual({ number: '+14155550123', name: 'Jordan Test' });
    expect(m.assistant).toMatchObject({ name: expect.any(String) });
    expect(m.artifact).toEqual({ messages: [] });

    const doc = r.json<Record<string, unknown>>();
    expect(Object.keys(doc)).toEqual(['ok', 'url', 'status', 'latencyMs', 'toolCallId', 'answer', 'problems']);
    expect(doc).toEqual({
      ok: true,
      url: toolUrl(),
      status: 200,
      latencyMs: expect.any(Number),
      toolCallId: id,
      answer: { result: 'Booked Jordan Test for Monday at 10:00.' },
      problems: [],
    });
  });

  it('prints the spoken result and the latency prominently in human mode', async () => {
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/✓ bookClinicAppointment answered \(HTTP 200, \d+ ms\)/);
    expect(r.stdout).toContain('result: “Booked Jordan Test for Monday at 10:00.”');
    expect(r.stderr).toContain(`POST ${toolUrl()}`);
  });

  it('computes the default date at send time: the next weekday after the clock, never a fixed date', async () => {
    const wednesday = new Date('2031-06-18T08:00:00Z');
    await runCli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT], {
      now: () => wednesday,
    });
    expect(argsOf(sent()).appointmentDate).toBe('2031-06-19');
  });

  it('adds X-Vapi-Secret when VAPI_WEBHOOK_SECRET is set and never prints the secret', async () => {
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--debug'], {
      VAPI_WEBHOOK_SECRET: SECRET,
    });
    expect(r.exitCode).toBe(0);
    expect(hook.requests[0]!.headers['x-vapi-secret']).toBe(SECRET);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('exits 1 on an error result and reports it as "error"', async () => {
    hook.respond((req) => {
      const c = msgOf(req).toolCallList[0]!;
      return { body: { results: [{ toolCallId: c.id, name: c.function.name, error: 'That time is already taken.' }] } };
    });
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--json']);
    expect(r.exitCode).toBe(1);
    const doc = r.json<Record<string, unknown>>();
    // The tool's answer sits under `answer`; the top-level `error` is only ever {code,message,hint}.
    expect(doc).toMatchObject({ ok: false, status: 200, answer: { error: 'That time is already taken.' }, problems: [] });
    expect(doc.error).toEqual({ code: 'tool_error', message: expect.stringContaining('That time is already taken.'), hint: expect.any(String) });
    expect(doc).not.toHaveProperty('result');
    const human = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT]);
    expect(human.exitCode).toBe(1);
    expect(human.stdout).toContain('error: “That time is already taken.”');
  });

  it.each([
    ['a non-200 status', () => ({ status: 500, body: { error: 'boom' } }), [/HTTP 500: Vapi ignores the body.*the server said: boom/]],
    ['a 401', () => ({ status: 401, body: { error: 'Missing or wrong X-Vapi-Secret.' } }), [/HTTP 401.*VAPI_WEBHOOK_SECRET/]],
    ['a body that is not JSON', () => ({ raw: 'OK', contentType: 'text/plain' }), [/not JSON/]],
    ['no results array', () => ({ body: { result: 'Booked' } }), [/no "results" array.*legacy function-call/]],
    ['a wrong toolCallId', () => ({ body: { results: [{ toolCallId: 'call_other', name: 'bookClinicAppointment', result: 'x' }] } }), [/no result carries toolCallId call_.*"call_other"/]],
  ])('exits 1 on %s and lists the problem', async (_name, answer, expected) => {
    hook.respond(answer);
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--json']);
    expect(r.exitCode).toBe(1);
    const doc = r.json<{ ok: boolean; problems: string[] }>();
    expect(doc.ok).toBe(false);
    expect(doc.problems).toHaveLength(expected.length);
    expected.forEach((re, i) => expect(doc.problems[i]).toMatch(re));
  });

  it.each([
    [401, 'unauthorized', /VAPI_WEBHOOK_SECRET/],
    [403, 'forbidden', /agents link/],
  ])('says why the receiver refused (HTTP %i → %s), not "malformed"', async (status, code, hint) => {
    hook.respond(() => ({ status, body: { error: 'refused' } }));
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--json']);
    expect(r.exitCode).toBe(1);
    const doc = r.json<{ ok: boolean; status: number; error: { code: string; hint: string } }>();
    expect([doc.ok, doc.status, doc.error.code]).toEqual([false, status, code]);
    expect(doc.error.hint).toMatch(hint);
  });

  it('lists every problem of a malformed answer at once', async () => {
    hook.respond((req) => {
      const c = msgOf(req).toolCallList[0]!;
      return { body: { results: [{ toolCallId: c.id, name: c.function.name, result: { booked: true }, error: 42 }, 'junk'] } };
    });
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--json']);
    expect(r.exitCode).toBe(1);
    const { problems } = r.json<{ problems: string[] }>();
    expect(problems).toEqual([
      'results[1] is a string, not an object',
      '"result" is a object; Vapi needs a string (JSON.stringify objects)',
      '"error" is a number; Vapi needs a string',
    ]);
    expect(r.json<{ error: unknown }>().error).toEqual({ code: 'malformed_answer', message: expect.stringContaining('3 problems'), hint: expect.any(String) });
  });

  it('lists the problems of entries that answer another toolCallId too (a numeric result there)', async () => {
    hook.respond((req) => {
      const c = msgOf(req).toolCallList[0]!;
      return {
        body: {
          results: [
            { toolCallId: c.id, name: c.function.name, result: 'Booked.' },
            { toolCallId: 'call_other', name: 'x', result: 42 },
            { toolCallId: 'call_third', name: 'y' },
          ],
        },
      };
    });
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--json']);
    expect(r.exitCode).toBe(1);
    const doc = r.json<{ ok: boolean; answer: unknown; problems: string[]; error: { code: string } }>();
    expect(doc.ok).toBe(false);
    expect(doc.answer).toEqual({ result: 'Booked.' });
    expect(doc.problems).toEqual([
      'results[1] (toolCallId "call_other"): "result" is a number; Vapi needs a string (JSON.stringify objects)',
      'results[2] (toolCallId "call_third") has neither "result" nor "error"',
    ]);
    expect(doc.error.code).toBe('malformed_answer');
  });

  it('reports an unreachable URL as a problem (exit 1), not a crash', async () => {
    const closed = await startWebhookServer();
    const url = `${closed.url}/api/vapi/tools/bookClinicAppointment`;
    await closed.close();
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', url, '--assistant-id', ASSISTANT, '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, url, status: null, problems: [expect.stringMatching(/could not reach .*ECONNREFUSED/)] });
  });

  it('reports an answer slower than the timeout as a problem', async () => {
    // The backend answers only after the command has given up (its own 0.1 s timeout).
    const gaveUp = deferred();
    hook.respond((req) => ({ ...echoResult('late')(req), until: gaveUp.promise }));
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--timeout', '0.1', '--json']);
    gaveUp.resolve();
    expect(r.exitCode).toBe(1);
    expect(r.json<{ problems: string[] }>().problems[0]).toMatch(/no answer within 0.1 s/);
    expect(hook.requests).toHaveLength(1);
  });

  it('sends arguments as a JSON string with --string-args', async () => {
    await cli(['webhook', 'test', 'checkAvailability', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--string-args']);
    const m = sent();
    expect(m.toolCallList[0]!.function.arguments).toBe('{"appointmentDate":"2030-01-07"}');
    expect(m.toolWithToolCallList[0]!.toolCall.function.arguments).toBe('{"appointmentDate":"2030-01-07"}');
  });

  it('prints the payload and sends nothing with --dry-run', async () => {
    const r = await cli(['webhook', 'test', 'cancelAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--dry-run', '--json']);
    expect(r.exitCode).toBe(0);
    expect(hook.requests).toHaveLength(0);
    const doc = r.json<{ payload: { message: SentMessage } }>();
    expect(doc.payload.message.toolCallList[0]!.function).toEqual({
      name: 'cancelAppointment',
      arguments: { appointmentDate: '2030-01-07', appointmentTime: '10:00', patientEmail: 'jordan.test@example.com' },
    });
    // message.phoneNumber is a CreateVapiPhoneNumberDTO (Vapi's OAS): these fields only, no `number`.
    const VAPI_NUMBER_FIELDS = ['fallbackDestination', 'hooks', 'provider', 'numberDesiredAreaCode', 'sipUri', 'authentication', 'name', 'assistantId', 'workflowId', 'squadId', 'server'];
    const phone = (doc.payload.message as unknown as { phoneNumber: Record<string, unknown> }).phoneNumber;
    expect(phone).toMatchObject({ provider: 'vapi', assistantId: ASSISTANT });
    expect(Object.keys(phone).filter((k) => !VAPI_NUMBER_FIELDS.includes(k))).toEqual([]);
  });
});

describe('the wait for the answer', () => {
  it('shows a spinner on stderr while it waits, on a terminal only (never on stdout, never when piped)', async () => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'voxctl-spin-'));
    try {
      // What stderr holds at the moment the request arrives, i.e. while voxctl waits for the answer.
      let during = '';
      let io = bufferIo({ tty: true, columns: 100 });
      const answer = echoResult('ok');
      hook.respond((req) => {
        during = io.err();
        return answer(req);
      });
      const argv = ['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--no-color'];
      expect(await run(argv, { io, env: {}, cwd, now, storeFactory: testDb.factory })).toBe(0);
      expect(during).toContain(`Waiting for the answer from ${toolUrl()} (up to 20 s)…`);
      expect(during).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the answer/);
      expect(io.out()).not.toContain('Waiting');
      io = bufferIo({ tty: false });
      expect(await run(argv, { io, env: {}, cwd, now, storeFactory: testDb.factory })).toBe(0);
      expect(during).not.toContain('Waiting');
      expect(io.err() + io.out()).not.toContain('Waiting');
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('--arg overrides', () => {
  const sentArgs = () => argsOf(sent(-1));

  it('coerces numbers, booleans, null and JSON; string parameters keep their text', async () => {
    const r = await cli([
      'webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT,
      '--arg', 'appointmentTime=14:30',
      '--arg', 'patientPhone=+4930123456',
      '--arg', 'patientName=12345',
      '--arg', 'patientEmail=null',
      '--arg', 'appointmentDate:=20300107',
    ]);
    expect(r.exitCode).toBe(0);
    expect(sentArgs()).toEqual({
      appointmentDate: 20300107,
      appointmentTime: '14:30',
      patientEmail: null,
      patientName: '12345',
      patientPhone: '+4930123456',
    });
  });

  it('coerces by value for tools without a declared type', async () => {
    const r = await cli([
      'webhook', 'test', 'lookupOrder', '--url', toolUrl(), '--assistant-id', ASSISTANT,
      '--arg', 'count=3', '--arg', 'rush=true', '--arg', 'note=null', '--arg', 'items=["a","b"]', '--arg', 'meta={"x":1}', '--arg', 'zip=02134', '--arg', 'name=Ann Lee',
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain('No template for lookupOrder');
    expect(sentArgs()).toEqual({ count: 3, rush: true, note: null, items: ['a', 'b'], meta: { x: 1 }, zip: '02134', name: 'Ann Lee' });
  });

  it('a tool name one typo away from a template says which one it probably meant', async () => {
    const r = await cli(['webhook', 'test', 'bookClinicAppointmnt', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('No template for bookClinicAppointmnt in templates/payloads/ (did you mean bookClinicAppointment?): sending only the --arg values as its arguments.');
    const custom = await cli(['webhook', 'test', 'lookupOrder', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--dry-run']);
    expect(custom.stderr).toContain('No template for lookupOrder in templates/payloads/: sending');
  });

  it('rejects an override the tool does not take (exit 2), naming the parameters it does take', async () => {
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--arg', 'appointmentTyme=10:30', '--json']);
    expect(r.exitCode).toBe(2);
    expect(hook.requests).toHaveLength(0);
    const { error } = r.json<{ ok: boolean; error: { code: string; message: string; hint: string } }>();
    expect(error.code).toBe('usage');
    expect(error.message).toContain('bookClinicAppointment takes no parameter "appointmentTyme"');
    expect(error.hint).toContain('appointmentTime');
  });

  it.each([['noequals'], ['=value'], ['a:={bad json']])('rejects the malformed --arg %s (exit 2)', async (arg) => {
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--arg', arg]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('--arg');
    expect(hook.requests).toHaveLength(0);
  });

  it('rejects the same key twice', async () => {
    const r = await cli(['webhook', 'test', 'checkAvailability', '--url', toolUrl(), '--assistant-id', ASSISTANT, '--arg', 'appointmentDate=2030-01-08', '--arg', 'appointmentDate=2030-01-09']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('given twice');
  });
});

describe('which assistant and URL', () => {
  it("uses the org's linked assistant with --org and the org's time zone for the default date", async () => {
    const store = testDb.store;
    // Monday 2030-01-07 01:00 in Tokyo is still Friday 16:00 UTC: the next weekday there is Tuesday.
    const org = await store.addOrg({ name: 'Tokyo Dental', timezone: 'Asia/Tokyo' });
    await store.linkAgent({ orgId: org.id, type: 'inbound', vapiAssistantId: 'asst-tokyo-in' });
    await store.linkAgent({ orgId: org.id, type: 'follow-up', vapiAssistantId: 'asst-tokyo-fu' });
    const r = await runCli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--org', org.id], {
      now: () => new Date('2030-01-06T16:00:00Z'),
      storeFactory: testDb.factory,
    });
    expect(r.exitCode).toBe(0);
    const m = sent();
    expect(m.call.assistantId).toBe('asst-tokyo-in');
    expect(m.assistant.metadata).toEqual({ org_id: org.id });
    expect(argsOf(m).appointmentDate).toBe('2030-01-08');
    expect(r.stderr).toContain('--type');

    await cli(['webhook', 'test', 'checkAvailability', '--url', toolUrl(), '--org', org.id, '--type', 'follow-up']);
    expect(sent(1).call.assistantId).toBe('asst-tokyo-fu');
  });

  it('against a running receiver, books the next free slot when the default one is taken (no --arg pins it)', async () => {
    const store = testDb.store;
    const org = await store.addOrg({ name: 'Busy Clinic', timezone: 'UTC' });
    await store.linkAgent({ orgId: org.id, type: 'inbound', vapiAssistantId: 'asst-busy' });
    // An earlier run took the default slot (next weekday 10:00): Monday 2030-01-07.
    await store.bookSlot({ orgId: org.id, startsAt: '2030-01-07T10:00:00.000Z', email: 'a@example.com', name: 'A' });
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--org', org.id]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(argsOf(sent())).toMatchObject({ appointmentDate: '2030-01-07', appointmentTime: '10:30' });
    expect(r.stderr).toContain('using 2030-01-07 10:30 instead');
    // A pinned time is sent as given.
    await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--org', org.id, '--arg', 'appointmentTime=10:00']);
    expect(argsOf(sent(1))).toMatchObject({ appointmentDate: '2030-01-07', appointmentTime: '10:00' });
  });

  it('uses the only org of the store when neither --org nor --assistant-id is given', async () => {
    const store = testDb.store;
    const org = await store.addOrg({ name: 'Solo Clinic' });
    await store.linkAgent({ orgId: org.id, type: 'inbound', vapiAssistantId: 'asst-solo' });
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl()]);
    expect(r.exitCode).toBe(0);
    expect(sent().call.assistantId).toBe('asst-solo');
  });

  it('exits 2 when the store has several orgs and none is picked', async () => {
    const store = testDb.store;
    await store.addOrg({ name: 'A' });
    await store.addOrg({ name: 'B' });
    const r = await cli(['webhook', 'test', 'bookClinicAppointment', '--url', toolUrl(), '--json']);
    expect(r.exitCode).toBe(2);
    expect(r.json<{ error: { message: string } }>().error.message).toContain('2 organizations; pick one with --org');
    expect(hook.requests).toHaveLength(0);
  });

  it('sends a transient assistant claiming the org when the org has no linked assistant', async () => {
    const org = await testDb.store.addOrg({ name: 'Unlinked' });
    const r = await cli(['webhook', 'test', 'checkAvailability', '--url', toolUrl(), '--org', org.id]);
    expect(r.exitCode).toBe(0);
    const m = sent();
    expect(m.call.assistantId).toBeUndefined();
    expect(m.assistant.metadata).toEqual({ org_id: org.id });
    expect(r.stderr).toContain('no linked assistant');
  });

  it('posts to WEBHOOK_URL/<toolName> by default and exits 2 with a hint when there is no URL', async () => {
    const ok = await cli(['webhook', 'test', 'checkAvailability', '--assistant-id', ASSISTANT], { WEBHOOK_URL: `${hook.url}/api/vapi/tools/` });
    expect(ok.exitCode).toBe(0);
    expect(hook.requests[0]!.path).toBe('/api/vapi/tools/checkAvailability');
    const none = await cli(['webhook', 'test', 'checkAvailability', '--assistant-id', ASSISTANT, '--json']);
    expect(none.exitCode).toBe(2);
    expect(none.json<{ error: { hint: string } }>().error.hint).toContain('--local');
  });

  it('needs a tool name or --event, not both', async () => {
    expect((await cli(['webhook', 'test', '--url', toolUrl()])).exitCode).toBe(2);
    expect((await cli(['webhook', 'test', 'bookClinicAppointment', '--event', 'status-update', '--url', toolUrl()])).exitCode).toBe(2);
    expect((await cli(['webhook', 'test', '--event', 'hang', '--url', toolUrl()])).exitCode).toBe(2);
  });
});

describe('--event messages', () => {
  const eventUrl = () => `${hook.url}/api/vapi/tools`;

  it('sends a status-update and accepts any 2xx', async () => {
    hook.respond(() => ({ status: 201, body: {} }));
    const r = await cli(['webhook', 'test', '--event', 'status-update', '--url', eventUrl(), '--assistant-id', ASSISTANT, '--arg', 'status=ended', '--json']);
    expect(r.exitCode).toBe(0);
    const m = sent();
    expect(m).toMatchObject({ type: 'status-update', status: 'ended', timestamp: NOW.getTime(), call: { assistantId: ASSISTANT, status: 'ended' } });
    expect(r.json()).toEqual({ ok: true, url: eventUrl(), status: 201, latencyMs: expect.any(Number), event: 'status-update', response: {}, problems: [] });
  });

  it('sends an end-of-call-report with artifact and analysis', async () => {
    const r = await cli(['webhook', 'test', '--event', 'end-of-call-report', '--url', eventUrl(), '--assistant-id', ASSISTANT, '--arg', 'call.endedReason=assistant-ended-call']);
    expect(r.exitCode).toBe(0);
    const m = sent();
    expect(m.type).toBe('end-of-call-report');
    expect(m.endedReason).toBe('customer-ended-call');
    expect(m.call.endedReason).toBe('assistant-ended-call');
    expect(m.endedAt).toBe(NOW.toISOString());
    expect(m.startedAt).toBe('2030-01-04T14:57:00.000Z');
    expect(m.artifact.transcript).toContain('AI:');
    expect(m.analysis.summary).toEqual(expect.any(String));
  });

  it('rejects an override of a field the message does not have', async () => {
    const r = await cli(['webhook', 'test', '--event', 'status-update', '--url', eventUrl(), '--assistant-id', ASSISTANT, '--arg', 'stauts=ended']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('a status-update message has no field "stauts"');
  });

  it('checks an assistant-request answer: an assistant within 7.5 s passes, nothing named or an error fails', async () => {
    hook.respond(() => ({ body: { assistantId: 'asst-42' } }));
    const org = await testDb.store.addOrg({ name: 'Routing Clinic' });
    const ok = await cli(['webhook', 'test', '--event', 'assistant-request', '--url', eventUrl(), '--org', org.id, '--json']);
    expect(ok.exitCode).toBe(0);
    expect(ok.json()).toMatchObject({ ok: true, event: 'assistant-request', answer: { result: 'assistantId asst-42' }, response: { assistantId: 'asst-42' } });
    const m = sent();
    expect(m.type).toBe('assistant-request');
    expect(m.call.assistantId).toBeUndefined();
    expect(m.assistant.metadata?.org_id).toBe(org.id);

    hook.respond(() => ({ body: {} }));
    const none = await cli(['webhook', 'test', '--event', 'assistant-request', '--url', eventUrl(), '--org', org.id, '--json']);
    expect(none.exitCode).toBe(1);
    expect(none.json<{ problems: string[] }>().problems[0]).toContain('names no assistant');

    hook.respond(() => ({ body: { error: 'Sorry, we are closed.' } }));
    const err = await cli(['webhook', 'test', '--event', 'assistant-request', '--url', eventUrl(), '--org', org.id, '--json']);
    expect(err.exitCode).toBe(1);
    expect(err.json()).toMatchObject({ ok: false, answer: { error: 'Sorry, we are closed.' }, error: { code: 'tool_error' }, problems: [] });
  });
});

afterEach(() => {
  hook.respond(echoResult('ok'));
});

describe('webhook test --local', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(path.join(os.tmpdir(), 'voxctl-local-'));
  });
  afterEach(() => {
    rmSync(cwd, { recursive: true, force: true });
  });
  const local = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { env, now, cwd, storeFactory: testDb.factory });

  it('on an empty store creates the demo org with a linked demo assistant and books through a real receiver', async () => {
    const r = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = r.json<{ ok: boolean; url: string; status: number; toolCallId: string; answer: { result: string }; problems: string[] }>();
    expect(doc).toMatchObject({ ok: true, status: 200, problems: [] });
    expect(doc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/vapi\/tools\/bookClinicAppointment$/);
    expect(doc.answer.result).toBe("Booked: Jordan Test is confirmed for 10 AM on Monday, January 7.");
    expect(r.stderr).toContain('created the demo org "Demo Clinic"');
    expect(r.stderr).not.toContain('VAPI_WEBHOOK_SECRET is not set');

    const store = testDb.store;
    const orgs = await store.listOrgs();
    expect(orgs.map((o) => o.name)).toEqual(['Demo Clinic']);
    const agents = await store.listAgents({ orgId: orgs[0]!.id });
    expect(agents).toHaveLength(1);
    expect(agents[0]!.type).toBe('inbound');
    expect(r.json()).toMatchObject({ demoOrg: { id: orgs[0]!.id, name: 'Demo Clinic', assistantId: agents[0]!.vapiAssistantId } });
    expect(await store.listBookedStarts(orgs[0]!.id, '2030-01-01T00:00:00Z', '2030-02-01T00:00:00Z')).toHaveLength(1);

    // The request went through the project's event log, like tunnel up's.
    const logs = await local(['webhook', 'logs', '--json']);
    const events = logs.json<{ events: Array<{ status: number; orgId: string; assistantId: string; tools: string[]; body?: string }> }>().events;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ status: 200, orgId: orgs[0]!.id, assistantId: agents[0]!.vapiAssistantId, tools: ['bookClinicAppointment'] });

    // A second run reuses the demo org and moves to the next free slot instead of failing.
    const again = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.json<{ answer: { result: string } }>().answer.result).toMatch(/^Booked: .* 10:30/);
    expect(again.stderr).not.toContain('created the demo org');
    expect(await store.listOrgs()).toHaveLength(1);
    expect(await store.listBookedStarts(orgs[0]!.id, '2030-01-01T00:00:00Z', '2030-02-01T00:00:00Z')).toHaveLength(2);
  });

  it("moves to the next free slot by the org's own opening hours (settings.openingHours), not a fixed Mon–Fri 09:00–16:30", async () => {
    // Open Monday 10:00–10:30 and Thursday 14:00–15:00 only (NOW is Friday 2030-01-04).
    const org = await testDb.store.addOrg({ name: 'Short Hours', timezone: 'UTC', settings: { openingHours: { '1': [['10:00', '10:30']], '4': [['14:00', '15:00']] } } });
    const first = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json<{ answer: { result: string } }>().answer.result).toBe('Booked: Jordan Test is confirmed for 10 AM on Monday, January 7.');
    const second = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.json<{ answer: { result: string } }>().answer.result).toBe('Booked: Jordan Test is confirmed for 2 PM on Thursday, January 10.');
    expect(await testDb.store.listBookedStarts(org.id, '2030-01-01T00:00:00Z', '2030-02-01T00:00:00Z')).toEqual(['2030-01-07T10:00:00.000Z', '2030-01-10T14:00:00.000Z']);
  });

  it('authenticates with VAPI_WEBHOOK_SECRET like a real receiver, and never prints it', async () => {
    const r = await local(['webhook', 'test', 'checkAvailability', '--local'], { VAPI_WEBHOOK_SECRET: SECRET });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/checkAvailability.* answered \(HTTP 200, \d+ ms\)/);
    expect(r.stdout).toContain('On Monday, January 7');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  it('uses the embedded store even when Supabase is configured (no demo data in a real database)', async () => {
    const r = await runCli(['webhook', 'test', 'bookClinicAppointment', '--local', '--json'], {
      env: { SUPABASE_URL: 'https://abcdefghijklmnop.supabase.co', SUPABASE_SERVICE_ROLE_KEY: 'sb-service-role-0123456789abcdef' },
      now,
      cwd,
      storeFactory: () => Promise.reject(new Error('the Supabase store must not be opened')),
      embeddedStoreFactory: testDb.factory,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await testDb.store.listOrgs()).map((o) => o.name)).toEqual(['Demo Clinic']);
  });

  it('with several orgs and no --org exits 2, as without --local', async () => {
    await testDb.store.addOrg({ name: 'A Clinic' });
    await testDb.store.addOrg({ name: 'B Clinic' });
    const r = await local(['webhook', 'test', 'bookClinicAppointment', '--local']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('pick one with --org');
  });

  it('the demo org steps aside: with one org of the user besides it, that org is used and named', async () => {
    const first = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    const [demo] = await testDb.store.listOrgs();
    // Marked in its settings, so it is recognisable.
    expect(demo).toMatchObject({ name: 'Demo Clinic', settings: { voxctlDemo: true } });

    const own = await testDb.store.addOrg({ name: 'Sunrise Dental', timezone: 'UTC' });
    await testDb.store.linkAgent({ orgId: own.id, type: 'inbound', vapiAssistantId: 'asst-sunrise-1' });
    const r = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Using Sunrise Dental (${own.id}), the only org besides the demo org; pass --org to pick another.`);
    expect(await testDb.store.listBookedStarts(own.id, '2030-01-01T00:00:00Z', '2030-02-01T00:00:00Z')).toHaveLength(1);

    // A second org of the user's: now the user must pick, and the demo org is not counted.
    await testDb.store.addOrg({ name: 'Harbor Clinic', timezone: 'UTC' });
    const two = await local(['webhook', 'test', 'bookClinicAppointment', '--local']);
    expect(two.exitCode).toBe(2);
    expect(two.stderr).toContain('The store has 2 organizations besides the demo org; pick one with --org.');
    expect(two.stderr).not.toContain(demo!.id);
  });

  it('a demo org made before the mark (only demo assistants linked) steps aside too', async () => {
    const old = await testDb.store.addOrg({ name: 'Demo Clinic', timezone: 'UTC' });
    await testDb.store.linkAgent({ orgId: old.id, type: 'inbound', vapiAssistantId: 'demo-0000' });
    const own = await testDb.store.addOrg({ name: 'Sunrise Dental', timezone: 'UTC' });
    const r = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Using Sunrise Dental (${own.id})`);
  });

  it('a bad --arg is a usage error before anything starts: an empty store stays empty, no demo org, no files', async () => {
    const tool = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--arg', 'foo=1', '--json']);
    expect(tool.exitCode, tool.stderr).toBe(2);
    expect(tool.json<{ error: { code: string; message: string } }>().error).toMatchObject({ code: 'usage', message: '--arg foo: bookClinicAppointment takes no parameter "foo".' });
    const event = await local(['webhook', 'test', '--event', 'status-update', '--local', '--arg', 'nosuch.field=1']);
    expect(event.exitCode, event.stderr).toBe(2);
    expect(event.stderr).toContain('a status-update message has no field "nosuch.field"');
    for (const r of [tool, event]) {
      expect(r.stderr).not.toContain('local receiver');
      expect(r.stderr).not.toContain('demo org');
    }
    expect(await testDb.store.listOrgs()).toEqual([]);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('--org naming an org that does not exist, on an empty store: not_found, no demo org, nothing created', async () => {
    const r = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--org', '7d2f5b7e-0000-4000-8000-000000000001', '--json']);
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.json<{ error: { code: string } }>().error.code).toBe('not_found');
    expect(r.stderr).not.toContain('demo org');
    expect(await testDb.store.listOrgs()).toEqual([]);
  });

  it('refuses --url with --local', async () => {
    const r = await local(['webhook', 'test', 'bookClinicAppointment', '--local', '--url', toolUrl()]);
    expect(r.exitCode).toBe(2);
    expect(hook.requests).toHaveLength(0);
  });
});

describe('webhook replay', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(path.join(os.tmpdir(), 'voxctl-replay-'));
  });
  afterEach(() => {
    rmSync(cwd, { recursive: true, force: true });
  });
  const local = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { env, now, cwd, storeFactory: testDb.factory });
  const loggedEvents = async () => (await local(['webhook', 'logs', '--json'])).json<{ events: Array<{ id: string; body?: string; status: number }> }>().events;

  it('sends the logged body byte for byte and checks every tool call; a replayed booking meets its own slot', async () => {
    expect((await local(['webhook', 'test', 'bookClinicAppointment', '--local'])).exitCode).toBe(0);
    const [ev] = await loggedEvents();

    // To another server: the exact bytes, with the secret header added.
    hook.respond(echoResult('Booked again.'));
    const out = await local(['webhook', 'replay', ev!.id.slice(0, 8), '--url', toolUrl(), '--json'], { VAPI_WEBHOOK_SECRET: SECRET });
    expect(out.exitCode, out.stderr).toBe(0);
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]!.body).toBe(ev!.body);
    expect(hook.requests[0]!.headers['x-vapi-secret']).toBe(SECRET);
    const doc = out.json<{ ok: boolean; eventId: string; type: string; original: { status: number }; results: Array<{ name: string; result?: string }>; problems: string[] }>();
    expect(doc).toMatchObject({ ok: true, eventId: ev!.id, type: 'tool-calls', original: { status: 200 }, problems: [] });
    expect(doc).not.toHaveProperty('error');
    expect(doc.results).toEqual([expect.objectContaining({ name: 'bookClinicAppointment', result: 'Booked again.' })]);
    expect(out.stdout + out.stderr).not.toContain(SECRET);

    // To an in-process receiver on the same store: the slot is taken now, so the answer is an error (exit 1).
    const again = await local(['webhook', 'replay', ev!.id, '--local']);
    expect(again.exitCode).toBe(1);
    expect(again.stdout).toMatch(/bookClinicAppointment error: “Sorry, .* is already taken/);
    expect(await loggedEvents()).toHaveLength(2);
  });

  it('posts to BACKEND_URL + the logged path by default', async () => {
    expect((await local(['webhook', 'test', 'checkAvailability', '--local'])).exitCode).toBe(0);
    const [ev] = await loggedEvents();
    const r = await local(['webhook', 'replay', ev!.id, '--json'], { BACKEND_URL: hook.url });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(hook.requests[0]!.path).toBe('/api/vapi/tools/checkAvailability');
  });

  it('without BACKEND_URL, posts under WEBHOOK_URL\'s base, keeping a path prefix (an Edge Function at /functions/v1/voxctl)', async () => {
    expect((await local(['webhook', 'test', 'checkAvailability', '--local'])).exitCode).toBe(0);
    const [ev] = await loggedEvents();
    const r = await local(['webhook', 'replay', ev!.id, '--json'], { WEBHOOK_URL: `${hook.url}/functions/v1/voxctl/api/vapi/tools` });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(hook.requests[0]!.path).toBe('/functions/v1/voxctl/api/vapi/tools/checkAvailability');
  });

  it('explains what cannot be replayed: unknown, ambiguous or too short ids, bodies never read, no target', async () => {
    const log = openEventLog({ file: path.join(cwd, '.voxctl', 'events.ndjson') });
    const base = { time: NOW.toISOString(), method: 'POST', path: '/api/vapi/tools', type: null, tools: [], orgId: null, assistantId: null, latencyMs: 1 };
    // A refusal the log kept as its own line (a 4xx relayed from a --forward-to backend).
    log.append({ ...base, id: 'abcd1111-0000', status: 401, error: 'Missing or wrong X-Vapi-Secret', forwardedTo: 'http://127.0.0.1:1' });
    log.append({ ...base, id: 'abcd2222-0000', status: 200, body: '{"message":{"type":"status-update"}}' });
    await log.close();

    const none = await local(['webhook', 'replay', 'ffff0000']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('No event ffff0000');
    const ambiguous = await local(['webhook', 'replay', 'abcd']);
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.stderr).toContain('matches 2 logged events');
    const short = await local(['webhook', 'replay', 'ab']);
    expect(short.exitCode).toBe(2);
    const unread = await local(['webhook', 'replay', 'abcd1111', '--url', toolUrl(), '--json']);
    expect(unread.exitCode).toBe(1);
    expect(unread.json<{ error: { code: string } }>().error.code).toBe('not_replayable');
    const noTarget = await local(['webhook', 'replay', 'abcd2222']);
    expect(noTarget.exitCode).toBe(2);
    expect(noTarget.stderr).toContain('voxctl tunnel up');
    expect(hook.requests).toHaveLength(0);

    hook.respond(() => ({ body: {} }));
    const event = await local(['webhook', 'replay', 'abcd2222', '--url', `${hook.url}/api/vapi/tools`, '--json']);
    expect(event.exitCode, event.stderr).toBe(0);
    expect(event.json()).toMatchObject({ ok: true, type: 'status-update', status: 200, original: { status: 200 } });
  });
});

describe('webhook test: a stale WEBHOOK_URL while a receiver runs here', () => {
  let cwd: string;
  beforeEach(() => {
    cwd = mkdtempSync(path.join(os.tmpdir(), 'voxctl-stale-'));
  });
  afterEach(() => rmSync(cwd, { recursive: true, force: true }));

  it('names the running receiver (receiver.json) and how to test it when the configured URL does not answer', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const stale = `http://127.0.0.1:${port}/api/vapi/tools`;
    // What a running `tunnel up` publishes; this process wrote it, so it counts as alive.
    const dataDir = path.join(cwd, '.voxctl');
    mkdirSync(dataDir);
    const remove = writeReceiverState(dataDir, { pid: process.pid, since: NOW.toISOString(), localUrl: hook.url, publicUrl: null, webhookUrl: null, store: 'embedded store' });
    try {
      const run = (json: boolean) =>
        runCli(['webhook', 'test', 'bookClinicAppointment', '--assistant-id', ASSISTANT, ...(json ? ['--json'] : [])], { env: { WEBHOOK_URL: stale }, now, cwd });
      const r = await run(true);
      expect(r.exitCode).toBe(1);
      const err = r.json<{ error: { code: string; hint: string } }>().error;
      expect(err.code).toBe('unreachable');
      expect(err.hint).toContain(`A voxctl receiver is running on this machine (pid ${process.pid}, ${hook.url})`);
      expect(err.hint).toContain(`\`--url ${hook.url}/api/vapi/tools/bookClinicAppointment\``);
      expect(err.hint).toContain('restart `voxctl tunnel up`');
      const human = await run(false);
      expect(human.stdout).toContain('A voxctl receiver is running on this machine');
      expect(hook.requests).toHaveLength(0);
    } finally {
      remove();
    }
    // Without a running receiver: the usual hint.
    const none = await runCli(['webhook', 'test', 'bookClinicAppointment', '--assistant-id', ASSISTANT, '--json'], { env: { WEBHOOK_URL: stale }, now, cwd });
    expect(none.json<{ error: { hint: string } }>().error.hint).not.toContain('receiver is running');
  });
});
