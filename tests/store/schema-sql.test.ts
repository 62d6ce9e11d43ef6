/**
 * templates/schema.sql, the Supabase schema (`voxctl db schema`), on the run's real Postgres
 * (tests/supabase/stack.ts), each case in a database of its own with Supabase's roles and default
 * privileges: applying it again changes nothing, it upgrades every older version in place to what
 * a fresh database gets, and only the service role may call its functions.
 * (tests/commands/db-migration.test.ts covers the same file as Supabase CLI migrations.)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSchemaSql, SCHEMA_VERSION } from '../../src/store/schema.js';
import { leaseProject, psql, releaseProject, stackInfo, useProject, type TestProject } from '../supabase/project.js';

const SQL = await readSchemaSql();
const V1 = readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema-v1.sql'), 'utf8');

/** The file as it was at an older version: cut before the part the next version added, plus its version row. */
function olderVersion(version: number, nextPart: string): string {
  const at = SQL.indexOf(nextPart);
  if (at < 0) throw new Error(`templates/schema.sql no longer has the line "${nextPart}": update this test.`);
  return `${SQL.slice(0, at)}\ninsert into voxctl_schema (version) values (${version}) on conflict (version) do nothing;\n`;
}
const V2 = olderVersion(2, '-- Version 3: claims on agent slots.');
const V3 = olderVersion(3, '-- Version 4:');
const V4 = olderVersion(4, '-- Version 5:');

/** The functions version 4 added (signatures as Postgres prints a regprocedure). */
const V4_FUNCTIONS = ['voxctl_remove_org(uuid,boolean)', 'voxctl_rename_org(uuid,text)', 'voxctl_unlink_agent(uuid,text)'];

/** Everything in schema public that voxctl's file makes: tables, columns, constraints, indexes, triggers, functions, grants. */
const CATALOG = `
with acl(obj, items) as (
  select c.oid, (select string_agg(a::text, ',' order by a::text) from unnest(c.relacl) a) from pg_class c
  union all
  select p.oid, (select string_agg(a::text, ',' order by a::text) from unnest(p.proacl) a) from pg_proc p
)
select kind, name, def from (
  select 'relation' as kind, c.relname::text as name, concat_ws(' ', c.relkind, 'rls=' || c.relrowsecurity, acl.items) as def
    from pg_class c join acl on acl.obj = c.oid
   where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'v', 'S')
  union all
  select 'column', c.relname || '.' || a.attname,
         concat_ws(' ', format_type(a.atttypid, a.atttypmod), case when a.attnotnull then 'not null' end, pg_get_expr(d.adbin, d.adrelid))
    from pg_attribute a join pg_class c on c.oid = a.attrelid left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
   where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
  union all
  select 'constraint', conrelid::regclass || '.' || conname, pg_get_constraintdef(oid) || ' deferrable=' || condeferrable || ' deferred=' || condeferred
    from pg_constraint where connamespace = 'public'::regnamespace
  union all
  select 'index', indexname::text, indexdef from pg_indexes where schemaname = 'public'
  union all
  select 'trigger', tgrelid::regclass || '.' || tgname, pg_get_triggerdef(oid)
    from pg_trigger where not tgisinternal and tgrelid in (select oid from pg_class where relnamespace = 'public'::regnamespace)
  union all
  select 'function', p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid)) || ' ' || coalesce(acl.items, 'default')
    from pg_proc p join acl on acl.obj = p.oid where p.pronamespace = 'public'::regnamespace
) x order by kind, name`;

/** Who may execute each voxctl_* function (trigger functions aside: no role calls those). */
const EXECUTORS = `
select p.oid::regprocedure::text as fn,
       has_function_privilege('service_role', p.oid, 'execute') as service_role,
       has_function_privilege('anon', p.oid, 'execute') as anon,
       has_function_privilege('authenticated', p.oid, 'execute') as authenticated
  from pg_proc p
 where p.pronamespace = 'public'::regnamespace and p.proname like 'voxctl\\_%' and p.prorettype <> 'trigger'::regtype
 order by 1`;

