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
    // 23:30 UTC on a Friday is already Saturday at UTC+9 (Etc/GMT-9: a fixed offset in every tz
    // release): the next weekday is Monday.
    const now = new Date('2030-03-08T23:30:00Z');
    expect(formatDate(todayIn(now, 'Etc/GMT-9'))).toBe('2030-03-09');
    expect(formatDate(nextWeekday(now, 'Etc/GMT-9'))).toBe('2030-03-11');
    expect(formatDate(nextWeekday(now, 'UTC'))).toBe('2030-03-11');
  });

  it('turns wall-clock times in a zone into instants', () => {
    const d = { year: 2030, month: 3, day: 5 };
    // Fixed offsets (Etc/GMT-1 is UTC+1, Etc/GMT+5 is UTC-5): the same in every tz release.
    expect(new Date(zonedToInstant(d, 630, 'Etc/GMT-1')!).toISOString()).toBe('2030-03-05T09:30:00.000Z');
    expect(new Date(zonedToInstant(d, 630, 'UTC')!).toISOString()).toBe('2030-03-05T10:30:00.000Z');
    expect(new Date(zonedToInstant(d, 630, 'Etc/GMT+5')!).toISOString()).toBe('2030-03-05T15:30:00.000Z');
    // Named zones, checked against the offset the runtime's own zone data gives (Intl's
    // "GMT+05:30" form, not the code under test), whatever rules a tz release has for 2030.
    for (const zone of ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
      for (const day of [d, { year: 2030, month: 7, day: 1 }]) {
        const wall = Date.UTC(day.year, day.month - 1, day.day, 10, 30);
        const offset = offsetMinutes(wall, zone);
        // Only a day with one offset all day long (a clock change is tested below).
        expect(offsetMinutes(wall - 86_400_000, zone), `${zone} ${formatDate(day)}`).toBe(offset);
        expect(offsetMinutes(wall + 86_400_000, zone), `${zone} ${formatDate(day)}`).toBe(offset);
        expect(zonedToInstant(day, 630, zone), `${zone} ${formatDate(day)}`).toBe(wall - offset * 60_000);
      }
    }
  });
});

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
/** The zone's UTC offset in minutes at an instant, read from Intl's "GMT+05:30" form. */
function offsetMinutes(ms: number, zone: string): number {
  let f = offsetFormats.get(zone);
  if (!f) offsetFormats.set(zone, (f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })));
  const name = f
    .formatToParts(new Date(ms))
    .find((p) => p.type === 'timeZoneName')!.value;
  const m = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!m) throw new Error(`unexpected offset name ${name} for ${zone}`);
  return m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
}

interface ClockChange {
  zone: string;
  /** The first instant (whole minute) of the new offset. */
  at: number;
  /** Offsets (minutes) before and after. */
  before: number;
  after: number;
}

/**
 * Every clock change of a zone between two instants, found in the runtime's own zone data (a
 * scan every 6 hours, then to the minute), so no test assumes a zone has, or lacks, one in a year.
 */
function clockChanges(zone: string, from: number, to: number): ClockChange[] {
  const step = 6 * 3_600_000;
  const found: ClockChange[] = [];
  for (let t = from; t < to; t += step) {
    const before = offsetMinutes(t, zone);
    const after = offsetMinutes(t + step, zone);
    if (before === after) continue;
    let lo = t;
    let hi = t + step;
    while (hi - lo > 60_000) {
      const mid = lo + Math.floor((hi - lo) / 120_000) * 60_000;
      if (offsetMinutes(mid, zone) === before) lo = mid;
      else hi = mid;
    }
    found.push({ zone, at: hi, before, after });
  }
  return found;
}

/** Zones with clock changes of every kind in tz data today: 1 h, 30 min, southern, half-hour offsets. */
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
const FROM = Date.UTC(2027, 0, 1);
const TO = Date.UTC(2029, 0, 1);
const CHANGES = ZONES.flatMap((zone) => clockChanges(zone, FROM, TO));
const wallDate = (ms: number): LocalDate => {
  const d = new Date(ms);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
};
const wallMinutes = (ms: number) => Math.floor((ms % 86_400_000) / 60_000);
/**
 * The clock changes of one kind the runtime's data has in these zones in 2027–2028, smallest
 * first. None at all would leave the tests below proving nothing, so that fails, naming why.
 */
