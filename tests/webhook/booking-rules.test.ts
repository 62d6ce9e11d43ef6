import { describe, expect, it } from 'vitest';
import {
  checkDateArg,
  checkEmailArg,
  checkNameArg,
  checkPhoneArg,
  checkTimeArg,
  daySlots,
  isoWeekday,
  openingRanges,
  parseDate,
  parseTime,
  spokenDate,
  spokenList,
  spokenTime,
  zonedToInstant,
} from '../../src/webhook/booking.js';

describe('dates and times', () => {
  it.each([
    ['2030-03-05', { year: 2030, month: 3, day: 5 }],
    ['2028-02-29', { year: 2028, month: 2, day: 29 }],
    ['2030-02-29', null],
    ['2030-13-01', null],
    ['2030-04-31', null],
    ['2030-3-5', null],
    ['05/03/2030', null],
    ['', null],
  ])('parseDate(%j)', (s, want) => {
    expect(parseDate(s)).toEqual(want);
  });

  it.each([
    ['09:30', 570],
    ['9:30', 570],
    ['00:00', 0],
    ['23:59', 1439],
    ['24:00', null],
    ['12:60', null],
    ['1230', null],
    ['10:30 AM', null],
  ])('parseTime(%j)', (s, want) => {
    expect(parseTime(s)).toBe(want);
  });

  it('knows ISO weekdays', () => {
    expect(isoWeekday({ year: 2030, month: 3, day: 4 })).toBe('1');
    expect(isoWeekday({ year: 2030, month: 3, day: 10 })).toBe('7');
  });

  it('turns wall-clock times in a zone into instants', () => {
    const d = { year: 2030, month: 3, day: 5 };
    expect(new Date(zonedToInstant(d, 630, 'Europe/Berlin')!).toISOString()).toBe('2030-03-05T09:30:00.000Z');
    expect(new Date(zonedToInstant(d, 630, 'UTC')!).toISOString()).toBe('2030-03-05T10:30:00.000Z');
    expect(new Date(zonedToInstant(d, 630, 'America/New_York')!).toISOString()).toBe('2030-03-05T15:30:00.000Z');
    expect(new Date(zonedToInstant(d, 630, 'Asia/Kolkata')!).toISOString()).toBe('2030-03-05T05:00:00.000Z');
    // Summer time in Berlin.
    expect(new Date(zonedToInstant({ year: 2030, month: 7, day: 1 }, 630, 'Europe/Berlin')!).toISOString()).toBe('2030-07-01T08:30:00.000Z');
  });

  it('reports a time skipped by the clocks going forward, and picks the earlier of a doubled time', () => {
    // Berlin skips 02:00-03:00 on 2030-03-31.
    expect(zonedToInstant({ year: 2030, month: 3, day: 31 }, 150, 'Europe/Berlin')).toBeNull();
    expect(zonedToInstant({ year: 2030, month: 3, day: 31 }, 180, 'Europe/Berlin')).not.toBeNull();
    // New York repeats 01:00-02:00 on 2030-11-03; 01:30 EDT comes first.
    expect(new Date(zonedToInstant({ year: 2030, month: 11, day: 3 }, 90, 'America/New_York')!).toISOString()).toBe('2030-11-03T05:30:00.000Z');
  });
});

describe('opening hours and slots', () => {
  it('defaults to Monday-Friday 09:00-17:00', () => {
    expect(openingRanges(undefined, '1')).toEqual([[540, 1020]]);
    expect(openingRanges({}, '5')).toEqual([[540, 1020]]);
    expect(openingRanges({}, '6')).toEqual([]);
    expect(openingRanges({}, '7')).toEqual([]);
  });

  it("lets an org's settings replace the whole table, skipping malformed ranges", () => {
    const settings = {
      openingHours: {
        '1': [
          ['13:00', '18:00'],
          ['08:00', '12:00'],
        ],
        '6': [['10:00', '24:00']],
        '2': [['17:00', '09:00'], ['x', '12:00'], 'nope', ['08:00']],
      },
    } as never;
    expect(openingRanges(settings, '1')).toEqual([
      [480, 720],
      [780, 1080],
    ]);
    expect(openingRanges(settings, '6')).toEqual([[600, 1440]]);
    expect(openingRanges(settings, '2')).toEqual([]);
    // Days the table leaves out are closed.
    expect(openingRanges(settings, '3')).toEqual([]);
  });

  it('cuts 30-minute slots on :00 and :30 that fit in the ranges', () => {
    expect(daySlots([[540, 1020]])).toHaveLength(16);
    expect(daySlots([[540, 1020]]).at(-1)).toBe(990);
    expect(daySlots([[555, 660]])).toEqual([570, 600, 630]);
    expect(daySlots([[600, 615]])).toEqual([]);
  });
});

describe('spoken words', () => {
  it.each([
    [540, '9 AM'],
    [570, '9:30 AM'],
    [720, '12 PM'],
    [750, '12:30 PM'],
    [0, '12 AM'],
    [1020, '5 PM'],
  ])('spokenTime(%i) = %s', (m, s) => {
    expect(spokenTime(m)).toBe(s);
  });

  it('speaks dates and lists', () => {
    expect(spokenDate({ year: 2030, month: 3, day: 5 }, 2030)).toBe('Tuesday, March 5');
    expect(spokenDate({ year: 2031, month: 1, day: 1 }, 2030)).toBe('Wednesday, January 1, 2031');
    expect(spokenList(['a'])).toBe('a');
    expect(spokenList(['a', 'b'])).toBe('a or b');
    expect(spokenList(['a', 'b', 'c'])).toBe('a, b or c');
  });
});

describe('argument checks', () => {
  it('accepts good values and normalises them', () => {
    expect(checkDateArg(' 2030-03-05 ')).toEqual({ ok: true, value: { year: 2030, month: 3, day: 5 } });
    expect(checkTimeArg('10:30')).toEqual({ ok: true, value: 630 });
    expect(checkEmailArg(' Jane@Example.COM ')).toEqual({ ok: true, value: 'jane@example.com' });
    expect(checkNameArg('  Jane   Doe ')).toEqual({ ok: true, value: 'Jane Doe' });
    expect(checkPhoneArg('+1 (415) 555-0100')).toEqual({ ok: true, value: '+1 (415) 555-0100' });
    expect(checkPhoneArg(undefined)).toEqual({ ok: true, value: undefined });
    expect(checkPhoneArg(null)).toEqual({ ok: true, value: undefined });
  });

  it.each([
    [checkDateArg, 20300305, /should look like 2025-03-14/],
    [checkDateArg, '2030-02-30', /no such date as 2030-02-30/],
    [checkTimeArg, '10:15', /on the hour or at half past/],
    [checkTimeArg, 1030, /should look like 14:30/],
    [checkTimeArg, '25:00', /should look like 14:30/],
    [checkEmailArg, 'jane', /valid email address/],
    [checkEmailArg, { email: 'a@b.c' }, /valid email address/],
    [checkEmailArg, 'a b@c.de', /valid email address/],
    [checkNameArg, '   ', /patient's name/],
    [checkNameArg, 'x'.repeat(201), /looks wrong/],
    [checkNameArg, 'Jane\u0000Doe', /looks wrong/],
    [checkPhoneArg, 'call me', /phone number/],
    [checkPhoneArg, 12345, /phone number/],
  ] as Array<[(v: unknown) => { ok: boolean; error?: string }, unknown, RegExp]>)('%o rejects %j', (check, value, msg) => {
    const r = check(value);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(msg);
  });
});