interface Executor {
  fn: string;
  service_role: boolean;
  anon: boolean;
  authenticated: boolean;
}
interface State {
  versions: number[] | null;
  catalog: { kind: string; name: string; def: string }[];
  executors: Executor[] | null;
}

/** The database's schema state, in one round trip (each query is a psql run). */
const state = (p: TestProject): State =>
  p.query<State>(`
    select (select json_agg(version order by version) from voxctl_schema) as versions,
           (select json_agg(c order by c.kind, c.name) from (${CATALOG}) c) as catalog,
           (select json_agg(e order by e.fn) from (${EXECUTORS}) e) as executors`)[0]!;
const tableExists = (p: TestProject, name: string) => p.query<{ ok: boolean }>(`select to_regclass('${name}') is not null as ok`)[0]!.ok;

/** Calls as the service role, in order, in one psql run: each expression's value. */
function asServiceRole(p: TestProject, exprs: string[]): unknown[] {
  const out = psql(stackInfo(), p.database, `set role service_role;\n${exprs.map((e) => `select to_json(${e});`).join('\n')}`);
  return out.trim().split('\n').map((line) => JSON.parse(line) as unknown);
}

/** A database (no PostgREST: SQL only) holding only `scripts`, each applied in one transaction, on Supabase's roles; released after `fn`. */
async function withDatabase(scripts: string[], fn: (p: TestProject) => void): Promise<void> {
  const p = await leaseProject({ schema: 'none', apply: scripts, rest: false });
  try {
    fn(p);
  } finally {
    await releaseProject(p);
  }
}

/** What an upgrade must reach: the file applied once to an empty database (the stack's template). */
const fresh = useProject({ rest: false });
let freshState: State | undefined;
const current = () => (freshState ??= state(fresh.current));

/** After applying the file: the current version recorded, the same schema and grants as a fresh database, the service role only. */
function expectCurrent(after: State) {
  expect(Math.max(...(after.versions ?? []))).toBe(SCHEMA_VERSION);
  expect(after.catalog).toEqual(current().catalog);
  const fns = (after.executors ?? []).map((r) => r.fn);
  expect(fns).toEqual(expect.arrayContaining(V4_FUNCTIONS));
  expect((after.executors ?? []).filter((r) => !r.service_role || r.anon || r.authenticated)).toEqual([]);
}

