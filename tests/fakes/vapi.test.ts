/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of many shapes */
/**
 * The fake Vapi must behave like the real API (shared/vapi-reference.md), or the sync tests
 * prove nothing. Exercised through the msw adapter with fetch, and once over real loopback HTTP.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { deferred } from '../helpers/events.js';
import { createMswServer } from '../msw/server.js';
import { FAKE_VAPI_URL, FakeVapi, startFakeVapiServer, UNAUTHORIZED_BODY, vapiHandlers } from './vapi.js';

let fake = new FakeVapi();
const msw = createMswServer(...vapiHandlers({ handle: (r) => fake.handle(r) } as FakeVapi));
beforeAll(() => msw.listen());
afterAll(() => msw.close());
beforeEach(() => {
  fake = new FakeVapi();
});
afterEach(() => msw.reset());

async function call(method: string, path: string, body?: unknown, key: string | null = fake.apiKey) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${FAKE_VAPI_URL}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe('auth', () => {
  it('answers 401 with the real body for a wrong or missing key', async () => {
    for (const key of ['wrong-key-123456', null]) {
      const r = await call('GET', '/assistant', undefined, key);
      expect(r.status).toBe(401);
      expect(r.body).toEqual(UNAUTHORIZED_BODY);
    }
  });
});

describe('lists', () => {
  it('returns a bare array, 100 by default, newest first', async () => {
    for (let i = 0; i < 150; i++) fake.addAssistant({ name: `a${i}` });
    const r = await call('GET', '/assistant');
    expect(r.status).toBe(200);
    expect(Array.isArray(r.body)).toBe(true);
    expect(r.body).toHaveLength(100);
    expect(r.body[0].name).toBe('a149');
    const created = r.body.map((a: any) => a.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
  });

  it('accepts limit up to 1000 and rejects more or negative with a NestJS 400', async () => {
    for (let i = 0; i < 1200; i++) fake.addTool();
    expect((await call('GET', '/tool?limit=1000')).body).toHaveLength(1000);
    expect((await call('GET', '/tool?limit=0')).body).toHaveLength(0);
    const over = await call('GET', '/tool?limit=1001');
    expect(over.status).toBe(400);
    expect(over.body).toEqual({ message: ['limit must not be greater than 1000'], error: 'Bad Request', statusCode: 400 });
    expect((await call('GET', '/tool?limit=-1')).status).toBe(400);
  });

  it('applies createdAt and updatedAt filters', async () => {
    const a = fake.addPhoneNumber();
    const b = fake.addPhoneNumber();
    const c = fake.addPhoneNumber();
    const ids = (r: any) => r.body.map((x: any) => x.id);
    expect(ids(await call('GET', `/phone-number?createdAtLt=${b.createdAt}`))).toEqual([a.id]);
    expect(ids(await call('GET', `/phone-number?createdAtLe=${b.createdAt}`))).toEqual([b.id, a.id]);
    expect(ids(await call('GET', `/phone-number?createdAtGt=${b.createdAt}`))).toEqual([c.id]);
    expect(ids(await call('GET', `/phone-number?createdAtGe=${b.createdAt}`))).toEqual([c.id, b.id]);
    await call('PATCH', `/phone-number/${a.id}`, { provider: 'twilio', name: 'x' });
    expect(ids(await call('GET', `/phone-number?updatedAtGt=${c.updatedAt}`))).toEqual([a.id]);
    expect((await call('GET', '/phone-number?createdAtLt=yesterday')).status).toBe(400);
  });

  it('can stamp several writes in one millisecond (ties, as a bulk import has)', async () => {
    fake = new FakeVapi({ writesPerMs: 3 });
    const stamps = [0, 1, 2, 3].map(() => String(fake.addTool().createdAt));
    expect(stamps[0]).toBe(stamps[2]);
    expect(stamps[3]! > stamps[2]!).toBe(true);
  });

  it('can sort ascending instead', async () => {
    fake.sortOrder = 'asc';
    const a = fake.addAssistant();
    fake.addAssistant();
    expect((await call('GET', '/assistant')).body[0].id).toBe(a.id);
  });
});

describe('create and get', () => {
  it('creates with 201, a uuid, orgId and ISO timestamps with ms', async () => {
    const r = await call('POST', '/assistant', { name: 'Sarah', model: { provider: 'openai', model: 'gpt-4o' } });
    expect(r.status).toBe(201);
    expect(r.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r.body.orgId).toBe(fake.orgId);
    expect(r.body.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(r.body.updatedAt).toBe(r.body.createdAt);
    expect((await call('GET', `/assistant/${r.body.id}`)).body).toEqual(r.body);
  });

  it('rejects read-only fields on create', async () => {
    const r = await call('POST', '/tool', { id: 'x', type: 'function', function: { name: 'f' } });
    expect(r.status).toBe(400);
    expect(r.body.message).toEqual(['property id should not exist']);
  });

  it('takes a custom transcriber Server and validates nested Servers like the top-level one', async () => {
    const ok = await call('POST', '/assistant', { name: 'Sarah', transcriber: { provider: 'custom-transcriber', server: { url: 'https://stt.example.com' } } });
    expect(ok.status).toBe(201);
    const bad = await call('POST', '/assistant', { name: 'Sarah', voice: { provider: 'custom-voice', server: { url: 'https://tts.example.com', secret: 's' } } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toEqual(['voice.server.property secret should not exist']);
  });

  it('rejects unknown properties on create, top-level and nested, like the real API (forbidNonWhitelisted)', async () => {
    const r = await call('POST', '/assistant', { name: 'Sarah', somethingNew: 1, voice: { provider: '11labs', voiceId: 'burt', bogus: true } });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: ['property somethingNew should not exist', 'voice.property bogus should not exist'], error: 'Bad Request', statusCode: 400 });
    expect(fake.all('assistant')).toEqual([]);
    expect((await call('POST', '/phone-number', { number: '+14155550100' })).body.message).toEqual([expect.stringMatching(/^provider must be one of/)]);
    expect((await call('POST', '/tool', { type: 'function', function: { name: 'f' }, url: 'https://x' })).body.message).toEqual(['property url should not exist']);
  });

  it('answers 404 in NestJS form for an unknown id', async () => {
    for (const path of ['/assistant/nope', '/tool/nope', '/phone-number/nope']) {
      const r = await call('GET', path);
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ error: 'Not Found', statusCode: 404 });
      expect((await call('PATCH', path, { name: 'x' })).status).toBe(404);
    }
  });
});

describe('PATCH', () => {
  it('is a shallow merge in which each given nested object replaces the stored one whole', async () => {
    const a = fake.addAssistant({
      server: { url: 'https://old', timeoutSeconds: 20, headers: { 'X-Env': 'prod' } },
      metadata: { team: 'blue' },
    });
    const r = await call('PATCH', `/assistant/${a.id}`, { server: { url: 'https://new' } });
    expect(r.status).toBe(200);
    expect(r.body.server).toEqual({ url: 'https://new' });
    expect(r.body.model).toEqual(a.model);
    expect(r.body.metadata).toEqual({ team: 'blue' });
    expect(r.body.updatedAt > String(a.updatedAt)).toBe(true);
    expect(fake.get('assistant', String(a.id))).toEqual(r.body);
    // A partial model wipes the system prompt, as the real API does.
    const m = await call('PATCH', `/assistant/${a.id}`, { model: { provider: 'openai', model: 'gpt-4o' } });
    expect(m.body.model.messages).toBeUndefined();
  });

  it.each([
    [{ id: 'x' }, 'property id should not exist'],
    [{ orgId: 'x' }, 'property orgId should not exist'],
    [{ createdAt: 'x' }, 'property createdAt should not exist'],
    [{ updatedAt: 'x' }, 'property updatedAt should not exist'],
    [{ serverUrl: 'https://x' }, 'property serverUrl should not exist'],
    [{ serverUrlSecret: 's' }, 'property serverUrlSecret should not exist'],
    [{ isServerUrlSecretSet: true }, 'property isServerUrlSecretSet should not exist'],
    [{ server: { url: 'https://x', secret: 's' } }, 'server.property secret should not exist'],
    [{ server: { url: 'https://x', timeoutSeconds: 301 } }, 'server.timeoutSeconds must not be greater than 300'],
    [{ server: { url: 'https://x', timeoutSeconds: 0 } }, 'server.timeoutSeconds must not be less than 1'],
    [{ name: 'x'.repeat(41) }, 'name must be shorter than or equal to 40 characters'],
    [{ model: { tools: [{ type: 'function', serverUrl: 'https://x' }] } }, 'model.each value in tools.property serverUrl should not exist'],
    // No field of UpdateAssistantDTO is nullable in the OAS: null is refused, never "remove".
    [{ server: null }, 'server must be an object'],
    [{ metadata: null }, 'metadata must be an object'],
    [{ firstMessage: null }, 'firstMessage should not be null or undefined'],
    [{ server: { url: null } }, 'server.url must be a string'],
  ])('rejects %j on an assistant with a NestJS 400', async (body, message) => {
    const a = fake.addAssistant();
    const r = await call('PATCH', `/assistant/${a.id}`, body);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ message: [message], error: 'Bad Request', statusCode: 400 });
    expect(fake.get('assistant', String(a.id))).toEqual(a);
  });

  it('refuses server: null on tools and phone numbers too; an empty Server (every field optional) is taken', async () => {
    const t = fake.addTool({ server: { url: 'https://old/tool' } });
    const p = fake.addPhoneNumber({ server: { url: 'https://old/phone' } });
    const bad = await call('PATCH', `/tool/${t.id}`, { server: null });
    expect(bad.body).toEqual({ message: ['server must be an object'], error: 'Bad Request', statusCode: 400 });
    expect((await call('PATCH', `/phone-number/${p.id}`, { provider: p.provider, server: null })).status).toBe(400);
    expect(fake.get('tool', String(t.id))!.server).toEqual({ url: 'https://old/tool' });
    const empty = await call('PATCH', `/tool/${t.id}`, { server: {} });
    expect(empty.status).toBe(200);
    expect(empty.body.server).toEqual({});
  });

  it('rejects a spread GET body with every read-only key listed', async () => {
    const a = fake.addAssistant({ isServerUrlSecretSet: false });
    const r = await call('PATCH', `/assistant/${a.id}`, a);
    expect(r.status).toBe(400);
    expect(r.body.message).toEqual(expect.arrayContaining(['property id should not exist', 'property orgId should not exist', 'property isServerUrlSecretSet should not exist']));
  });

  it('tools: accepts an unchanged type, rejects a changed one, whitelists by tool type', async () => {
    const t = fake.addTool({ server: { url: 'https://old/book' } });
    expect((await call('PATCH', `/tool/${t.id}`, { type: 'function', server: { url: 'https://n/book' } })).status).toBe(200);
    expect((await call('PATCH', `/tool/${t.id}`, { type: 'apiRequest' })).status).toBe(400);
    expect((await call('PATCH', `/tool/${t.id}`, { url: 'https://x' })).body.message).toEqual(['property url should not exist']);
    const api = fake.addTool({ type: 'apiRequest', url: 'https://a', method: 'POST' });
    expect((await call('PATCH', `/tool/${api.id}`, { url: 'https://b' })).status).toBe(200);
  });

  it('phone numbers: accepts the same provider, rejects a changed one and serverUrl', async () => {
    const p = fake.addPhoneNumber();
    expect((await call('PATCH', `/phone-number/${p.id}`, { provider: 'twilio', server: { url: 'https://n' } })).status).toBe(200);
    expect((await call('PATCH', `/phone-number/${p.id}`, { provider: 'vonage' })).status).toBe(400);
    expect((await call('PATCH', `/phone-number/${p.id}`, { provider: 'twilio', serverUrl: 'https://x' })).body.message).toEqual(['property serverUrl should not exist']);
    // Without `provider` the API cannot pick the update DTO.
    const bare = await call('PATCH', `/phone-number/${p.id}`, { server: { url: 'https://n' } });
    expect(bare.status).toBe(400);
    expect(bare.body.message).toEqual([expect.stringMatching(/^provider must be one of the following values/)]);
  });

  it('rejects unknown nested keys in voice, model and transcriber', async () => {
    const a = fake.addAssistant();
    const r = await call('PATCH', `/assistant/${a.id}`, { voice: { provider: '11labs', voiceId: 'burt', bogus: 1 }, model: { provider: 'openai', model: 'gpt-4o', nope: true } });
    expect(r.status).toBe(400);
    expect(r.body.message).toEqual(expect.arrayContaining(['voice.property bogus should not exist', 'model.property nope should not exist']));
    expect(fake.get('assistant', String(a.id))).toEqual(a);
  });

  it('logs every request with method, path, query and body', async () => {
    const a = fake.addAssistant();
    await call('GET', '/assistant?limit=5');
    await call('PATCH', `/assistant/${a.id}`, { name: 'B' });
    expect(fake.requests().map((r) => [r.method, r.path, r.query, r.body, r.status])).toEqual([
      ['GET', '/assistant', { limit: '5' }, undefined, 200],
      ['PATCH', `/assistant/${a.id}`, {}, { name: 'B' }, 200],
    ]);
  });
});

describe('injection', () => {
  it('fails chosen ids with a status, N times or for good', async () => {
    const a = fake.addAssistant();
    const b = fake.addAssistant();
    fake.fail({ kind: 'assistant', id: String(a.id), status: 503, times: 2 });
    fake.fail({ method: 'PATCH', id: String(b.id), status: 500 });
    expect((await call('GET', `/assistant/${a.id}`)).status).toBe(503);
    expect((await call('GET', `/assistant/${a.id}`)).status).toBe(503);
    expect((await call('GET', `/assistant/${a.id}`)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await call('PATCH', `/assistant/${b.id}`, { name: 'x' })).status).toBe(500);
    expect((await call('GET', `/assistant/${b.id}`)).status).toBe(200);
  });

  it('answers 429 with Retry-After beyond the concurrency cap', async () => {
    // The answers within the cap are held until all four requests have arrived.
    const allIn = deferred();
    fake = new FakeVapi({ latencyMs: 30, sleep: () => allIn.promise });
    let arrived = 0;
    fake.onRequest = () => void (++arrived === 4 && allIn.resolve());
    fake.concurrencyCap = 2;
    fake.retryAfterSeconds = 3;
    fake.addAssistant();
    const all = await Promise.all([1, 2, 3, 4].map(() => call('GET', '/assistant')));
    const limited = all.filter((r) => r.status === 429);
    expect(limited).toHaveLength(2);
    expect(limited[0]!.headers.get('retry-after')).toBe('3');
    expect(fake.maxInFlight).toBe(4);
  });

  it('drops the connection for a network failure', async () => {
    fake.fail({ status: 'network-error', times: 1 });
    await expect(call('GET', '/assistant')).rejects.toThrow();
    expect((await call('GET', '/assistant')).status).toBe(200);
  });
});

describe('over real loopback HTTP', () => {
  it('serves the same API on 127.0.0.1 port 0 with latency', async () => {
    // The latency is a wait the test controls: the answer is held until it is released.
    const waits: number[] = [];
    const asleep = deferred();
    const wake = deferred();
    const srv = await startFakeVapiServer({
      latencyMs: 20,
      sleep: (ms) => {
        waits.push(ms);
        asleep.resolve();
        return wake.promise;
      },
    });
    try {
      const t = srv.fake.addTool();
      let answered = false;
      const pending = fetch(`${srv.url}/tool/${t.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${srv.fake.apiKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ server: { url: 'https://x/y' } }) }).then(
        (r) => ((answered = true), r),
      );
      await asleep.promise;
      expect(waits).toEqual([20]);
      expect(answered).toBe(false);
      wake.resolve();
      const res = await pending;
      expect(res.status).toBe(200);
      expect(((await res.json()) as any).server).toEqual({ url: 'https://x/y' });
      srv.fake.fail({ status: 'network-error', times: 1 });
      await expect(fetch(`${srv.url}/tool`, { headers: { authorization: `Bearer ${srv.fake.apiKey}` } })).rejects.toThrow();
    } finally {
      await srv.close();
    }
  });
});
