/**
 * One human line per webhook request, shared by `tunnel up` and `webhook logs`:
 *   12:01:02  3f2a9c1e  200  tool-calls  bookClinicAppointment  Sunrise Dental  12ms  Booked: …
 * (the second column is the start of the event id: `voxctl webhook replay 3f2a9c1e`)
 */
import type { Theme } from '../ui/theme.js';
import type { RequestEvent } from './event-log.js';

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const p2 = (n: number) => String(n).padStart(2, '0');

function clock(iso: string, withDate = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return withDate ? '----------  --:--:--' : '--:--:--';
  const time = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  return withDate ? `${localDay(iso)} ${time}` : time;
}

/** The local calendar day of an ISO time, `2030-03-04` (what the date column shows). */
export function localDay(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}`;
}

/** Column widths of the aligned (terminal) form; the last column, the outcome, is not padded. */
const WIDTH = { id: 8, status: 4, what: 44, org: 24, took: 6 };

export interface LineOptions {
  theme: Theme;
  orgName?: ((id: string) => string | undefined) | undefined;
  /** Show the date before the time (lines that span more than one day). */
  date?: boolean | undefined;
  /** Pad the columns to fixed widths under `requestLinesHeader` (a terminal). */
  aligned?: boolean | undefined;
}

/** The header of the aligned form: `TIME  ID  HTTP  REQUEST  ORG  TOOK  OUTCOME`. */
export function requestLinesHeader(opts: Pick<LineOptions, 'date'>): string {
  const time = opts.date ? 'DATE       TIME    ' : 'TIME    ';
  return [time, 'ID'.padEnd(WIDTH.id), 'HTTP', 'REQUEST'.padEnd(WIDTH.what), 'ORG'.padEnd(WIDTH.org), 'TOOK'.padEnd(WIDTH.took), 'OUTCOME'].join('  ');
}

/** The outcome worth a glance: first tool result or error, or why the request was refused. */
export function requestOutcome(ev: RequestEvent): string {
  if (ev.error) return ev.error;
  const first = ev.results?.[0];
  if (first) {
    const more = ev.results!.length > 1 ? ` (+${ev.results!.length - 1} more)` : '';
    return `${first.result ?? `error: ${first.error}`}${more}`;
  }
  return ev.summary ?? '';
}

export function formatRequestLine(ev: RequestEvent, opts: LineOptions): string {
  const t = opts.theme;
  const pad = (text: string, width: number) => (opts.aligned ? clip(text, width).padEnd(width) : text);
  const code = pad(String(ev.status), WIDTH.status);
  const status = ev.status >= 500 ? t.red(code) : ev.status >= 400 ? t.yellow(code) : t.green(code);
  const org = ev.orgId ? (opts.orgName?.(ev.orgId) ?? ev.orgId.slice(0, 8)) : 'no org';
  const what = ev.refused
    ? `refused  ${ev.method} ${ev.path}`
    : [ev.type ?? `${ev.method} ${ev.path}`, ev.tools.length ? ev.tools.join(',') : ''].filter(Boolean).join('  ');
  const outcome = requestOutcome(ev);
  const hasError = Boolean(ev.error) || Boolean(ev.results?.[0]?.error);
  const cells = [
    t.dim(clock(ev.time, opts.date)),
    t.dim(pad(String(ev.id).slice(0, 8), WIDTH.id)),
    status,
    pad(clip(what, 80), WIDTH.what),
    pad(clip(org, 40), WIDTH.org),
    t.dim(pad(`${Math.round(ev.latencyMs)}ms`, WIDTH.took)),
    outcome ? (hasError ? t.yellow(clip(outcome, 160)) : clip(outcome, 160)) : '',
  ];
  return (opts.aligned ? cells : cells.filter(Boolean)).join('  ').trimEnd();
}
