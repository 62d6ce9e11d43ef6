/**
 * Replay from the page, server-side: the logged (or edited) body goes to the receiver through
 * the same sender and checks as `voxctl webhook replay` (src/probe/replay.ts), with the webhook secret added here, so
 * the page never holds it. The receiver answers, logs and shows the new request like any other.
 */
import { replayMessage } from '../probe/replay.js';
import { replayUrl } from '../util/url.js';

export interface ReplayRequest {
  /** The receiver's base URL, e.g. http://127.0.0.1:4242. */
  baseUrl: string;
  /** The logged path, e.g. /api/vapi/tools/bookClinicAppointment. */
  path: string;
  body: string;
  secret?: string | undefined;
  timeoutMs?: number;
}

export interface ReplayOutcome {
  /** Vapi would accept the answer, and no tool answered an error. */
  ok: boolean;
  url: string;
  status: number | null;
  latencyMs: number;
  /** The answer body as received (shortened to 64 KiB). */
  answer: string | null;
  problems: string[];
}

const MAX_ANSWER = 64 * 1024;

export async function replayRequest(r: ReplayRequest): Promise<ReplayOutcome> {
  const url = replayUrl(r.baseUrl, r.path);
  const { outcome, problems, ok } = await replayMessage({ url, body: r.body, secret: r.secret, timeoutMs: r.timeoutMs });
  const answer = outcome.kind === 'answer' ? (outcome.body.length > MAX_ANSWER ? `${outcome.body.slice(0, MAX_ANSWER)}…` : outcome.body) : null;
  return {
    ok,
    url,
    status: outcome.kind === 'answer' ? outcome.status : null,
    latencyMs: Math.round(outcome.latencyMs),
    answer,
    problems,
  };
}
