import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Org, Store } from '../../src/store/types.js';
import { AvailabilityCache, bookClinicAppointment, cancelAppointment, checkAvailability, type ToolOutcome } from '../../src/clinic/booking.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../src/receiver/server.js';
import { request } from '../helpers/http.js';
import { useTestDb } from '../helpers/store.js';
import { toolCallsMessage } from '../helpers/vapi-messages.js';

const BERLIN = '0a000000-0000-4000-8000-00000000000a';
const HARBOR = '0b000000-0000-4000-8000-00000000000b';
const WEEKEND = '0c000000-0000-4000-8000-00000000000c';
// Monday 2030-03-04 09:00 in Berlin (08:00 UTC).
const NOW = new Date('2030-03-04T08:00:00Z');

const testDb = useTestDb();
let store: Store;
let orgs: Record<string, Org>;

beforeAll(async () => {
  store = testDb.store;
});
beforeEach(async () => {
  orgs = {
    berlin: await store.addOrg({ id: BERLIN, name: 'Sunrise Dental', timezone: 'Europe/Berlin' }),
    harbor: await store.addOrg({ id: HARBOR, name: 'Harbor Clinic', timezone: 'UTC' }),
    // Open Saturdays only, and around the clock on Sunday (to reach a clock change).
    weekend: await store.addOrg({
      id: WEEKEND,
      name: 'Weekend Care',
      timezone: 'Europe/Berlin',
      settings: { openingHours: { '6': [['10:00', '12:00']], '7': [['00:00', '24:00']] } },
    }),
  };
});

const call = (tool: typeof bookClinicAppointment, org: Org, args: Record<string, unknown>, now = NOW): Promise<ToolOutcome> =>
  tool(args, { org, store, now, availability: new AvailabilityCache() });

const args = (over: Record<string, unknown> = {}) => ({
  appointmentDate: '2030-03-05',
  appointmentTime: '10:30',
  patientEmail: 'Jane@Example.com',
  patientName: 'Jane Doe',
  patientPhone: '+49 30 1234567',
  ...over,
});

const appointments = async () =>
  testDb.rows<{ org_id: string; starts_at: string; status: string; email: string; name: string; phone: string | null }>(
    `select a.org_id, a.starts_at, a.status, c.email, c.name, c.phone from appointments a join contacts c on c.id = a.contact_id order by a.starts_at`,
  );

