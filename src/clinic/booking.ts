/**
 * The built-in clinic tools (bookClinicAppointment, checkAvailability, cancelAppointment) and
 * the pure booking rules under them: dates and times in the org's time zone, 30-minute slots on
 * :00 and :30, opening hours (Monday–Friday 09:00–17:00 unless the org's settings say
 * otherwise), nothing in the past. Every answer is one sentence or two that an assistant can
 * read out as it is.
 */
import type { Org, OrgSettings, Store } from '../store/types.js';
import {
  addDays,
  dateKey,
  isoWeekday,
  parseDate,
  parseTime,
  zonedParts,
  zonedToInstant,
  type IsoWeekday,
  type LocalDate,
} from './calendar.js';
import { isRecord, own, type JsonRecord } from '../util/json.js';

export const SLOT_MINUTES = 30;

type Ranges = Array<[string, string]>;

/** Monday–Friday 09:00–17:00; an org's `settings.openingHours` replaces this whole table. */
export const DEFAULT_OPENING_HOURS: Readonly<Record<IsoWeekday, Ranges>> = {
  '1': [['09:00', '17:00']],
  '2': [['09:00', '17:00']],
  '3': [['09:00', '17:00']],
  '4': [['09:00', '17:00']],
  '5': [['09:00', '17:00']],
  '6': [],
  '7': [],
};

