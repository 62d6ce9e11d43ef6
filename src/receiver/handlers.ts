/**
 * The answers to the three message types that need one: tool-calls, the legacy function-call
 * and assistant-request. Each also fills in its request's event.
 */
import type { Org } from '../store/types.js';
import type { ToolOutcome } from '../clinic/booking.js';
import type { RequestEvent } from './event-log.js';
import { extractFunctionCall, extractToolCalls, MAX_TOOL_CALLS, type JsonRecord } from './messages.js';
import { clip } from './http.js';
import type { Router } from './routing.js';
import type { ToolRunner } from './tool-runner.js';

export async function handleToolCalls(runner: ToolRunner, message: JsonRecord, org: Org, pathTool: string | undefined, ev: RequestEvent, at: Date) {
  const calls = extractToolCalls(message, pathTool);
  ev.tools = calls.slice(0, MAX_TOOL_CALLS).map((c) => clip(c.name, 64));
  const results: Array<{ toolCallId: string; name: string; result?: string; error?: string }> = [];
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i]!;
    let outcome: ToolOutcome | Promise<ToolOutcome> =
      i < MAX_TOOL_CALLS ? runner.run(call, org, at) : { error: `Too many tool calls in one message (at most ${MAX_TOOL_CALLS}).` };
    if (outcome instanceof Promise) outcome = await outcome;
    results.push({ toolCallId: call.id, name: call.name, ...outcome });
  }
  ev.results = results.slice(0, MAX_TOOL_CALLS).map((r) => ({
    toolCallId: clip(r.toolCallId, 100),
    name: clip(r.name, 64),
    ...(r.result !== undefined ? { result: clip(r.result, 300) } : { error: clip(r.error ?? '', 300) }),
  }));
  return { results };
}

export async function handleFunctionCall(runner: ToolRunner, message: JsonRecord, org: Org, pathTool: string | undefined, ev: RequestEvent, at: Date) {
  const call = extractFunctionCall(message, pathTool);
  if (!call) {
    ev.error = 'function-call without message.functionCall';
    const text = 'The function call has no message.functionCall {name, parameters}.';
    return { result: text, error: text };
  }
  ev.tools = [clip(call.name, 64)];
  const outcome = await runner.run(call, org, at);
  if ('result' in outcome) {
    ev.summary = clip(outcome.result, 300);
    return { result: outcome.result };
  }
  ev.error = clip(outcome.error, 300);
  return { result: outcome.error, error: outcome.error };
}

export async function handleAssistantRequest(router: Router, org: Org, ev: RequestEvent) {
  const agents = await router.orgAgents(org.id);
  const chosen = agents.find((a) => a.type === 'inbound') ?? (agents.length === 1 ? agents[0] : undefined);
  if (!chosen) {
    ev.error = `org ${org.id} has no inbound agent (voxctl agents link --type inbound)`;
    return { error: 'Sorry, this number is not set up to take calls yet. Please try again later.' };
  }
  ev.summary = `assistantId ${chosen.vapiAssistantId} (${chosen.type})`;
  return { assistantId: chosen.vapiAssistantId };
}
