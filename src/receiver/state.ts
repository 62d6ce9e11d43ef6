/**
 * What a running `voxctl tunnel up` tells other commands: `<dataDir>/receiver.json` holds its
 * pid and URLs (no secrets), so `webhook test` without WEBHOOK_URL (`tunnel up --no-tunnel`) and
 * `webhook replay` find the running receiver. Written when the receiver is ready, removed when it
 * stops; a file left by a dead process is ignored. (Who it serves lives in the store, which every
 * process can open at the same time.)
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processAlive as alive } from '../util/process.js';

export const RECEIVER_STATE_NAME = 'receiver.json';

export interface ReceiverState {
  pid: number;
  since: string;
  localUrl: string;
  publicUrl: string | null;
  webhookUrl: string | null;
  store: string;
}

/** State files this process wrote (one naming our pid that we did not write is stale: containers reuse pids). */
const ours = new Set<string>();

/**
 * Writes our state. A second `tunnel up` on the same folder takes the file over while it runs;
 * when it stops, the file goes back to the receiver that had it before, if that one still runs
 * (else other commands would no longer find a receiver that is still serving).
 */
export function writeReceiverState(dataDir: string, state: ReceiverState): () => void {
  const file = path.resolve(dataDir, RECEIVER_STATE_NAME);
  const before = readReceiverState(dataDir);
  const previous = before && before.pid !== state.pid ? before : null;
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  ours.add(file);
  return () => {
    ours.delete(file);
    // Only our own file: a newer receiver may have replaced it.
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid !== state.pid) return;
      if (previous && alive(previous.pid)) writeFileSync(file, `${JSON.stringify(previous, null, 2)}\n`, { mode: 0o600 });
      else rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}

/** The running receiver's state, or null (no file, unreadable, or its process is gone). */
export function readReceiverState(dataDir: string): ReceiverState | null {
  const file = path.resolve(dataDir, RECEIVER_STATE_NAME);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Partial<ReceiverState>;
  if (typeof s.pid !== 'number' || typeof s.localUrl !== 'string') return null;
  if (s.pid === process.pid ? !ours.has(file) : !alive(s.pid)) return null;
  return {
    pid: s.pid,
    since: String(s.since ?? ''),
    localUrl: s.localUrl,
    publicUrl: typeof s.publicUrl === 'string' ? s.publicUrl : null,
    webhookUrl: typeof s.webhookUrl === 'string' ? s.webhookUrl : null,
    store: String(s.store ?? ''),
  };
}
