/**
 * Waiting for Ctrl-C without exiting: long-running commands resolve on SIGINT/SIGTERM, clean up
 * and return, so `main` decides the exit code. The source is injectable (tests pass an
 * EventEmitter via `ctx.service('signals')`).
 */
export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

export interface SignalSource {
  on(signal: ShutdownSignal, listener: () => void): unknown;
  off(signal: ShutdownSignal, listener: () => void): unknown;
}

export interface ShutdownWait {
  /** The first signal received. */
  promise: Promise<ShutdownSignal>;
  /** Removes the listeners (also done once a signal arrived). */
  dispose(): void;
}

export function waitForShutdown(source: SignalSource = process): ShutdownWait {
  let resolve!: (s: ShutdownSignal) => void;
  const promise = new Promise<ShutdownSignal>((r) => (resolve = r));
  const onInt = () => done('SIGINT');
  const onTerm = () => done('SIGTERM');
  let active = true;
  const dispose = () => {
    if (!active) return;
    active = false;
    source.off('SIGINT', onInt);
    source.off('SIGTERM', onTerm);
  };
  // A second Ctrl-C after this one reaches Node's default handler and ends the process.
  const done = (s: ShutdownSignal) => {
    dispose();
    resolve(s);
  };
  source.on('SIGINT', onInt);
  source.on('SIGTERM', onTerm);
  return { promise, dispose };
}