describe('schema SQL (Postgres)', () => {
  it('records its version, and applying the file again changes nothing', () => {
    const p = fresh.current;
    expect(SCHEMA_VERSION).toBe(5);
    const org = randomUUID();
    const a = randomUUID();
    p.exec(`insert into organizations (id, name) values ('${org}', 'Claims Clinic');`);
    asServiceRole(p, [`voxctl_claim_agent_slot('${org}', 'inbound', '${a}', 'x', 60)`]);
    const data = `select (select json_agg(o) from organizations o) as orgs, (select json_agg(c) from agent_claims c) as claims`;
    const before = { state: current(), data: p.query(data) };
    expect(before.state.versions).toEqual([5]);

    p.exec(SQL);
    expect({ state: state(p), data: p.query(data) }).toEqual(before);
    const [again] = asServiceRole(p, [`voxctl_claim_agent_slot('${org}', 'inbound', '${randomUUID()}', 'y', 60)`]);
    expect(again).toMatchObject({ status: 'busy', claimId: a });
  });

  it('upgrades a version-2 database in place', async () => {
    await withDatabase([V2, `insert into organizations (id, name) values ('0b000000-0000-4000-8000-00000000000b', 'Beta');`], (p) => {
      expect(state(p).versions).toEqual([2]);
      expect(tableExists(p, 'agent_claims')).toBe(false);
      p.exec(SQL);
      expectCurrent(state(p));
      expect(p.query('select name from organizations')).toEqual([{ name: 'Beta' }]);
    });
  });

  it('upgrades a version-1 store in place and, on Supabase roles, grants the service role only', async () => {
    const org = '0a000000-0000-4000-8000-00000000000a';
    const data = `insert into organizations (id, name) values ('${org}', 'Alpha');
                  insert into agents (org_id, type, vapi_assistant_id) values ('${org}', 'inbound', 'asst_1');`;
    await withDatabase([V1, data], (p) => {
      const before = state(p);
      expect(before.versions).toEqual([1]);
      expect(before.catalog).toContainEqual(expect.objectContaining({ name: 'agents.agents_vapi_assistant_id_key', def: expect.stringContaining('deferrable=false') }));
      p.exec(SQL);
      // The catalog (the constraint now deferrable) and grants equal a fresh database's.
      expectCurrent(state(p));

      // As the service role (not a superuser): the data survived, a move between slots imports,
      // and version 4's functions run.
      const rows = [
        { org_id: org, type: 'outbound', vapi_assistant_id: 'asst_1' },
        { org_id: org, type: 'inbound', vapi_assistant_id: 'asst_2' },
      ];
      const [imported, renamed, unlinked, removed] = asServiceRole(p, [
        `voxctl_import_agents('${JSON.stringify(rows)}'::jsonb)`,
        `voxctl_rename_org('${org}', 'Alpha Dental')`,
        `voxctl_unlink_agent('${org}', 'outbound')`,
        `voxctl_remove_org('${org}', false)`,
      ]);
      expect(imported).toEqual({ imported: 2, orgsCreated: 0 });
      expect(renamed).toMatchObject({ id: org, name: 'Alpha Dental' });
      expect(unlinked).toMatchObject({ status: 'unlinked', agent: { org_id: org, type: 'outbound', vapi_assistant_id: 'asst_1' } });
      expect(removed).toEqual({ status: 'has_agents', agents: 1 });
      // The API's other roles may not call them.
      for (const role of ['anon', 'authenticated'] as const) {
        expect(() => p.query(`select voxctl_remove_org('${org}', true)`, { as: role })).toThrow(/permission denied for function voxctl_remove_org/);
      }
      expect(p.query('select o.name, a.type, a.vapi_assistant_id from organizations o join agents a on a.org_id = o.id')).toEqual([
        { name: 'Alpha Dental', type: 'inbound', vapi_assistant_id: 'asst_2' },
      ]);
    });
  });

  it.each([
    ['as created', [V3]],
    ['upgraded from version 1', [V1, V3]],
  ])('upgrades a version-3 database (%s) to version 4, which adds orgs rename/remove and agents unlink', async (_, scripts) => {
    await withDatabase(scripts, (p) => {
      const before = state(p);
      expect(Math.max(...(before.versions ?? []))).toBe(3);
      expect((before.executors ?? []).filter((r) => V4_FUNCTIONS.includes(r.fn))).toEqual([]);
      p.exec(SQL);
      expectCurrent(state(p));
    });
  });

  it('upgrades a version-4 database to version 5, which adds the events table (service role only), keeping the data', async () => {
    const org = '0a000000-0000-4000-8000-00000000000a';
    await withDatabase([V4, `insert into organizations (id, name) values ('${org}', 'Alpha');`], (p) => {
      expect(Math.max(...(state(p).versions ?? []))).toBe(4);
      expect(tableExists(p, 'voxctl_events')).toBe(false);
      p.exec(SQL);
      expectCurrent(state(p));
      expect(tableExists(p, 'voxctl_events')).toBe(true);
      expect(p.query('select name from organizations')).toEqual([{ name: 'Alpha' }]);
      // RLS on and no policy: the API's other roles see no events.
      p.exec(`insert into voxctl_events (id, time, status, event) values ('${randomUUID()}', now(), 200, '{}');`);
      expect(p.query('select count(*)::int as n from voxctl_events', { as: 'anon' })).toEqual([{ n: 0 }]);
      expect(p.query('select count(*)::int as n from voxctl_events', { as: 'service_role' })).toEqual([{ n: 1 }]);
    });
  });
});