function changesOf(kind: 'gap' | 'overlap'): ClockChange[] {
  const list = CHANGES.filter((c) => (kind === 'gap' ? c.after > c.before : c.after < c.before)).sort((a, b) => Math.abs(a.after - a.before) - Math.abs(b.after - b.before));
  if (list.length === 0) throw new Error(`this runtime's tz data (${process.versions.tz}) has no ${kind} in ${ZONES.join(', ')} in 2027–2028: add a zone that has one`);
  return list;
}

describe('clock changes: one rule in every zone', () => {
  it('refuses a time in a spring-forward gap and keeps the minutes around it', () => {
    for (const c of changesOf('gap')) {
      // Wall clocks jump from (at + before) to (at + after): the minutes between never happen.
      const gapStart = c.at + c.before * 60_000;
      const gapEnd = c.at + c.after * 60_000;
      const name = `${c.zone} ${new Date(gapStart).toISOString().slice(0, 16)} (+${c.after - c.before} min)`;
      for (let wall = gapStart; wall < gapEnd; wall += 15 * 60_000) {
        expect(zonedToInstant(wallDate(wall), wallMinutes(wall), c.zone), name).toBeNull();
      }
      expect(zonedToInstant(wallDate(gapEnd), wallMinutes(gapEnd), c.zone), name).toBe(c.at);
      expect(zonedToInstant(wallDate(gapStart - 60_000), wallMinutes(gapStart - 60_000), c.zone), name).toBe(c.at - 60_000);
      const s = new Date(gapStart).toISOString();
      expect(zonedToUtc(s.slice(0, 10), s.slice(11, 16), c.zone), name).toBeNull();
    }
  });

  it('takes the earlier instant of an ambiguous time, also for a fall-back of less than an hour', () => {
    const overlaps = changesOf('overlap');
    for (const c of overlaps) {
      // Wall clocks go back from (at + before) to (at + after): the minutes between happen twice.
      const repeatStart = c.at + c.after * 60_000;
      const repeatEnd = c.at + c.before * 60_000;
      const name = `${c.zone} ${new Date(repeatStart).toISOString().slice(0, 16)} (-${c.before - c.after} min)`;
      for (let wall = repeatStart; wall < repeatEnd; wall += 15 * 60_000) {
        const first = wall - c.before * 60_000;
        expect(zonedToInstant(wallDate(wall), wallMinutes(wall), c.zone), name).toBe(first);
        const s = new Date(wall).toISOString();
        expect(zonedToUtc(s.slice(0, 10), s.slice(11, 16), c.zone), name).toBe(new Date(first).toISOString());
      }
      expect(zonedToInstant(wallDate(repeatEnd), wallMinutes(repeatEnd), c.zone), name).toBe(repeatEnd - c.after * 60_000);
    }
  });

  it('refuses a day a zone skipped entirely (Samoa, 2011-12-30)', () => {
    // History, not a rule for a future year: every tz release since 2011 has it.
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
   * of every day around every clock change the runtime's zone data has in 2027–2028 (whatever
   * number that is), and on an ordinary day: null for a time never shown, the first instant for
   * one shown twice.
   */
  it.each(ZONES)('agrees with a forward walk around every clock change of 2027–2028 in %s', (zone) => {
    const days = new Map<string, LocalDate>();
    for (const c of CHANGES.filter((x) => x.zone === zone)) {
      const p = zonedParts(c.at, zone);
      for (const n of [-1, 0, 1]) {
        const d = addDays({ year: p.year, month: p.month, day: p.day }, n);
        days.set(formatDate(d), d);
      }
    }
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
    expect(checked).toBe(days.size * 96);
  });

  it('finds the clock changes it walks around in the runtime\'s own zone data', () => {
    // The walks above prove something only if the data has changes of both kinds somewhere.
    expect(changesOf('gap').length).toBeGreaterThan(0);
    expect(changesOf('overlap').length).toBeGreaterThan(0);
    for (const c of CHANGES) {
      expect(offsetMinutes(c.at - 60_000, c.zone)).toBe(c.before);
      expect(offsetMinutes(c.at, c.zone)).toBe(c.after);
    }
  });
});
