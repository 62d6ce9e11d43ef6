/**
 * templates/schema.sql, the Supabase schema (`voxctl db schema`), on Postgres (PGlite): it is
 * idempotent, upgrades older versions in place, and on Supabase's roles grants the service role only.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSchemaSql, SCHEMA_VERSION } from '../../src/store/schema.js';
import { createPgTestDb, migratePg } from '../helpers/pg.js';

describe('schema SQL (Postgres)', { timeout: 60_000 }, () => {
  let db: PGlite;
  beforeAll(async () => {
    db = await createPgTestDb();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('records its version, and applying the file again changes nothing', async () => {
    expect(SCHEMA_VERSION).toBe(3);
    const org = randomUUID();
    await db.query(`insert into organizations (id, name) values ($1, 'Claims Clinic')`, [org]);
    const a = randomUUID();
    await db.query(`select voxctl_claim_agent_slot($1::uuid, 'inbound', $2::uuid, 'x', 60)`, [org, a]);
    await db.exec(await readSchemaSql());
    const rows = await db.query<{ version: number }>('select version from voxctl_schema order by version');
    expect(rows.rows.map((r) => r.version)).toEqual([3]);
    const again = await db.query<{ res: { status: string; claimId: string } }>(`select voxctl_claim_agent_slot($1::uuid, 'inbound', $2::uuid, 'y', 60) as res`, [org, randomUUID()]);
    expect(again.rows[0]!.res).toMatchObject({ status: 'busy', claimId: a });
  });

  it('upgrades a version-2 database in place', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const old = await PGlite.create();
    try {
      // Version 2 is the file without the claims part.
      const sql = await readSchemaSql();
      const v2 = sql.slice(0, sql.indexOf('-- Version 3: claims on agent slots.')).concat("insert into voxctl_schema (version) values (2) on conflict (version) do nothing;\n");
      await old.exec(v2);
      expect((await old.query<{ t: string | null }>("select to_regclass('agent_claims')::text as t")).rows[0]!.t).toBeNull();
      expect(await migratePg(old)).toEqual({ applied: true, version: 3, from: 2 });
      expect((await old.query<{ t: string | null }>("select to_regclass('agent_claims')::text as t")).rows[0]!.t).toBe('agent_claims');
      expect(await migratePg(old)).toEqual({ applied: false, version: 3, from: 3 });
    } finally {
      await old.close();
    }
  });

  it('upgrades a version-1 store in place and, on Supabase roles, grants the service role only', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const old = await PGlite.create();
    try {
      await old.exec('create role anon; create role authenticated; create role service_role bypassrls;');
      await old.exec(readFileSync(path.join(import.meta.dirname, '..', 'fixtures', 'schema-v1.sql'), 'utf8'));
      await old.exec(`insert into organizations (id, name) values ('0a000000-0000-4000-8000-00000000000a', 'Alpha');
                     insert into agents (org_id, type, vapi_assistant_id) values ('0a000000-0000-4000-8000-00000000000a', 'inbound', 'asst_1');`);
      expect(await migratePg(old)).toEqual({ applied: true, version: SCHEMA_VERSION, from: 1 });
      expect(await migratePg(old)).toEqual({ applied: false, version: SCHEMA_VERSION, from: SCHEMA_VERSION });
      const q = async (sql: string) => (await old.query<Record<string, unknown>>(sql)).rows[0]!;
      expect(await q(`select condeferrable as d from pg_constraint where conname = 'agents_vapi_assistant_id_key'`)).toEqual({ d: true });
      expect(
        await q(`select has_function_privilege('service_role', 'voxctl_import_agents(jsonb)', 'execute') as sr,
                        has_function_privilege('anon', 'voxctl_import_agents(jsonb)', 'execute') as anon,
                        has_function_privilege('authenticated', 'voxctl_book_slot(uuid, timestamptz, text, text, text)', 'execute') as auth`),
      ).toEqual({ sr: true, anon: false, auth: false });
      // As the service role (not a superuser): the data survived, and a move between slots imports.
      await old.exec('set role service_role');
      const rows = [
        { org_id: '0a000000-0000-4000-8000-00000000000a', type: 'outbound', vapi_assistant_id: 'asst_1' },
        { org_id: '0a000000-0000-4000-8000-00000000000a', type: 'inbound', vapi_assistant_id: 'asst_2' },
      ];
      const res = await old.query<{ res: unknown }>('select voxctl_import_agents($1::jsonb) as res', [JSON.stringify(rows)]);
      expect(res.rows[0]!.res).toEqual({ imported: 2, orgsCreated: 0 });
      await old.exec('reset role');
    } finally {
      await old.close();
    }
  });
});

