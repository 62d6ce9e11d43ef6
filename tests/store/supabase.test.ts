/**
 * The Supabase store against the real thing: supabase-js → the test gateway → PostgREST 12.0.2 →
 * Postgres (tests/supabase/stack.ts, started once per run). msw answers only what a real
 * service cannot be made to do on demand: 5xx bodies, echoed secrets, dropped connections.
 */
import net from 'node:net';
import { http, HttpResponse } from 'msw';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, AuthError, ConflictError, NotFoundError, UsageError, type VoxError } from '../../src/errors.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { createSupabaseStore } from '../../src/store/supabase.js';
import type { Store } from '../../src/store/types.js';
import { Redactor } from '../../src/util/mask.js';
import { createMswServer } from '../msw/server.js';
import { signJwt } from '../supabase/stack.js';
import { useProject, type TestProject } from '../supabase/project.js';
import { describeStoreContract } from './store-contract.js';
import { thrown } from '../helpers/thrown.js';

const URL_ECHO = 'https://voxctl-echo.supabase.co';
const ORG = '0a000000-0000-4000-8000-00000000000a';

const main = useProject();
const small = useProject({ maxRows: 100 });
const bare = useProject({ schema: 'none' });
const stale = useProject({ schema: 'stale' });
const msw = createMswServer();

beforeAll(() => msw.listen());
afterAll(() => msw.close());

/** A fetch that counts the requests the store makes (and makes them for real). */
function countingFetch() {
  const calls: string[] = [];
  const f: typeof fetch = (input, init) => {
    calls.push(`${init?.method ?? 'GET'} ${String(input instanceof Request ? input.url : input)}`);
    return fetch(input, init);
  };
  return { calls, fetch: f };
}

const open = (p: TestProject | string, key?: string, extra: { retry?: boolean; fetch?: typeof fetch; redactor?: Redactor } = {}) =>
  createSupabaseStore({
    url: typeof p === 'string' ? p : p.url,
    serviceRoleKey: key ?? main.current.keys.serviceRole,
    redactor: extra.redactor ?? new Redactor(),
    ...extra,
  });

const failure = (fn: () => Promise<unknown>) => thrown<VoxError>(fn);

describeStoreContract('Supabase (supabase-js → gateway → PostgREST 12 → Postgres)', async () => {
  const p = main.current;
  return {
    store: await open(p),
    query: async <T>(sql: string) => p.query<T>(sql),
    reset: async () => p.reset(),
  };
});

