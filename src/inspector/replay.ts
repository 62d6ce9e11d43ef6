/**
 * Replay from the page, server-side: the logged (or edited) body goes to the receiver through
 * the same sender and checks as `voxctl webhook replay`, with the webhook secret added here, so
 * the page never holds it. The receiver answers, logs and shows the new request like any other.
 */
import { ASSISTANT_REQUEST_TIMEOUT_MS, checkEventAnswer, checkToolCallsAnswer, TOOL_TIMEOUT_MS } from '../probe/check.js';
import { sendServerMessage } from '../probe/send.js';
import { extractToolCalls, parseEnvelope } from '../receiver/messages.js';
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
  let type: string | null = null;
  let calls: Array<{ id: string; name: string }> = [];
  try {
    const env = parseEnvelope(JSON.parse(r.body) as unknown);
    if (env.ok) {
      type = env.type;
      if (env.type === 'tool-calls') calls = extractToolCalls(env.message).map((c) => ({ id: c.id, name: c.name }));
    }
  } catch {
    // not JSON: sent as it is, judged by its status
  }
  const timeoutMs = r.timeoutMs ?? (type === 'assistant-request' ? ASSISTANT_REQUEST_TIMEOUT_MS : TOOL_TIMEOUT_MS);
  const outcome = await sendServerMessage({ url, raw: r.body, secret: r.secret, timeoutMs });
  const problems: string[] = [];
  let toolError = false;
  if (outcome.kind === 'network-error') {
    problems.push(`could not reach ${url}: ${outcome.message} [${outcome.code}]`);
  } else if (calls.length) {
    for (const call of calls) {
      const check = checkToolCallsAnswer(outcome, { toolCallId: call.id, name: call.name, timeoutMs });
      for (const p of check.problems) if (!problems.includes(p)) problems.push(p);
      if (check.error !== undefined) toolError = true;
    }
  } else {
    problems.push(...checkEventAnswer(type ?? 'unknown', outcome).problems);
  }
  const answer = outcome.kind === 'answer' ? (outcome.body.length > MAX_ANSWER ? `${outcome.body.slice(0, MAX_ANSWER)}…` : outcome.body) : null;
  return {
    ok: problems.length === 0 && !toolError,
    url,
    status: outcome.kind === 'answer' ? outcome.status : null,
    latencyMs: Math.round(outcome.latencyMs),
    answer,
    problems,
  };
}
