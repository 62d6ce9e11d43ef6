/**
 * WAL checkpoints off the event loop, for the long-running receiver (`tunnel up`).
 *
 * A checkpoint copies the WAL back into the database file and fsyncs it. SQLite runs it inside
 * whichever commit crosses `wal_autocheckpoint`, synchronously: on the receiver's booking path
 * that froze the event loop for 45–60 ms (about 100 blocking syscalls) every few hundred
 * bookings, then the next commit truncated the WAL for another 15–20 ms, and every request in
 * flight waited (measured: booking p99 30–70 ms at 8 connections; with checkpoints moved out,
 * those stalls were gone).
 *
 * Here a worker thread with its own connection runs `wal_checkpoint(PASSIVE)` every `everyMs`:
 * PASSIVE never blocks the writer (the receiver keeps committing into the WAL meanwhile) and
 * never waits for a lock. The receiver's own connection keeps a far higher autocheckpoint as a
 * safety net (the WAL stays bounded if the worker stops) and a WAL size limit above what the
 * worker lets accumulate, so resetting the WAL does not truncate it on the request path.
 * Durability is unchanged: commits are in the WAL (page cache) as before; a checkpoint only
 * moves them.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { DriverName } from './sqlite-driver.js';

/** How often the worker checkpoints (ms). */
export const CHECKPOINT_EVERY_MS = 200;

export interface Checkpointer {
  /** Stops the worker and closes its connection (before the store closes its own). */
  stop(): Promise<void>;
}

// CommonJS, evaluated in the worker: no file of its own to resolve (works from src/ and dist/).
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { file, driver, modulePath, everyMs } = workerData;
let run, close;
if (driver === 'node:sqlite') {
  // Node 22 announces node:sqlite with an ExperimentalWarning, which a worker prints on the
  // parent's stderr: drop exactly that one while the module loads, as loadNodeSqlite() does.
  const emit = process.emitWarning;
  process.emitWarning = function (warning, type, ...rest) {
    const t = typeof type === 'string' ? type : type && typeof type === 'object' ? type.type : warning instanceof Error ? warning.name : undefined;
    const text = warning instanceof Error ? warning.message : String(warning);
    if (t === 'ExperimentalWarning' && text.startsWith('SQLite is an experimental feature')) return;
    return emit.call(this, warning, type, ...rest);
  };
  let sqlite;
  try { sqlite = process.getBuiltinModule('node:sqlite'); } finally { process.emitWarning = emit; }
  const db = new sqlite.DatabaseSync(file, { timeout: 0 });
  const st = db.prepare('pragma wal_checkpoint(PASSIVE)');
  run = () => st.get();
  close = () => db.close();
} else {
  const D = require(modulePath);
  const db = new D(file, { timeout: 0, fileMustExist: true });
  run = () => db.pragma('wal_checkpoint(PASSIVE)');
  close = () => db.close();
}
const timer = setInterval(() => {
  try { run(); } catch { /* busy or locked: the next turn tries again */ }
}, everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try { run(); } catch {}
  close();
  parentPort.close();
});
parentPort.postMessage('ready');
`;

/**
 * Starts the checkpointing worker on `file` (an existing WAL-mode database); resolves once its
 * connection is open, rejects when it cannot start (the caller then keeps SQLite's own
 * checkpoints).
 */
export function startCheckpointer(file: string, driver: DriverName, everyMs = CHECKPOINT_EVERY_MS): Promise<Checkpointer> {
  const modulePath = driver === 'better-sqlite3' ? createRequire(import.meta.url).resolve('better-sqlite3') : null;
  const worker = new Worker(WORKER, { eval: true, workerData: { file, driver, modulePath, everyMs } });
  worker.unref();
  return new Promise((resolve, reject) => {
    const failed = (e: unknown) => reject(e instanceof Error ? e : new Error(`checkpoint worker exited with ${String(e)}`));
    worker.once('error', failed);
    worker.once('exit', failed);
    worker.once('message', () => {
      worker.off('error', failed);
      worker.off('exit', failed);
      worker.on('error', () => {});
      let stopping: Promise<void> | null = null;
      resolve({
        stop: () =>
          (stopping ??= new Promise<void>((done) => {
            worker.once('exit', () => done());
            // Keeps the process alive until the worker has closed its connection (it is unref'd while it runs).
            worker.ref();
            worker.postMessage('stop');
            // A worker stuck in a checkpoint is ended; the checkpoint is crash-safe.
            const t = setTimeout(() => void worker.terminate(), 5000);
            t.unref();
          })),
      });
    });
  });
}
