import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/pglite.js';
import { readSchemaSql, SCHEMA_VERSION } from '../../src/store/schema.js';
import type { Store } from '../../src/store/types.js';
import { createTestDb, resetDb, sharedStore } from '../helpers/store.js';

let db: PGlite;
let store: Store;
let orgId: string;

beforeAll(async () => {
  db = await createTestDb();
  store = sharedStore(db);
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await resetDb(db);
  orgId = (await store.addOrg({ name: 'Claims Clinic' })).id;
});

const claim = (claimId: string, extra: Partial<Parameters<Store['claimAgentSlot']>[0]> = {}) =>
  store.claimAgentSlot({ orgId, type: 'inbound', claimId, holder: `test:${claimId.slice(0, 4)}`, ttlSeconds: 60, ...extra });

describe('schema version 2', () => {
  it('records versions 1 and 2, and applying the file again changes nothing', async () => {
    expect(SCHEMA_VERSION).toBe(2);
    expect(await store.schemaVersion()).toBe(2);
    const a = randomUUID();
    await claim(a);
    await db.exec(await readSchemaSql());
    const rows = await db.query<{ version: number }>('select version from voxctl_schema order by version');
    expect(rows.rows.map((r) => r.version)).toEqual([1, 2]);
    expect(await claim(randomUUID())).toMatchObject({ status: 'busy', claimId: a });
  });

  it('upgrades a version-1 database in place', async () => {
    const { PGlite } = await import('@electric-sql/pglite');
    const old = await PGlite.create();
    try {
      // Version 1 is the file without the claims part.
      const sql = await readSchemaSql();
      const v1 = sql
        .slice(0, sql.indexOf('-- Version 2: claims on agent slots.'))
        .concat("insert into voxctl_schema (version) values (1) on conflict (version) do nothing;\n");
      await old.exec(v1);
      expect((await old.query<{ t: string | null }>("select to_regclass('agent_claims')::text as t")).rows[0]!.t).toBeNull();
      expect(await migrate(old)).toEqual({ applied: true, version: 2 });
      expect((await old.query<{ t: string | null }>("select to_regclass('agent_claims')::text as t")).rows[0]!.t).toBe('agent_claims');
      expect(await migrate(old)).toEqual({ applied: false, version: 2 });
    } finally {
      await old.close();
    }
  });
});

describe('agent slot claims', () => {
  it('gives the slot to exactly one of many concurrent claimers', async () => {
    const ids = Array.from({ length: 12 }, () => randomUUID());
    const results = await Promise.all(ids.map((id) => claim(id)));
    const winners = results.filter((r) => r.status === 'claimed');
    expect(winners).toHaveLength(1);
    const winner = ids[results.findIndex((r) => r.status === 'claimed')]!;
    for (const r of results.filter((x) => x.status === 'busy')) expect(r).toMatchObject({ claimId: winner, holder: `test:${winner.slice(0, 4)}` });
  });

  it('answers linked once the holder completes, and drops the claim', async () => {
    const a = randomUUID();
    expect(await claim(a)).toMatchObject({ status: 'claimed' });
    expect(await store.completeAgentClaim({ orgId, type: 'inbound', claimId: a, assistantId: 'asst-1' })).toEqual({ status: 'linked' });
    expect(await claim(randomUUID())).toEqual({ status: 'linked', assistantId: 'asst-1' });
    expect((await store.listAgents({ orgId })).map((x) => x.vapiAssistantId)).toEqual(['asst-1']);
    expect((await db.query('select * from agent_claims')).rows).toHaveLength(0);
  });

  it('takes over an expired claim; the old holder then loses and writes nothing', async () => {
    const dead = randomUUID();
    expect(await claim(dead, { ttlSeconds: 0 })).toMatchObject({ status: 'claimed' });
    const next = randomUUID();
    expect(await claim(next)).toMatchObject({ status: 'claimed' });
    expect(await store.renewAgentClaim({ orgId, type: 'inbound', claimId: dead, ttlSeconds: 60 })).toBe(false);
    expect(await store.completeAgentClaim({ orgId, type: 'inbound', claimId: dead, assistantId: 'asst-dead' })).toEqual({ status: 'lost' });
    expect(await store.listAgents({ orgId })).toEqual([]);
  });

  it('takes over a live claim only when told its id (a holder known to be dead)', async () => {
    const held = randomUUID();
    await claim(held);
    expect(await claim(randomUUID(), { takeOverClaimId: randomUUID() })).toMatchObject({ status: 'busy', claimId: held });
    expect(await claim(randomUUID(), { takeOverClaimId: held })).toMatchObject({ status: 'claimed' });
  });

  it('renews and releases only its own claim', async () => {
    const a = randomUUID();
    const first = await claim(a, { ttlSeconds: 5 });
    expect(await store.renewAgentClaim({ orgId, type: 'inbound', claimId: a, ttlSeconds: 600 })).toBe(true);
    const row = await db.query<{ expires_at: Date }>('select expires_at from agent_claims');
    expect(row.rows[0]!.expires_at.getTime()).toBeGreaterThan(Date.parse((first as { expiresAt: string }).expiresAt) + 500_000);
    await store.releaseAgentClaim({ orgId, type: 'inbound', claimId: randomUUID() });
    expect(await claim(randomUUID())).toMatchObject({ status: 'busy' });
    await store.releaseAgentClaim({ orgId, type: 'inbound', claimId: a });
    expect(await claim(randomUUID())).toMatchObject({ status: 'claimed' });
  });

  it('lets a run replace a linked assistant that is gone from Vapi', async () => {
    await store.linkAgent({ orgId, type: 'inbound', vapiAssistantId: 'asst-gone' });
    expect(await claim(randomUUID())).toEqual({ status: 'linked', assistantId: 'asst-gone' });
    const a = randomUUID();
    expect(await claim(a, { replaceAssistantId: 'asst-gone' })).toMatchObject({ status: 'claimed' });
    await store.completeAgentClaim({ orgId, type: 'inbound', claimId: a, assistantId: 'asst-new' });
    expect((await store.listAgents({ orgId }))[0]!.vapiAssistantId).toBe('asst-new');
  });

  it('refuses an unknown org and an assistant linked to another slot', async () => {
    await expect(store.claimAgentSlot({ orgId: randomUUID(), type: 'inbound', claimId: randomUUID(), holder: 'x', ttlSeconds: 60 })).rejects.toThrow(
      /does not exist/,
    );
    await store.linkAgent({ orgId, type: 'outbound', vapiAssistantId: 'asst-taken' });
    const a = randomUUID();
    await claim(a);
    await expect(store.completeAgentClaim({ orgId, type: 'inbound', claimId: a, assistantId: 'asst-taken' })).rejects.toThrow(/already linked/);
    expect((await store.listAgents({ orgId })).map((x) => x.type)).toEqual(['outbound']);
  });
});
