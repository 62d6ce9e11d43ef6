/**
 * Sending a logged (or edited) server message again and checking the answer the way Vapi would:
 * the one path behind `voxctl webhook replay` and the inspector's replay. The body goes byte for
 * byte; tool calls are checked one by one, other messages as what they are.
 */
import { ASSISTANT_REQUEST_TIMEOUT_MS, checkEventAnswer, checkToolCallsAnswer, TOOL_TIMEOUT_MS } from './check.js';
import { sendServerMessage, type SendOutcome } from './send.js';
import { extractToolCalls, parseEnvelope } from '../receiver/messages.js';

export interface ReplayedCall {
  toolCallId: string;
  name: string;
  result?: string;
  error?: string;
}

export interface Replayed {
  /** `message.type` of the body, null when it is not a Vapi envelope. */
  type: string | null;
  /** The tool calls the body held, in order. */
  calls: Array<{ id: string; name: string }>;
  outcome: SendOutcome;
  timeoutMs: number;
  problems: string[];
  warnings: string[];
  /** Each tool call's answer (tool-calls only). */
  results: ReplayedCall[];
  /** The checked answer of a message that is not a tool call. */
  response?: unknown;
  /** Vapi would accept the answer, and no tool answered an error. */
  ok: boolean;
}

/** The body's type and tool calls (a body that is not JSON is sent as it is and judged by its status). */
export function describeMessage(body: string): { type: string | null; calls: Array<{ id: string; name: string }> } {
  try {
    const env = parseEnvelope(JSON.parse(body) as unknown);
    if (env.ok) return { type: env.type, calls: env.type === 'tool-calls' ? extractToolCalls(env.message).map((c) => ({ id: c.id, name: c.name })) : [] };
  } catch {
    // not JSON
  }
  return { type: null, calls: [] };
}

/** The time Vapi would wait for this message's answer. */
export function replayTimeoutMs(type: string | null): number {
  return type === 'assistant-request' ? ASSISTANT_REQUEST_TIMEOUT_MS : TOOL_TIMEOUT_MS;
}

export async function replayMessage(opts: { url: string; body: string; secret?: string | undefined; timeoutMs?: number | undefined }): Promise<Replayed> {
  const { type, calls } = describeMessage(opts.body);
  const timeoutMs = opts.timeoutMs ?? replayTimeoutMs(type);
  const outcome = await sendServerMessage({ url: opts.url, raw: opts.body, secret: opts.secret, timeoutMs });
  const problems: string[] = [];
  const warnings: string[] = [];
  const results: ReplayedCall[] = [];
  let response: unknown;
  if (outcome.kind === 'network-error') {
    problems.push(`could not reach ${opts.url}: ${outcome.message} [${outcome.code}]`);
  } else if (calls.length > 0) {
    for (const call of calls) {
      const check = checkToolCallsAnswer(outcome, { toolCallId: call.id, name: call.name, timeoutMs });
      for (const p of check.problems) if (!problems.includes(p)) problems.push(p);
      for (const w of check.warnings) if (!warnings.includes(w)) warnings.push(w);
      if (check.result !== undefined) results.push({ toolCallId: call.id, name: call.name, result: check.result });
      else if (check.error !== undefined) results.push({ toolCallId: call.id, name: call.name, error: check.error });
    }
  } else {
    const check = checkEventAnswer(type ?? 'unknown', outcome);
    problems.push(...check.problems);
    warnings.push(...check.warnings);
    response = check.response;
  }
  const ok = problems.length === 0 && results.every((r) => r.error === undefined);
  return { type, calls, outcome, timeoutMs, problems, warnings, results, ...(response !== undefined ? { response } : {}), ok };
}
