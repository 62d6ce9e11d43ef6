/**
 * `voxctl webhook inspect [--port <n>] [--remote]`: the browser inspector without a receiver,
 * over the folder's event log (following it, so requests a `tunnel up` or `webhook test --local`
 * in another terminal answers appear live), or with `--remote` over the events a deployed
 * function stored. Replays go to the running receiver (tunnel up on this folder), else
 * BACKEND_URL. Runs until SIGINT/SIGTERM, then exits 0.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Context } from '../context.js';
import { VoxError } from '../errors.js';
import { EVENT_LOG_NAME, followEvents, type RequestEvent } from '../receiver/event-log.js';
import { DEFAULT_INSPECT_PORT } from '../inspector/server.js';
import { parseOptions, portFlag } from './options.js';
import type { StoredEvents } from '../inspector/remote.js';
import { backendOfWebhookUrl } from '../util/url.js';

const schema = z.object({
  port: portFlag.optional(),
  remote: z.boolean().default(false),
});

export async function webhookInspectAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(schema, raw);
  const ui = ctx.ui;
  const settings = ctx.settings();
  const [{ startProjectInspector }, { readReceiverState }] = await Promise.all([import('../inspector/project.js'), import('../receiver/state.js')]);

  let orgs: Record<string, string> = {};
  const loadOrgs = async () => {
    try {
      orgs = Object.fromEntries((await (await ctx.store()).listOrgs()).map((o) => [o.id, o.name]));
    } catch (e) {
      ui.debug(`org names unavailable: ${(e as Error).message}`);
    }
  };

  let source: StoredEvents | null = null;
  if (opts.remote) {
    const { storedEventsOf } = await import('../inspector/remote.js');
    source = storedEventsOf(await ctx.store());
    if (!source) {
      throw new VoxError('unsupported', 1, 'This store keeps no events of a deployed function.', {
        hint: 'Set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY for the project the function stores its events in (`voxctl edge deploy`), or run without --remote to inspect this folder’s event log.',
      });
    }
  }
  await loadOrgs();

  const file = path.join(ctx.dataDir(), EVENT_LOG_NAME);
  const receiverUrl = () => {
    if (opts.remote) return settings.BACKEND_URL ?? (settings.WEBHOOK_URL ? backendOfWebhookUrl(settings.WEBHOOK_URL) : null);
    return readReceiverState(ctx.dataDir())?.localUrl ?? settings.BACKEND_URL ?? null;
  };
  const shutdown = ctx.interrupts.untilInterrupted();
  const inspector = await startProjectInspector({
    port: opts.port ?? DEFAULT_INSPECT_PORT,
    portIsDefault: opts.port === undefined,
    mode: opts.remote ? 'remote' : 'log',
    // The follower below starts at the log's end: the tail is read after it (the ring drops
    // what both deliver), so nothing written in between is missed.
    logFile: null,
    receiverUrl,
    secret: () => settings.VAPI_WEBHOOK_SECRET,
    redact: (text) => ctx.redactor.redact(text),
    // Asked when a page loads or meets an org it cannot name (one linked since): read again.
    orgs: async () => {
      await loadOrgs();
      return orgs;
    },
    notice: (m) => ui.info(m),
  });
  ctx.onDispose(() => inspector.close());

  const stop = new AbortController();
  let following: Promise<void>;
  if (source) {
    const { followStoredEvents } = await import('../inspector/remote.js');
    following = followStoredEvents(source, (e) => inspector.publish(e), stop.signal, {
      limit: inspector.ring.maxEvents,
      onError: (e) => ui.warn(`Cannot read the function's events: ${e.message}`),
    });
  } else {
    const { readRecentEvents } = await import('../receiver/event-log.js');
    // What the follower sees before the tail is in waits, so the page gets them in order.
    let early: RequestEvent[] | null = [];
    const follower = followEvents(file, (e) => (early ? early.push(e) : inspector.publish(e)), stop.signal, {
      intervalMs: ctx.service('logPollMs') ?? 200,
      wait: ctx.service('logPollWait'),
    });
    try {
      for (const e of await readRecentEvents(file, { maxEvents: inspector.ring.maxEvents, maxBytes: inspector.ring.maxBytes })) inspector.publish(e);
    } catch (e) {
      ui.warn(`Cannot read ${file}: ${(e as Error).message}; showing new requests only.`);
    }
    for (const e of early) inspector.publish(e);
    early = null;
    following = follower;
  }

  if (ctx.flags.json) ui.jsonDoc({ event: 'ready', inspectorUrl: inspector.url });
  else {
    const t = ctx.theme;
    ui.line(t.bold(`voxctl inspector is up (${opts.remote ? "the deployed function's events" : path.relative(ctx.cwd, file) || file})`));
    ui.line(`  ${t.dim('Inspector'.padEnd(12))} ${t.cyan(inspector.url)}`);
    ui.line(`  ${t.dim('Replays to'.padEnd(12))} ${receiverUrl() ?? t.yellow('no receiver yet — start one with `voxctl tunnel up`')}`);
    ui.line(t.dim('Press Ctrl-C to stop.'));
  }
  const signal = await shutdown;
  stop.abort();
  await following;
  await inspector.close();
  if (ctx.flags.json) ui.jsonDoc({ event: 'stopped', signal });
  else ui.info('Stopped.');
  return 0;
}
