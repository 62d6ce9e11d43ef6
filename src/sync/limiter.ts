/**
 * Adaptive concurrency for writes to Vapi (AIMD). Vapi publishes no limits, so the sync finds
 * them: it starts modest, adds one slot per window of successes (a window = as many successes as
 * the current limit, about one round trip), and on a 429 cuts the limit multiplicatively. The
 * level that drew the 429 is remembered as a ceiling: the limiter settles one below it and
 * probes it again only after several clean windows, so a steady cap costs few rejected requests.
 * Only HTTP attempts hold a slot; a request waiting out Retry-After holds none.
 */
import { CancelledError } from '../errors.js';
import type { RequestGate, VapiResponseInfo } from '../vapi/types.js';

export interface LimiterOptions {
  /** Upper bound (`--concurrency`). */
  max: number;
  /** Starting limit (default min(4, max)). */
  initial?: number | undefined;
  /** Multiplicative decrease factor on 429 (default 0.75). */
  decrease?: number | undefined;
  /**
   * Clean windows to spend just below a known ceiling before probing it again (default 8); it
   * doubles each time a probe meets the same ceiling again (up to 256), like a plateau.
   */
  holdWindows?: number | undefined;
  now?: (() => number) | undefined;
}

export interface LimiterStats {
  limit: number;
  maxLimit: number;
  decreases: number;
  inFlight: number;
}

export class AdaptiveLimiter implements RequestGate {
  private _limit: number;
  private inFlight = 0;
  private readonly waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private successes = 0;
  private ceiling: number | undefined;
  private held = 0;
  private holdTarget: number;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private pausedUntil = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private seq = 0;
  private lastDecreaseSeq = -1;
  readonly stats: LimiterStats;
  private readonly max: number;
  private readonly decrease: number;
  private readonly holdWindows: number;
  private readonly now: () => number;

  constructor(opts: LimiterOptions) {
    this.max = Math.max(1, Math.floor(opts.max));
    this._limit = Math.min(this.max, Math.max(1, Math.floor(opts.initial ?? 4)));
    this.decrease = opts.decrease ?? 0.75;
    this.holdWindows = opts.holdWindows ?? 8;
    this.holdTarget = this.holdWindows;
    this.now = opts.now ?? Date.now;
    this.stats = { limit: this._limit, maxLimit: this._limit, decreases: 0, inFlight: 0 };
  }

  get limit(): number {
    return this._limit;
  }

  async acquire(signal?: AbortSignal): Promise<(info: VapiResponseInfo) => void> {
    while (this.inFlight >= this._limit || this.now() < this.pausedUntil) {
      await new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(new CancelledError('Interrupted while waiting to send.'));
        const waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          reject,
        };
        const onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          if (this.waiters.length === 0 && this.pauseTimer) {
            // Nobody waits for the pause any more: do not keep the process alive for it.
            clearTimeout(this.pauseTimer);
            this.pauseTimer = undefined;
          }
          reject(new CancelledError('Interrupted while waiting to send.'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(waiter);
        this.schedulePause();
      });
    }
    this.inFlight++;
    this.stats.inFlight = this.inFlight;
    const level = this.inFlight;
    const seq = ++this.seq;
    let released = false;
    return (info) => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.stats.inFlight = this.inFlight;
      this.record(info, level, seq);
      this.pump();
    };
  }

  private record(info: VapiResponseInfo, level: number, seq: number): void {
    if (info.status === 429) {
      // Only a request sent after the last cut says something about the current limit.
      if (seq <= this.lastDecreaseSeq) return;
      this.lastDecreaseSeq = this.seq;
      this.lastDecreaseAt = this.now();
      // The same ceiling again: it is real, probe it less often.
      this.holdTarget = this.ceiling === level ? Math.min(256, this.holdTarget * 2) : this.holdWindows;
      this.ceiling = Math.max(1, level);
      const next = Math.max(1, Math.floor(Math.min(this._limit, level) * this.decrease));
      if (this._limit <= 1 || next >= this._limit) {
        // Nothing left to cut: wait as long as the server asked before sending anything else.
        this.pausedUntil = Math.max(this.pausedUntil, this.now() + (info.retryAfterMs ?? 1000));
      }
      this.setLimit(Math.min(next, this._limit));
      this.successes = 0;
      this.held = 0;
      this.stats.decreases++;
      return;
    }
    if (info.status === 0 || info.status >= 500) return; // says nothing about our pace
    this.successes++;
    if (this.successes < this._limit) return;
    this.successes = 0;
    if (this.ceiling !== undefined && this._limit >= this.ceiling) {
      this.ceiling = undefined; // a clean window at the old ceiling: the server has more room now
      this.holdTarget = this.holdWindows;
    }
    if (this._limit >= this.max) return;
    // Grow only when there is work waiting for the extra slot (no probing while the queue drains).
    if (this.waiters.length === 0) return;
    if (this.ceiling !== undefined && this._limit + 1 >= this.ceiling && ++this.held < this.holdTarget) return;
    this.held = 0;
    this.setLimit(this._limit + 1);
  }

  private setLimit(n: number): void {
    this._limit = Math.max(1, Math.min(this.max, n));
    this.stats.limit = this._limit;
    this.stats.maxLimit = Math.max(this.stats.maxLimit, this._limit);
  }

  private pump(): void {
    if (this.now() < this.pausedUntil) {
      this.schedulePause();
      return;
    }
    let free = this._limit - this.inFlight;
    while (free-- > 0 && this.waiters.length) this.waiters.shift()!.resolve();
  }

  private schedulePause(): void {
    const wait = this.pausedUntil - this.now();
    if (wait <= 0 || this.pauseTimer) return;
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      this.pump();
    }, wait);
  }

  /** For tests and reports: when the last cut happened (ms clock). */
  get lastDecrease(): number {
    return this.lastDecreaseAt;
  }
}
