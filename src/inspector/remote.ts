/**
 * `webhook inspect --remote`: the events a deployed function stored, polled from the store.
 * The store reads them through `listEvents` (the Supabase events table); a store without it
 * (the embedded one, or a build before that table) has none to show.
 */
import type { RequestEvent } from '../receiver/event-log.js';

/** What the inspector needs from a store that keeps a deployed function's events. */
export interface StoredEvents {
  /** The newest `limit` events, oldest first. */
  listEvents(opts: { limit: number }): Promise<RequestEvent[]>;
}

export function storedEventsOf(store: unknown): StoredEvents | null {
  const s = store as Partial<StoredEvents> | null;
  return s && typeof s.listEvents === 'function' ? (s as StoredEvents) : null;
}

/**
 * Publishes the stored events, then new ones every `intervalMs`, until `signal` aborts (the ring
 * drops the ids it already holds). `wait` replaces the pause between polls (tests).
 */
export async function followStoredEvents(
  source: StoredEvents,
  publish: (e: RequestEvent) => void,
  signal: AbortSignal,
  opts: { limit: number; intervalMs?: number; onError?: (e: Error) => void; wait?: (signal: AbortSignal) => Promise<void> },
): Promise<void> {
  const pause =
    opts.wait ??
    ((sig: AbortSignal) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(done, opts.intervalMs ?? 1000);
        function done() {
          clearTimeout(t);
          sig.removeEventListener('abort', done);
          resolve();
        }
        sig.addEventListener('abort', done);
      }));
  let failing = false;
  while (!signal.aborted) {
    try {
      for (const ev of await source.listEvents({ limit: opts.limit })) publish(ev);
      failing = false;
    } catch (e) {
      if (!failing) opts.onError?.(e as Error);
      failing = true;
    }
    await pause(signal);
  }
}
