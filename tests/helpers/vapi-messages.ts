/**
 * Builders for realistic Vapi server messages (vapi-reference §8): what Vapi really sends, so the
 * receiver tests exercise the same shapes production does.
 */
export interface CallSpec {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

export interface MessageOptions {
  assistantId?: string | null;
  /** Claimed org ids by where they appear. */
  assistantMetadataOrg?: unknown;
  overridesMetadataOrg?: unknown;
  variableValuesOrg?: unknown;
  customerMetadataOrg?: unknown;
}

function callObject(o: MessageOptions): Record<string, unknown> {
  const call: Record<string, unknown> = { id: 'call-0001', orgId: 'vapi-org-1', type: 'webCall', status: 'in-progress' };
  if (o.assistantId !== undefined && o.assistantId !== null) call.assistantId = o.assistantId;
  const overrides: Record<string, unknown> = {};
  if (o.overridesMetadataOrg !== undefined) overrides.metadata = { org_id: o.overridesMetadataOrg };
  if (o.variableValuesOrg !== undefined) overrides.variableValues = { org_id: o.variableValuesOrg };
  if (Object.keys(overrides).length) call.assistantOverrides = overrides;
  return call;
}

function common(o: MessageOptions): Record<string, unknown> {
  const m: Record<string, unknown> = {
    timestamp: 1735689600000,
    call: callObject(o),
    assistant: { name: 'Sarah', ...(o.assistantMetadataOrg !== undefined ? { metadata: { org_id: o.assistantMetadataOrg } } : {}) },
    customer: { number: '+14155550100', ...(o.customerMetadataOrg !== undefined ? { metadata: { org_id: o.customerMetadataOrg } } : {}) },
    artifact: { messages: [] },
  };
  return m;
}

/** A `tool-calls` message carrying toolCallList, toolWithToolCallList and toolCalls, as Vapi does. */
export function toolCallsMessage(calls: CallSpec[], o: MessageOptions = {}, opts: { stringArgs?: boolean; only?: 'toolCallList' | 'toolCalls' | 'toolWithToolCallList' } = {}) {
  const enc = (a: Record<string, unknown>) => (opts.stringArgs ? JSON.stringify(a) : a);
  const list = calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: enc(c.args) } }));
  const withList = calls.map((c, i) => ({
    type: 'function',
    function: { name: c.name, parameters: { type: 'object', properties: {} } },
    server: { url: 'https://example.ngrok-free.dev/api/vapi/tools' },
    messages: [],
    toolCall: list[i],
  }));
  const message: Record<string, unknown> = { type: 'tool-calls', ...common(o) };
  if (!opts.only || opts.only === 'toolCallList') message.toolCallList = list;
  if (!opts.only || opts.only === 'toolWithToolCallList') message.toolWithToolCallList = withList;
  if (!opts.only || opts.only === 'toolCalls') message.toolCalls = list;
  return { message };
}

export function functionCallMessage(name: string, parameters: Record<string, unknown>, o: MessageOptions = {}) {
  return { message: { type: 'function-call', functionCall: { name, parameters }, ...common(o) } };
}

export function assistantRequestMessage(o: MessageOptions = {}) {
  return { message: { type: 'assistant-request', ...common(o), phoneNumber: { id: 'pn-1', number: '+14155550199' } } };
}

export function informationalMessage(type: string, o: MessageOptions = {}, extra: Record<string, unknown> = {}) {
  return { message: { type, ...common(o), ...extra } };
}
