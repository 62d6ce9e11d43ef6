/**
 * Where `webhook logs` and `webhook replay` read events: the folder's NDJSON log (tunnel up,
 * webhook test --local), or, with `--remote` or when there is no local log and Supabase is
 * configured, the `voxctl_events` table a deployed Edge Function writes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { EVENT_LOG_NAME, readEvents, type RequestEvent } from '../receiver/event-log.js';
import { isEventStore } from '../store/types.js';

/** At most this many of the newest stored events are read (after --since). */
export const MAX_REMOTE_EVENTS = 1000;

export interface EventSource {
  events: RequestEvent[];
  /** `file`: the local log; `supabase`: the deployed function's events table. */
  kind: 'file' | 'supabase';
  /** The local log file (also when reading remotely: it is what `--follow` would watch). */
  file: string;
  /** For messages: the log's relative path, or the store's description. */
  shown: string;
}

export async function readEventSource(ctx: Context, opts: { remote: boolean; sinceMs?: number | undefined; /** Without --remote, read Supabase when there is no local log (default true). */ auto?: boolean }): Promise<EventSource> {
  const file = path.join(ctx.dataDir(), EVENT_LOG_NAME);
  const settings = ctx.settings();
  const remote = opts.remote || (opts.auto !== false && !existsSync(file) && settings.useSupabase);
  if (!remote) return { events: await readEvents(file), kind: 'file', file, shown: path.relative(ctx.cwd, file) || file };
  const hint = 'Set SUPABASE_URL in .env and SUPABASE_SERVICE_ROLE_KEY in .env.local (the project the function is deployed to), or drop --remote to read the local log.';
  if (!settings.useSupabase) throw new UsageError('--remote reads the events a deployed Edge Function stored in Supabase, and no Supabase project is configured.', { hint });
  const store = await ctx.store();
  if (!isEventStore(store)) throw new UsageError(`The ${store.description} keeps no remote events.`, { hint });
  const events = (await store.listEvents({
    since: opts.sinceMs !== undefined ? new Date(opts.sinceMs).toISOString() : undefined,
    limit: MAX_REMOTE_EVENTS,
  })) as unknown as RequestEvent[];
  return { events, kind: 'supabase', file, shown: `the events table of the ${store.description}` };
}
