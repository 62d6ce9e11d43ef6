/**
 * Runs the receiver's tools: a tool that throws, rejects or runs past its deadline gets the
 * generic error result (and a warning); the answer never waits longer than the deadline. A
 * store locked by another process's write (StoreBusyError) is not the tool's failure: it
 * rejects the run, and the request is answered 503 store_busy (http.ts `errorAnswer`). One
 * watchdog, on an injectable clock, checks every running call (no timer per call).
 */
import { StoreBusyError } from '../errors.js';
import type { Org, Store } from '../store/types.js';
import type { AvailabilityCache, ToolHandler, ToolOutcome } from '../clinic/booking.js';
import type { ToolCall } from './messages.js';
import { clip, monotonic, type Clock } from './http.js';

export const SORRY = 'Sorry, something went wrong on our side. Please try again in a moment.';

export interface ToolRunnerOptions {
  tools: ReadonlyMap<string, ToolHandler>;
  store: Store;
  availability: AvailabilityCache;
  timeoutMs: number;
  warn: (message: string) => void;
  clock?: Clock;
  /** How often the watchdog looks (default: a quarter of the timeout, 10–250 ms). */
  checkEveryMs?: number;
}

export interface ToolRunner {
  run(call: ToolCall, org: Org, at: Date): ToolOutcome | Promise<ToolOutcome>;
  /** Fails every call whose deadline has passed (the watchdog calls it; tests may too). */
  check(): void;
  close(): void;
}

export function createToolRunner(opts: ToolRunnerOptions): ToolRunner {
  const clock = opts.clock ?? monotonic;
  const names = [...opts.tools.keys()];
  const failed = (call: ToolCall, org: Org, e: unknown): ToolOutcome => {
    opts.warn(`tool ${call.name} failed for org ${org.id}: ${e instanceof Error ? e.message : String(e)}`);
    return { error: SORRY };
  };
  const running = new Set<{ deadline: number; fail: () => void }>();
  const check = () => {
    const t = clock();
    for (const r of running) if (r.deadline <= t) r.fail();
  };
  const watchdog = setInterval(check, opts.checkEveryMs ?? Math.max(10, Math.min(250, Math.floor(opts.timeoutMs / 4))));
  // Node: do not keep the process alive for it (Deno's timers have no unref; a served function lives anyway).
  (watchdog as { unref?: () => void }).unref?.();

  return {
    check,
    close: () => clearInterval(watchdog),
    run(call, org, at) {
      if (!call.name) return { error: 'The tool call has no function name.' };
      if (!call.args) return { error: call.argsError ?? 'The tool arguments could not be read.' };
      const handler = opts.tools.get(call.name);
      if (!handler) return { error: `Unknown tool "${clip(call.name, 64)}". This receiver handles ${names.join(', ')}.` };
      let work: Promise<ToolOutcome>;
      try {
        work = handler(call.args, { org, store: opts.store, now: at, availability: opts.availability });
      } catch (e) {
        if (e instanceof StoreBusyError) throw e;
        return failed(call, org, e);
      }
      return new Promise<ToolOutcome>((resolve, reject) => {
        const entry = {
          deadline: clock() + opts.timeoutMs,
          fail: () => {
            running.delete(entry);
            resolve(failed(call, org, new Error(`${call.name} took longer than ${opts.timeoutMs} ms`)));
          },
        };
        running.add(entry);
        Promise.resolve(work).then(
          (v) => {
            if (running.delete(entry)) resolve(v);
          },
          (e: unknown) => {
            if (running.delete(entry)) {
              if (e instanceof StoreBusyError) reject(e);
              else resolve(failed(call, org, e));
            }
          },
        );
      });
    },
  };
}
