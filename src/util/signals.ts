/**
 * The one interrupt source of a run. `run()` starts it before parsing and stops it when the run
 * ends, so every command can be interrupted (Ctrl-C, SIGTERM) and a closed stdout ends the
 * command quietly. Commands that stop cleanly on their own (sync, `tunnel up`, `webhook logs
 * --follow`) *claim* the interrupt: `run()` then waits for them to finish; a second interrupt
 * gives up waiting. An unclaimed interrupt ends the run at once (exit 130, or 0 for a closed
 * stdout). The source is injectable: tests pass an EventEmitter and fire signals on it.
 */
import { setMaxListeners } from 'node:events';
import { CancelledError } from '../errors.js';

export type ShutdownSignal = 'SIGINT' | 'SIGTERM';
/** Why the run was interrupted: a signal, or stdout/stderr closed by the reader (`| head`). */
export type InterruptReason = ShutdownSignal | 'EPIPE';

export interface SignalSource {
  on(signal: ShutdownSignal, listener: () => void): unknown;
  off(signal: ShutdownSignal, listener: () => void): unknown;
}

export class Interrupts {
  private readonly controller = new AbortController();
  private _reason: InterruptReason | undefined;
  private _claimed = false;
  private count = 0;
  private starts = 0;
  private giveUpResolve!: (r: InterruptReason) => void;
  private waiters: Array<() => void> = [];
  private isWaiting = false;
  /** Resolves when `run()` should stop waiting for the command: an unclaimed or a second interrupt. */
  readonly giveUp: Promise<InterruptReason>;
  private readonly onInt = () => this.interrupt('SIGINT');
  private readonly onTerm = () => this.interrupt('SIGTERM');

  constructor(private readonly source: SignalSource = process) {
    // Every request waiting on a slot or a backoff listens to the signal; that is not a leak.
    setMaxListeners(0, this.controller.signal);
    this.giveUp = new Promise((resolve) => (this.giveUpResolve = resolve));
  }

  /** Listens for SIGINT/SIGTERM on the source; nested runs (in-process commands) share it. */
  start(): void {
    if (this.starts++ > 0) return;
    this.source.on('SIGINT', this.onInt);
    this.source.on('SIGTERM', this.onTerm);
  }

  /** Removes the listeners once every `start()` is matched. */
  stop(): void {
    if (this.starts === 0 || --this.starts > 0) return;
    this.source.off('SIGINT', this.onInt);
    this.source.off('SIGTERM', this.onTerm);
  }

  /** Aborted on the first interrupt; its reason is a CancelledError. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get reason(): InterruptReason | undefined {
    return this._reason;
  }

  get claimed(): boolean {
    return this._claimed;
  }

  /** The command will stop by itself when `signal` aborts; `run()` waits for it. */
  claim(): AbortSignal {
    this._claimed = true;
    return this.signal;
  }

  /** Claims the interrupt and resolves with its reason (long-running commands await this). */
  async untilInterrupted(): Promise<InterruptReason> {
    this.claim();
    this.isWaiting = true;
    for (const w of this.waiters.splice(0)) w();
    if (!this.signal.aborted) await new Promise((resolve) => this.signal.addEventListener('abort', resolve, { once: true }));
    return this._reason!;
  }

  /** Resolves once a command awaits `untilInterrupted()` (tests wait for this before firing). */
  waiting(): Promise<void> {
    if (this.isWaiting) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Interrupts the run (signal handlers, a closed stdout, tests). */
  interrupt(reason: InterruptReason): void {
    // A closed stdout reports every later write too: it counts once.
    if (reason === 'EPIPE' && this._reason === 'EPIPE') return;
    this.count++;
    if (this._reason === undefined) {
      this._reason = reason;
      this.controller.abort(new CancelledError(reason === 'EPIPE' ? 'Output closed.' : 'Interrupted.'));
    }
    if (!this._claimed || this.count > 1) this.giveUpResolve(this._reason);
  }
}
