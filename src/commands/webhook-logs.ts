/**
 * `voxctl webhook logs [--follow] [--json] [-n <lines>]`: the receiver's event log
 * (`<VOXCTL_DATA_DIR>/events.ndjson` and its rotations), newest last.
 */
import { z } from 'zod';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { followEvents, type RequestEvent } from '../receiver/event-log.js';
import { readEventSource } from './event-source.js';
import { formatRequestLine, localDay, requestLinesHeader } from '../receiver/format.js';
import { unknownOrg } from '../store/validate.js';
import { parseOptions, uuidFlag } from './options.js';

const DURATION = /^(\d+)\s*(s|m|h|d)$/i;
const DAY_MS = 86_400_000;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: DAY_MS };

/** `--status`: codes (`401`) or classes (`4xx`), comma-separated. */
const statusFlag = z
  .string()
  .trim()
  .transform((v) => v.split(',').map((p) => p.trim().toLowerCase()))
  .refine((parts) => parts.every((p) => /^[1-5](\d\d|xx)$/.test(p)), 'takes HTTP codes or classes, e.g. 401, 4xx or 401,403');

const schema = z.object({
  org: uuidFlag('the org id').optional(),
  tool: z.string().trim().min(1, 'must not be empty').optional(),
  status: statusFlag.optional(),
  since: z
    .string()
    .trim()
    .refine((v) => DURATION.test(v) || !Number.isNaN(Date.parse(v)), 'takes a duration (30s, 10m, 2h, 7d) or a date/time (2030-03-04T09:00:00Z)')
    .optional(),
  follow: z.boolean().default(false),
  remote: z.boolean().default(false),
  lines: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number (0 shows everything)')
    .transform(Number)
    .default(50),
});

export interface EventFilter {
  org?: string | undefined;
  tool?: string | undefined;
  status?: string[] | undefined;
  /** Epoch ms: events from this time on. */
  since?: number | undefined;
}

/** Whether an event (or a refusal summary line) passes the filters. */
export function matchesFilter(ev: RequestEvent, f: EventFilter): boolean {
  if (f.org && ev.orgId !== f.org) return false;
  if (f.tool && !ev.tools.includes(f.tool)) return false;
  if (f.status) {
    const codes = ev.refused ? Object.keys(ev.refused.byStatus) : [String(ev.status)];
    if (!codes.some((c) => f.status!.some((s) => (s.endsWith('xx') ? c[0] === s[0] : c === s)))) return false;
  }
  if (f.since !== undefined) {
    const t = Date.parse(ev.refused?.to ?? ev.time);
    if (Number.isNaN(t) || t < f.since) return false;
  }
  return true;
}

function sinceMs(raw: string | undefined, now: Date): number | undefined {
  if (!raw) return undefined;
  const m = DURATION.exec(raw);
  return m ? now.getTime() - Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]! : Date.parse(raw);
}

export async function webhookLogsAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(schema, raw);
  const ui = ctx.ui;
  const filter: EventFilter = { org: opts.org, tool: opts.tool, status: opts.status, since: sinceMs(opts.since, ctx.now()) };
  if (opts.follow && opts.remote) throw new UsageError('--follow watches the local log; it cannot be combined with --remote.', { hint: 'Run `voxctl webhook logs --remote` again to see newer stored events.' });
  // The local log, or the deployed function's events (--remote, or no local log and Supabase configured).
  const source = await readEventSource(ctx, { remote: opts.remote, auto: !opts.follow, sinceMs: filter.since });
  const { file, shown } = source;
  // Filters first, then the last -n of what is left.
  const all = source.events;
  const matching = all.filter((e) => matchesFilter(e, filter));
  // An org that neither the log nor the store knows is a typo, not an org without requests:
  // not_found (exit 1) as everywhere. (A removed org's requests are still in the log.)
  if (opts.org && !all.some((e) => e.orgId === opts.org)) {
    let known = true;
    try {
      known = (await (await ctx.store()).getOrg(opts.org)) !== null;
    } catch (e) {
      ui.debug(`cannot check --org in the store: ${(e as Error).message}`);
    }
    if (!known) throw unknownOrg(opts.org);
  }
  const events = opts.lines === 0 ? matching : matching.slice(Math.max(0, matching.length - opts.lines));
  // Org names make lines readable; the store is opened only when there is something to show.
  let orgNames = new Map<string, string>();
  if (!ctx.flags.json && events.some((e) => e.orgId)) {
    try {
      orgNames = new Map((await (await ctx.store()).listOrgs()).map((o) => [o.id, o.name]));
    } catch (e) {
      ui.debug(`org names unavailable: ${(e as Error).message}`);
    }
  }
  // Lines show the date when they span more than one day (or --since reaches back further than a
  // day); a new day during --follow turns it on. On a terminal the columns are aligned under a
  // header; piped output stays one plain line per request (gh-style).
  const dayOf = (ev: RequestEvent) => localDay(ev.refused?.to ?? ev.time);
  const aligned = ctx.io.isStdoutTTY && !ctx.flags.json;
  let dated = new Set(events.map(dayOf)).size > 1 || (filter.since !== undefined && ctx.now().getTime() - filter.since > DAY_MS);
  let lastDay: string | undefined;
  let headed = false;
  const print = (ev: RequestEvent) => {
    if (!matchesFilter(ev, filter)) return;
    if (ctx.flags.json) {
      ui.jsonDoc({ event: 'request', ...ev });
      return;
    }
    const day = dayOf(ev);
    if (lastDay !== undefined && day !== lastDay && !dated) {
      dated = true;
      headed = false;
    }
    lastDay = day;
    if (aligned && !headed) {
      ui.line(ctx.theme.bold(requestLinesHeader({ date: dated })));
      headed = true;
    }
    ui.line(formatRequestLine(ev, { theme: ctx.theme, orgName: (id) => orgNames.get(id), date: dated, aligned }));
  };

  if (!opts.follow) {
    if (ctx.flags.json) {
      ui.jsonDoc({ ok: true, file: source.kind === 'file' ? file : null, source: source.kind, events });
      return 0;
    }
    if (events.length === 0) {
      const filtered = Object.values(filter).some((v) => v !== undefined);
      ui.info(filtered ? `No logged webhook request in ${shown} matches the filters.` : `No webhook requests logged yet in ${shown}. Start the receiver with \`voxctl tunnel up\`.`);
      return 0;
    }
    for (const ev of events) print(ev);
    return 0;
  }

  // --follow: the backlog, then new lines as they come, until Ctrl-C. The backlog, the notice and
  // claiming Ctrl-C happen in one synchronous step: a signal after any of that output finds the
  // follow claimed (tests/e2e/logs-follow.test.ts relies on it).
  for (const ev of events) print(ev);
  ui.info(ctx.theme.dim(`Following ${shown} (Ctrl-C to stop)…`));
  const stopped = ctx.interrupts.untilInterrupted();
  await followEvents(file, print, ctx.signal, { intervalMs: ctx.service('logPollMs') ?? 200, wait: ctx.service('logPollWait') });
  // Ctrl-C (or SIGTERM) is the normal way out of a follow, as for `tail -f` and `tunnel up`:
  // quiet, exit 0 (with --json a last {"event":"stopped"} line, as tunnel up). A closed stdout
  // (`| head`) ends it quietly too.
  const reason = await stopped;
  if (ctx.flags.json && reason !== 'EPIPE') ui.jsonDoc({ event: 'stopped', signal: reason });
  return 0;
}
