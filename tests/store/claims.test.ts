import { randomUUID } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/pglite.js';
import { readSchemaSql, SCHEMA_VERSION } from '../../src/store/schema.js';
import type { Store } from '../../src/store/types.js';
import { useTestDb } from '../helpers/store.js';

const testDb = useTestDb();
let store: Store;
let orgId: string;

beforeAll(async () => {
  store = testDb.store;
});
beforeEach(async () => {
  orgId = (await store.addOrg({ name: 'Claims Clinic' })).id;
});

const claim = (claimId: string, extra: Partial<Parameters<Store['claimAgentSlot']>[0]> = {}) =>
  store.claimAgentSlot({ orgId, type: 'inbound', claimId, holder: `test:${claimId.slice(0, 4)}`, ttlSeconds: 60, ...extra });

describe('schema version 3', () => {
  it('records its version, and applying the file again changes nothing', async () => {
    expect(SCHEMA_VERSION).toBe(3);
    expect(await store.schemaVersion()).toBe(3);
    const a = randomUUID();
    await claim(a);
    await testDb.db.exec(await readSchemaSql());
    const rows = await testDb.db.query<{ version: number }>('select version from voxctl_schema order by version');
    expect(rows.rows.map((r) => r.version)).toEqual([3]);
    expect(await claim(randomUUID())).toMatchObject({ status: 'busy', claimId: a });
  });

  it('upgrades a version-2 database in place', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const old = await PGlite.create();
    try {
      // Version 2 is the file without the claims part.
      const sql = await readSchemaSql();
      const v1 = sql
        .slice(0, sql.indexOf('-- Version 3: claims on agent slots.'))
        .concat("insert into voxctl_schema (version) values (2) on conflict (version) do nothing;\n");
      await old.exec(v1);
      expect((await old.query<{ t: string | null }>("select to_regclass('agent_claims')::text as t")).rows[0]!.t).toBeNull();
      expect(await migrate(old)).toEqual({ applied: true, version: 3, from: 2 });
      expect((await old.query<{ t: string | null }>("select to_regclass('agent_claims')::text as t")).rows[0]!.t).toBe('agent_claims');
      expect(await migrate(old)).toEqual({ applied: false, version: 3, from: 3 });
    } finally {
      await old.close();
    }
  });
});
