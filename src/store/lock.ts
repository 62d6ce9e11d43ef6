import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ConflictError } from '../errors.js';

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds (a second in-process opener is refused too). */
const held = new Set<string>();

/**
 * PGlite must not be opened twice at once (both instances would write the same files). A lock
 * file with the owner's pid and command guards the data dir; a lock left by a dead process is
 * taken over. A lock naming this process's pid that this process does not hold is stale too
 * (containers reuse low pids from run to run).
 */
export function acquireDirLock(dir: string, label: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = path.join(path.resolve(dir), 'store.lock');
  if (held.has(file)) {
    throw new ConflictError(`The embedded store in ${dir} is already open in this process.`, {
      hint: 'Close the other store first (one command at a time), or use another VOXCTL_DATA_DIR.',
    });
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, command: label, since: new Date().toISOString() }));
      closeSync(fd);
      held.add(file);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        held.delete(file);
        rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner: { pid?: number; command?: string } = {};
      try {
        owner = JSON.parse(readFileSync(file, 'utf8')) as typeof owner;
      } catch {
        // Unreadable or half-written lock: treat as stale.
      }
      if (owner.pid && owner.pid !== process.pid && alive(owner.pid)) {
        throw new ConflictError(
          `The embedded store in ${dir} is in use by another voxctl process (pid ${owner.pid}${owner.command ? `: ${owner.command}` : ''}).`,
          {
            hint: 'Stop that process first, or point this command at another VOXCTL_DATA_DIR. Supabase has no such limit.',
          },
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new ConflictError(`Cannot lock the embedded store in ${dir}.`, { hint: `Remove ${file} if no voxctl process is running.` });
}
