/**
 * The sync planner: pure. The selected orgs' agents from the store plus the Vapi resources (from
 * the list endpoints) → one entry per resource with its URL before and after, and the exact PATCH
 * body of every resource that must change. Rules (shared/cli-contract.md, `assistants sync`):
 *
 * - assistant: `server.url` = base, `metadata.org_id` = the org (merged into existing metadata);
 * - function tools, saved (`model.toolIds`) or inline (`model.tools`): `server.url` = base/name;
 * - phone numbers whose `assistantId` is linked: `server.url` = base;
 * - with a webhook secret and no `server.credentialId`: header `X-Vapi-Secret` = secret, any
 *   other letter case of it replaced, never doubled;
 * - a resource without a server gets exactly `{url}` (plus the header).
 *
 * Vapi's PATCH replaces nested objects whole, so a body carries only the top-level keys that
 * change, each complete: the rest of `server` and of `model` (prompt, toolIds, other tools) is
 * copied from what Vapi returned, byte for byte.
 */
import { jsonEqual, isJsonObject } from '../util/json.js';
import { pointServer, SECRET_HEADER } from '../vapi/server.js';
import type { VapiAssistant, VapiFunctionTool, VapiPhoneNumber, VapiServer, VapiTool } from '../vapi/types.js';

export type ResultKind = 'assistant' | 'tool' | 'inlineTool' | 'phoneNumber';
export type WriteResource = 'assistant' | 'tool' | 'phoneNumber';

export interface PlanEntry {
  orgId: string;
  kind: ResultKind;
  /** The resource id (for an inline tool: its assistant's id). */
  id: string;
  /** Tools: the function name. */
  name?: string | undefined;
  before: string | null;
  after: string | null;
  action: 'update' | 'unchanged' | 'missing' | 'failed';
  error?: string | undefined;
  /** Index into `writes` of the PATCH that carries this entry's change. */
  write?: number | undefined;
}

/** A value the PATCH response must show for the change to count as done. */
export interface WriteCheck {
  path: Array<string | number>;
  value: unknown;
  /** Never print the value (the webhook secret). */
  secret?: boolean | undefined;
}

export interface PlannedWrite {
  resource: WriteResource;
  id: string;
  orgId: string;
  /** The PATCH body: only the top-level keys that change, nested objects complete. */
  body: Record<string, unknown>;
  /** The values those keys had before (null: absent), for the snapshot and `restore`. */
  previous: Record<string, unknown>;
  checks: WriteCheck[];
}

export interface SyncPlan {
  webhookUrl: string;
  entries: PlanEntry[];
  writes: PlannedWrite[];
}

export interface PlanOrg {
  id: string;
  /** Vapi assistant ids linked to this org's agent slots, in display order. */
  assistantIds: string[];
}

export interface PlanInput {
  webhookUrl: string;
  /** VAPI_WEBHOOK_SECRET, when set. */
  secret?: string | undefined;
  orgs: PlanOrg[];
  assistants: VapiAssistant[];
  tools: VapiTool[];
  phoneNumbers: VapiPhoneNumber[];
}

type Json = Record<string, unknown>;
const isObj = isJsonObject;

/** `base` + `/` + `name`, with no doubled slash. */
export function toolUrl(base: string, name: string): string {
  return `${base.replace(/\/+$/, '')}/${name}`;
}

function serverChecks(prefix: Array<string | number>, current: VapiServer | null | undefined, next: VapiServer, secret: string | undefined): WriteCheck[] {
  const checks: WriteCheck[] = [{ path: [...prefix, 'url'], value: next.url }];
  const headers = isObj(next.headers) ? next.headers : undefined;
  if (secret && headers && headers[SECRET_HEADER] === secret && !jsonEqual(current?.headers, next.headers)) {
    checks.push({ path: [...prefix, 'headers', SECRET_HEADER], value: secret, secret: true });
  }
  return checks;
}

const previousOf = (resource: Json, keys: string[]): Json =>
  Object.fromEntries(keys.map((k) => [k, resource[k] === undefined ? null : structuredClone(resource[k])]));

const urlOf = (server: VapiServer | null | undefined): string | null => (isObj(server) && typeof server.url === 'string' ? server.url : null);
const fnName = (tool: VapiFunctionTool): string | undefined => {
  const n = isObj(tool.function) ? tool.function.name : undefined;
  return typeof n === 'string' && n.length > 0 ? n : undefined;
};