describe('Supabase store on the real service', () => {
  let store: Store;
  beforeAll(async () => {
    store = await open(main.current);
  });
  beforeEach(() => {
    main.current.reset();
    small.current.reset();
  });

  it('creates the client on Node 20 without a global WebSocket; the new-style secret key works too', async () => {
    if (Number(process.versions.node.split('.')[0]) < 22) expect(globalThis.WebSocket).toBeUndefined();
    const counted = countingFetch();
    const s = await open(main.current, main.current.keys.secret, { fetch: counted.fetch });
    expect(s.kind).toBe('supabase');
    expect(s.description).toBe(`Supabase project at ${new URL(main.current.url).host}`);
    await s.addOrg({ id: ORG, name: 'Alpha' });
    expect((await s.listOrgs()).map((o) => o.name)).toEqual(['Alpha']);
    // Only Data API requests (no realtime, no auth).
    expect(counted.calls.every((c) => c.includes('/rest/v1/'))).toBe(true);
    await s.close();
    await s.close();
  });

  it('tolerates a SUPABASE_URL with a trailing /rest/v1/', async () => {
    await store.addOrg({ id: ORG, name: 'Alpha' });
    const s = await open(`${main.current.url}/rest/v1/`);
    expect((await s.listOrgs()).map((o) => o.id)).toEqual([ORG]);
  });

  it('reads every row when PostgREST caps responses below the page size (max-rows 100)', async () => {
    const values = Array.from({ length: 250 }, (_, i) => `('Org ${String(i).padStart(3, '0')}')`).join(',');
    small.current.exec(`insert into organizations (name) values ${values};`);
    const s = await open(small.current);
    const orgs = await s.listOrgs();
    expect(orgs).toHaveLength(250);
    expect(orgs[0]!.name).toBe('Org 000');
    expect(orgs.at(-1)!.name).toBe('Org 249');
    expect(new Set(orgs.map((o) => o.id)).size).toBe(250);
  });

  it('maps a key the gateway rejects (401) to AuthError, exit 4, naming SUPABASE_SERVICE_ROLE_KEY', async () => {
    const wrong = signJwt({ role: 'service_role', iss: 'supabase' }, 'not-the-project-secret-0123456789abcdef');
    const e = await failure(async () => (await open(main.current, wrong)).listOrgs());
    expect(e).toBeInstanceOf(AuthError);
    expect(e.exitCode).toBe(4);
    expect(e.message).toBe('Supabase rejected the service-role key (HTTP 401: Invalid API key).');
    expect(e.hint).toContain('SUPABASE_SERVICE_ROLE_KEY');
  });

  it('refuses an anon key before any request', async () => {
    const counted = countingFetch();
    const e = await failure(() => open(main.current, main.current.keys.anon, { fetch: counted.fetch }));
    expect(e).toBeInstanceOf(AuthError);
    expect(e.message).toContain('anon');
    expect(e.message).not.toContain(main.current.keys.anon);
    expect(counted.calls).toEqual([]);
  });

  // Fault 6: a user's JWT (role authenticated) passed, and RLS made `orgs list` print nothing.
  it('refuses a key of any role but service_role before the first request (exit 4, naming the key to use)', async () => {
    await store.addOrg({ id: ORG, name: 'Alpha' });
    // What that key sees on PostgREST itself: nothing, thanks to RLS. That is why it must not pass.
    const seen = await fetch(`${main.current.postgrestUrl}/organizations`, { headers: { authorization: `Bearer ${main.current.keys.authenticated}` } });
    expect(await seen.json(), `PostgREST answered ${seen.status}`).toEqual([]);
    for (const key of [main.current.keys.authenticated, main.current.keys.missingRole]) {
      const counted = countingFetch();
      const e = await failure(() => open(main.current, key, { fetch: counted.fetch }));
      expect(e, String(e)).toBeInstanceOf(AuthError);
      expect(e.exitCode).toBe(4);
      expect(e.message).toMatch(/^SUPABASE_SERVICE_ROLE_KEY holds .+; voxctl needs the service_role key\.$/);
      expect(e.message).not.toContain(key.split('.')[1]!.slice(0, 20));
      expect(e.hint).toContain('service_role');
      expect(counted.calls).toEqual([]);
    }
    const auth = await failure(() => open(main.current, main.current.keys.authenticated));
    expect(auth.message).toContain('role authenticated');
  });

  // Fault 3: a key whose role the database does not have was a usage error (exit 2, a hint about org ids).
  it('reports a key whose role the database lacks as a credentials error (exit 4)', async () => {
    const s = await open(main.current, main.current.keys.secretMissingRole);
    for (const call of [() => s.listOrgs(), () => s.addOrg({ name: 'A' }), () => s.importAgents([])]) {
      const e = await failure(call);
      expect(e).toBeInstanceOf(AuthError);
      expect(e.exitCode).toBe(4);
      expect(e.message).toBe('Supabase has no database role for this key (role "voxctl_no_such_role" does not exist).');
      expect(e.hint).toContain('SUPABASE_SERVICE_ROLE_KEY');
      expect(e.hint).not.toMatch(/org ids/);
    }
  });

  // Fault 1: a write to a database without voxctl's schema got `404 {}` and "Check SUPABASE_URL".
  it('says the schema is missing (exit 2, apply `voxctl db schema`) for writes, reads and functions', async () => {
    const s = await open(bare.current);
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['add the organization', () => s.addOrg({ name: 'Alpha' })],
      ['list organizations', () => s.listOrgs()],
      ['import agents', () => s.importAgents([{ org_id: ORG, org_name: 'A', type: 'inbound', vapi_assistant_id: 'a' }])],
      ['check the organization', () => s.linkAgent({ orgId: ORG, type: 'inbound', vapiAssistantId: 'a' })],
    ];
    for (const [what, call] of calls) {
      const e = await failure(call);
      expect(e.code, what).toBe('schema_missing');
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain(`does not have voxctl's schema (could not ${what}`);
      expect(e.message).not.toMatch(/SUPABASE_URL/);
      expect(e.hint).toContain('voxctl db schema');
    }
    expect(await s.schemaVersion()).toBeNull();
  });

  it('says which version to apply when the schema is older than this voxctl', async () => {
    const p = bare.current;
    p.exec('create table voxctl_schema (version integer primary key, applied_at timestamptz not null default now()); insert into voxctl_schema values (2);');
    try {
      const e = await failure(async () => (await open(p)).addOrg({ name: 'Alpha' }));
      expect(e.code).toBe('schema_missing');
      expect(e.message).toContain(`schema version 2; this voxctl needs version ${SCHEMA_VERSION}`);
    } finally {
      p.exec('drop table voxctl_schema;');
    }
  });

  // Fault 2: "Could not find a relationship between 'agents' and 'organizations'" read as a missing schema.
  it("tells the user to reload PostgREST's schema cache when it is stale, and the reload fixes it", async () => {
    const p = stale.current;
    const s = await open(p);
    for (const [what, call] of [
      ['list agents', () => s.listAgents()],
      ['add the organization', () => s.addOrg({ name: 'Alpha' })],
    ] as const) {
      const e = await failure(call);
      expect(e.code, what).toBe('schema_cache_stale');
      expect(e.exitCode).toBe(1);
      expect(e.message).toContain(`its schema cache is stale (could not ${what}`);
      expect(e.hint).toContain("notify pgrst, 'reload schema'");
    }
    // Doing what the hint says works (PostgREST reloads asynchronously: bounded poll).
    p.exec("notify pgrst, 'reload schema';");
    const deadline = Date.now() + 15_000;
    for (;;) {
      const r = await s.listAgents().then(
        (x) => x,
        (e: VoxError) => e,
      );
      if (Array.isArray(r)) break;
      if (Date.now() > deadline) throw r;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect((await s.addOrg({ name: 'Alpha' })).name).toBe('Alpha');
  });

  // Fault 4: "Failing row contains (…)" — patients' emails and names — was copied into messages.
  it('names the constraint and the field of a check violation, never the row values', async () => {
    await store.addOrg({ id: ORG, name: 'Alpha' });
    const e = await failure(() => store.bookSlot({ orgId: ORG, startsAt: '2030-01-07T09:00:00.000Z', email: 'ann.patient-at-example', name: 'Ann Patient', phone: '+15550101' }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe('Invalid value: contacts.email fails check constraint contacts_email_check.');
    const text = JSON.stringify({ m: e.message, h: e.hint, d: e.details });
    for (const value of ['ann.patient', 'Ann Patient', '15550101', 'Failing row']) expect(text).not.toContain(value);
    expect(main.current.query('select count(*)::int as n from contacts')).toEqual([{ n: 0 }]);
  });

  // Fault 5: malformed ids reached Postgres and came back as raw 22P02.
  it('checks ids as UUIDs before any query', async () => {
    const counted = countingFetch();
    const s = await open(main.current, undefined, { fetch: counted.fetch });
    const slot = { startsAt: '2030-01-07T09:00:00.000Z', email: 'a@b.co', name: 'A' };
    const book = await failure(() => s.bookSlot({ orgId: 'not-a-uuid', ...slot }));
    expect(book).toBeInstanceOf(NotFoundError);
    expect(book.message).toBe('Organization not-a-uuid does not exist.');
    const link = await failure(() => s.linkAgent({ orgId: 'nope', type: 'inbound', vapiAssistantId: 'a' }));
    expect(link).toBeInstanceOf(NotFoundError);
    const claim = { type: 'inbound', claimId: '00000000-0000-4000-8000-000000000001' };
    expect(await s.renewAgentClaim({ orgId: 'nope', ...claim, ttlSeconds: 60 })).toBe(false);
    expect(await s.completeAgentClaim({ orgId: 'nope', ...claim, assistantId: 'a' })).toEqual({ status: 'lost' });
    await s.releaseAgentClaim({ orgId: 'nope', ...claim });
    expect(await failure(() => s.claimAgentSlot({ orgId: 'nope', ...claim, holder: 'x', ttlSeconds: 60 }))).toBeInstanceOf(NotFoundError);
    const badClaim = await failure(() => s.claimAgentSlot({ orgId: ORG, type: 'inbound', claimId: 'xyz', holder: 'x', ttlSeconds: 60 }));
    expect(badClaim).toBeInstanceOf(UsageError);
    expect(await failure(() => s.renewAgentClaim({ orgId: ORG, type: 'inbound', claimId: 'xyz', ttlSeconds: 60 }))).toBeInstanceOf(UsageError);
    const imp = await failure(() => s.importAgents([{ org_id: ORG, type: 'a', vapi_assistant_id: 'x' }, { org_id: 'zzz', type: 'b', vapi_assistant_id: 'y' }]));
    expect(imp).toBeInstanceOf(UsageError);
    expect(imp.message).toBe('row 2: org_id "zzz" is not a valid uuid.');
    expect(await s.getOrg('nope')).toBeNull();
    expect(await s.listAgents({ orgId: 'nope' })).toEqual([]);
    expect(await s.cancelAppointment({ orgId: 'nope', email: 'a@b.co', startsAt: slot.startsAt })).toBe(false);
    for (const e of [book, link, badClaim, imp]) expect(`${e.message} ${e.hint}`).not.toMatch(/22P02|invalid input syntax/);
    expect(counted.calls).toEqual([]);
  });

  it('names the host when Supabase cannot be reached (a closed loopback port)', async () => {
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => srv.close(() => resolve()));
    const s = await open(`http://127.0.0.1:${port}`, undefined, { retry: false });
    for (const call of [() => s.bookSlot({ orgId: ORG, startsAt: '2030-01-07T09:00:00Z', email: 'a@b.co', name: 'A' }), () => s.listOrgs()]) {
      const e = await failure(call);
      expect(e).toBeInstanceOf(ApiError);
      expect(e.code).toBe('network');
      expect(e.message).toMatch(new RegExp(`^Cannot reach Supabase at 127\\.0\\.0\\.1:${port} while trying to (book the slot|list organizations): `));
      expect(e.hint).toContain('SUPABASE_URL');
    }
  });

  it('maps a duplicate id (409 23505) to ConflictError', async () => {
    await store.addOrg({ id: ORG, name: 'Alpha' });
    const dup = await failure(() => store.addOrg({ id: ORG, name: 'Again' }));
    expect(dup).toBeInstanceOf(ConflictError);
    expect(dup.message).toBe(`Organization ${ORG} already exists.`);
  });

  it('turns a 5xx into an ApiError with the status, and a dropped connection into a network error', async () => {
    msw.server.use(http.post(`${URL_ECHO}/rest/v1/rpc/voxctl_import_agents`, () => HttpResponse.json({ message: 'upstream timeout' }, { status: 503 })));
    const e = await failure(async () => (await open(URL_ECHO, undefined, { retry: false })).importAgents([]));
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(503);
    expect(e.message).toContain('HTTP 503');
    msw.server.use(http.get(`${URL_ECHO}/rest/v1/organizations`, () => HttpResponse.error()));
    const dropped = await failure(async () => (await open(URL_ECHO, undefined, { retry: false })).listOrgs());
    expect(dropped.code).toBe('network');
    msw.reset();
  });

  it('never puts the key in an error message or hint, even when the server echoes it', async () => {
    const KEY = main.current.keys.secret;
    const echo = await open(URL_ECHO, KEY, { retry: false });
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
    const errors: VoxError[] = [];
    errors.push(await failure(() => echo.importAgents([])));
    errors.push(await failure(() => echo.bookSlot({ orgId: ORG, startsAt: '2030-01-07T09:00:00Z', email: 'a@b.co', name: 'A' })));
    errors.push(await failure(() => echo.cancelAppointment({ orgId: ORG, email: 'a@b.co', startsAt: '2030-01-07T09:00:00Z' })));
    errors.push(await failure(() => echo.listOrgs()));
    msw.reset();
    // And the real paths: a wrong key, a missing schema, a constraint.
    errors.push(await failure(async () => (await open(main.current, `${KEY}x`)).listOrgs()));
    errors.push(await failure(async () => (await open(bare.current, KEY)).listOrgs()));
    const s = await open(main.current, KEY);
    await s.addOrg({ id: ORG, name: 'A' });
    errors.push(await failure(() => s.addOrg({ id: ORG, name: 'A' })));
    expect(errors.map((e) => e.code)).toEqual(['api', 'conflict', 'api', 'credentials', 'credentials', 'schema_missing', 'conflict']);
    for (const e of errors) {
      const text = JSON.stringify({ m: e.message, h: e.hint, d: e.details });
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(KEY.slice(4, -4));
    }
    expect(errors[0]!.message).toContain('sb_s…');
  });
});
