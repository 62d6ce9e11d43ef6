/**
 * The one calendar: dates, wall-clock times and IANA time zones, with no date library (Intl
 * only). Every caller that turns a date and time in a zone into an instant uses `zonedToInstant`
 * (or its string form `zonedToUtc`), so they all agree on the two hard cases:
 *
 * - a time in a spring-forward gap (it never shows on the clocks there) is refused: null;
 * - an ambiguous time (it shows twice when clocks go back) is the EARLIER instant,
 *
 * in every zone, whatever the size of the shift (Lord Howe's is 30 minutes).
 */

/** A calendar date (in whatever zone the caller means). */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

/** ISO weekday as a string key, '1' = Monday … '7' = Sunday (the opening-hours table's keys). */
export type IsoWeekday = '1' | '2' | '3' | '4' | '5' | '6' | '7';

const pad2 = (n: number) => String(n).padStart(2, '0');
/** `YYYY-MM-DD`. */
export const formatDate = (d: LocalDate) => `${d.year}-${pad2(d.month)}-${pad2(d.day)}`;
/** Minutes after midnight → `HH:MM`. */
export const formatTime = (minutes: number) => `${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
/** A sortable number for a date (yyyymmdd). */
export const dateKey = (d: LocalDate) => d.year * 10000 + d.month * 100 + d.day;

/** `YYYY-MM-DD` that names a real calendar day, else null. */
export function parseDate(s: string): LocalDate | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (year < 1970 || month < 1 || month > 12 || day < 1) return null;
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  return { year, month, day };
}

/** `HH:MM` (24-hour; a one-digit hour is accepted) → minutes after midnight, else null. */
export function parseTime(s: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s.trim());
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return null;
  return h * 60 + min;
}

/** ISO weekday of a date, '1' = Monday … '7' = Sunday. */
export function isoWeekday(d: LocalDate): IsoWeekday {
  const js = new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay();
  return String(js === 0 ? 7 : js) as IsoWeekday;
}

/** `d` plus `n` days (calendar arithmetic, no zone involved). */
export function addDays(d: LocalDate, n: number): LocalDate {
  const t = new Date(Date.UTC(d.year, d.month - 1, d.day + n));
  return { year: t.getUTCFullYear(), month: t.getUTCMonth() + 1, day: t.getUTCDate() };
}

// ---------------------------------------------------------------------------------------------
// Zones

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The one cached Intl formatter per zone (24-hour wall clock, numeric parts) that every zone
 * computation uses. Throws a RangeError for a zone Intl does not know.
 */
function zonedFormatter(timeZone: string): Intl.DateTimeFormat {
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

/** The wall-clock date and minute of the day of an instant (ms) in a zone. */
export function zonedParts(ms: number, timeZone: string): LocalDate & { minutes: number } {
  const parts = zonedFormatter(timeZone).formatToParts(new Date(ms));
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), minutes: (get('hour') % 24) * 60 + get('minute') };
}

/** The zone's UTC offset (ms, whole minutes) at an instant. */
function offsetMs(ms: number, timeZone: string): number {
  const p = zonedParts(ms, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, 0, p.minutes) - Math.floor(ms / 60_000) * 60_000;
}

const instantCache = new Map<string, number | null>();

/**
 * The instant (epoch ms) a wall-clock date and minute of the day name in a zone; null when that
 * time does not exist there (a spring-forward gap); the earlier instant when it exists twice.
 * Memoised: Intl's formatToParts is the costliest thing on the tool-call path, and the answer
 * for a (zone, day, minute) never changes while the process runs.
 */
export function zonedToInstant(d: LocalDate, minutes: number, timeZone: string): number | null {
  const key = `${timeZone}|${dateKey(d)}|${minutes}`;
  const hit = instantCache.get(key);
  if (hit !== undefined) return hit;
  const value = computeInstant(d, minutes, timeZone);
  if (instantCache.size >= 50_000) instantCache.clear();
  instantCache.set(key, value);
  return value;
}

/**
 * The offsets in force a day before, at and a day after the wall time are the candidates (a
 * zone changes its offset at most once in such a window); the instants whose wall clock reads
 * back as the asked time are the answers (none: a gap; two: ambiguous, take the earlier).
 */
function computeInstant(d: LocalDate, minutes: number, timeZone: string): number | null {
  const wall = Date.UTC(d.year, d.month - 1, d.day, 0, minutes);
  const offsets = new Set([-86_400_000, 0, 86_400_000].map((delta) => offsetMs(wall + delta, timeZone)));
  let best: number | null = null;
  for (const o of offsets) {
    const t = wall - o;
    const p = zonedParts(t, timeZone);
    if (dateKey(p) === dateKey(d) && p.minutes === minutes && (best === null || t < best)) best = t;
  }
  return best;
}

/**
 * String form of `zonedToInstant`: `YYYY-MM-DD` and `HH:MM` in a zone → ISO instant (UTC), or
 * null when the time does not exist there (or the date or time is not one).
 */
export function zonedToUtc(date: string, time: string, timeZone: string): string | null {
  const d = parseDate(date);
  const t = parseTime(time);
  if (!d || t === null) return null;
  const at = zonedToInstant(d, t, timeZone);
  return at === null ? null : new Date(at).toISOString();
}

/** Today's date in the zone. */
export function todayIn(now: Date, timeZone: string): LocalDate {
  const p = zonedParts(now.getTime(), timeZone);
  return { year: p.year, month: p.month, day: p.day };
}

/** The first Monday–Friday date after today in the zone (tomorrow at the earliest). */
export function nextWeekday(now: Date, timeZone: string): LocalDate {
  let date = addDays(todayIn(now, timeZone), 1);
  while (Number(isoWeekday(date)) > 5) date = addDays(date, 1);
  return date;
}
