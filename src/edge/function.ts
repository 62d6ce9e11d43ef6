/**
 * The receiver as a Supabase Edge Function: the core behind the fetch adapter, on the Supabase
 * store, its events written to the schema's `voxctl_events` table after each answer (never
 * before it). Runs in Deno (the Supabase Edge Runtime, or `voxctl edge serve`); imports no
 * `node:` module and touches no file system.
 *
 * Settings come from the function's environment: SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY
 * (Supabase provides both to every function), VAPI_WEBHOOK_SECRET (a function secret).
 */
import { createReceiverCore } from '../receiver/core.js';
import type { RequestEvent } from '../receiver/event-log.js';
import { createFetchHandler, type FetchHandler } from '../receiver/fetch.js';
import { createSupabaseStore } from '../store/supabase.js';
import { isEventStore, type Store, type StoredEvent } from '../store/types.js';
import { Redactor } from '../util/mask.js';

export interface FunctionEnv {
  get(name: string): string | undefined;
}

export interface EdgeFunction {
  handler: FetchHandler;
  /** Writes the events not yet stored (tests; a served function flushes on its own). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Supabase's hook to keep a function alive for work after the answer (absent under plain Deno). */
type WaitUntil = (p: Promise<unknown>) => void;
const waitUntil = (): WaitUntil | undefined => {
  const rt = (globalThis as { EdgeRuntime?: { waitUntil?: WaitUntil } }).EdgeRuntime;
  return rt?.waitUntil?.bind(rt);
};

/** Events go to the store in batches: everything answered in one turn of the event loop is one insert. */
function eventSink(store: Store, redactor: Redactor, warn: (m: string) => void) {
  let pending: StoredEvent[] = [];
  let writing: Promise<void> = Promise.resolve();
  let scheduled = false;
  const write = async () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    if (batch.length === 0 || !isEventStore(store)) return;
    try {
      await store.appendEvents(batch);
    } catch (e) {
      warn(`could not store ${batch.length} event(s): ${(e as Error).message}`);
    }
  };
  return {
    push(ev: RequestEvent) {
      // The secret never reaches the table, even when a caller put it in a tool argument.
      pending.push(JSON.parse(redactor.redact(JSON.stringify(ev))) as StoredEvent);
      if (scheduled) return;
      scheduled = true;
      writing = writing.then(() => new Promise<void>((resolve) => setTimeout(() => void write().then(resolve), 0)));
      waitUntil()?.(writing);
    },
    flush: async () => {
      await writing;
      await write();
    },
  };
}

export async function createEdgeFunction(opts: { env: FunctionEnv; name: string; warn?: (m: string) => void; now?: () => Date }): Promise<EdgeFunction> {
  const { env, name } = opts;
  const warn = opts.warn ?? (() => {});
  const url = env.get('SUPABASE_URL');
  const key = env.get('SUPABASE_SERVICE_ROLE_KEY');
  if (!url || !key) throw new Error('SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY must be set in the function environment (Supabase sets both).');
  const secret = env.get('VAPI_WEBHOOK_SECRET') || undefined;
  const redactor = new Redactor([secret, key]);
  const store = await createSupabaseStore({ url, serviceRoleKey: key, redactor });
  const sink = eventSink(store, redactor, warn);
  const core = createReceiverCore({
    store,
    secret,
    warn: (m) => warn(redactor.redact(m)),
    emit: (ev) => sink.push(ev),
    ...(opts.now ? { now: opts.now } : {}),
  });
  if (!secret) warn('VAPI_WEBHOOK_SECRET is not set: anyone who learns this URL can call the function. Set it with `voxctl edge deploy` (or `supabase secrets set`).');
  return {
    handler: createFetchHandler(core, { prefix: `/${name}` }),
    flush: sink.flush,
    close: async () => {
      core.close();
      await sink.flush();
      await store.close();
    },
  };
}
