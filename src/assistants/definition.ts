/**
 * Assistant definitions for `assistants upsert`: a JSON file of CreateAssistantDTO fields, or one
 * of the templates in templates/assistants/ (inbound receptionist, follow-up caller, outbound
 * campaign). Strings may use ${ORG_NAME}, ${ORG_ID}, ${AGENT_TYPE} and ${WEBHOOK_URL}.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { templatesDir } from '../config/paths.js';
import { UsageError } from '../errors.js';
import { fileError } from '../util/fs-errors.js';
import { isJsonObject as isObj } from '../util/json.js';

export type Json = Record<string, unknown>;

/** Fields Vapi computes; a definition copied from a GET response may carry them. */
export const READ_ONLY_FIELDS = ['id', 'orgId', 'createdAt', 'updatedAt', 'analyticsMetadata', 'isDeleted', 'isServerUrlSecretSet', 'workflowIds', 'latestVersion'];

export const ASSISTANT_NAME_MAX = 40;


export function assistantTemplatesDir(): string {
  return path.join(templatesDir(), 'assistants');
}

/** Template names (= the agent types they are for), e.g. ["follow-up", "inbound", "outbound"]. */
export async function listAssistantTemplates(): Promise<string[]> {
  try {
    return (await readdir(assistantTemplatesDir()))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

export interface LoadedDefinition {
  definition: Json;
  /** Where it came from, for messages: the file as given, or `template <type>`. */
  source: string;
  /** Read-only fields that were dropped. */
  dropped: string[];
}

/** Reads `--file` (relative to `cwd`: where the user is, or --cwd) or the template named after the agent type. */
export async function loadDefinition(opts: { file?: string | undefined; type: string; cwd: string }): Promise<LoadedDefinition> {
  let text: string;
  let source: string;
  if (opts.file) {
    source = opts.file;
    try {
      text = await readFile(path.resolve(opts.cwd, opts.file), 'utf8');
    } catch (e) {
      // A file voxctl cannot read is exit 1 naming it (contract: "Exit codes"), not a usage error.
      throw fileError(e, opts.file, 'read --file', `Pass the path of an assistant JSON file (absolute, or relative to ${opts.cwd}).`);
    }
  } else {
    const names = await listAssistantTemplates();
    if (!names.includes(opts.type)) {
      throw new UsageError(`There is no assistant template for type "${opts.type}"; pass --file <assistant.json>.`, {
        hint: `Templates: ${names.join(', ')} (templates/assistants/). Or use one as a starting point: --file templates/assistants/inbound.json.`,
      });
    }
    source = `template ${opts.type}`;
    text = await readFile(path.join(assistantTemplatesDir(), `${opts.type}.json`), 'utf8');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${source} is not valid JSON: ${(e as Error).message}.`, { hint: 'The file must hold one JSON object: the assistant.' });
  }
  if (!isObj(data)) throw new UsageError(`${source} must hold a JSON object (the assistant), not ${Array.isArray(data) ? 'an array' : typeof data}.`);
  return checkDefinition(data, source);
}

/** Refuses what Vapi refuses (with the fix), drops read-only fields. */
export function checkDefinition(data: Json, source: string): LoadedDefinition {
  const problems: string[] = [];
  if ('serverUrl' in data) problems.push('"serverUrl" was removed from the Vapi API: use "server": {"url": …} (voxctl sets it for you)');
  if ('serverUrlSecret' in data) problems.push('"serverUrlSecret" was removed from the Vapi API: set VAPI_WEBHOOK_SECRET (voxctl sends it as the X-Vapi-Secret header)');
  if (isObj(data.server) && 'secret' in data.server) problems.push('"server.secret" was removed from the Vapi API: set VAPI_WEBHOOK_SECRET instead');
  if (data.server !== undefined && !isObj(data.server)) problems.push('"server" must be an object');
  if (data.metadata !== undefined && !isObj(data.metadata)) problems.push('"metadata" must be an object');
  if (data.model !== undefined && !isObj(data.model)) problems.push('"model" must be an object');
  if (isObj(data.model) && data.model.tools !== undefined && !Array.isArray(data.model.tools)) problems.push('"model.tools" must be an array');
  if (isObj(data.model) && Array.isArray(data.model.functions)) problems.push('"model.functions" is gone from the Vapi API: use "model.tools" with {"type":"function", …}');
  if (data.name !== undefined && typeof data.name !== 'string') problems.push('"name" must be a string');
  if (problems.length) {
    throw new UsageError(`${source}: ${problems.join('; ')}.`, { hint: 'Fix the assistant file and run the command again; nothing was sent.' });
  }
  const definition: Json = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(data)) {
    if (READ_ONLY_FIELDS.includes(k)) dropped.push(k);
    else if (!k.startsWith('$')) definition[k] = v;
  }
  return { definition, source, dropped };
}

/**
 * Expands ${ORG_NAME}, ${ORG_ID}, ${AGENT_TYPE} and ${WEBHOOK_URL} in every string. A name
 * longer than Vapi's 40 characters is cut when a placeholder made it long, and refused when the
 * file itself has it so.
 */
export function expandDefinition(def: Json, vars: { orgName: string; orgId: string; type: string; webhookUrl: string }, source: string): { definition: Json; notes: string[] } {
  const notes: string[] = [];
  const table: Record<string, string> = {
    ORG_NAME: vars.orgName,
    ORG_ID: vars.orgId,
    AGENT_TYPE: vars.type,
    WEBHOOK_URL: vars.webhookUrl.replace(/\/+$/, ''),
  };
  const unknown = new Set<string>();
  const expand = (s: string) =>
    s.replace(/\$\{([A-Z_]+)\}/g, (m, name: string) => {
      if (name in table) return table[name]!;
      unknown.add(m);
      return m;
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return expand(v);
    if (Array.isArray(v)) return v.map(walk);
    if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const out = walk(def) as Json;
  if (unknown.size) {
    throw new UsageError(`${source}: unknown placeholder ${[...unknown].join(', ')}.`, { hint: 'Placeholders: ${ORG_NAME}, ${ORG_ID}, ${AGENT_TYPE}, ${WEBHOOK_URL}.' });
  }
  if (typeof out.name === 'string' && out.name.length > ASSISTANT_NAME_MAX) {
    if (typeof def.name === 'string' && def.name.length > ASSISTANT_NAME_MAX) {
      throw new UsageError(`${source}: "name" is ${def.name.length} characters; Vapi allows at most ${ASSISTANT_NAME_MAX}.`, { hint: 'Shorten the name.' });
    }
    notes.push(`The name "${out.name}" is longer than Vapi's ${ASSISTANT_NAME_MAX} characters; using "${out.name.slice(0, ASSISTANT_NAME_MAX).trimEnd()}".`);
    out.name = out.name.slice(0, ASSISTANT_NAME_MAX).trimEnd();
  }
  return { definition: out, notes };
}
