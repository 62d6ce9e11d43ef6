/**
 * Carries out planned writes. Each resource is independent: a failure is recorded and the others
 * go on. HTTP attempts pass through the adaptive limiter; the client retries 429/5xx/network a
 * bounded number of times. Every PATCH response is checked for the change. When the signal aborts
 * (Ctrl-C) no new write starts, and the writes already on the wire are waited for.
 */
import { AuthError, CancelledError, isVoxError } from '../errors.js';
import type { VapiCallOptions, VapiClient } from '../vapi/types.js';
import { AdaptiveLimiter } from './limiter.js';
import { verifyWrite, type PlannedWrite } from './plan.js';

export interface WriteOutcome {
  status: 'done' | 'failed' | 'not-started';
  error?: string | undefined;
  /** Vapi rejected the key (exit 4). */
  auth?: boolean | undefined;
}

export interface ApplyProgress {
  done: number;
  total: number;
  failed: number;
  limit: number;
}

export interface ApplyOptions {
  client: VapiClient;
  /** Upper bound of concurrent writes (`--concurrency`). */
  concurrency: number;
  signal?: AbortSignal | undefined;
  limiter?: AdaptiveLimiter | undefined;
  onProgress?: ((p: ApplyProgress) => void) | undefined;
}

export interface ApplyResult {
  outcomes: WriteOutcome[];
  interrupted: boolean;
  limiter: AdaptiveLimiter;
}

function patch(client: VapiClient, w: Pick<PlannedWrite, 'resource' | 'id' | 'body'>, opts: VapiCallOptions) {
  if (w.resource === 'assistant') return client.patchAssistant(w.id, w.body, opts);
  if (w.resource === 'tool') return client.patchTool(w.id, w.body, opts);
  return client.patchPhoneNumber(w.id, w.body, opts);
}

function describeError(e: unknown): string {
  if (isVoxError(e)) return e.message.replace(/\n\s*-\s*/g, ' - ').replace(/\s+/g, ' ').trim();
  return e instanceof Error ? e.message : String(e);
}

export async function applyWrites(writes: Array<Pick<PlannedWrite, 'resource' | 'id' | 'body' | 'checks'>>, opts: ApplyOptions): Promise<ApplyResult> {
  const limiter = opts.limiter ?? new AdaptiveLimiter({ max: opts.concurrency });
  const outcomes: WriteOutcome[] = writes.map(() => ({ status: 'not-started', error: 'not written: interrupted' }));
  let next = 0;
  let done = 0;
  let failed = 0;
  const report = () => opts.onProgress?.({ done, total: writes.length, failed, limit: limiter.limit });

  const worker = async () => {
    for (;;) {
      if (opts.signal?.aborted) return;
      const i = next++;
      if (i >= writes.length) return;
      const w = writes[i]!;
      try {
        const res = await patch(opts.client, w, { gate: limiter, signal: opts.signal });
        const mismatch = verifyWrite(res, w.checks);
        outcomes[i] = mismatch ? { status: 'failed', error: mismatch } : { status: 'done' };
      } catch (e) {
        if (e instanceof CancelledError) {
          outcomes[i] = { status: 'failed', error: 'interrupted before Vapi confirmed the write' };
        } else {
          outcomes[i] = { status: 'failed', error: describeError(e), auth: e instanceof AuthError };
        }
      }
      done++;
      if (outcomes[i]!.status === 'failed') failed++;
      report();
    }
  };

  report();
  const n = Math.max(1, Math.min(opts.concurrency, writes.length));
  await Promise.all(Array.from({ length: n }, worker));
  return { outcomes, interrupted: Boolean(opts.signal?.aborted), limiter };
}
