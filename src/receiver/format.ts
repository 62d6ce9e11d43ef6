/**
 * One human line per webhook request, shared by `tunnel up` and `webhook logs`:
 *   12:01:02  3f2a9c1e  200  tool-calls  bookClinicAppointment  Sunrise Dental  12ms  Booked: …
 * (the second column is the start of the event id: `voxctl webhook replay 3f2a9c1e`)
 */
import type { Theme } from '../ui/theme.js';
import type { RequestEvent } from './event-log.js';

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '--:--:--';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
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

export function formatRequestLine(ev: RequestEvent, opts: { theme: Theme; orgName?: (id: string) => string | undefined }): string {
  const t = opts.theme;
  const status = ev.status >= 500 ? t.red(String(ev.status)) : ev.status >= 400 ? t.yellow(String(ev.status)) : t.green(String(ev.status));
  const org = ev.orgId ? (opts.orgName?.(ev.orgId) ?? ev.orgId.slice(0, 8)) : 'no org';
  const what = ev.refused
    ? `refused  ${ev.method} ${ev.path}`
    : [ev.type ?? `${ev.method} ${ev.path}`, ev.tools.length ? ev.tools.join(',') : ''].filter(Boolean).join('  ');
  const outcome = requestOutcome(ev);
  const hasError = Boolean(ev.error) || Boolean(ev.results?.[0]?.error);
  return [
    t.dim(clock(ev.time)),
    t.dim(String(ev.id).slice(0, 8)),
    status,
    clip(what, 80),
    clip(org, 40),
    t.dim(`${Math.round(ev.latencyMs)}ms`),
    outcome ? (hasError ? t.yellow(clip(outcome, 160)) : clip(outcome, 160)) : '',
  ]
    .filter(Boolean)
    .join('  ');
}