describe('bookClinicAppointment', () => {
  it("books the slot in the org's time zone and upserts the contact by email", async () => {
    expect(await call(bookClinicAppointment, orgs.berlin!, args())).toEqual({ result: 'Booked: Jane Doe is confirmed for 10:30 AM on Tuesday, March 5.' });
    expect(await appointments()).toEqual([
      { org_id: BERLIN, starts_at: '2030-03-05T09:30:00.000Z', status: 'booked', email: 'jane@example.com', name: 'Jane Doe', phone: '+49 30 1234567' },
    ]);
    // Same email, new name, no phone: one contact, name updated, phone kept.
    await call(bookClinicAppointment, orgs.berlin!, args({ appointmentTime: '11:00', patientName: 'Jane Q. Doe', patientPhone: undefined, patientEmail: 'jane@example.com' }));
    const contacts = testDb.rows<{ name: string; phone: string }>('select name, phone from contacts');
    expect(contacts).toEqual([{ name: 'Jane Q. Doe', phone: '+49 30 1234567' }]);
  });

  it('gives a taken slot an error that offers the next free slots that day', async () => {
    await call(bookClinicAppointment, orgs.berlin!, args({ appointmentTime: '11:00', patientEmail: 'a@example.com' }));
    await call(bookClinicAppointment, orgs.berlin!, args());
    const r = await call(bookClinicAppointment, orgs.berlin!, args({ patientEmail: 'b@example.com', patientName: 'Bob' }));
    expect(r).toEqual({ error: 'Sorry, 10:30 AM on Tuesday, March 5 is already taken. The next free times that day are 11:30 AM, 12 PM or 12:30 PM.' });
    expect(await appointments()).toHaveLength(2);
    // Bob's contact was rolled back with the failed booking.
    expect(testDb.rows('select 1 from contacts where email = ?', 'b@example.com')).toHaveLength(0);
  });

  it('offers earlier times when nothing later is free', async () => {
    for (const t of ['15:30', '16:00', '16:30']) await call(bookClinicAppointment, orgs.harbor!, args({ appointmentTime: t, patientEmail: `${t.replace(':', '')}@x.io` }));
    const r = await call(bookClinicAppointment, orgs.harbor!, args({ appointmentTime: '16:30' }));
    expect(r).toEqual({ error: 'Sorry, 4:30 PM on Tuesday, March 5 is already taken. Nothing later is free that day; earlier there is 9 AM, 9:30 AM or 10 AM.' });
  });

  it('scopes slots by org: two orgs can hold the same time', async () => {
    await call(bookClinicAppointment, orgs.harbor!, args({ appointmentTime: '09:30' }));
    // 10:30 Berlin = 09:30 UTC, the instant Harbor already holds.
    expect(await call(bookClinicAppointment, orgs.berlin!, args())).toMatchObject({ result: expect.stringMatching(/^Booked/) });
    expect(await appointments()).toHaveLength(2);
  });

  it.each([
    ['a past date', { appointmentDate: '2030-03-01' }, 'Friday, March 1 has already passed. Please pick a date from today on.'],
    ['a past time today', { appointmentDate: '2030-03-04', appointmentTime: '09:00' }, 'Sorry, 9 AM on Monday, March 4 has already passed. The next free times that day are 9:30 AM, 10 AM or 10:30 AM.'],
    ['a weekend day', { appointmentDate: '2030-03-09' }, 'Sorry, the clinic is closed on Saturday, March 9. The next open day is Monday, March 11.'],
    ['a time before opening', { appointmentTime: '08:00' }, 'Sorry, 8 AM on Tuesday, March 5 is outside opening hours (9 AM to 5 PM). The next free times that day are 9 AM, 9:30 AM or 10 AM.'],
    ['closing time', { appointmentTime: '17:00' }, 'Sorry, 5 PM on Tuesday, March 5 is outside opening hours (9 AM to 5 PM). Nothing later is free that day; earlier there is 9 AM, 9:30 AM or 10 AM.'],
    ['a time off the half hour', { appointmentTime: '10:15' }, "I couldn't book that yet. Appointments start on the hour or at half past, for example 10:00 or 10:30."],
    [
      'several bad arguments',
      { appointmentDate: '5 March', patientEmail: 'jane', patientName: '' },
      "I couldn't book that yet. The date should look like 2025-03-14 (year-month-day). I need a valid email address, like name@example.com. I need the patient's name.",
    ],
    ['a date that does not exist', { appointmentDate: '2030-02-30' }, "I couldn't book that yet. There is no such date as 2030-02-30."],
    ['missing arguments', { appointmentDate: undefined, appointmentTime: undefined }, expect.stringMatching(/date should look like .* time should look like/)],
  ])('refuses %s with a spoken error and writes nothing', async (_what, over, message) => {
    const r = await call(bookClinicAppointment, orgs.berlin!, args(over));
    expect(r).toEqual({ error: message });
    expect(await appointments()).toHaveLength(0);
  });

  it('accepts the last slot of the day', async () => {
    expect(await call(bookClinicAppointment, orgs.berlin!, args({ appointmentTime: '16:30' }))).toMatchObject({ result: expect.stringMatching(/4:30 PM/) });
  });

  it("follows an org's own opening hours", async () => {
    // Saturday is open for Weekend Care, Monday is not.
    expect(await call(bookClinicAppointment, orgs.weekend!, args({ appointmentDate: '2030-03-09', appointmentTime: '11:30' }))).toEqual({
      result: 'Booked: Jane Doe is confirmed for 11:30 AM on Saturday, March 9.',
    });
    expect(await call(bookClinicAppointment, orgs.weekend!, args({ appointmentDate: '2030-03-11' }))).toEqual({
      error: 'Sorry, the clinic is closed on Monday, March 11. The next open day is Saturday, March 16.',
    });
  });

  it('refuses a time the clocks skip', async () => {
    const r = await call(bookClinicAppointment, orgs.weekend!, args({ appointmentDate: '2030-03-31', appointmentTime: '02:30' }));
    expect(r).toMatchObject({ error: expect.stringMatching(/^Sorry, 2:30 AM on Sunday, March 31 does not exist because the clocks change that night\. The next free times that day are 3 AM/) });
  });

  it('says "the next year" in dates beyond this year', async () => {
    const r = await call(bookClinicAppointment, orgs.harbor!, args({ appointmentDate: '2031-01-07' }));
    expect(r).toEqual({ result: 'Booked: Jane Doe is confirmed for 10:30 AM on Tuesday, January 7, 2031.' });
  });

  it('throws on an org whose time zone is broken (the receiver turns that into an error result)', async () => {
    const broken = { ...orgs.harbor!, timezone: 'Mars/Olympus' };
    await expect(call(bookClinicAppointment, broken, args())).rejects.toThrow(RangeError);
  });
});

