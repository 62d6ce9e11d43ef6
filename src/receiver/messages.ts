/**
 * Pure parsing of Vapi server messages (`{"message":{…}}`). Every function here takes untrusted
 * JSON and never throws on it: wrong types, nulls, arrays where objects belong and `__proto__`
 * keys all come out as "absent". Only own properties are read, so a body cannot reach
 * Object.prototype through names such as `constructor` or `__proto__`.
 */

import { isRecord, own, ownPath, type JsonRecord } from '../util/json.js';

export { isRecord, own, ownPath, type JsonRecord };

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** Longest message type we keep (for logs); Vapi's are at most ~30 characters. */
const MAX_TYPE_LENGTH = 64;

export type Envelope = { ok: true; message: JsonRecord; type: string } | { ok: false; error: string };

/** Checks the `{"message":{"type":…}}` envelope every Vapi server message has. */
export function parseEnvelope(body: unknown): Envelope {
  const message = own(body, 'message');
  if (!isRecord(message)) {
    return { ok: false, error: 'Expected a Vapi server message: {"message":{"type":"tool-calls",…}}.' };
  }
  const type = own(message, 'type');
  if (typeof type !== 'string' || type.length === 0) {
    return { ok: false, error: 'message.type must be a non-empty string, e.g. "tool-calls".' };
  }
  if (type.length > MAX_TYPE_LENGTH) return { ok: false, error: `message.type is longer than ${MAX_TYPE_LENGTH} characters.` };
  return { ok: true, message, type };
}

/** What the receiver does with a message type. */
export type MessageKind = 'tool-calls' | 'function-call' | 'assistant-request' | 'informational';

/**
 * `tool-calls`, the legacy `function-call` and `assistant-request` need an answer and an org; every
 * other type (status-update, end-of-call-report, transcript, …, and types Vapi adds later) is
 * informational: answered `{}` and logged.
 */
export function messageKind(type: string): MessageKind {
  switch (type) {
    case 'tool-calls':
    case 'function-call':
    case 'assistant-request':
      return type;
    default:
      return 'informational';
  }
}

/** Longest assistant id the store can hold (schema: 1..100 characters). */
const MAX_ID_LENGTH = 100;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A string that could be stored as an id: 1..100 characters, no control characters. */
export function isPlausibleId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH && !CONTROL.test(v);
}

/**
 * The calling assistant's id (`message.call.assistantId`). `present` is true when the field
 * holds anything at all, so a garbage value is treated as an assistant the store does not link.
 */
export function assistantIdOf(message: JsonRecord): { present: boolean; id: string | null } {
  const v = ownPath(message, 'call', 'assistantId');
  if (v === undefined || v === null || v === '') return { present: false, id: null };
  return { present: true, id: isPlausibleId(v) ? v : null };
}

/** Where a payload may claim an org. None of these is trusted on its own. */
export const CLAIM_PATHS: ReadonlyArray<readonly string[]> = [
  ['assistant', 'metadata', 'org_id'],
  ['call', 'assistantOverrides', 'metadata', 'org_id'],
  ['call', 'assistantOverrides', 'variableValues', 'org_id'],
  ['customer', 'metadata', 'org_id'],
];

export interface OrgClaim {
  path: string;
  /** The claimed id, lower-cased; null when the value is not a string (which matches no org). */
  value: string | null;
}

const CLAIM_NAMES = CLAIM_PATHS.map((p) => `message.${p.join('.')}`);

/** Every org id the payload claims (null and absent values are no claim). */
export function claimedOrgs(message: JsonRecord): OrgClaim[] {
  const claims: OrgClaim[] = [];
  for (let i = 0; i < CLAIM_PATHS.length; i++) {
    const p = CLAIM_PATHS[i]!;
    // Most messages have none of these objects: stop at the first missing step.
    let v: unknown = message;
    for (let k = 0; k < p.length && v !== undefined; k++) v = own(v, p[k]!);
    if (v === undefined || v === null) continue;
    claims.push({ path: CLAIM_NAMES[i]!, value: typeof v === 'string' ? v.trim().toLowerCase() : null });
  }
  return claims;
}

export interface ToolCall {
  /** Vapi's id, echoed as `toolCallId` (empty when the call had none). */
  id: string;
  /** `function.name` (or `name`, or the tool named by the URL path); empty when absent. */
  name: string;
  /** Parsed arguments; null when `argsError` says why they could not be read. */
  args: JsonRecord | null;
  argsError?: string;
}

/** Calls beyond this many in one message are answered with an error each, not run. */
export const MAX_TOOL_CALLS = 50;

/** Arguments: an object, or a JSON string holding one; absent means no arguments. */
export function parseArguments(raw: unknown): { args: JsonRecord | null; error?: string } {
  if (raw === undefined || raw === null) return { args: {} };
  if (isRecord(raw)) return { args: raw };
  if (typeof raw === 'string') {
    if (raw.trim() === '') return { args: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return { args: null, error: 'The tool arguments are not valid JSON.' };
    }
    if (isRecord(parsed)) return { args: parsed };
    return { args: null, error: 'The tool arguments must be a JSON object.' };
  }
  return { args: null, error: 'The tool arguments must be an object or a JSON string.' };
}

function toToolCall(item: unknown, fallbackName: string | undefined): ToolCall {
  const fn = own(item, 'function');
  const id = str(own(item, 'id')) ?? '';
  const name = str(own(fn, 'name')) ?? str(own(item, 'name')) ?? fallbackName ?? '';
  let raw = own(fn, 'arguments');
  if (raw === undefined) raw = own(fn, 'parameters');
  if (raw === undefined) raw = own(item, 'parameters');
  if (raw === undefined) raw = own(item, 'arguments');
  const { args, error } = parseArguments(raw);
  return error ? { id, name, args, argsError: error } : { id, name, args };
}

const nonEmptyArray = (v: unknown): v is unknown[] => Array.isArray(v) && v.length > 0;

/**
 * The calls of a `tool-calls` message, in call order: from `toolCallList`, else `toolCalls`,
 * else `toolWithToolCallList[].toolCall`. `fallbackName` (the tool named in the URL) names a call
 * that carries no name.
 */
export function extractToolCalls(message: JsonRecord, fallbackName?: string): ToolCall[] {
  let items: unknown[] = [];
  const list = own(message, 'toolCallList');
  const calls = own(message, 'toolCalls');
  const withList = own(message, 'toolWithToolCallList');
  if (nonEmptyArray(list)) items = list;
  else if (nonEmptyArray(calls)) items = calls;
  else if (nonEmptyArray(withList)) items = withList.map((t) => own(t, 'toolCall') ?? {});
  return items.map((item) => toToolCall(item, fallbackName));
}

/** The legacy `function-call` message's call (`functionCall: {name, parameters}`), or null. */
export function extractFunctionCall(message: JsonRecord, fallbackName?: string): ToolCall | null {
  const fc = own(message, 'functionCall');
  if (!isRecord(fc)) return null;
  return toToolCall(fc, fallbackName);
}

/** Tool names as Vapi allows them (`^[a-zA-Z0-9_-]{1,64}$`). */
export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
