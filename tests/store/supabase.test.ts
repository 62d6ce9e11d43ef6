import type { PGlite } from '@electric-sql/pglite';
import { http, HttpResponse } from 'msw';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, AuthError, ConflictError, type VoxError } from '../../src/errors.js';
import { createSupabaseStore } from '../../src/store/supabase.js';
import type { Store } from '../../src/store/types.js';
import { Redactor } from '../../src/util/mask.js';
import { createPostgrestFake, type PostgrestFake } from '../fakes/postgrest.js';
import { createMswServer } from '../msw/server.js';
import { createPgTestDb as createTestDb, resetPgDb as resetDb } from '../helpers/pg.js';
import { describeStoreContract } from './store-contract.js';

const URL_MAIN = 'https://voxctl-main.supabase.co';
const URL_EMPTY = 'https://voxctl-empty.supabase.co';
const URL_SMALL = 'https://voxctl-small.supabase.co';
const URL_DOWN = 'https://voxctl-down.supabase.co';
const URL_ECHO = 'https://voxctl-echo.supabase.co';
const KEY = 'sb_secret_Zq8vT3kLmN0pQrStUvWx12345';
const ORG = '0a000000-0000-4000-8000-00000000000a';

let db: PGlite;
let fake: PostgrestFake;
let fakeEmpty: PostgrestFake;
let fakeSmall: PostgrestFake;
const msw = createMswServer();

beforeAll(async () => {
  db = await createTestDb();
  // An exposed schema with none of voxctl's tables or functions: "schema not applied".
  await db.exec('create schema if not exists voxctl_empty');
  fake = createPostgrestFake({ db, url: URL_MAIN, serviceRoleKey: KEY });
  fakeEmpty = createPostgrestFake({ db, url: URL_EMPTY, serviceRoleKey: KEY, pgSchema: 'voxctl_empty' });
  fakeSmall = createPostgrestFake({ db, url: URL_SMALL, serviceRoleKey: KEY, maxRows: 3 });
  msw.server.use(...fake.handlers, ...fakeEmpty.handlers, ...fakeSmall.handlers);
  msw.listen();
});
afterAll(async () => {
  msw.close();
  await db?.close();
});

const open = (url = URL_MAIN, key = KEY, extra: { retry?: boolean } = {}) =>
  createSupabaseStore({ url, serviceRoleKey: key, redactor: new Redactor(), ...extra });

async function failure(fn: () => Promise<unknown>): Promise<VoxError> {
  try {
    await fn();
  } catch (e) {
    return e as VoxError;
  }
  throw new Error('expected the call to fail');
}

describeStoreContract('Supabase (supabase-js → msw PostgREST fake → PGlite)', async () => ({
  store: await open(),
  query: async <T>(sql: string) => (await db.query<T>(sql)).rows,
  reset: () => resetDb(db),
}));