describe('checkAvailability', () => {
  it('lists the free times of a day, leaving out booked and past ones', async () => {
    const monday = await call(checkAvailability, orgs.berlin!, { appointmentDate: '2030-03-04' });
    // 09:00 has passed (now is 09:00 Berlin).
    expect(monday).toEqual({ result: 'On Monday, March 4 there are 15 free times between 9:30 AM and 4:30 PM, for example 9:30 AM, 10 AM, 10:30 AM or 11 AM.' });
    const late = new Date('2030-03-04T15:00:00Z'); // 16:00 Berlin
    expect(await call(checkAvailability, orgs.berlin!, { appointmentDate: '2030-03-04' }, late)).toEqual({ result: 'On Monday, March 4 these times are free: 4:30 PM.' });
  });

  it('checks one time, offering others when it is taken', async () => {
    expect(await call(checkAvailability, orgs.berlin!, { appointmentDate: '2030-03-05', appointmentTime: '10:30' })).toEqual({ result: 'Yes, 10:30 AM on Tuesday, March 5 is free.' });
    await call(bookClinicAppointment, orgs.berlin!, args());
    expect(await call(checkAvailability, orgs.berlin!, { appointmentDate: '2030-03-05', appointmentTime: '10:30' })).toEqual({
      result: 'No, 10:30 AM on Tuesday, March 5 is taken. The next free times that day are 11 AM, 11:30 AM or 12 PM.',
    });
  });

  it('answers closed and full days, and refuses bad input', async () => {
    expect(await call(checkAvailability, orgs.berlin!, { appointmentDate: '2030-03-10' })).toEqual({ result: 'The clinic is closed on Sunday, March 10. The next open day is Monday, March 11.' });
    for (const t of ['10:00', '10:30', '11:00', '11:30']) await call(bookClinicAppointment, orgs.weekend!, args({ appointmentDate: '2030-03-09', appointmentTime: t, patientEmail: `${t.replace(':', '')}@x.io` }));
    expect(await call(checkAvailability, orgs.weekend!, { appointmentDate: '2030-03-09' })).toEqual({ result: 'Nothing is free on Saturday, March 9. The next open day is Sunday, March 10.' });
    expect(await call(checkAvailability, orgs.berlin!, { appointmentDate: 'tomorrow' })).toMatchObject({ error: expect.stringMatching(/date should look like/) });
    expect(await call(checkAvailability, orgs.berlin!, { appointmentDate: '2030-03-01' })).toMatchObject({ error: expect.stringMatching(/already passed/) });
  });
});

