import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, AuthError, NotFoundError } from '../../src/errors.js';
import { Redactor } from '../../src/util/mask.js';
import { createVapiClient, parseRetryAfter } from '../../src/vapi/client.js';
import type { VapiResponseInfo } from '../../src/vapi/types.js';
import { FAKE_VAPI_URL, FakeVapi, vapiHandlers } from '../fakes/vapi.js';
import { createMswServer } from '../msw/server.js';

let fake = new FakeVapi();
const msw = createMswServer(...vapiHandlers({ handle: (r) => fake.handle(r) } as FakeVapi));
beforeAll(() => msw.listen());
afterAll(() => msw.close());
beforeEach(() => {
  fake = new FakeVapi();
});
afterEach(() => msw.reset());

function client(extra: Partial<Parameters<typeof createVapiClient>[0]> = {}) {
  const sleeps: number[] = [];
  const c = createVapiClient({
    baseURL: FAKE_VAPI_URL,
    apiKey: fake.apiKey,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 1,
    ...extra,
  });
  return { c, sleeps };
}

/** Every string an error carries, as main would render it (message, hint, details, cause). */
function everything(e: unknown): string {
  const err = e as Error & { hint?: string; details?: unknown };
  return JSON.stringify({ m: err.message, h: err.hint, d: err.details, s: err.stack, c: String(err.cause ?? '') });
}

describe('lists', () => {
  it('pages past 1000 items with limit=1000 then createdAtLe the oldest seen, each item once', async () => {
    for (let i = 0; i < 2345; i++) fake.addTool({ function: { name: `t${i}` } });
    const { c } = client();
    const tools = await c.listTools();
    expect(tools).toHaveLength(2345);
    expect(new Set(tools.map((t) => t.id)).size).toBe(2345);
    const gets = fake.requests('GET');
    expect(gets.every((r) => r.query.limit === '1000')).toBe(true);
    expect(gets[0]!.query.createdAtLe).toBeUndefined();
    expect(gets[1]!.query.createdAtLe).toBe(tools[999]!.createdAt);
    expect(gets.some((r) => r.query.createdAtLt !== undefined)).toBe(false);
    // The last page was short; one upward check covers an ascending server order.
    expect(gets.at(-1)!.query.createdAtGe).toBeDefined();
    expect(c.stats.requests).toBeLessThanOrEqual(5);
  });

  it('keeps items tied with the page boundary (1,001 assistants, three per millisecond → 1,001 listed)', async () => {
    fake = new FakeVapi({ writesPerMs: 3 });
    for (let i = 0; i < 1001; i++) fake.addAssistant({ name: `a${i}` });
    const { c } = client();
    const list = await c.listAssistants();
    expect(new Set(list.map((a) => a.id)).size).toBe(1001);
    expect(list).toHaveLength(1001);
    // Two pages and the upward check: the tie is handled without re-reading pages.
    expect(fake.requests('GET').length).toBeLessThanOrEqual(4);
  });

  it('lists a full page made of one createdAt by splitting it on updatedAt (1,001 tied → 1,001 listed, bounded)', async () => {
    const at = '2025-02-01T00:00:00.000Z';
    for (let i = 0; i < 1001; i++) {
      fake.addAssistant({ name: `a${i}`, createdAt: at, updatedAt: new Date(Date.parse(at) + Math.floor(i / 2)).toISOString() });
    }
    fake.addAssistant({ name: 'older', createdAt: '2025-01-15T00:00:00.000Z' });
    fake.addAssistant({ name: 'newer', createdAt: '2025-03-01T00:00:00.000Z' });
    const { c } = client();
    const list = await c.listAssistants();
    expect(new Set(list.map((a) => a.id)).size).toBe(1003);
    expect(fake.requests('GET').length).toBeLessThanOrEqual(10);
  });

  it('ties in the other sort order too (ascending, small pages)', async () => {
    fake = new FakeVapi({ writesPerMs: 4, sortOrder: 'asc' });
    for (let i = 0; i < 57; i++) fake.addTool({ function: { name: `t${i}` } });
    const { c } = client({ pageSize: 10 });
    expect(new Set((await c.listTools()).map((t) => t.id)).size).toBe(57);
  });

  it('refuses, naming the fix, when more than a page share both timestamps (no endless loop)', async () => {
    for (let i = 0; i < 12; i++) fake.addAssistant({ createdAt: '2025-02-01T00:00:00.000Z', updatedAt: '2025-02-01T00:00:00.000Z' });
    const { c } = client({ pageSize: 10 });
    await expect(c.listAssistants()).rejects.toThrow(/more than 10 share createdAt/);
    expect(fake.requests().length).toBeLessThanOrEqual(4);
  });

  it('makes one request when everything fits a page, and keeps every field verbatim', async () => {
    const a = fake.addAssistant({ voice: { provider: 'vapi', voiceId: 'Elliot', extra: { deep: [1, 2] } }, somethingNew: 'kept' });
    const { c } = client();
    const list = await c.listAssistants();
    expect(list).toEqual([a]);
    expect(fake.requests()).toHaveLength(1);
  });

  it('still gets everything when the server sorts ascending', async () => {
    fake.sortOrder = 'asc';
    for (let i = 0; i < 2100; i++) fake.addPhoneNumber();
    const { c } = client();
    expect(new Set((await c.listPhoneNumbers()).map((p) => p.id)).size).toBe(2100);
  });

  it('stops when the server ignores the filters (a full page that adds no new ids)', async () => {
    for (let i = 0; i < 25; i++) fake.addAssistant();
    const { c } = client({ pageSize: 10 });
    // A server that ignores createdAtLe answers the same first page again.
    const handle = fake.handle.bind(fake);
    fake.handle = (r) => handle({ ...r, query: new URLSearchParams({ limit: '10' }) });
    expect(await c.listAssistants()).toHaveLength(10);
    expect(fake.requests().length).toBeLessThanOrEqual(4);
  });
});

