/**
 * `voxctl webhook logs [--follow] [--json] [-n <lines>]`: the receiver's event log
 * (`<VOXCTL_DATA_DIR>/events.ndjson` and its rotations), newest last.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Context } from '../context.js';
import { waitForShutdown } from '../util/signals.js';
import { EVENT_LOG_NAME, followEvents, readEvents, type RequestEvent } from '../webhook/event-log.js';
import { formatRequestLine } from '../webhook/format.js';
import { parseOptions } from './options.js';

const schema = z.object({
  follow: z.boolean().default(false),
  lines: z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number (0 shows everything)')
    .transform(Number)
    .default(50),
});

export async function webhookLogsAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(schema, raw);
  const file = path.join(ctx.dataDir(), EVENT_LOG_NAME);
  const shown = path.relative(ctx.cwd, file) || file;
  const events = await readEvents(file, opts.lines === 0 ? {} : { limit: opts.lines });
  const ui = ctx.ui;
  // Org names make lines readable; the store is opened only when there is something to show.
  let orgNames = new Map<string, string>();
  if (!ctx.flags.json && events.some((e) => e.orgId)) {
    try {
      orgNames = new Map((await (await ctx.store()).listOrgs()).map((o) => [o.id, o.name]));
    } catch (e) {
      ui.debug(`org names unavailable: ${(e as Error).message}`);
    }
  }
  const print = (ev: RequestEvent) => {
    if (ctx.flags.json) ui.jsonDoc({ event: 'request', ...ev });
    else ui.line(formatRequestLine(ev, { theme: ctx.theme, orgName: (id) => orgNames.get(id) }));
  };

  if (!opts.follow) {
    if (ctx.flags.json) {
      ui.jsonDoc({ ok: true, file, events });
      return 0;
    }
    if (events.length === 0) {
      ui.info(`No webhook requests logged yet in ${shown}. Start the receiver with \`voxctl tunnel up\`.`);
      return 0;
    }
    for (const ev of events) print(ev);
    return 0;
  }

  // --follow: the backlog, then new lines as they come, until Ctrl-C.
  for (const ev of events) print(ev);
  ui.info(ctx.theme.dim(`Following ${shown} (Ctrl-C to stop)…`));
  const shutdown = waitForShutdown(ctx.service('signals') ?? process);
  const abort = new AbortController();
  void shutdown.promise.then(() => abort.abort());
  try {
    await followEvents(file, print, abort.signal, { intervalMs: ctx.service('logPollMs') ?? 200, wait: ctx.service('logPollWait') });
  } finally {
    shutdown.dispose();
  }
  return 0;
}