describe('remembered availability answers', () => {
  const check = { appointmentDate: '2030-03-05', appointmentTime: '10:30' };
  const FREE = { result: 'Yes, 10:30 AM on Tuesday, March 5 is free.' };
  const TAKEN = /^No, 10:30 AM on Tuesday, March 5 is taken\./;
  const setup = () => {
    let clock = 0;
    const cache = new AvailabilityCache(1000, () => clock);
    const ctx = { org: orgs.berlin!, store, now: NOW, availability: cache };
    return { cache, ctx, advance: (ms: number) => (clock += ms) };
  };

  it('check → book → check shows the slot taken at once (the booking clears the answers)', async () => {
    const { ctx } = setup();
    expect(await checkAvailability(check, ctx)).toEqual(FREE);
    expect(await checkAvailability(check, ctx)).toEqual(FREE);
    expect(await bookClinicAppointment(args(), ctx)).toMatchObject({ result: expect.stringMatching(/^Booked/) });
    expect(await checkAvailability(check, ctx)).toMatchObject({ result: expect.stringMatching(TAKEN) });
    // And a second booking of the slot is refused by the store, whatever was remembered.
    expect(await bookClinicAppointment(args({ patientEmail: 'other@example.com' }), ctx)).toMatchObject({ error: expect.stringMatching(/already taken/) });
  });

  it('a booking made elsewhere shows once the answer is older than the TTL, never later', async () => {
    const { ctx, advance } = setup();
    expect(await checkAvailability(check, ctx)).toEqual(FREE);
    // Another process (or Supabase client) books the slot: this cache does not hear of it.
    expect((await store.bookSlot({ orgId: BERLIN, startsAt: '2030-03-05T09:30:00.000Z', email: 'x@example.com', name: 'X' })).status).toBe('booked');
    advance(999);
    expect(await checkAvailability(check, ctx)).toEqual(FREE);
    advance(1);
    expect(await checkAvailability(check, ctx)).toMatchObject({ result: expect.stringMatching(TAKEN) });
    // The stale "free" could never have been booked: the store refuses the taken slot.
    expect(await bookClinicAppointment(args(), { ...ctx, availability: new AvailabilityCache() })).toMatchObject({ error: expect.stringMatching(/already taken/) });
  });

  it('is per org, per arguments, per minute of "now" and per Org object (settings edits)', async () => {
    const { ctx } = setup();
    expect(await checkAvailability({ appointmentDate: '2030-03-04' }, ctx)).toEqual({
      result: 'On Monday, March 4 there are 15 free times between 9:30 AM and 4:30 PM, for example 9:30 AM, 10 AM, 10:30 AM or 11 AM.',
    });
    // A minute later 09:30 Berlin is still ahead; at 09:30 it has started and drops out.
    expect(await checkAvailability({ appointmentDate: '2030-03-04' }, { ...ctx, now: new Date('2030-03-04T08:29:59.999Z') })).toMatchObject({ result: expect.stringMatching(/15 free times between 9:30 AM/) });
    expect(await checkAvailability({ appointmentDate: '2030-03-04' }, { ...ctx, now: new Date('2030-03-04T08:30:00.000Z') })).toMatchObject({ result: expect.stringMatching(/14 free times between 10 AM/) });
    // Same arguments, another org.
    expect(await checkAvailability(check, { ...ctx, org: orgs.harbor! })).toEqual(FREE);
    expect(await checkAvailability({ appointmentDate: '2030-03-09', appointmentTime: '10:30' }, { ...ctx, org: orgs.weekend! })).toEqual({ result: 'Yes, 10:30 AM on Saturday, March 9 is free.' });
    expect(await checkAvailability({ appointmentDate: '2030-03-09', appointmentTime: '10:30' }, ctx)).toMatchObject({ result: expect.stringMatching(/closed on Saturday/) });
    // The route cache hands out a new Org object when the org's settings change: that is a new question.
    const edited: Org = { ...orgs.berlin!, settings: { openingHours: { '2': [['12:00', '13:00']] } } };
    expect(await checkAvailability(check, ctx)).toEqual(FREE);
    expect(await checkAvailability(check, { ...ctx, org: edited })).toMatchObject({ result: expect.stringMatching(/outside opening hours/) });
    // An empty, null or absent time is the same question; a date and time split differently is not.
    const day = await checkAvailability({ appointmentDate: '2030-03-05' }, ctx);
    expect(await checkAvailability({ appointmentDate: '2030-03-05', appointmentTime: '' }, ctx)).toEqual(day);
    expect(await checkAvailability({ appointmentDate: '2030-03-05', appointmentTime: null }, ctx)).toEqual(day);
    expect(await checkAvailability({ appointmentDate: '2030-03-0', appointmentTime: '5' }, ctx)).toMatchObject({ error: expect.stringMatching(/date should look like/) });
  });

  it('keeps no answer computed across a booking (the booking lands while the check reads)', async () => {
    const { ctx } = setup();
    const slow: Store = Object.assign(Object.create(store) as Store, {
      listBookedStarts: async (...a: Parameters<Store['listBookedStarts']>) => {
        const before = await store.listBookedStarts(...a);
        // The booking goes through this receiver while the check is still running.
        await bookClinicAppointment(args(), ctx);
        return before;
      },
    });
    expect(await checkAvailability(check, { ...ctx, store: slow })).toEqual(FREE);
    expect(await checkAvailability(check, ctx)).toMatchObject({ result: expect.stringMatching(TAKEN) });
  });

  it('cancelling frees the slot in the next answer', async () => {
    const { ctx } = setup();
    await bookClinicAppointment(args(), ctx);
    expect(await checkAvailability(check, ctx)).toMatchObject({ result: expect.stringMatching(TAKEN) });
    await cancelAppointment({ ...check, patientEmail: 'jane@example.com' }, ctx);
    expect(await checkAvailability(check, ctx)).toEqual(FREE);
  });
});

