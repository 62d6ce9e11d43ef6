/**
 * Awaiting outcomes instead of sleeping: a promise the test resolves, a bound on how long an
 * awaited event may take (only to fail clearly if it never comes), and a file's change events.
 */
import { watch } from 'node:fs';
import path from 'node:path';

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(e: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Resolves with `p`, or rejects after `ms` naming what never happened. The bound only ends a
 * wait for an event that does not come; keep it generous (the test machine is busy).
 */
export function within<T>(p: Promise<T>, ms: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${typeof what === 'string' ? what : what()}: not within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, bound]).finally(() => clearTimeout(timer));
}

/**
 * Resolves once `check()` returns a value (not undefined), checked now and on every change in
 * the folder of `file` (inotify events, no polling); rejects after `ms`.
 */
export function untilFile<T>(file: string, check: () => T | undefined, ms: number, what: string): Promise<T> {
  const found = deferred<T>();
  const look = () => {
    try {
      const v = check();
      if (v !== undefined) found.resolve(v);
    } catch (e) {
      found.reject(e);
    }
  };
  const watcher = watch(path.dirname(file), (_type, name) => {
    if (name === null || name === path.basename(file)) look();
  });
  look();
  return within(found.promise, ms, what).finally(() => watcher.close());
}
