/**
 * The Store contract: every implementation must pass this suite unchanged. The embedded store
 * runs it on SQLite directly (sqlite.test.ts), the Supabase store through supabase-js against a
 * real PostgREST 12 on a real Postgres (supabase.test.ts). Error classes AND messages are asserted, so
 * both stores report the same problem the same way.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, UsageError } from '../../src/errors.js';
import type { ImportRow, Store } from '../../src/store/types.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { thrown } from '../helpers/thrown.js';

export interface StoreHarness {
  /** The store under test. */
  store: Store;
  /**
   * Rows of a query on the database behind it, for checks the Store API does not offer (rows in
   * contacts…). The SQL is written to mean the same in Postgres and SQLite.
   */
  query<T>(sql: string): Promise<T[]>;
  /** Empties every table (before each test). */
  reset(): Promise<void>;
  /** Releases what setup created (called once, after the suite). */
  close?: () => Promise<void>;
}

const ORG_A = '0a000000-0000-4000-8000-00000000000a';
const ORG_B = '0b000000-0000-4000-8000-00000000000b';
const ORG_C = '0c000000-0000-4000-8000-00000000000c';
const MISSING = '0f000000-0000-4000-8000-00000000000f';


const isoRe = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function describeStoreContract(name: string, setup: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;
    const count = async (table: string) => Number((await h.query<{ n: number | string }>(`select count(*) as n from ${table}`))[0]!.n);

    beforeAll(async () => {
      h = await setup();
      store = h.store;
    });
    beforeEach(async () => {
      await h.reset();
    });
    afterAll(async () => {
      await h?.close?.();
    });

    const seedOrgs = async () => {
      await store.addOrg({ id: ORG_A, name: 'Alpha Dental', timezone: 'Europe/Berlin' });
      await store.addOrg({ id: ORG_B, name: 'Beta Clinic' });
    };

    describe('organizations', () => {
      it('adds an org with a generated id and default time zone, and reads it back', async () => {
        const org = await store.addOrg({ name: 'Sunrise Dental' });
        expect(org.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(org).toMatchObject({ name: 'Sunrise Dental', timezone: 'UTC', settings: {} });
        expect(org.createdAt).toMatch(isoRe);
        expect(await store.getOrg(org.id)).toEqual(org);
      });

      it('keeps a given id, time zone and settings', async () => {
        const settings = { openingHours: { '6': [['10:00', '14:00']] as Array<[string, string]> } };
        const org = await store.addOrg({ id: ORG_A, name: 'Alpha', timezone: 'Europe/Berlin', settings });
        expect(org).toMatchObject({ id: ORG_A, name: 'Alpha', timezone: 'Europe/Berlin', settings });
        expect((await store.getOrg(ORG_A))?.settings).toEqual(settings);
      });

      it('refuses a duplicate org id with a ConflictError and keeps the first org', async () => {
        await store.addOrg({ id: ORG_A, name: 'First' });
        const e = await thrown(() => store.addOrg({ id: ORG_A, name: 'Second' }));
        expect(e).toBeInstanceOf(ConflictError);
        expect(e.message).toBe(`Organization ${ORG_A} already exists.`);
        expect((await store.getOrg(ORG_A))?.name).toBe('First');
        expect(await count('organizations')).toBe(1);
      });

      it('answers null for an unknown or malformed org id', async () => {
        expect(await store.getOrg(MISSING)).toBeNull();
        expect(await store.getOrg('not-a-uuid')).toBeNull();
      });

      it('lists orgs by name, then id', async () => {
        await store.addOrg({ id: ORG_C, name: 'Beta Clinic' });
        await seedOrgs();
        const orgs = await store.listOrgs();
        expect(orgs.map((o) => [o.name, o.id])).toEqual([
          ['Alpha Dental', ORG_A],
          ['Beta Clinic', ORG_B],
          ['Beta Clinic', ORG_C],
        ]);
        expect(orgs[0]!.timezone).toBe('Europe/Berlin');
      });
    });

    describe('agents', () => {
      beforeEach(seedOrgs);

      it('links an assistant to an org slot and finds it by assistant id', async () => {
        const a = await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_1' });
        expect(a).toMatchObject({ orgId: ORG_A, orgName: 'Alpha Dental', type: 'inbound', vapiAssistantId: 'asst_1' });
        expect(a.createdAt).toMatch(isoRe);
        expect(a.updatedAt).toMatch(isoRe);
        expect(await store.findAgentByAssistantId('asst_1')).toEqual(a);
        expect(await store.findAgentByAssistantId('asst_unknown')).toBeNull();
      });

      it('upserts on (org, type): re-linking a slot replaces its assistant, keeping one row', async () => {
        const first = await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_1' });
        const second = await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_2' });
        expect(second).toMatchObject({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_2' });
        expect(second.createdAt).toBe(first.createdAt);
        expect(await store.findAgentByAssistantId('asst_1')).toBeNull();
        expect(await store.listAgents()).toHaveLength(1);
        // Linking the same assistant again is a no-op, not a conflict.
        const again = await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_2' });
        expect(again.vapiAssistantId).toBe('asst_2');
        expect(await count('agents')).toBe(1);
      });

      it('refuses an unknown org with a NotFoundError and writes nothing', async () => {
        const e = await thrown(() => store.linkAgent({ orgId: MISSING, type: 'inbound', vapiAssistantId: 'asst_1' }));
        expect(e).toBeInstanceOf(NotFoundError);
        expect(e.message).toBe(`Organization ${MISSING} does not exist.`);
        expect(await count('agents')).toBe(0);
      });

      it('refuses one assistant for two orgs with a ConflictError and changes nothing', async () => {
        await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_1' });
        await store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: 'asst_2' });
        const before = await store.listAgents();
        const e = await thrown(() => store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: 'asst_1' }));
        expect(e).toBeInstanceOf(ConflictError);
        expect(e.message).toBe(`Assistant asst_1 is already linked to org ${ORG_A} (type inbound); one assistant serves one org.`);
        expect(await store.listAgents()).toEqual(before);
      });

      it('refuses one assistant for two slots of the same org', async () => {
        await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_1' });
        const e = await thrown(() => store.linkAgent({ orgId: ORG_A, type: 'outbound', vapiAssistantId: 'asst_1' }));
        expect(e).toBeInstanceOf(ConflictError);
        expect(await store.listAgents()).toHaveLength(1);
      });

      it('lists agents by org name and type, optionally for one org', async () => {
        await store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: 'asst_b1' });
        await store.linkAgent({ orgId: ORG_A, type: 'outbound', vapiAssistantId: 'asst_a2' });
        await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_a1' });
        const all = await store.listAgents();
        expect(all.map((a) => [a.orgName, a.type, a.vapiAssistantId])).toEqual([
          ['Alpha Dental', 'inbound', 'asst_a1'],
          ['Alpha Dental', 'outbound', 'asst_a2'],
          ['Beta Clinic', 'inbound', 'asst_b1'],
        ]);
        expect((await store.listAgents({ orgId: ORG_B })).map((a) => a.vapiAssistantId)).toEqual(['asst_b1']);
        expect(await store.listAgents({ orgId: MISSING })).toEqual([]);
        expect(await store.listAgents({ orgId: 'nope' })).toEqual([]);
      });
    });

    describe('rename, remove, unlink', () => {
      beforeEach(seedOrgs);

      it('renames an org, keeping everything else; an unknown or malformed id is a NotFoundError', async () => {
        const before = await store.getOrg(ORG_A);
        const org = await store.renameOrg(ORG_A, 'Alpha Dental Berlin');
        expect(org).toEqual({ ...before, name: 'Alpha Dental Berlin' });
        expect((await store.getOrg(ORG_A))!.name).toBe('Alpha Dental Berlin');
        for (const id of [MISSING, 'nope']) {
          const e = await thrown(() => store.renameOrg(id, 'X'));
          expect(e).toBeInstanceOf(NotFoundError);
          expect(e.message).toBe(`Organization ${id} does not exist.`);
        }
      });

      it('removes an org with its contacts and appointments; the other org keeps its own', async () => {
        await store.bookSlot({ orgId: ORG_B, startsAt: '2030-03-04T09:00:00.000Z', email: 'a@example.com', name: 'Ann' });
        await store.bookSlot({ orgId: ORG_A, startsAt: '2030-03-04T09:00:00.000Z', email: 'a@example.com', name: 'Ann' });
        const res = await store.removeOrg(ORG_B);
        expect(res).toMatchObject({ org: { id: ORG_B, name: 'Beta Clinic', timezone: 'UTC' }, agentsUnlinked: 0 });
        expect(await store.getOrg(ORG_B)).toBeNull();
        expect(await count('contacts')).toBe(1);
        expect(await count('appointments')).toBe(1);
        const e = await thrown(() => store.removeOrg(ORG_B));
        expect(e).toBeInstanceOf(NotFoundError);
        expect(e.message).toBe(`Organization ${ORG_B} does not exist.`);
      });

      it('refuses to remove an org with linked agents (ConflictError, nothing removed) unless force, which unlinks them', async () => {
        await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_1' });
        await store.linkAgent({ orgId: ORG_A, type: 'outbound', vapiAssistantId: 'asst_2' });
        const e = await thrown(() => store.removeOrg(ORG_A));
        expect(e).toBeInstanceOf(ConflictError);
        expect(e.message).toBe(`Organization ${ORG_A} still has 2 linked agents; nothing was removed.`);
        expect(await store.getOrg(ORG_A)).not.toBeNull();
        expect(await count('agents')).toBe(2);
        expect(await store.removeOrg(ORG_A, { force: true })).toMatchObject({ org: { id: ORG_A }, agentsUnlinked: 2 });
        expect(await count('agents')).toBe(0);
        expect(await store.findAgentByAssistantId('asst_1')).toBeNull();
      });

      it('unlinks a slot and answers what it held; an empty slot answers null; an unknown org is a NotFoundError', async () => {
        const linked = await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_1' });
        await store.linkAgent({ orgId: ORG_B, type: 'inbound', vapiAssistantId: 'asst_2' });
        expect(await store.unlinkAgent({ orgId: ORG_A, type: 'inbound' })).toEqual(linked);
        expect(await store.findAgentByAssistantId('asst_1')).toBeNull();
        expect(await store.unlinkAgent({ orgId: ORG_A, type: 'inbound' })).toBeNull();
        expect((await store.listAgents()).map((a) => a.vapiAssistantId)).toEqual(['asst_2']);
        // The assistant may be linked again, anywhere.
        await store.linkAgent({ orgId: ORG_B, type: 'outbound', vapiAssistantId: 'asst_1' });
        const e = await thrown(() => store.unlinkAgent({ orgId: MISSING, type: 'inbound' }));
        expect(e).toBeInstanceOf(NotFoundError);
      });
    });

    describe('importAgents', () => {
      it('creates missing orgs from org_name and links every row in one call', async () => {
        await store.addOrg({ id: ORG_A, name: 'Alpha Dental' });
        const rows: ImportRow[] = [
          { org_id: ORG_A, type: 'inbound', vapi_assistant_id: 'asst_a1' },
          { org_id: ORG_B, org_name: 'Beta Clinic', type: 'inbound', vapi_assistant_id: 'asst_b1' },
          { org_id: ORG_B, org_name: 'Beta Clinic', type: 'outbound', vapi_assistant_id: 'asst_b2' },
          { org_id: ORG_C, org_name: 'Gamma Care', type: 'inbound', vapi_assistant_id: 'asst_c1' },
        ];
        expect(await store.importAgents(rows)).toEqual({ imported: 4, orgsCreated: 2 });
        expect((await store.listOrgs()).map((o) => o.name)).toEqual(['Alpha Dental', 'Beta Clinic', 'Gamma Care']);
        expect((await store.getOrg(ORG_C))?.timezone).toBe('UTC');
        expect((await store.listAgents()).map((a) => `${a.orgName}/${a.type}=${a.vapiAssistantId}`)).toEqual([
          'Alpha Dental/inbound=asst_a1',
          'Beta Clinic/inbound=asst_b1',
          'Beta Clinic/outbound=asst_b2',
          'Gamma Care/inbound=asst_c1',
        ]);
      });

      it('upserts existing slots and may move an assistant to a slot when its old slot is re-pointed', async () => {
        await seedOrgs();
        await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_1' });
        await store.linkAgent({ orgId: ORG_A, type: 'outbound', vapiAssistantId: 'asst_2' });
        const res = await store.importAgents([
          { org_id: ORG_A, type: 'outbound', vapi_assistant_id: 'asst_1' },
          { org_id: ORG_A, type: 'inbound', vapi_assistant_id: 'asst_3' },
        ]);
        expect(res).toEqual({ imported: 2, orgsCreated: 0 });
        expect((await store.listAgents()).map((a) => `${a.type}=${a.vapiAssistantId}`)).toEqual(['inbound=asst_3', 'outbound=asst_1']);
      });

      it('imports nothing when a row names an unknown org without org_name (rolls back created orgs too)', async () => {
        const e = await thrown(() =>
          store.importAgents([
            { org_id: ORG_B, org_name: 'Beta Clinic', type: 'inbound', vapi_assistant_id: 'asst_b1' },
            { org_id: ORG_C, org_name: 'Gamma Care', type: 'inbound', vapi_assistant_id: 'asst_c1' },
            { org_id: MISSING, type: 'inbound', vapi_assistant_id: 'asst_x' },
          ]),
        );
        expect(e).toBeInstanceOf(NotFoundError);
        expect(e.message).toMatch(/\brow 3\b/i);
        expect(e.message).toContain(MISSING);
        expect(await count('organizations')).toBe(0);
        expect(await count('agents')).toBe(0);
      });

      it('imports nothing when one row fails a constraint after the others were written', async () => {
        await seedOrgs();
        await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: 'asst_taken' });
        const e = await thrown<ConflictError>(() =>
          store.importAgents([
            { org_id: ORG_C, org_name: 'Gamma Care', type: 'inbound', vapi_assistant_id: 'asst_c1' },
            { org_id: ORG_B, type: 'inbound', vapi_assistant_id: 'asst_b1' },
            { org_id: ORG_B, type: 'outbound', vapi_assistant_id: 'asst_taken' },
          ]),
        );
        expect(e).toBeInstanceOf(ConflictError);
        expect(e.message).toBe('Assistant asst_taken is already linked to another agent slot; one assistant serves one org.');
        expect(e.hint).toBe('Link a different assistant, or free this one first: `voxctl agents unlink --assistant-id asst_taken`.');
        expect(await store.getOrg(ORG_C)).toBeNull();
        expect((await store.listAgents()).map((a) => a.vapiAssistantId)).toEqual(['asst_taken']);
      });

      it('imports nothing when a row has an invalid agent type', async () => {
        await seedOrgs();
        const e = await thrown(() =>
          store.importAgents([
            { org_id: ORG_A, type: 'inbound', vapi_assistant_id: 'asst_1' },
            { org_id: ORG_B, type: 'Not A Type', vapi_assistant_id: 'asst_2' },
          ]),
        );
        expect(e).toBeInstanceOf(UsageError);
        expect(e.message).toMatch(/agents_type_check/);
        expect(await count('agents')).toBe(0);
      });

      it('refuses the same slot twice in one call, naming the row', async () => {
        await seedOrgs();
        const e = await thrown(() =>
          store.importAgents([
            { org_id: ORG_A, type: 'inbound', vapi_assistant_id: 'asst_1' },
            { org_id: ORG_A, type: 'inbound', vapi_assistant_id: 'asst_2' },
          ]),
        );
        expect(e).toBeInstanceOf(UsageError);
        expect(e.message).toMatch(/\brow 2\b/i);
        expect(await count('agents')).toBe(0);
      });

      it('loads 1,500 rows in one call and lists them all (more than one page of 1,000)', async () => {
        const rows: ImportRow[] = [];
        for (let o = 0; o < 15; o++) {
          const orgId = `1${String(o).padStart(7, '0')}-0000-4000-8000-000000000000`;
          for (let i = 0; i < 100; i++) {
            rows.push({ org_id: orgId, org_name: `Org ${String(o).padStart(2, '0')}`, type: `t${i}`, vapi_assistant_id: `asst_${o}_${i}` });
          }
        }
        expect(await store.importAgents(rows)).toEqual({ imported: 1500, orgsCreated: 15 });
        const agents = await store.listAgents();
        expect(agents).toHaveLength(1500);
        expect(new Set(agents.map((a) => a.vapiAssistantId)).size).toBe(1500);
        expect(agents[0]!.orgName).toBe('Org 00');
        expect(agents[1499]!.orgName).toBe('Org 14');
      });
    });

    describe('appointments', () => {
      beforeEach(seedOrgs);
      const SLOT = '2030-01-07T09:00:00.000Z';
      const contacts = async () =>
        h.query<{ email: string; name: string; phone: string | null }>('select email, name, phone from contacts order by email');

      it('books a free slot: upserts the contact and answers the appointment', async () => {
        const r = await store.bookSlot({ orgId: ORG_A, startsAt: SLOT, email: 'ann@example.com', name: 'Ann', phone: '+15550001' });
        expect(r.status).toBe('booked');
        if (r.status !== 'booked') return;
        expect(r.startsAt).toBe(SLOT);
        expect(r.appointmentId).toMatch(/^[0-9a-f-]{36}$/);
        expect(r.contactId).toMatch(/^[0-9a-f-]{36}$/);
        expect(await contacts()).toEqual([{ email: 'ann@example.com', name: 'Ann', phone: '+15550001' }]);
        expect(await store.listBookedStarts(ORG_A, SLOT, '2030-01-07T10:00:00.000Z')).toEqual([SLOT]);
      });

      it('books a slot once when two calls race for it', async () => {
        const [x, y] = await Promise.all([
          store.bookSlot({ orgId: ORG_A, startsAt: SLOT, email: 'ann@example.com', name: 'Ann' }),
          store.bookSlot({ orgId: ORG_A, startsAt: SLOT, email: 'bob@example.com', name: 'Bob' }),
        ]);
        expect([x.status, y.status].sort()).toEqual(['booked', 'taken']);
        expect(await count('appointments')).toBe(1);
        // The loser's contact was rolled back with its appointment.
        expect(await count('contacts')).toBe(1);
      });

      it('answers taken for a booked slot and writes no contact', async () => {
        await store.bookSlot({ orgId: ORG_A, startsAt: SLOT, email: 'ann@example.com', name: 'Ann' });
        const r = await store.bookSlot({ orgId: ORG_A, startsAt: SLOT, email: 'bob@example.com', name: 'Bob' });
        expect(r).toEqual({ status: 'taken' });
        expect((await contacts()).map((c) => c.email)).toEqual(['ann@example.com']);
        // The same slot in another org is free.
        expect((await store.bookSlot({ orgId: ORG_B, startsAt: SLOT, email: 'bob@example.com', name: 'Bob' })).status).toBe('booked');
      });

      it('reuses the contact of an email across bookings and updates its name', async () => {
        await store.bookSlot({ orgId: ORG_A, startsAt: SLOT, email: 'ann@example.com', name: 'Ann', phone: '+1555' });
        await store.bookSlot({ orgId: ORG_A, startsAt: '2030-01-07T09:30:00.000Z', email: 'ann@example.com', name: 'Ann Smith' });
        expect(await contacts()).toEqual([{ email: 'ann@example.com', name: 'Ann Smith', phone: '+1555' }]);
        expect(await count('appointments')).toBe(2);
      });

      it('refuses an unknown org with a NotFoundError', async () => {
        const e = await thrown(() => store.bookSlot({ orgId: MISSING, startsAt: SLOT, email: 'ann@example.com', name: 'Ann' }));
        expect(e).toBeInstanceOf(NotFoundError);
        expect(e.message).toBe(`Organization ${MISSING} does not exist.`);
        expect(await count('contacts')).toBe(0);
      });

      it('lists booked starts of one org in [from, to), sorted', async () => {
        const at = (h: string) => `2030-01-07T${h}:00.000Z`;
        for (const t of ['11:00', '09:00', '10:30', '12:00']) {
          await store.bookSlot({ orgId: ORG_A, startsAt: at(t), email: `p${t.replace(':', '')}@example.com`, name: 'P' });
        }
        await store.bookSlot({ orgId: ORG_B, startsAt: at('10:00'), email: 'other@example.com', name: 'O' });
        expect(await store.listBookedStarts(ORG_A, at('09:00'), at('12:00'))).toEqual([at('09:00'), at('10:30'), at('11:00')]);
        expect(await store.listBookedStarts(ORG_A, at('13:00'), at('14:00'))).toEqual([]);
        expect(await store.listBookedStarts('nope', at('09:00'), at('12:00'))).toEqual([]);
      });

      it('cancels an appointment, which frees the slot', async () => {
        await store.bookSlot({ orgId: ORG_A, startsAt: SLOT, email: 'ann@example.com', name: 'Ann' });
        expect(await store.cancelAppointment({ orgId: ORG_A, email: 'bob@example.com', startsAt: SLOT })).toBe(false);
        expect(await store.cancelAppointment({ orgId: ORG_B, email: 'ann@example.com', startsAt: SLOT })).toBe(false);
        expect(await store.cancelAppointment({ orgId: ORG_A, email: 'ANN@example.com ', startsAt: SLOT })).toBe(true);
        expect(await store.cancelAppointment({ orgId: ORG_A, email: 'ann@example.com', startsAt: SLOT })).toBe(false);
        expect(await store.listBookedStarts(ORG_A, SLOT, '2030-01-08T00:00:00.000Z')).toEqual([]);
        const again = await store.bookSlot({ orgId: ORG_A, startsAt: SLOT, email: 'bob@example.com', name: 'Bob' });
        expect(again.status).toBe('booked');
        expect(await store.listBookedStarts(ORG_A, SLOT, '2030-01-08T00:00:00.000Z')).toEqual([SLOT]);
      });
    });

    describe('agent slot claims', () => {
      const T = 'inbound';
      const claim = (claimId: string, extra: Partial<Parameters<Store['claimAgentSlot']>[0]> = {}) =>
        store.claimAgentSlot({ orgId: ORG_A, type: T, claimId, holder: `test:${claimId.slice(0, 8)}`, ttlSeconds: 60, ...extra });
      const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

      beforeEach(seedOrgs);

      it('gives the slot to exactly one of many concurrent claimers; the others see who holds it', async () => {
        const ids = Array.from({ length: 8 }, (_, i) => id(i + 1));
        const results = await Promise.all(ids.map((c) => claim(c)));
        const won = results.map((r, i) => (r.status === 'claimed' ? ids[i] : null)).filter(Boolean);
        expect(won).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'busy') expect(r).toEqual({ status: 'busy', claimId: won[0], holder: `test:${won[0]!.slice(0, 8)}`, claimedAt: expect.stringMatching(isoRe), expiresAt: expect.stringMatching(isoRe) });
          else expect(r).toEqual({ status: 'claimed', expiresAt: expect.stringMatching(isoRe) });
        }
      });

      it('answers linked once the holder completes, and drops the claim', async () => {
        expect(await claim(id(1))).toMatchObject({ status: 'claimed' });
        expect(await store.completeAgentClaim({ orgId: ORG_A, type: T, claimId: id(1), assistantId: 'asst-1' })).toEqual({ status: 'linked' });
        expect(await claim(id(2))).toEqual({ status: 'linked', assistantId: 'asst-1' });
        expect((await store.listAgents({ orgId: ORG_A })).map((a) => a.vapiAssistantId)).toEqual(['asst-1']);
        expect(await count('agent_claims')).toBe(0);
      });

      it('takes over an expired claim; the old holder can neither renew nor complete it', async () => {
        expect(await claim(id(1), { ttlSeconds: 0 })).toMatchObject({ status: 'claimed' });
        expect(await claim(id(2))).toMatchObject({ status: 'claimed' });
        expect(await store.renewAgentClaim({ orgId: ORG_A, type: T, claimId: id(1), ttlSeconds: 60 })).toBe(false);
        expect(await store.completeAgentClaim({ orgId: ORG_A, type: T, claimId: id(1), assistantId: 'asst-dead' })).toEqual({ status: 'lost' });
        expect(await store.listAgents({ orgId: ORG_A })).toEqual([]);
      });

      it('takes over a live claim only when named (its holder is known to be dead)', async () => {
        await claim(id(1));
        expect(await claim(id(2), { takeOverClaimId: id(9) })).toMatchObject({ status: 'busy', claimId: id(1) });
        expect(await claim(id(3), { takeOverClaimId: id(1) })).toMatchObject({ status: 'claimed' });
      });

      it('renews and releases only its own claim', async () => {
        await claim(id(1), { ttlSeconds: 5 });
        expect(await store.renewAgentClaim({ orgId: ORG_A, type: T, claimId: id(1), ttlSeconds: 600 })).toBe(true);
        const expires = (await h.query<{ expires_at: string | Date }>('select expires_at from agent_claims'))[0]!.expires_at;
        const left = (new Date(expires).getTime() - Date.now()) / 1000;
        expect(left).toBeGreaterThan(500);
        await store.releaseAgentClaim({ orgId: ORG_A, type: T, claimId: id(2) });
        expect(await claim(id(3))).toMatchObject({ status: 'busy' });
        await store.releaseAgentClaim({ orgId: ORG_A, type: T, claimId: id(1) });
        expect(await claim(id(3))).toMatchObject({ status: 'claimed' });
      });

      it('claims a linked slot only to replace the named assistant (gone from Vapi)', async () => {
        await store.linkAgent({ orgId: ORG_A, type: T, vapiAssistantId: 'asst-gone' });
        expect(await claim(id(1))).toEqual({ status: 'linked', assistantId: 'asst-gone' });
        expect(await claim(id(1), { replaceAssistantId: 'asst-gone' })).toMatchObject({ status: 'claimed' });
        await store.completeAgentClaim({ orgId: ORG_A, type: T, claimId: id(1), assistantId: 'asst-new' });
        expect((await store.listAgents({ orgId: ORG_A }))[0]!.vapiAssistantId).toBe('asst-new');
      });

      it('refuses an unknown org, and an assistant already linked to another slot (nothing written)', async () => {
        const e = await thrown(() => store.claimAgentSlot({ orgId: MISSING, type: T, claimId: id(1), holder: 'x', ttlSeconds: 60 }));
        expect(e).toBeInstanceOf(NotFoundError);
        expect(e.message).toBe(`Organization ${MISSING} does not exist.`);
        await store.linkAgent({ orgId: ORG_B, type: 'outbound', vapiAssistantId: 'asst-taken' });
        await claim(id(2));
        const c = await thrown(() => store.completeAgentClaim({ orgId: ORG_A, type: T, claimId: id(2), assistantId: 'asst-taken' }));
        expect(c).toBeInstanceOf(ConflictError);
        expect(c.message).toContain(`already linked to org ${ORG_B} (type outbound)`);
        expect(await store.listAgents({ orgId: ORG_A })).toEqual([]);
        expect(await count('agent_claims')).toBe(1);
      });

      it('reports the schema version', async () => {
        expect(await store.schemaVersion()).toBe(SCHEMA_VERSION);
      });
    });
  });
}