describe('Supabase store specifics', () => {
  let store: Store;
  beforeAll(async () => {
    store = await open();
  });
  beforeEach(async () => {
    await resetDb(db);
    fake.clear();
    msw.server.resetHandlers(...fake.handlers, ...fakeEmpty.handlers, ...fakeSmall.handlers);
  });

  it('creates the client on Node 20 without a global WebSocket and opens no realtime connection', async () => {
    // Node 20 has no global WebSocket; supabase-js's realtime client would throw in createClient.
    if (Number(process.versions.node.split('.')[0]) < 22) expect(globalThis.WebSocket).toBeUndefined();
    const s = await open();
    expect(s.kind).toBe('supabase');
    expect(s.description).toBe('Supabase project at voxctl-main.supabase.co');
    await s.listOrgs();
    // Only Data API requests were made (msw fails the test on anything unhandled, e.g. /realtime).
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /organizations']);
    await s.close();
    await s.close();
  });

  it('sends the key as apikey and bearer token', async () => {
    await store.getOrg(ORG);
    const r = fake.requests[0]!;
    expect(r.headers.apikey).toBe(KEY);
    expect(r.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(r.query.get('id')).toBe(`eq.${ORG}`);
  });

  it('links with an upsert on (org_id, type): on_conflict, Prefer and a single-object Accept', async () => {
    await store.addOrg({ id: ORG, name: 'Alpha' });
    fake.clear();
    await store.linkAgent({ orgId: ORG, type: 'inbound', vapiAssistantId: 'asst_1' });
    const writes = fake.requests.filter((r) => r.method === 'POST');
    expect(writes).toHaveLength(1);
    const w = writes[0]!;
    expect(w.path).toBe('/agents');
    expect(w.query.get('on_conflict')).toBe('org_id,type');
    expect(w.prefer).toEqual(expect.arrayContaining(['resolution=merge-duplicates', 'return=representation']));
    expect(w.headers.accept).toBe('application/vnd.pgrst.object+json');
    expect(w.query.get('select')).toBe('org_id,type,vapi_assistant_id,created_at,updated_at,organizations(name)');
    expect(w.body).toEqual({ org_id: ORG, type: 'inbound', vapi_assistant_id: 'asst_1' });
    // The pre-checks are reads, in the embedded store's order: the org, then the assistant.
    expect(fake.requests.slice(0, 2).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /organizations', 'GET /agents']);
  });

  it('adds an org with a plain insert (no on_conflict) that returns the row', async () => {
    await store.addOrg({ name: 'Alpha' });
    const w = fake.requests[0]!;
    expect(w.method).toBe('POST');
    expect(w.query.has('on_conflict')).toBe(false);
    expect(w.prefer).toEqual(['return=representation']);
    expect(w.body).toEqual({ name: 'Alpha', timezone: 'UTC', settings: {} });
  });

  it('imports through one rpc call carrying every row', async () => {
    const rows = [{ org_id: ORG, org_name: 'Alpha', type: 'inbound', vapi_assistant_id: 'asst_1' }];
    await store.importAgents(rows);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /rpc/voxctl_import_agents']);
    expect(fake.requests[0]!.body).toEqual({ p_rows: rows });
  });

  it('lists page by page with an exact count, ordered by org name', async () => {
    await store.listAgents({ orgId: ORG });
    const r = fake.requests[0]!;
    expect(r.query.get('order')).toBe('organizations(name).asc,org_id.asc,type.asc');
    expect(r.query.get('org_id')).toBe(`eq.${ORG}`);
    expect(r.query.get('offset')).toBe('0');
    expect(r.query.get('limit')).toBe('1000');
    expect(r.prefer).toEqual(['count=exact']);
  });

  it('reads every row when the project caps responses below the page size (max-rows 3)', async () => {
    const small = await open(URL_SMALL);
    for (let i = 0; i < 7; i++) await store.addOrg({ name: `Org ${i}` });
    fakeSmall.clear();
    const orgs = await small.listOrgs();
    expect(orgs.map((o) => o.name)).toEqual(['Org 0', 'Org 1', 'Org 2', 'Org 3', 'Org 4', 'Org 5', 'Org 6']);
    expect(fakeSmall.requests.map((r) => [r.query.get('offset'), r.status])).toEqual([
      ['0', 206],
      ['3', 200],
      ['6', 200],
    ]);
  });

  it('maps a rejected key (401) to AuthError, exit 4, with a hint naming SUPABASE_SERVICE_ROLE_KEY', async () => {
    const wrong = 'sb_secret_WRONGwrongWRONGwrong0000';
    const s = await open(URL_MAIN, wrong);
    const e = await failure(() => s.listOrgs());
    expect(e).toBeInstanceOf(AuthError);
    expect(e.exitCode).toBe(4);
    expect(e.message).toBe('Supabase rejected the service-role key (HTTP 401: Invalid API key).');
    expect(e.hint).toContain('SUPABASE_SERVICE_ROLE_KEY');
    expect(fake.requests[0]!.status).toBe(401);
  });

  it('refuses an anon key before any request', async () => {
    const payload = Buffer.from(JSON.stringify({ role: 'anon', iss: 'supabase' })).toString('base64url');
    const anonJwt = `eyJhbGciOiJIUzI1NiJ9.${payload}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
    const e = await failure(() => open(URL_MAIN, anonJwt));
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toContain('anon');
    expect(e.message).not.toContain(anonJwt);
    expect(fake.requests).toHaveLength(0);
  });

  it('says to apply `voxctl db schema` when the functions or tables are missing', async () => {
    const s = await open(URL_EMPTY);
    const imp = await failure(() => s.importAgents([{ org_id: ORG, org_name: 'A', type: 'inbound', vapi_assistant_id: 'a' }]));
    expect(imp).toBeInstanceOf(ApiError);
    expect(imp.code).toBe('schema_missing');
    expect(imp.message).toContain('Could not find the function public.voxctl_import_agents(p_rows)');
    expect(imp.hint).toMatch(/apply `voxctl db schema` in the Supabase SQL editor/i);
    const list = await failure(() => s.listOrgs());
    expect(list.code).toBe('schema_missing');
    expect(list.message).toContain("Could not find the table 'public.organizations'");
    expect(fakeEmpty.requests.map((r) => r.status)).toEqual([404, 404]);
  });

  it('names the host when Supabase cannot be reached', async () => {
    msw.server.use(http.all(`${URL_DOWN}/rest/v1/*`, () => HttpResponse.error()));
    const s = await open(URL_DOWN, KEY, { retry: false });
    for (const call of [() => s.bookSlot({ orgId: ORG, startsAt: '2030-01-07T09:00:00Z', email: 'a@b.co', name: 'A' }), () => s.listOrgs()]) {
      const e = await failure(call);
      expect(e).toBeInstanceOf(ApiError);
      expect(e.code).toBe('network');
      expect(e.message).toMatch(/^Cannot reach Supabase at voxctl-down\.supabase\.co while trying to (book the slot|list organizations): /);
      expect(e.hint).toContain('SUPABASE_URL');
    }
  });

  it('maps 23505 to ConflictError and 23503 to NotFoundError through PostgREST', async () => {
    await store.addOrg({ id: ORG, name: 'Alpha' });
    const dup = await failure(() => store.addOrg({ id: ORG, name: 'Again' }));
    expect(dup).toBeInstanceOf(ConflictError);
    expect(fake.requests.at(-1)!.status).toBe(409);
  });

  it('turns a 5xx into an ApiError with the status', async () => {
    msw.server.use(http.all(`${URL_ECHO}/rest/v1/*`, () => HttpResponse.json({ message: 'upstream timeout' }, { status: 503 })));
    const e = await failure(() => open(URL_ECHO).then((s) => s.importAgents([])));
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(503);
    expect(e.message).toContain('HTTP 503');
  });

  it('never puts the key in an error message or hint, even when the server echoes it', async () => {
    const redactor = new Redactor();
    const echo = await createSupabaseStore({ url: URL_ECHO, serviceRoleKey: KEY, redactor, retry: false });
    const errors: VoxError[] = [];
    msw.server.use(
      http.post(`${URL_ECHO}/rest/v1/rpc/voxctl_import_agents`, () =>
        HttpResponse.json({ code: 'XX000', message: `internal: apikey=${KEY}`, details: `Bearer ${KEY}`, hint: `use ${KEY}` }, { status: 500 }),
      ),
      http.post(`${URL_ECHO}/rest/v1/rpc/voxctl_book_slot`, () =>
        HttpResponse.json({ code: '23505', message: `duplicate key ${KEY}`, details: `Key (x)=(${KEY}) already exists.`, hint: null }, { status: 409 }),
      ),
      http.post(`${URL_ECHO}/rest/v1/rpc/voxctl_cancel_appointment`, () =>
        HttpResponse.json({ code: 'P0001', message: `raised ${KEY}`, details: null, hint: `hint ${KEY}` }, { status: 400 }),
      ),
      http.get(`${URL_ECHO}/rest/v1/*`, () => HttpResponse.json({ message: `Invalid API key ${KEY}` }, { status: 401 })),
    );
    errors.push(await failure(() => echo.importAgents([])));
    errors.push(await failure(() => echo.bookSlot({ orgId: ORG, startsAt: '2030-01-07T09:00:00Z', email: 'a@b.co', name: 'A' })));
    errors.push(await failure(() => echo.cancelAppointment({ orgId: ORG, email: 'a@b.co', startsAt: '2030-01-07T09:00:00Z' })));
    errors.push(await failure(() => echo.listOrgs()));
    // And the real paths: a wrong key, a missing schema, a constraint.
    errors.push(await failure(() => open(URL_MAIN, `${KEY}x`).then((s) => s.listOrgs())));
    errors.push(await failure(() => open(URL_EMPTY).then((s) => s.listOrgs())));
    await store.addOrg({ id: ORG, name: 'A' });
    errors.push(await failure(() => store.addOrg({ id: ORG, name: 'A' })));
    expect(errors.map((e) => e.constructor.name)).toEqual([
      'ApiError',
      'ConflictError',
      'ApiError',
      'AuthError',
      'AuthError',
      'ApiError',
      'ConflictError',
    ]);
    for (const e of errors) {
      const text = JSON.stringify({ m: e.message, h: e.hint, d: e.details });
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(KEY.slice(4, -4));
    }
    expect(errors[0]!.message).toContain('sb_s…2345');
  });

  it('tolerates a SUPABASE_URL with a trailing /rest/v1/', async () => {
    const s = await open(`${URL_MAIN}/rest/v1/`);
    expect(await s.listOrgs()).toEqual([]);
    expect(fake.requests[0]!.path).toBe('/organizations');
  });
});

describe('PostgREST fake answers like PostgREST', () => {
  const call = (path: string, init: RequestInit & { key?: string | null } = {}) => {
    const headers = new Headers(init.headers);
    if (init.key !== null) {
      headers.set('apikey', init.key ?? KEY);
      headers.set('Authorization', `Bearer ${init.key ?? KEY}`);
    }
    if (init.body) headers.set('Content-Type', 'application/json');
    return fetch(`${URL_MAIN}/rest/v1${path}`, { ...init, headers });
  };
  beforeEach(async () => {
    await resetDb(db);
    msw.server.resetHandlers(...fake.handlers, ...fakeEmpty.handlers, ...fakeSmall.handlers);
  });

  it('wants an apikey and a bearer token', async () => {
    const none = await call('/organizations', { key: null });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' });
    const noBearer = await fetch(`${URL_MAIN}/rest/v1/organizations`, { headers: { apikey: KEY } });
    expect(noBearer.status).toBe(401);
    expect(((await noBearer.json()) as { code: string }).code).toBe('PGRST302');
  });

  it('answers constraint errors with PostgREST bodies and statuses', async () => {
    const body = JSON.stringify({ id: ORG, name: 'A' });
    expect((await call('/organizations', { method: 'POST', body })).status).toBe(201);
    const dup = await call('/organizations', { method: 'POST', body });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toEqual({
      code: '23505',
      details: `Key (id)=(${ORG}) already exists.`,
      hint: null,
      message: 'duplicate key value violates unique constraint "organizations_pkey"',
    });
    const fk = await call('/agents', { method: 'POST', body: JSON.stringify({ org_id: '0f000000-0000-4000-8000-00000000000f', type: 'x', vapi_assistant_id: 'a' }) });
    expect(fk.status).toBe(409);
    expect(((await fk.json()) as { code: string }).code).toBe('23503');
    const bad = await call('/organizations?id=eq.not-a-uuid');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: '22P02', message: 'invalid input syntax for type uuid: "not-a-uuid"' });
  });

  it('answers 406 PGRST116 for a single object when there are no rows', async () => {
    const r = await call(`/organizations?id=eq.${ORG}`, { headers: { Accept: 'application/vnd.pgrst.object+json' } });
    expect(r.status).toBe(406);
    expect(await r.json()).toEqual({
      code: 'PGRST116',
      details: 'The result contains 0 rows',
      hint: null,
      message: 'JSON object requested, multiple (or no) rows returned',
    });
  });

  it('answers 404 PGRST202 for an unknown function and 404 PGRST205 for an unknown table', async () => {
    const fn = await call('/rpc/nope', { method: 'POST', body: JSON.stringify({ a: 1 }) });
    expect(fn.status).toBe(404);
    expect(await fn.json()).toMatchObject({ code: 'PGRST202', message: 'Could not find the function public.nope(a) in the schema cache' });
    const t = await call('/nope');
    expect(t.status).toBe(404);
    expect(((await t.json()) as { code: string }).code).toBe('PGRST205');
  });

  it('filters, orders, embeds and pages', async () => {
    for (const [id, name] of [
      ['0a000000-0000-4000-8000-00000000000a', 'Beta'],
      ['0b000000-0000-4000-8000-00000000000b', 'Alpha'],
      ['0c000000-0000-4000-8000-00000000000c', 'Gamma'],
    ]) {
      await call('/organizations', { method: 'POST', body: JSON.stringify({ id, name }) });
    }
    const r = await call('/organizations?select=name&name=in.(Alpha,"Gamma")&order=name.desc');
    expect(await r.json()).toEqual([{ name: 'Gamma' }, { name: 'Alpha' }]);
    expect(r.headers.get('content-range')).toBe('0-1/*');
    const neq = await call('/organizations?select=label:name&name=not.eq.Beta&order=name.asc&limit=1&offset=1');
    expect(await neq.json()).toEqual([{ label: 'Gamma' }]);
    await call('/agents', { method: 'POST', body: JSON.stringify({ org_id: '0c000000-0000-4000-8000-00000000000c', type: 'inbound', vapi_assistant_id: 'asst' }) });
    const emb = await call('/agents?select=type,org:organizations!inner(name)');
    expect(await emb.json()).toEqual([{ type: 'inbound', org: { name: 'Gamma' } }]);
  });

  it('refuses what it does not implement with a 400, so nothing passes by accident', async () => {
    for (const path of ['/organizations?name=like.A*', '/organizations?or=(name.eq.A,name.eq.B)', '/organizations?select=name::text', '/agents?organizations.name=eq.A']) {
      const r = await call(path);
      expect(r.status, path).toBe(400);
      expect(((await r.json()) as { code: string }).code, path).toBe('FAKE0');
    }
    const patch = await call('/organizations?id=eq.x', { method: 'PATCH', body: '{}' });
    expect(patch.status).toBe(400);
    const prefer = await call('/organizations', { headers: { Prefer: 'handling=strict' } });
    expect(prefer.status).toBe(400);
  });
});
