/**
 * The typed seams a command may take from its Context instead of the real thing (tests and
 * in-process callers inject them). Each name has one type; an unknown name does not compile.
 */
import type { UpsertDeps } from './assistants/upsert.js';
import type { GitRunner } from './doctor/checks.js';
import type { TunnelFactory } from './tunnel/types.js';

/** `tunnel up --sync`: runs the sync against the new URL (default: the sync domain, directly). */
export type RunSync = (req: { orgIds: string[]; allOrgs: boolean; url: string; json: boolean }) => Promise<{ exitCode: number; document?: unknown }>;

export interface Services {
  /** `webhook logs --follow` poll interval in ms (default 200). */
  logPollMs?: number;
  /** Replaces the wait between `webhook logs --follow` polls (a test triggers each poll). */
  logPollWait?: (signal: AbortSignal) => Promise<void>;
  /** Overrides for `assistants upsert` (claim timing, holder, sleep…). */
  upsertDeps?: Partial<UpsertDeps>;
  /** How long `doctor` and `init` wait for each network answer (store, Vapi), in ms. */
  checkTimeoutMs?: number;
  /** How `doctor` and `init` run git. */
  git?: GitRunner;
  /** How `tunnel up` opens the tunnel (default ngrok). */
  tunnelFactory?: TunnelFactory;
  runSync?: RunSync;
  /** The wait between `edge deploy`'s Management API retries (tests pass an instant one). */
  managementRetrySleep?: (ms: number) => Promise<void>;
}
