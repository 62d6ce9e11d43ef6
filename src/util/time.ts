/**
 * Calendar helpers in an IANA time zone, with no date library: wall-clock parts through Intl,
 * and wall-clock → instant by correcting the zone offset (twice, for DST edges).
 */

export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The one cached Intl formatter per zone (24-hour wall clock, numeric parts) that every zone
 * computation uses. Throws a RangeError for a zone Intl does not know.
 */
export function zonedFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    if (formatters.size > 500) formatters.clear();
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at `instant`. */
export function wallClock(instant: Date, timeZone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of zonedFormatter(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const year = parts.year!;
  const month = parts.month!;
  const day = parts.day!;
  const dow = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return { year, month, day, hour: parts.hour! % 24, minute: parts.minute!, weekday: dow === 0 ? 7 : dow };
}

const pad = (n: number) => String(n).padStart(2, '0');

export function formatDate(y: number, m: number, d: number): string {
  return `${y}-${pad(m)}-${pad(d)}`;
}

/** The ISO weekday (1 = Monday) of a YYYY-MM-DD date. */
export function weekdayOf(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const dow = new Date(Date.UTC(y, m - 1, d)).getUTCDay();
  return dow === 0 ? 7 : dow;
}

/** `date` plus `days` (calendar arithmetic, no zone involved). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return formatDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** Today's date (YYYY-MM-DD) in the zone. */
export function todayIn(now: Date, timeZone: string): string {
  const w = wallClock(now, timeZone);
  return formatDate(w.year, w.month, w.day);
}

/** The first Monday–Friday date after today in the zone (tomorrow at the earliest). */
export function nextWeekday(now: Date, timeZone: string): string {
  let date = addDays(todayIn(now, timeZone), 1);
  while (weekdayOf(date) > 5) date = addDays(date, 1);
  return date;
}

/** The instant (ISO, UTC) of a wall-clock date and HH:MM time in the zone. */
export function zonedToUtc(date: string, time: string, timeZone: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const target = Date.UTC(y, m - 1, d, hh, mm);
  const offsetAt = (t: number) => {
    const w = wallClock(new Date(t), timeZone);
    return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute) - Math.floor(t / 60_000) * 60_000;
  };
  let guess = target - offsetAt(target);
  guess = target - offsetAt(guess);
  return new Date(guess).toISOString();
}
