/**
 * What a running `voxctl tunnel up` tells other commands: `<dataDir>/receiver.json` holds its
 * pid, URLs and the assistants it serves (no secrets). While it holds the embedded store, other
 * processes cannot open that store, so `webhook test` finds the assistant to send as here and
 * `webhook replay` finds the receiver. Written when the receiver is ready, removed when it stops;
 * a file left by a dead process is ignored.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alive } from '../store/lock.js';

export const RECEIVER_STATE_NAME = 'receiver.json';

export interface ReceiverState {
  pid: number;
  since: string;
  localUrl: string;
  publicUrl: string | null;
  webhookUrl: string | null;
  store: string;
  agents: Array<{ orgId: string; orgName: string; timezone: string; type: string; assistantId: string }>;
}

/** State files this process wrote (one naming our pid that we did not write is stale: containers reuse pids). */
const ours = new Set<string>();

export function writeReceiverState(dataDir: string, state: ReceiverState): () => void {
  const file = path.resolve(dataDir, RECEIVER_STATE_NAME);
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  ours.add(file);
  return () => {
    ours.delete(file);
    // Only our own file: a newer receiver may have replaced it.
    try {
      if ((JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown }).pid === state.pid) rmSync(file, { force: true });
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
  if (typeof s.pid !== 'number' || typeof s.localUrl !== 'string' || !Array.isArray(s.agents)) return null;
  if (s.pid === process.pid ? !ours.has(file) : !alive(s.pid)) return null;
  const agents = s.agents.filter(
    (a): a is ReceiverState['agents'][number] =>
      typeof a === 'object' && a !== null && typeof a.orgId === 'string' && typeof a.assistantId === 'string' && typeof a.type === 'string',
  );
  return {
    pid: s.pid,
    since: String(s.since ?? ''),
    localUrl: s.localUrl,
    publicUrl: typeof s.publicUrl === 'string' ? s.publicUrl : null,
    webhookUrl: typeof s.webhookUrl === 'string' ? s.webhookUrl : null,
    store: String(s.store ?? ''),
    agents: agents.map((a) => ({ ...a, orgName: String(a.orgName ?? a.orgId), timezone: typeof a.timezone === 'string' ? a.timezone : 'UTC' })),
  };
}