describe('cancelAppointment', () => {
  it("cancels the contact's booking, freeing the slot", async () => {
    await call(bookClinicAppointment, orgs.berlin!, args());
    const cache = new AvailabilityCache();
    const ctx = { org: orgs.berlin!, store, now: NOW, availability: cache };
    expect(await checkAvailability({ appointmentDate: '2030-03-05', appointmentTime: '10:30' }, ctx)).toMatchObject({ result: expect.stringMatching(/^No/) });
    expect(await cancelAppointment({ appointmentDate: '2030-03-05', appointmentTime: '10:30', patientEmail: 'JANE@example.com' }, ctx)).toEqual({
      result: 'Cancelled: the appointment for jane@example.com at 10:30 AM on Tuesday, March 5 is cancelled.',
    });
    // The same cache answers fresh after the cancellation.
    expect(await checkAvailability({ appointmentDate: '2030-03-05', appointmentTime: '10:30' }, ctx)).toEqual({ result: 'Yes, 10:30 AM on Tuesday, March 5 is free.' });
    expect((await appointments())[0]!.status).toBe('cancelled');
    // And it can be booked again.
    expect(await call(bookClinicAppointment, orgs.berlin!, args({ patientEmail: 'new@example.com' }))).toMatchObject({ result: expect.stringMatching(/^Booked/) });
  });

  it('does not cancel for another email, another org, or the past', async () => {
    await call(bookClinicAppointment, orgs.berlin!, args());
    const c = { appointmentDate: '2030-03-05', appointmentTime: '10:30', patientEmail: 'jane@example.com' };
    expect(await call(cancelAppointment, orgs.berlin!, { ...c, patientEmail: 'mallory@example.com' })).toEqual({
      error: "I couldn't find a booking for mallory@example.com at 10:30 AM on Tuesday, March 5.",
    });
    expect(await call(cancelAppointment, orgs.harbor!, { ...c, appointmentTime: '09:30' })).toMatchObject({ error: expect.stringMatching(/couldn't find/) });
    expect(await call(cancelAppointment, orgs.berlin!, { ...c, appointmentDate: '2030-03-04', appointmentTime: '08:00' })).toMatchObject({ error: expect.stringMatching(/already started or passed/) });
    expect((await appointments())[0]!.status).toBe('booked');
  });
});

describe('through the receiver', () => {
  let receiver: WebhookReceiver;
  afterEach(async () => {
    await receiver?.close();
  });

  it('books a slot once when many calls race for it', async () => {
    await store.linkAgent({ orgId: BERLIN, type: 'inbound', vapiAssistantId: 'asst-berlin' });
    receiver = await startWebhookReceiver({ port: 0, store, now: () => NOW });
    const racers = Array.from({ length: 12 }, (_, i) =>
      request(`${receiver.url}/api/vapi/tools/bookClinicAppointment`, {
        body: toolCallsMessage([{ id: `race-${i}`, name: 'bookClinicAppointment', args: args({ patientEmail: `p${i}@example.com`, patientName: `Patient ${i}` }) }], {
          assistantId: 'asst-berlin',
        }),
      }),
    );
    const answers = await Promise.all(racers);
    const results = answers.map((a) => a.json<{ results: Array<{ result?: string; error?: string }> }>().results[0]!);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(results.filter((r) => r.result?.startsWith('Booked'))).toHaveLength(1);
    expect(results.filter((r) => r.error?.includes('already taken'))).toHaveLength(11);
    const rows = await appointments();
    expect(rows).toHaveLength(1);
    expect(testDb.rows('select 1 from contacts')).toHaveLength(1);
  });

  it('answers a tool that fails with an error result and HTTP 200, and warns', async () => {
    const broken = '0d000000-0000-4000-8000-00000000000d';
    await store.addOrg({ id: broken, name: 'Broken', timezone: 'Mars/Olympus' });
    await store.linkAgent({ orgId: broken, type: 'inbound', vapiAssistantId: 'asst-broken' });
    const warnings: string[] = [];
    receiver = await startWebhookReceiver({ port: 0, store, now: () => NOW, onWarning: (w) => warnings.push(w) });
    const res = await request(`${receiver.url}/api/vapi/tools`, {
      body: toolCallsMessage([{ id: 'b1', name: 'bookClinicAppointment', args: args() }], { assistantId: 'asst-broken' }),
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ results: [{ toolCallId: 'b1', name: 'bookClinicAppointment', error: 'Sorry, something went wrong on our side. Please try again in a moment.' }] });
    expect(warnings.some((w) => w.includes('tool bookClinicAppointment failed') && w.includes('Mars/Olympus'))).toBe(true);
  });
});
