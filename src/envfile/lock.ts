/**
 * Serialises env-file writes in one project folder across processes (two `voxctl init --yes` at
 * once, `init` while `tunnel up` writes `.env`): a lock file created with O_EXCL holding the
 * owner's pid. A lock whose owner is gone is taken over; a live owner (another process, or
 * another run in this one) is waited for, a bounded time, then reported. Not re-entrant.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConflictError } from '../errors.js';
import { fileError } from '../util/fs-errors.js';
import { processAlive as alive } from '../util/process.js';

export const ENV_LOCK_NAME = '.voxctl-env.lock';

export interface EnvLockOptions {
  /** How long to wait for another process's lock before giving up (default 15 s). */
  waitMs?: number;
  /** Pause between attempts (default 25 ms). */
  pollMs?: number;
}

/** Lock files held by runs in this process (a lock naming our pid but not in here is stale: containers reuse pids). */
const held = new Set<string>();

function tryAcquire(file: string): boolean {
  try {
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify({ pid: process.pid }));
    } finally {
      closeSync(fd);
    }
    held.add(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(e, file, 'create the lock file');
  }
  let pid: number | undefined;
  try {
    pid = (JSON.parse(readFileSync(file, 'utf8')) as { pid?: number }).pid;
  } catch {
    // Half-written by a live owner (it writes right after creating): wait for it.
    return false;
  }
  if (pid !== undefined && (pid === process.pid ? held.has(file) : alive(pid))) return false;
  // Left by a process that is gone: take it over.
  rmSync(file, { force: true });
  return false;
}

/** Runs `fn` while holding the env-file lock of `dir`. */
export async function withEnvLock<T>(dir: string, fn: () => Promise<T>, opts: EnvLockOptions = {}): Promise<T> {
  const file = path.join(path.resolve(dir), ENV_LOCK_NAME);
  const waitMs = opts.waitMs ?? 15_000;
  const pollMs = opts.pollMs ?? 25;
  const attempts = Math.max(1, Math.ceil(waitMs / pollMs));
  let acquired = false;
  for (let i = 0; i < attempts && !acquired; i++) {
    acquired = tryAcquire(file);
    if (!acquired) await sleep(pollMs);
  }
  if (!acquired) {
    throw new ConflictError(`Another voxctl process is writing the env files in ${dir} (lock ${file}).`, {
      hint: `Wait for it to finish; if none is running, remove ${file}.`,
    });
  }
  try {
    return await fn();
  } finally {
    held.delete(file);
    rmSync(file, { force: true });
  }
}