/** `zonedParts` of "now", computed once per zone and minute. */
const todayCache = new Map<string, { minute: number; parts: LocalDate & { minutes: number } }>();
function zonedNow(now: Date, timeZone: string): LocalDate & { minutes: number } {
  const minute = Math.floor(now.getTime() / 60_000);
  const hit = todayCache.get(timeZone);
  if (hit && hit.minute === minute) return hit.parts;
  const parts = zonedParts(now.getTime(), timeZone);
  if (todayCache.size >= 1000) todayCache.clear();
  todayCache.set(timeZone, { minute, parts });
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Opening hours and slots

/** Opening ranges of a weekday in minutes ([start, end), end may be 24:00). Bad entries are skipped. */
export function openingRanges(settings: OrgSettings | undefined, weekday: IsoWeekday): Array<[number, number]> {
  const table = isRecord(settings) ? own(settings, 'openingHours') : undefined;
  const day: unknown = isRecord(table) ? own(table, weekday) : DEFAULT_OPENING_HOURS[weekday];
  if (!Array.isArray(day)) return [];
  const out: Array<[number, number]> = [];
  for (const r of day) {
    if (!Array.isArray(r) || r.length !== 2 || typeof r[0] !== 'string' || typeof r[1] !== 'string') continue;
    const start = parseTime(r[0]);
    const end = r[1].trim() === '24:00' ? 24 * 60 : parseTime(r[1]);
    if (start === null || end === null || end <= start) continue;
    out.push([start, end]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

/** Slot starts (minutes) of a day: every :00 and :30 whose 30 minutes fit in an opening range. */
export function daySlots(ranges: Array<[number, number]>): number[] {
  const slots = new Set<number>();
  for (const [start, end] of ranges) {
    for (let m = Math.ceil(start / SLOT_MINUTES) * SLOT_MINUTES; m + SLOT_MINUTES <= end; m += SLOT_MINUTES) slots.add(m);
  }
  return [...slots].sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Words an assistant can say

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "9 AM", "9:30 AM", "12 PM", "12:30 AM". */
export function spokenTime(minutes: number): string {
  const h24 = Math.floor(minutes / 60) % 24;
  const m = minutes % 60;
  const suffix = h24 < 12 ? 'AM' : 'PM';
  const h12 = h24 % 12 === 0 ? 12 : h24 % 12;
  return m === 0 ? `${h12} ${suffix}` : `${h12}:${String(m).padStart(2, '0')} ${suffix}`;
}

/** "Tuesday, March 4" (with the year when it is not `currentYear`). */
export function spokenDate(d: LocalDate, currentYear?: number): string {
  const wd = WEEKDAYS[new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay()];
  const base = `${wd}, ${MONTHS[d.month - 1]} ${d.day}`;
  return currentYear !== undefined && currentYear !== d.year ? `${base}, ${d.year}` : base;
}

/** "a", "a or b", "a, b or c". */
export function spokenList(items: string[], conj = 'or'): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} ${conj} ${items[items.length - 1]}`;
}

function spokenRanges(ranges: Array<[number, number]>): string {
  return spokenList(
    ranges.map(([s, e]) => `${spokenTime(s)} to ${spokenTime(e)}`),
    'and',
  );
}

// ---------------------------------------------------------------------------------------------
// Arguments

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

export function checkDateArg(v: unknown): Checked<LocalDate> {
  if (typeof v !== 'string' || !/^\s*\d{4}-\d{2}-\d{2}\s*$/.test(v)) {
    return { ok: false, error: 'The date should look like 2025-03-14 (year-month-day).' };
  }
  const d = parseDate(v);
  return d ? { ok: true, value: d } : { ok: false, error: `There is no such date as ${v.trim()}.` };
}

export function checkTimeArg(v: unknown): Checked<number> {
  const t = typeof v === 'string' ? parseTime(v) : null;
  if (t === null) return { ok: false, error: 'The time should look like 14:30 (24-hour clock, hours and minutes).' };
  if (t % SLOT_MINUTES !== 0) return { ok: false, error: 'Appointments start on the hour or at half past, for example 10:00 or 10:30.' };
  return { ok: true, value: t };
}

export function checkEmailArg(v: unknown): Checked<string> {
  const s = typeof v === 'string' ? v.trim().toLowerCase() : '';
  if (!s || s.length > 254 || CONTROL.test(s) || !EMAIL.test(s)) {
    return { ok: false, error: 'I need a valid email address, like name@example.com.' };
  }
  return { ok: true, value: s };
}

export function checkNameArg(v: unknown): Checked<string> {
  const s = typeof v === 'string' ? v.trim().replace(/\s+/g, ' ') : '';
  if (!s) return { ok: false, error: "I need the patient's name." };
  if (s.length > 200 || CONTROL.test(s)) return { ok: false, error: "The patient's name looks wrong; please say it again." };
  return { ok: true, value: s };
}

/** Optional: absent, null or empty → undefined. */
export function checkPhoneArg(v: unknown): Checked<string | undefined> {
  if (v === undefined || v === null || v === '') return { ok: true, value: undefined };
  const s = typeof v === 'string' ? v.trim() : '';
  const digits = s.replace(/\D/g, '').length;
  if (!s || s.length > 40 || !/^\+?[\d\s().-]+$/.test(s) || digits < 3 || digits > 20) {
    return { ok: false, error: "That phone number doesn't look right; please give it with digits only, like +1 415 555 0100." };
  }
  return { ok: true, value: s };
}

// ---------------------------------------------------------------------------------------------
// Availability

/**
 * Booked slot starts per (org, day), kept for a moment so a burst of availability questions
 * costs one query, and the finished checkAvailability answers built from them. This receiver's
 * own bookings and cancellations clear an org's entries (and answers) at once; writes by other
 * processes show within `ttlMs` (a booking itself is always checked by the database, so a stale
 * answer can never double-book).
 */
export class AvailabilityCache {
  private readonly entries = new Map<string, { at: number; value: Promise<Set<number>> }>();
  /** Answers per org id, then per arguments. */
  private readonly answers = new Map<string, Map<string, CachedAnswer>>();
  /** Bumped by every invalidation: an answer computed across one is not kept. */
  private epoch = 0;

  constructor(
    private readonly ttlMs = 1000,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  async booked(store: Store, orgId: string, fromMs: number, toMs: number, reads?: Reads): Promise<Set<number>> {
    const key = `${orgId}|${fromMs}|${toMs}`;
    const now = this.clock();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) {
      if (reads && hit.at < reads.oldest) reads.oldest = hit.at;
      return hit.value;
    }
    if (this.entries.size > 5000) this.entries.clear();
    const value = store
      .listBookedStarts(orgId, new Date(fromMs).toISOString(), new Date(toMs).toISOString())
      .then((starts) => new Set(starts.map((s) => Date.parse(s))));
    this.entries.set(key, { at: now, value });
    if (reads && now < reads.oldest) reads.oldest = now;
    value.catch(() => this.entries.delete(key));
    return value;
  }

  /**
   * A remembered answer for these arguments, if it is still exactly what a fresh computation
   * would say: same Org object (so the same settings and zone), same minute of "now" (slots
   * start on whole minutes, so nothing time-dependent changes within one), bookings read less
   * than `ttlMs` ago, and no invalidation of the org since.
   */
  answer(org: Org, key: string, minute: number): ToolOutcome | undefined {
    const hit = this.answers.get(org.id)?.get(key);
    if (!hit || hit.org !== org || hit.minute !== minute || this.clock() - hit.at >= this.ttlMs) return undefined;
    return hit.outcome;
  }

  /** Starts an answer computation: pass the result to `remember` with the same `begin()` token. */
  begin(): { epoch: number; reads: Reads } {
    return { epoch: this.epoch, reads: { oldest: Infinity } };
  }

  remember(org: Org, key: string, minute: number, token: { epoch: number; reads: Reads }, outcome: ToolOutcome): void {
    if (token.epoch !== this.epoch) return;
    let byKey = this.answers.get(org.id);
    if (!byKey) {
      if (this.answers.size >= 5000) this.answers.clear();
      byKey = new Map();
      this.answers.set(org.id, byKey);
    }
    if (byKey.size >= 1000) byKey.clear();
    const at = token.reads.oldest === Infinity ? this.clock() : token.reads.oldest;
    byKey.set(key, { org, minute, at, outcome: Object.freeze(outcome) });
  }

  invalidate(orgId: string): void {
    this.epoch++;
    this.answers.delete(orgId);
    for (const key of this.entries.keys()) if (key.startsWith(`${orgId}|`)) this.entries.delete(key);
  }
}

/** The oldest booking read an answer was built from (`Infinity`: none). */
export interface Reads {
  oldest: number;
}

interface CachedAnswer {
  org: Org;
  minute: number;
  /** When the bookings it was built from were read. */
  at: number;
  outcome: ToolOutcome;
}

export interface ToolContext {
  org: Org;
  store: Store;
  now: Date;
  availability: AvailabilityCache;
  /** Set while an answer that may be remembered is computed: notes how old its bookings are. */
  reads?: Reads;
}

export type ToolOutcome = { result: string } | { error: string };
export type ToolHandler = (args: JsonRecord, ctx: ToolContext) => Promise<ToolOutcome>;

interface DayPlan {
  date: LocalDate;
  spoken: string;
  ranges: Array<[number, number]>;
  /** Every slot start of the day (minutes), past or not. */
  slotMinutes: number[];
  /** Slot starts (minutes) still in the future, with their instants. */
  slots: Array<{ minutes: number; at: number }>;
  today: LocalDate;
}

/**
 * Opening ranges and every slot's instant for one org and day, before "now" is applied. Kept
 * per Org object: the receiver's route cache hands out the same object for a few seconds, so
 * settings edits are picked up when it refreshes.
 */
const dayBases = new WeakMap<Org, Map<number, { ranges: Array<[number, number]>; slotMinutes: number[]; slots: Array<{ minutes: number; at: number }> }>>();

function dayBase(org: Org, date: LocalDate) {
  let byDay = dayBases.get(org);
  if (!byDay) {
    byDay = new Map();
    dayBases.set(org, byDay);
  }
  const key = dateKey(date);
  let base = byDay.get(key);
  if (!base) {
    const ranges = openingRanges(org.settings, isoWeekday(date));
    const slotMinutes = daySlots(ranges);
    const slots: Array<{ minutes: number; at: number }> = [];
    for (const minutes of slotMinutes) {
      const at = zonedToInstant(date, minutes, org.timezone);
      if (at !== null) slots.push({ minutes, at });
    }
    if (byDay.size >= 1000) byDay.clear();
    base = { ranges, slotMinutes, slots };
    byDay.set(key, base);
  }
  return base;
}

function planDay(org: Org, date: LocalDate, now: Date): DayPlan {
  const today = zonedNow(now, org.timezone);
  const base = dayBase(org, date);
  const t = now.getTime();
  return { date, spoken: spokenDate(date, today.year), ranges: base.ranges, slotMinutes: base.slotMinutes, slots: base.slots.filter((s) => s.at > t), today };
}

async function freeSlots(ctx: ToolContext, plan: DayPlan): Promise<Array<{ minutes: number; at: number }>> {
  if (plan.slots.length === 0) return [];
  const from = zonedToInstant(plan.date, 0, ctx.org.timezone) ?? plan.slots[0]!.at - 86_400_000;
  const to = zonedToInstant(addDays(plan.date, 1), 0, ctx.org.timezone) ?? plan.slots[plan.slots.length - 1]!.at + 86_400_000;
  const booked = await ctx.availability.booked(ctx.store, ctx.org.id, from, to, ctx.reads);
  return plan.slots.filter((s) => !booked.has(s.at));
}

/** The next open day after `date` within two weeks, spoken, or null. */
function nextOpenDay(org: Org, date: LocalDate, now: Date): string | null {
  for (let i = 1; i <= 14; i++) {
    const d = addDays(date, i);
    if (planDay(org, d, now).slots.length > 0) return spokenDate(d, zonedNow(now, org.timezone).year);
  }
  return null;
}

/**
 * The first free slot at or after `date` `fromMinutes` (then from opening on each later day),
 * within `days` days: the same opening hours (`settings.openingHours`), slots, clock-change and
 * "not in the past" rules the tools apply, against the bookings in `store`. Null when none.
 */
export async function nextFreeSlot(
  org: Org,
  store: Pick<Store, 'listBookedStarts'>,
  from: { date: LocalDate; minutes: number },
  now: Date,
  days = 14,
): Promise<{ date: LocalDate; minutes: number } | null> {
  const start = zonedToInstant(from.date, 0, org.timezone) ?? Date.UTC(from.date.year, from.date.month - 1, from.date.day) - 86_400_000;
  const end = start + (days + 2) * 86_400_000;
  const booked = new Set((await store.listBookedStarts(org.id, new Date(start).toISOString(), new Date(end).toISOString())).map((s) => Date.parse(s)));
  for (let i = 0; i < days; i++) {
    const date = addDays(from.date, i);
    const plan = planDay(org, date, now);
    const slot = plan.slots.find((s) => (i > 0 || s.minutes >= from.minutes) && !booked.has(s.at));
    if (slot) return { date, minutes: slot.minutes };
  }
  return null;
}

/** "The next free times that day are …" for a slot that cannot be had. */
async function offerAlternatives(ctx: ToolContext, plan: DayPlan, afterMinutes: number): Promise<string> {
  const free = await freeSlots(ctx, plan);
  const later = free.filter((s) => s.minutes > afterMinutes).slice(0, 3);
  if (later.length > 0) {
    const times = spokenList(later.map((s) => spokenTime(s.minutes)));
    return later.length === 1 ? `The next free time that day is ${times}.` : `The next free times that day are ${times}.`;
  }
  const earlier = free.filter((s) => s.minutes < afterMinutes).slice(0, 3);
  if (earlier.length > 0) return `Nothing later is free that day; earlier there is ${spokenList(earlier.map((s) => spokenTime(s.minutes)))}.`;
  const next = nextOpenDay(ctx.org, plan.date, ctx.now);
  return next ? `Nothing else is free that day; the next open day is ${next}.` : 'Nothing else is free that day.';
}

type SlotCheck = { ok: true; plan: DayPlan; minutes: number; at: number } | { ok: false; error: string };

/** The rules every tool applies to a requested date and time. */
async function checkSlot(ctx: ToolContext, date: LocalDate, minutes: number): Promise<SlotCheck> {
  const plan = planDay(ctx.org, date, ctx.now);
  const when = `${spokenTime(minutes)} on ${plan.spoken}`;
  if (dateKey(date) < dateKey(plan.today)) {
    return { ok: false, error: `${plan.spoken} has already passed. Please pick a date from today on.` };
  }
  if (plan.ranges.length === 0) {
    const next = nextOpenDay(ctx.org, date, ctx.now);
    return { ok: false, error: `Sorry, the clinic is closed on ${plan.spoken}.${next ? ` The next open day is ${next}.` : ''}` };
  }
  if (!plan.slotMinutes.includes(minutes)) {
    const alt = await offerAlternatives(ctx, plan, minutes);
    return { ok: false, error: `Sorry, ${when} is outside opening hours (${spokenRanges(plan.ranges)}). ${alt}` };
  }
  const at = zonedToInstant(date, minutes, ctx.org.timezone);
  if (at === null) {
    const alt = await offerAlternatives(ctx, plan, minutes);
    return { ok: false, error: `Sorry, ${when} does not exist because the clocks change that night. ${alt}` };
  }
  if (at <= ctx.now.getTime()) {
    const alt = await offerAlternatives(ctx, plan, minutes);
    return { ok: false, error: `Sorry, ${when} has already passed. ${alt}` };
  }
  return { ok: true, plan, minutes, at };
}

function problems(...checks: Array<Checked<unknown>>): string | null {
  const errors = checks.filter((c): c is { ok: false; error: string } => !c.ok).map((c) => c.error);
  return errors.length ? errors.join(' ') : null;
}

/** bookClinicAppointment(appointmentDate, appointmentTime, patientEmail, patientName, patientPhone?) */
export const bookClinicAppointment: ToolHandler = async (args, ctx) => {
  const date = checkDateArg(own(args, 'appointmentDate'));
  const time = checkTimeArg(own(args, 'appointmentTime'));
  const email = checkEmailArg(own(args, 'patientEmail'));
  const name = checkNameArg(own(args, 'patientName'));
  const phone = checkPhoneArg(own(args, 'patientPhone'));
  const bad = problems(date, time, email, name, phone);
  if (bad || !date.ok || !time.ok || !email.ok || !name.ok || !phone.ok) return { error: `I couldn't book that yet. ${bad}` };

  const slot = await checkSlot(ctx, date.value, time.value);
  if (!slot.ok) return { error: slot.error };
  const res = await ctx.store.bookSlot({
    orgId: ctx.org.id,
    startsAt: new Date(slot.at).toISOString(),
    email: email.value,
    name: name.value,
    phone: phone.value,
  });
  ctx.availability.invalidate(ctx.org.id);
  const when = `${spokenTime(slot.minutes)} on ${slot.plan.spoken}`;
  if (res.status === 'taken') {
    const alt = await offerAlternatives(ctx, slot.plan, slot.minutes);
    return { error: `Sorry, ${when} is already taken. ${alt}` };
  }
  return { result: `Booked: ${name.value} is confirmed for ${when}.` };
};

/** Longest date or time argument whose answer is remembered (real ones are 5 or 10 characters). */
const MAX_CACHED_ARG = 40;

/**
 * checkAvailability(appointmentDate, appointmentTime?). The same question for the same org in
 * the same minute gets the remembered answer (see AvailabilityCache.answer) without recomputing.
 */
export const checkAvailability: ToolHandler = async (args, ctx) => {
  const rawDate = own(args, 'appointmentDate');
  const rawTime = own(args, 'appointmentTime');
  const cacheable =
    typeof rawDate === 'string' &&
    rawDate.length <= MAX_CACHED_ARG &&
    (rawTime === undefined || rawTime === null || (typeof rawTime === 'string' && rawTime.length <= MAX_CACHED_ARG));
  if (!cacheable) return availabilityAnswer(args, ctx);
  const key = `${rawDate.length}:${rawDate}${typeof rawTime === 'string' ? rawTime : ''}`;
  const minute = Math.floor(ctx.now.getTime() / 60_000);
  const hit = ctx.availability.answer(ctx.org, key, minute);
  if (hit) return hit;
  const token = ctx.availability.begin();
  const outcome = await availabilityAnswer(args, { ...ctx, reads: token.reads });
  ctx.availability.remember(ctx.org, key, minute, token, outcome);
  return outcome;
};

const availabilityAnswer: ToolHandler = async (args, ctx) => {
  const date = checkDateArg(own(args, 'appointmentDate'));
  const rawTime = own(args, 'appointmentTime');
  const time = rawTime === undefined || rawTime === null || rawTime === '' ? null : checkTimeArg(rawTime);
  const bad = problems(date, ...(time ? [time] : []));
  if (bad || !date.ok || (time && !time.ok)) return { error: `I couldn't check that. ${bad}` };

  if (time && time.ok) {
    const slot = await checkSlot(ctx, date.value, time.value);
    if (!slot.ok) return { result: slot.error };
    const free = await freeSlots(ctx, slot.plan);
    const when = `${spokenTime(slot.minutes)} on ${slot.plan.spoken}`;
    if (free.some((s) => s.at === slot.at)) return { result: `Yes, ${when} is free.` };
    return { result: `No, ${when} is taken. ${await offerAlternatives(ctx, slot.plan, slot.minutes)}` };
  }

  const plan = planDay(ctx.org, date.value, ctx.now);
  if (dateKey(date.value) < dateKey(plan.today)) return { error: `${plan.spoken} has already passed. Please pick a date from today on.` };
  if (plan.ranges.length === 0) {
    const next = nextOpenDay(ctx.org, date.value, ctx.now);
    return { result: `The clinic is closed on ${plan.spoken}.${next ? ` The next open day is ${next}.` : ''}` };
  }
  const free = await freeSlots(ctx, plan);
  if (free.length === 0) {
    const next = nextOpenDay(ctx.org, date.value, ctx.now);
    return { result: `Nothing is free on ${plan.spoken}.${next ? ` The next open day is ${next}.` : ''}` };
  }
  const times = free.map((s) => spokenTime(s.minutes));
  if (times.length <= 6) return { result: `On ${plan.spoken} these times are free: ${spokenList(times)}.` };
  return {
    result: `On ${plan.spoken} there are ${times.length} free times between ${times[0]} and ${times[times.length - 1]}, for example ${spokenList(times.slice(0, 4))}.`,
  };
};

/** cancelAppointment(appointmentDate, appointmentTime, patientEmail) */
export const cancelAppointment: ToolHandler = async (args, ctx) => {
  const date = checkDateArg(own(args, 'appointmentDate'));
  const time = checkTimeArg(own(args, 'appointmentTime'));
  const email = checkEmailArg(own(args, 'patientEmail'));
  const bad = problems(date, time, email);
  if (bad || !date.ok || !time.ok || !email.ok) return { error: `I couldn't cancel that yet. ${bad}` };
  const today = zonedNow(ctx.now, ctx.org.timezone);
  const spoken = `${spokenTime(time.value)} on ${spokenDate(date.value, today.year)}`;
  const at = zonedToInstant(date.value, time.value, ctx.org.timezone);
  if (at === null) return { error: `There is no appointment at ${spoken}; that time does not exist because the clocks change.` };
  if (at <= ctx.now.getTime()) return { error: `The appointment at ${spoken} has already started or passed, so it cannot be cancelled.` };
  const cancelled = await ctx.store.cancelAppointment({ orgId: ctx.org.id, email: email.value, startsAt: new Date(at).toISOString() });
  ctx.availability.invalidate(ctx.org.id);
  if (!cancelled) return { error: `I couldn't find a booking for ${email.value} at ${spoken}.` };
  return { result: `Cancelled: the appointment for ${email.value} at ${spoken} is cancelled.` };
};

/** The tools the receiver answers itself, by function name (a Map: names come from requests). */
export const BUILTIN_TOOLS: ReadonlyMap<string, ToolHandler> = new Map([
  ['bookClinicAppointment', bookClinicAppointment],
  ['checkAvailability', checkAvailability],
  ['cancelAppointment', cancelAppointment],
]);
