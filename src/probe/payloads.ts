/**
 * The payloads `voxctl webhook test` sends: templates from templates/payloads/, `--arg`
 * overrides, and the Vapi server-message envelope around them (shared/vapi-reference.md §8):
 * a `tool-calls` message carries `toolCallList`, `toolWithToolCallList` and the undocumented
 * OpenAI-style `toolCalls`, plus `call`, `assistant`, `customer`, `phoneNumber`, `artifact` and
 * an epoch-ms `timestamp`, the way Vapi sends them.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { templatesDir } from '../config/paths.js';
import { InternalError, UsageError } from '../errors.js';
import { formatDate, nextWeekday, todayIn } from '../clinic/calendar.js';
import { isJsonObject as isObj } from '../util/json.js';

export type Json = Record<string, unknown>;

/** The non-tool messages `--event` can send. */
export const EVENT_TYPES = ['status-update', 'end-of-call-report', 'assistant-request'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export interface ToolTemplate {
  kind: 'tool';
  name: string;
  description: string;
  /** The tool as Vapi stores it (type, function{name, description, parameters}, messages, async). */
  tool: Json;
  /** Default arguments, with placeholders. */
  arguments: Json;
}

export interface EventTemplate {
  kind: 'event';
  name: EventType;
  description: string;
  /** Type-specific fields of the message, with placeholders; the envelope is added around them. */
  message: Json;
}

export type PayloadTemplate = ToolTemplate | EventTemplate;


export function payloadsDir(): string {
  return path.join(templatesDir(), 'payloads');
}

/** The template for a tool or event name, or null when there is none. */
export async function loadPayloadTemplate(name: string): Promise<PayloadTemplate | null> {
  if (!TOOL_NAME.test(name)) return null;
  let text: string;
  try {
    text = await readFile(path.join(payloadsDir(), `${name}.json`), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InternalError(`templates/payloads/${name}.json is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObj(data)) throw new InternalError(`templates/payloads/${name}.json must hold an object.`);
  const description = typeof data.description === 'string' ? data.description : '';
  if (isObj(data.message)) {
    if (!(EVENT_TYPES as readonly string[]).includes(name)) {
      throw new InternalError(`templates/payloads/${name}.json holds a message, but ${name} is not a known event type.`);
    }
    return { kind: 'event', name: name as EventType, description, message: data.message };
  }
  if (isObj(data.tool) && isObj(data.arguments)) {
    return { kind: 'tool', name, description, tool: data.tool, arguments: data.arguments };
  }
  throw new InternalError(`templates/payloads/${name}.json needs either "message" or "tool" and "arguments".`);
}

/** Every template, tools first, for `--help` and error hints. */
export async function listPayloadTemplates(): Promise<Array<{ name: string; kind: 'tool' | 'event'; description: string }>> {
  const files = (await readdir(payloadsDir())).filter((f) => f.endsWith('.json')).sort();
  const out: Array<{ name: string; kind: 'tool' | 'event'; description: string }> = [];
  for (const f of files) {
    const t = await loadPayloadTemplate(f.slice(0, -5));
    if (t) out.push({ name: t.name, kind: t.kind, description: t.description });
  }
  return out.sort((a, b) => (a.kind === b.kind ? a.name.localeCompare(b.name) : a.kind === 'tool' ? -1 : 1));
}

// ---------------------------------------------------------------------------------------------
// --arg key=value

export interface ArgOverride {
  key: string;
  raw: string;
  /** `key:=json` — the value is raw JSON, never coerced by the parameter's type. */
  rawJson: boolean;
}

/** Parses `--arg` values (`key=value` or `key:=json`); a malformed one is a usage error. */
export function parseArgFlags(values: readonly string[]): ArgOverride[] {
  const seen = new Set<string>();
  return values.map((v) => {
    const m = /^([^=:\s][^=\s]*?)(:?=)([\s\S]*)$/.exec(v);
    if (!m) {
      throw new UsageError(`--arg ${JSON.stringify(v)}: expected key=value.`, {
        hint: 'Examples: --arg appointmentTime=14:30, --arg patientPhone=null, --arg \'tags:=["a","b"]\' (raw JSON).',
      });
    }
    const key = m[1]!;
    if (seen.has(key)) throw new UsageError(`--arg ${key} is given twice.`, { hint: 'Pass each key once.' });
    seen.add(key);
    const rawJson = m[2] === ':=';
    if (rawJson) {
      try {
        JSON.parse(m[3]!);
      } catch (e) {
        throw new UsageError(`--arg ${key}:= needs valid JSON: ${(e as Error).message}.`, {
          hint: 'Quote strings inside the JSON, e.g. --arg \'name:="Ann"\'; or use key=value for plain text.',
        });
      }
    }
    return { key, raw: m[3]!, rawJson };
  });
}

/**
 * Turns an `--arg` value into JSON: `true`/`false`, `null`, numbers, and `{…}`/`[…]`/`"…"` JSON
 * become what they say; anything else stays a string. A parameter the tool declares as a string
 * keeps its text (so a phone number or "10:00" is never turned into a number), except `null`.
 */
export function coerceArgValue(raw: string, declaredType?: unknown): unknown {
  if (raw === 'null') return null;
  const types = Array.isArray(declaredType) ? declaredType : declaredType === undefined ? [] : [declaredType];
  if (types.length === 1 && types[0] === 'string') return raw;
  const t = raw.trim();
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (/^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(t)) return Number(t);
  if (/^[[{"]/.test(t)) {
    try {
      return JSON.parse(t) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

function paramProps(tool: Json): Json | null {
  const fn = isObj(tool.function) ? tool.function : null;
  const params = fn && isObj(fn.parameters) ? fn.parameters : null;
  return params && isObj(params.properties) ? params.properties : null;
}

/**
 * Applies overrides to a tool's arguments. A key the tool does not take is an error, not
 * silence: the message lists the parameters it does take.
 */
export function applyToolOverrides(tpl: ToolTemplate | null, toolName: string, args: Json, overrides: readonly ArgOverride[]): Json {
  const props = tpl ? paramProps(tpl.tool) : null;
  const out: Json = { ...args };
  for (const o of overrides) {
    const decl = props ? props[o.key] : undefined;
    if (props && !Object.prototype.hasOwnProperty.call(props, o.key)) {
      const known = Object.keys(props);
      throw new UsageError(`--arg ${o.key}: ${toolName} takes no parameter "${o.key}".`, {
        hint: `${toolName} takes ${known.length ? known.join(', ') : 'no parameters'} (see templates/payloads/${toolName}.json).`,
      });
    }
    out[o.key] = o.rawJson ? (JSON.parse(o.raw) as unknown) : coerceArgValue(o.raw, isObj(decl) ? decl.type : undefined);
  }
  return out;
}

/**
 * Applies overrides to an event message by dotted path (`status`, `call.endedReason`…). The
 * path must already exist in the message, so a typo is an error rather than a new field.
 */
export function applyEventOverrides(message: Json, eventType: string, overrides: readonly ArgOverride[]): void {
  for (const o of overrides) {
    const keys = o.key.split('.');
    let node: unknown = message;
    for (let i = 0; i < keys.length - 1; i++) {
      node = isObj(node) ? node[keys[i]!] : undefined;
    }
    const last = keys[keys.length - 1]!;
    if (!isObj(node) || !Object.prototype.hasOwnProperty.call(node, last) || o.key === 'type') {
      const top = Object.keys(message).filter((k) => k !== 'type');
      throw new UsageError(`--arg ${o.key}: a ${eventType} message has no field "${o.key}".`, {
        hint: `Override an existing field by its path, e.g. ${top
          .slice(0, 5)
          .map((k) => `--arg ${k}=…`)
          .join(', ')}${isObj(message.call) ? ', --arg call.status=…' : ''}.`,
      });
    }
    const current = node[last];
    node[last] = o.rawJson ? (JSON.parse(o.raw) as unknown) : coerceArgValue(o.raw, typeof current === 'string' ? 'string' : undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Placeholders and the envelope

export interface PayloadContext {
  now: Date;
  /** The org's IANA time zone (dates in arguments are wall-clock dates there). */
  timeZone: string;
  /** `message.call.assistantId`; null for transient assistants (the org is then claimed in metadata). */
  assistantId: string | null;
  /** The org, claimed in `message.assistant.metadata.org_id`. */
  orgId: string | null;
  /** The URL the message is sent to (also the tool's server.url, as Vapi would have it). */
  serverUrl: string;
  /** Send `function.arguments` as a JSON string instead of an object (Vapi does both). */
  stringArguments?: boolean;
}

/** Replaces `{{nextWeekday}}`, `{{today}}`, `{{now}}`, `{{minutesAgo:N}}` and `{{uuid}}` in strings. */
export function renderPlaceholders<T>(value: T, pctx: Pick<PayloadContext, 'now' | 'timeZone'>): T {
  const one = (s: string): unknown => {
    const m = /^\{\{\s*([a-zA-Z]+)(?::(\d+))?\s*\}\}$/.exec(s);
    if (!m) return s;
    switch (m[1]) {
      case 'nextWeekday':
        return formatDate(nextWeekday(pctx.now, pctx.timeZone));
      case 'today':
        return formatDate(todayIn(pctx.now, pctx.timeZone));
      case 'now':
        return pctx.now.toISOString();
      case 'minutesAgo':
        return new Date(pctx.now.getTime() - Number(m[2] ?? 0) * 60_000).toISOString();
      case 'uuid':
        return randomUUID();
      default:
        throw new InternalError(`Unknown placeholder ${s} in a payload template.`);
    }
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return one(v);
    if (Array.isArray(v)) return v.map(walk);
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** A tool-call id shaped like the ones Vapi forwards from the model (`call_` + 24 characters). */
export function newToolCallId(): string {
  return `call_${randomBytes(18).toString('base64url').slice(0, 24)}`;
}

const TEST_CUSTOMER = { number: '+14155550123', name: 'Jordan Test' };
/**
 * The number the test call came in on. Vapi types `message.phoneNumber` as one of the
 * Create<Provider>PhoneNumberDTOs (OAS ServerMessage*.phoneNumber); a `vapi` number
 * (CreateVapiPhoneNumberDTO) has no `number` field (its digits are not part of the DTO), only
 * provider, name, numberDesiredAreaCode, sipUri, assistantId, server and the like.
 */
const TEST_PHONE_NUMBER = { provider: 'vapi', name: 'voxctl test line', numberDesiredAreaCode: '415' };

/** The fields Vapi puts on every server message (§8.1). */
function envelope(type: string, pctx: PayloadContext, withAssistantId: boolean): Json {
  const startedAt = new Date(pctx.now.getTime() - 45_000).toISOString();
  const call: Json = {
    id: randomUUID(),
    orgId: randomUUID(),
    type: 'inboundPhoneCall',
    status: 'in-progress',
    phoneNumberId: randomUUID(),
    customer: { number: TEST_CUSTOMER.number },
    createdAt: startedAt,
    updatedAt: pctx.now.toISOString(),
    startedAt,
  };
  if (withAssistantId && pctx.assistantId) call.assistantId = pctx.assistantId;
  const message: Json = { type, timestamp: pctx.now.getTime(), call };
  if (type !== 'assistant-request' || pctx.orgId) {
    const assistant: Json = { name: 'voxctl webhook test' };
    if (type === 'assistant-request') delete assistant.name;
    else assistant.server = { url: pctx.serverUrl };
    if (pctx.orgId) assistant.metadata = { org_id: pctx.orgId };
    message.assistant = assistant;
  }
  message.customer = { ...TEST_CUSTOMER };
  message.phoneNumber = { ...TEST_PHONE_NUMBER, ...(withAssistantId && pctx.assistantId ? { assistantId: pctx.assistantId } : {}) };
  message.artifact = { messages: [] };
  return message;
}

export interface BuiltToolCall {
  body: { message: Json };
  toolCallId: string;
  arguments: Json;
}

/** A `tool-calls` message for one call of `toolName` with `args` (§8.3). */
export function buildToolCallMessage(tpl: ToolTemplate | null, toolName: string, args: Json, pctx: PayloadContext): BuiltToolCall {
  const toolCallId = newToolCallId();
  const encoded = pctx.stringArguments ? JSON.stringify(args) : args;
  const toolCall = { id: toolCallId, type: 'function', function: { name: toolName, arguments: encoded } };
  const toolConfig: Json = tpl
    ? structuredClone(tpl.tool)
    : {
        type: 'function',
        async: false,
        function: {
          name: toolName,
          parameters: { type: 'object', properties: Object.fromEntries(Object.keys(args).map((k) => [k, {}])) },
        },
        messages: [],
      };
  toolConfig.server = { url: pctx.serverUrl, timeoutSeconds: 20 };
  const message = envelope('tool-calls', pctx, true);
  // Key order as Vapi sends it: type and timestamp, the calls, then the context.
  const ordered: Json = {
    type: message.type,
    timestamp: message.timestamp,
    toolCallList: [structuredClone(toolCall)],
    toolWithToolCallList: [{ ...toolConfig, toolCall: structuredClone(toolCall) }],
    toolCalls: [structuredClone(toolCall)],
  };
  for (const [k, v] of Object.entries(message)) if (!(k in ordered)) ordered[k] = v;
  return { body: { message: ordered }, toolCallId, arguments: args };
}

/** An informational or `assistant-request` message from a rendered event template. */
export function buildEventMessage(type: EventType, fields: Json, pctx: PayloadContext, overrides: readonly ArgOverride[] = []): { message: Json } {
  // assistant-request comes for a number with no assistant: there is no call.assistantId.
  const message = envelope(type, pctx, type !== 'assistant-request');
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'type') continue;
    message[k] = isObj(v) && isObj(message[k]) ? { ...(message[k] as Json), ...v } : v;
  }
  // Keep call.* consistent with the message (before the overrides, so call.endedReason can be
  // overridden, and after, unless the caller set that call field itself).
  const syncCall = (skip: ReadonlySet<string>) => {
    const sync = (field: string, value: unknown) => {
      if (isObj(message.call) && value !== undefined && !skip.has(`call.${field}`)) (message.call as Json)[field] = value;
    };
    if (type === 'status-update' && typeof message.status === 'string') sync('status', message.status);
    if (type === 'end-of-call-report') {
      sync('status', 'ended');
      for (const f of ['endedReason', 'startedAt', 'endedAt']) if (typeof message[f] === 'string') sync(f, message[f]);
    }
  };
  syncCall(new Set());
  applyEventOverrides(message, type, overrides);
  syncCall(new Set(overrides.map((o) => o.key)));
  return { message };
}