describe('get, create, patch', () => {
  it('gets by id and returns null on 404', async () => {
    const t = fake.addTool();
    const { c } = client();
    expect(await c.getTool(String(t.id))).toEqual(t);
    expect(await c.getTool('missing')).toBeNull();
    expect(await c.getAssistant('missing')).toBeNull();
    expect(await c.getPhoneNumber('missing')).toBeNull();
  });

  it('creates and patches, sending exactly the body given', async () => {
    const { c } = client();
    const a = await c.createAssistant({ name: 'Sarah' });
    expect(a.id).toBeTruthy();
    const p = await c.patchAssistant(a.id, { server: { url: 'https://x.test/api' } });
    expect(p.server).toEqual({ url: 'https://x.test/api' });
    expect(fake.requests('PATCH')[0]!.body).toEqual({ server: { url: 'https://x.test/api' } });
  });

  it('patch of an unknown id is a NotFoundError', async () => {
    const { c } = client();
    await expect(c.patchTool('nope', { server: { url: 'https://x' } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(c.patchPhoneNumber('nope', { name: 'x' })).rejects.toThrow(/no phone number with id nope/);
  });
});

describe('retries', () => {
  it('retries 5xx with exponential full-jitter backoff and succeeds', async () => {
    const t = fake.addTool();
    fake.fail({ id: String(t.id), status: 503, times: 3 });
    const { c, sleeps } = client({ retry: { baseDelayMs: 100, maxDelayMs: 1000 } });
    expect((await c.getTool(String(t.id)))?.id).toBe(t.id);
    expect(sleeps).toEqual([100, 200, 400]);
    expect(c.stats).toEqual({ requests: 4, retries: 3, rateLimited: 0 });
  });

  it('jitter draws from [0, ceiling]', async () => {
    fake.fail({ status: 500, times: 2 });
    const { c, sleeps } = client({ random: () => 0.25, retry: { baseDelayMs: 1000, maxDelayMs: 1500 } });
    await c.listAssistants();
    expect(sleeps).toEqual([250, 375]);
  });

  it('honours Retry-After in seconds and as an HTTP date', async () => {
    fake.fail({ status: 429, times: 1, retryAfter: '7' });
    const now = Date.parse('2025-06-01T12:00:00Z');
    const { c, sleeps } = client({ now: () => now });
    await c.listAssistants();
    expect(sleeps).toEqual([7000]);
    fake.fail({ status: 429, times: 1, retryAfter: new Date(now + 3000).toUTCString() });
    await c.listAssistants();
    expect(sleeps).toEqual([7000, 3000]);
    expect(c.stats.rateLimited).toBe(2);
    expect(parseRetryAfter('1.5', 0)).toBe(1500);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
  });

  it('gives up after the bounded attempts with a readable error', async () => {
    fake.fail({ status: 500 });
    const { c } = client({ retry: { maxAttempts: 3 } });
    const e = await c.listTools().catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.message).toBe('Vapi answered 500 to GET /tool: Internal Server Error.');
    expect(fake.requests()).toHaveLength(3);
  });

  it('does not wait out an absurd Retry-After', async () => {
    fake.fail({ status: 429, retryAfter: '3600' });
    const { c, sleeps } = client();
    await expect(c.listTools()).rejects.toThrow(/asked to wait 3600 s/);
    expect(sleeps).toEqual([]);
  });

  it('retries network errors for reads, never a create that may have reached the server', async () => {
    fake.fail({ method: 'GET', status: 'network-error', times: 2 });
    const { c } = client();
    expect(await c.listAssistants()).toEqual([]);
    fake.fail({ method: 'POST', status: 'network-error', times: 1 });
    const e = await c.createAssistant({ name: 'x' }).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.message).toMatch(/^Cannot reach Vapi at api\.vapi\.test \(POST \/assistant\)/);
    expect(e.hint).toMatch(/VAPI_BASE_URL/);
    expect(fake.requests('POST')).toHaveLength(1);
  });

  it('reports each response to listeners and to a gate', async () => {
    fake.fail({ status: 429, times: 1, retryAfter: '0' });
    const seen: VapiResponseInfo[] = [];
    const gated: number[] = [];
    const { c } = client({ onResponse: (i) => seen.push(i) });
    const off = c.onResponse!((i) => gated.push(-i.status));
    await c.listAssistants({ gate: { acquire: async () => (i) => gated.push(i.status) } });
    off();
    expect(seen.map((i) => [i.method, i.path, i.status, i.attempt])).toEqual([
      ['GET', '/assistant', 429, 1],
      ['GET', '/assistant', 200, 2],
    ]);
    expect(seen[0]!.retryAfterMs).toBe(0);
    expect(gated).toEqual([429, -429, 200, -200]);
  });
});

describe('errors', () => {
  it('401 is an AuthError (exit 4) with the hint and never the key', async () => {
    const key = 'sk-wrong-key-abcdefghijklmnop';
    const c = createVapiClient({ baseURL: FAKE_VAPI_URL, apiKey: key });
    const e = await c.listAssistants().catch((x) => x);
    expect(e).toBeInstanceOf(AuthError);
    expect(e.exitCode).toBe(4);
    expect(e.message).toContain('Invalid Key. Hot tip');
    expect(e.hint).toMatch(/private API key/);
    expect(everything(e)).not.toContain(key);
    expect(everything(e)).not.toMatch(/authorization|bearer/i);
  });

  it('400 lists the NestJS messages readably (array or string)', async () => {
    const a = fake.addAssistant();
    const { c } = client();
    const e = await c.patchAssistant(String(a.id), { id: 'x', serverUrl: 'https://x' }).catch((x) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e.status).toBe(400);
    expect(e.message).toBe(
      `Vapi rejected PATCH /assistant/${a.id} (400 Bad Request):\n  - property id should not exist\n  - property serverUrl should not exist`,
    );
    // A string message (the fake's injected 400s carry one) reads the same way.
    fake.fail({ status: 400, times: 1 });
    const e2 = await c.listTools().catch((x) => x);
    expect(e2.message).toBe('Vapi rejected GET /tool (400 Bad Request):\n  - Error');
    expect(e2.details).toEqual({ messages: ['Error'] });
  });

  it('no secret in any error: network, 5xx, 400, bad response', async () => {
    const redactor = new Redactor(['webhook-secret-value-xyz']);
    const { c } = client({ redactor, retry: { maxAttempts: 1 } });
    const errors: unknown[] = [];
    fake.fail({ status: 'network-error', times: 1 });
    errors.push(await c.listTools().catch((x) => x));
    fake.fail({ status: 502, times: 1 });
    errors.push(await c.listTools().catch((x) => x));
    const a = fake.addAssistant();
    errors.push(await c.patchAssistant(String(a.id), { server: { url: 'https://x', secret: 'webhook-secret-value-xyz' } }).catch((x) => x));
    for (const e of errors) {
      expect(e).toBeInstanceOf(ApiError);
      const s = everything(e);
      expect(s).not.toContain(fake.apiKey);
      expect(s).not.toContain('webhook-secret-value-xyz');
      expect(s).not.toMatch(/bearer/i);
    }
  });

  it('an unexpected response shape is a readable ApiError', async () => {
    fake.addTool({ createdAt: 12 as unknown as string });
    const { c } = client();
    await expect(c.listTools()).rejects.toThrow(/unexpected tool for GET \/tool item 0: createdAt/);
  });
});
