import { describe, expect, it } from 'vitest';
import {
  addDays,
  formatDate,
  isoWeekday,
  nextWeekday,
  parseDate,
  parseTime,
  todayIn,
  zonedParts,
  zonedToInstant,
  zonedToUtc,
  type LocalDate,
} from '../../src/clinic/calendar.js';

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

  it('knows ISO weekdays, calendar arithmetic, today and the next weekday in a zone', () => {
    expect(isoWeekday({ year: 2030, month: 3, day: 4 })).toBe('1');
    expect(isoWeekday({ year: 2030, month: 3, day: 10 })).toBe('7');
    expect(formatDate(addDays({ year: 2028, month: 2, day: 28 }, 2))).toBe('2028-03-01');
    // 23:30 UTC on a Friday is already Saturday in Tokyo: the next weekday is Monday.
    const now = new Date('2030-03-08T23:30:00Z');
    expect(formatDate(todayIn(now, 'Asia/Tokyo'))).toBe('2030-03-09');
    expect(formatDate(nextWeekday(now, 'Asia/Tokyo'))).toBe('2030-03-11');
    expect(formatDate(nextWeekday(now, 'UTC'))).toBe('2030-03-11');
  });

  it('turns wall-clock times in a zone into instants', () => {
    const d = { year: 2030, month: 3, day: 5 };
    expect(new Date(zonedToInstant(d, 630, 'Europe/Berlin')!).toISOString()).toBe('2030-03-05T09:30:00.000Z');
    expect(new Date(zonedToInstant(d, 630, 'UTC')!).toISOString()).toBe('2030-03-05T10:30:00.000Z');
    expect(new Date(zonedToInstant(d, 630, 'America/New_York')!).toISOString()).toBe('2030-03-05T15:30:00.000Z');
    expect(new Date(zonedToInstant(d, 630, 'Asia/Kolkata')!).toISOString()).toBe('2030-03-05T05:00:00.000Z');
    expect(new Date(zonedToInstant({ year: 2030, month: 7, day: 1 }, 630, 'Europe/Berlin')!).toISOString()).toBe('2030-07-01T08:30:00.000Z');
  });
});

describe('clock changes: one rule in every zone', () => {
  it('refuses a time in the spring-forward gap (Berlin 2030-03-31 02:30)', () => {
    expect(zonedToUtc('2030-03-31', '02:30', 'Europe/Berlin')).toBeNull();
    expect(zonedToInstant({ year: 2030, month: 3, day: 31 }, 150, 'Europe/Berlin')).toBeNull();
    expect(zonedToUtc('2030-03-31', '03:00', 'Europe/Berlin')).toBe('2030-03-31T01:00:00.000Z');
    expect(zonedToUtc('2030-03-31', '01:59', 'Europe/Berlin')).toBe('2030-03-31T00:59:00.000Z');
  });

  it('takes the earlier instant of an ambiguous time, also for a 30-minute fall-back (Lord Howe 2027-04-04 01:30)', () => {
    // Lord Howe: +11 (summer) → +10:30 at 02:00 local; 01:30–01:59 happen twice. The first is +11.
    expect(zonedToUtc('2027-04-04', '01:30', 'Australia/Lord_Howe')).toBe('2027-04-03T14:30:00.000Z');
    expect(zonedToUtc('2027-04-04', '01:45', 'Australia/Lord_Howe')).toBe('2027-04-03T14:45:00.000Z');
    // New York repeats 01:00–02:00 on 2030-11-03; 01:30 EDT comes first.
    expect(zonedToUtc('2030-11-03', '01:30', 'America/New_York')).toBe('2030-11-03T05:30:00.000Z');
  });

  it('refuses a day a zone skipped entirely (Samoa, 2011-12-30)', () => {
    expect(zonedToUtc('2011-12-30', '12:00', 'Pacific/Apia')).toBeNull();
    expect(zonedToUtc('2011-12-31', '12:00', 'Pacific/Apia')).not.toBeNull();
  });

  it('refuses what is not a date or a time', () => {
    expect(zonedToUtc('2030-02-30', '10:00', 'UTC')).toBeNull();
    expect(zonedToUtc('2030-03-01', '25:00', 'UTC')).toBeNull();
  });

  /**
   * The oracle walks instants forward (the direction Intl answers directly) every 15 minutes and
   * notes the first instant each wall time shows; zonedToInstant must agree for every wall time
   * of every day around every clock change of the year: null for a time never shown, the first
   * instant for one shown twice.
   */
  const ZONES = [
    'Europe/Berlin',
    'Europe/Dublin',
    'America/New_York',
    'America/St_Johns',
    'America/Santiago',
    'Australia/Lord_Howe',
    'Australia/Sydney',
    'Pacific/Chatham',
    'Africa/Casablanca',
    'Asia/Kathmandu',
  ];
  it.each(ZONES)('agrees with a forward walk around every clock change of 2027 in %s', (zone) => {
    const offset = (ms: number) => {
      const p = zonedParts(ms, zone);
      return Date.UTC(p.year, p.month - 1, p.day, 0, p.minutes) - Math.floor(ms / 60_000) * 60_000;
    };
    const days = new Map<string, LocalDate>();
    const start = Date.UTC(2027, 0, 1);
    for (let t = start; t < Date.UTC(2028, 0, 1); t += 6 * 3_600_000) {
      if (offset(t) === offset(t + 6 * 3_600_000)) continue;
      const p = zonedParts(t + 3 * 3_600_000, zone);
      for (const n of [-1, 0, 1]) {
        const d = addDays({ year: p.year, month: p.month, day: p.day }, n);
        days.set(formatDate(d), d);
      }
    }
    if (zone !== 'Asia/Kathmandu') expect(days.size).toBeGreaterThan(0);
    days.set('2027-06-15', { year: 2027, month: 6, day: 15 });

    let checked = 0;
    for (const d of days.values()) {
      const shown = new Map<number, number>();
      const dayStart = Date.UTC(d.year, d.month - 1, d.day);
      for (let t = dayStart - 15 * 3_600_000; t <= dayStart + 39 * 3_600_000; t += 15 * 60_000) {
        const p = zonedParts(t, zone);
        if (p.year === d.year && p.month === d.month && p.day === d.day && !shown.has(p.minutes)) shown.set(p.minutes, t);
      }
      for (let minutes = 0; minutes < 24 * 60; minutes += 15) {
        expect(zonedToInstant(d, minutes, zone), `${formatDate(d)} ${minutes} in ${zone}`).toBe(shown.get(minutes) ?? null);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(96);
  });
});
