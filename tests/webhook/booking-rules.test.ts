import { describe, expect, it } from 'vitest';
import {
  checkDateArg,
  checkEmailArg,
  checkNameArg,
  checkPhoneArg,
  checkTimeArg,
  daySlots,
  openingRanges,
  spokenDate,
  spokenList,
  spokenTime,
} from '../../src/clinic/booking.js';

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