export function planSync(input: PlanInput): SyncPlan {
  const base = input.webhookUrl.replace(/\/+$/, '');
  const secret = input.secret || undefined;
  const assistants = new Map(input.assistants.map((a) => [a.id, a]));
  const tools = new Map(input.tools.map((t) => [t.id, t]));
  const entries: PlanEntry[] = [];
  const writes: PlannedWrite[] = [];
  // A saved tool (or an unknown tool id) shared by several assistants, even across orgs, is
  // planned once, under the first org that references it.
  const toolsSeen = new Set<string>();
  const assistantOrg = new Map<string, string>();
  for (const org of input.orgs) for (const id of org.assistantIds) if (!assistantOrg.has(id)) assistantOrg.set(id, org.id);
  const phonesByOrg = new Map<string, VapiPhoneNumber[]>();
  for (const p of input.phoneNumbers) {
    const orgId = p.assistantId ? assistantOrg.get(p.assistantId) : undefined;
    if (!orgId) continue;
    const list = phonesByOrg.get(orgId) ?? [];
    list.push(p);
    phonesByOrg.set(orgId, list);
  }

  const addWrite = (w: PlannedWrite) => writes.push(w) - 1;

  for (const org of input.orgs) {
    for (const assistantId of org.assistantIds) {
      const a = assistants.get(assistantId);
      if (!a) {
        entries.push({ orgId: org.id, kind: 'assistant', id: assistantId, before: null, after: base, action: 'missing', error: 'Vapi has no assistant with this id' });
        continue;
      }
      const body: Json = {};
      const checks: WriteCheck[] = [];

      const server = pointServer(a.server, base, secret);
      if (!jsonEqual(a.server ?? undefined, server)) {
        body.server = server;
        checks.push(...serverChecks(['server'], a.server, server, secret));
      }
      const metadata = isObj(a.metadata) ? a.metadata : {};
      if (metadata.org_id !== org.id) {
        body.metadata = { ...metadata, org_id: org.id };
        checks.push({ path: ['metadata', 'org_id'], value: org.id });
      }

      const model = isObj(a.model) ? a.model : undefined;
      const inline: PlanEntry[] = [];
      const inlineTools = model && Array.isArray(model.tools) ? model.tools : [];
      let inlineChanged = false;
      const nextTools = inlineTools.map((tool, i) => {
        if (!isObj(tool) || tool.type !== 'function') return tool;
        const name = fnName(tool);
        if (!name) {
          inline.push({ orgId: org.id, kind: 'inlineTool', id: a.id, name: `#${i}`, before: urlOf(tool.server), after: null, action: 'failed', error: `inline function tool #${i} has no function.name, so it has no URL` });
          return tool;
        }
        const url = toolUrl(base, name);
        const next = pointServer(tool.server, url, secret);
        const changed = !jsonEqual(tool.server ?? undefined, next);
        if (changed) {
          inlineChanged = true;
          checks.push(...serverChecks(['model', 'tools', i, 'server'], tool.server, next, secret));
        }
        inline.push({ orgId: org.id, kind: 'inlineTool', id: a.id, name, before: urlOf(tool.server), after: url, action: changed ? 'update' : 'unchanged' });
        return changed ? { ...tool, server: next } : tool;
      });
      if (inlineChanged && model) body.model = { ...model, tools: nextTools };

      const keys = Object.keys(body);
      const w = keys.length ? addWrite({ resource: 'assistant', id: a.id, orgId: org.id, body, previous: previousOf(a, keys), checks }) : undefined;
      entries.push({ orgId: org.id, kind: 'assistant', id: a.id, before: urlOf(a.server), after: base, action: w === undefined ? 'unchanged' : 'update', write: w });
      for (const e of inline) entries.push(e.action === 'update' ? { ...e, write: w } : e);

      const toolIds = model && Array.isArray(model.toolIds) ? model.toolIds : [];
      for (const toolId of toolIds) {
        if (typeof toolId !== 'string' || toolsSeen.has(toolId)) continue;
        toolsSeen.add(toolId);
        const t = tools.get(toolId);
        if (!t) {
          entries.push({ orgId: org.id, kind: 'tool', id: toolId, before: null, after: null, action: 'missing', error: `Vapi has no tool with this id (referenced by assistant ${a.id})` });
          continue;
        }
        if (t.type !== 'function') continue; // other tool types keep their own URLs
        const name = fnName(t);
        if (!name) {
          entries.push({ orgId: org.id, kind: 'tool', id: t.id, before: urlOf(t.server), after: null, action: 'failed', error: 'function tool has no function.name, so it has no URL' });
          continue;
        }
        const url = toolUrl(base, name);
        const next = pointServer(t.server, url, secret);
        let tw: number | undefined;
        if (!jsonEqual(t.server ?? undefined, next)) {
          tw = addWrite({ resource: 'tool', id: t.id, orgId: org.id, body: { server: next }, previous: previousOf(t, ['server']), checks: serverChecks(['server'], t.server, next, secret) });
        }
        entries.push({ orgId: org.id, kind: 'tool', id: t.id, name, before: urlOf(t.server), after: url, action: tw === undefined ? 'unchanged' : 'update', write: tw });
      }
    }

    for (const p of phonesByOrg.get(org.id) ?? []) {
      const next = pointServer(p.server, base, secret);
      let pw: number | undefined;
      if (!jsonEqual(p.server ?? undefined, next)) {
        // `provider` is the discriminator of Vapi's phone-number update DTOs; it is sent
        // unchanged so the right DTO validates the body.
        const body: Json = typeof p.provider === 'string' ? { provider: p.provider, server: next } : { server: next };
        pw = addWrite({ resource: 'phoneNumber', id: p.id, orgId: org.id, body, previous: previousOf(p, ['server']), checks: serverChecks(['server'], p.server, next, secret) });
      }
      entries.push({ orgId: org.id, kind: 'phoneNumber', id: p.id, before: urlOf(p.server), after: base, action: pw === undefined ? 'unchanged' : 'update', write: pw });
    }
  }
  return { webhookUrl: base, entries, writes };
}

/** Reads `path` in a PATCH response; checks fail with a readable reason (secret values masked). */
export function verifyWrite(response: unknown, checks: WriteCheck[]): string | undefined {
  for (const c of checks) {
    let v: unknown = response;
    for (const seg of c.path) v = isObj(v) || Array.isArray(v) ? (v as Record<string | number, unknown>)[seg] : undefined;
    const norm = (x: unknown) => (x === null ? undefined : x);
    if (!jsonEqual(norm(v), norm(c.value))) {
      const where = c.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '');
      if (c.secret) return `Vapi accepted the change but ${where} did not take`;
      const show = (x: unknown) => (x === undefined ? 'nothing' : JSON.stringify(x));
      return `Vapi accepted the change but returned ${where} = ${show(v)} (expected ${show(c.value)})`;
    }
  }
  return undefined;
}
