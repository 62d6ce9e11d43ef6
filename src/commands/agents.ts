import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Context } from '../context.js';
import { ConflictError, NotFoundError, UsageError, type VoxError } from '../errors.js';
import type { Agent, ImportRow } from '../store/types.js';
import { AGENT_TYPE, assertAgentType, assistantTaken, CONTROL_CHARS_MESSAGE, hasControlChars, isUuid, unknownOrg } from '../store/validate.js';
import { parseOptions, uuidFlag } from './options.js';
import { fileError } from '../util/fs-errors.js';

const typeFlag = z.string().trim().regex(AGENT_TYPE, 'use 1-40 lower-case letters, digits, "-" or "_" (e.g. inbound)');
const assistantIdFlag = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

const publicAgent = (a: Agent) => ({ org_id: a.orgId, org_name: a.orgName, type: a.type, vapi_assistant_id: a.vapiAssistantId });

export async function agentsLinkAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(z.object({ org: uuidFlag('the org id'), type: typeFlag, assistantId: assistantIdFlag }), raw);
  const store = await ctx.store();
  const agent = await store.linkAgent({ orgId: opts.org, type: assertAgentType(opts.type), vapiAssistantId: opts.assistantId });
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, agent: publicAgent(agent) });
    return;
  }
  ctx.ui.success(`Linked ${agent.vapiAssistantId} as ${agent.type} of ${agent.orgName}.`);
}

export async function agentsUnlinkAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(
    z
      .object({ org: uuidFlag('the org id').optional(), type: typeFlag.optional(), assistantId: assistantIdFlag.optional() })
      .superRefine((o, c) => {
        if (o.assistantId && (o.org || o.type)) c.addIssue({ code: 'custom', path: ['assistantId'], message: 'names the slot by itself; drop --org and --type' });
        else if (!o.assistantId && !(o.org && o.type)) c.addIssue({ code: 'custom', path: [o.org ? 'type' : 'org'], message: 'is required (or name the slot by --assistant-id)' });
      }),
    raw,
  );
  const store = await ctx.store();
  let slot: { orgId: string; type: string };
  if (opts.assistantId) {
    const agent = await store.findAgentByAssistantId(opts.assistantId);
    if (!agent) {
      throw new NotFoundError(`Assistant ${opts.assistantId} is not linked to any org.`, { hint: 'Run `voxctl agents list` to see the linked assistants.' });
    }
    slot = { orgId: agent.orgId, type: agent.type };
  } else slot = { orgId: opts.org!, type: opts.type! };
  const agent = await store.unlinkAgent(slot);
  if (!agent) {
    throw new NotFoundError(`Org ${slot.orgId} has no ${slot.type} agent linked.`, { hint: `Run \`voxctl agents list --org ${slot.orgId}\` to see its agents.` });
  }
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, unlinked: publicAgent(agent) });
    return;
  }
  ctx.ui.success(`Unlinked ${agent.vapiAssistantId} (${agent.type}) from ${agent.orgName}. The Vapi assistant itself is unchanged.`);
}

export async function agentsListAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(z.object({ org: uuidFlag('the org id').optional() }), raw);
  const store = await ctx.store();
  if (opts.org && !(await store.getOrg(opts.org))) throw unknownOrg(opts.org);
  const agents = await store.listAgents({ orgId: opts.org });
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, agents: agents.map(publicAgent) });
    return;
  }
  if (agents.length === 0) {
    ctx.ui.info('No agents linked yet. Link one with `voxctl agents link --org <id> --type <type> --assistant-id <id>`.');
    return;
  }
  ctx.ui.table(agents, [
    { header: 'org id', value: (a) => a.orgId },
    { header: 'org', value: (a) => a.orgName },
    { header: 'type', value: (a) => a.type },
    { header: 'assistant id', value: (a) => a.vapiAssistantId },
  ]);
}

const importRowSchema = z.object({
  org_id: z.string().refine(isUuid, 'org_id must be a uuid'),
  org_name: z
    .string()
    .trim()
    .min(1, 'org_name must not be empty')
    .max(200, 'org_name must be at most 200 characters')
    .refine((s) => !hasControlChars(s), `org_name ${CONTROL_CHARS_MESSAGE}`)
    .optional(),
  type: z.string().regex(AGENT_TYPE, 'type must be 1-40 lower-case letters, digits, "-" or "_"'),
  vapi_assistant_id: assistantIdFlag,
});

/** How many bad rows an import lists; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 20;

export interface RowProblem {
  row: number;
  message: string;
}

const IMPORT_HINT = 'The file must be a JSON array of {"org_id","org_name"?,"type","vapi_assistant_id"} objects.';

/**
 * One error for every bad row: the first MAX_LISTED_PROBLEMS listed (message and `problems`), then
 * how many more. Every problem of an import as one error. `kind` keeps the contract's codes: malformed rows are a
 * usage error (2); rows naming an org that does not exist are not_found and rows whose assistant
 * is linked elsewhere a conflict (1), as in `agents link`.
 */
export function importProblemsError(source: string, problems: RowProblem[], hint = IMPORT_HINT, kind: 'usage' | 'not_found' | 'conflict' = 'usage'): VoxError {
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
  const more = problems.length - listed.length;
  const details = { problems: listed, ...(more > 0 ? { moreProblems: more } : {}) };
  const make = (message: string) =>
    kind === 'not_found' ? new NotFoundError(message, { hint, details }) : kind === 'conflict' ? new ConflictError(message, { hint, details }) : new UsageError(message, { hint, details });
  if (problems.length === 1) return make(`${source}: row ${listed[0]!.row}: ${listed[0]!.message}. Nothing was imported.`);
  const lines = listed.map((p) => `  row ${p.row}: ${p.message}`);
  if (more > 0) lines.push(`  … and ${more} more`);
  const head = `${source}: ${problems.length} rows have problems${more > 0 ? ` (the first ${MAX_LISTED_PROBLEMS} below)` : ''}. Nothing was imported.`;
  return make(`${head}\n${lines.join('\n')}`);
}

/**
 * Checks every row before anything is written and reports every problem (by row, rows numbered
 * from 1 in file order); with any problem, nothing is imported.
 */
export function validateImportRows(data: unknown, source: string): ImportRow[] {
  const fail = (msg: string) => new UsageError(`${source}: ${msg}. Nothing was imported.`, { hint: IMPORT_HINT });
  if (!Array.isArray(data)) throw fail('expected a JSON array at the top level');
  if (data.length === 0) throw fail('the array is empty');
  const rows: ImportRow[] = [];
  const problems: RowProblem[] = [];
  const slot = new Map<string, number>();
  const assistant = new Map<string, { row: number; key: string }>();
  const orgName = new Map<string, { name: string; row: number }>();
  data.forEach((item, i) => {
    const n = i + 1;
    const bad = (message: string) => problems.push({ row: n, message });
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return bad('expected an object');
    const extra = Object.keys(item).filter((k) => !['org_id', 'org_name', 'type', 'vapi_assistant_id'].includes(k));
    if (extra.length) return bad(`unknown field ${extra.map((k) => `"${k}"`).join(', ')}`);
    const res = importRowSchema.safeParse(item);
    if (!res.success) {
      const issue = res.error.issues[0]!;
      const field = String(issue.path[0] ?? '');
      return bad(issue.code === 'invalid_type' && field ? `${field} is missing or not a string` : issue.message);
    }
    const row = { ...res.data, org_id: res.data.org_id.toLowerCase() };
    if (row.org_name !== undefined) {
      const named = orgName.get(row.org_id);
      if (named && named.name !== row.org_name) {
        return bad(`org_name "${row.org_name}" differs from "${named.name}" given for org ${row.org_id} in row ${named.row}`);
      }
      if (!named) orgName.set(row.org_id, { name: row.org_name, row: n });
    }
    const key = `${row.org_id}/${row.type}`;
    const seen = slot.get(key);
    if (seen) return bad(`org ${row.org_id} type ${row.type} already appears in row ${seen}`);
    slot.set(key, n);
    const other = assistant.get(row.vapi_assistant_id);
    if (other) return bad(`assistant ${row.vapi_assistant_id} is also in row ${other.row}; one assistant serves one agent slot`);
    assistant.set(row.vapi_assistant_id, { row: n, key });
    rows.push(row);
  });
  if (problems.length) throw importProblemsError(source, problems);
  return rows;
}

async function readInput(ctx: Context, file: string): Promise<{ text: string; source: string }> {
  if (file === '-') {
    const stdin = ctx.io.stdin;
    if (!stdin) throw new UsageError('No standard input to read from.');
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
    return { text: Buffer.concat(chunks).toString('utf8'), source: 'stdin' };
  }
  const full = path.resolve(ctx.workDir, file);
  try {
    return { text: await readFile(full, 'utf8'), source: file };
  } catch (e) {
    // A file voxctl cannot read is exit 1 naming it (contract: "Exit codes"), not a usage error.
    throw fileError(e, file, 'read', 'Pass the path of a JSON file (relative to the project dir), or - to read stdin.');
  }
}

export async function agentsImportAction(_raw: Record<string, unknown>, args: string[], ctx: Context): Promise<void> {
  const file = args[0]!;
  const { text, source } = await readInput(ctx, file);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${source} is not valid JSON: ${(e as Error).message}. Nothing was imported.`, {
      hint: 'The file must be a JSON array of {"org_id","org_name"?,"type","vapi_assistant_id"} objects.',
    });
  }
  const rows = validateImportRows(data, source);
  const store = await ctx.store();

  // Cross-check against what is stored, so the error names a row rather than a constraint.
  const [orgs, agents] = await Promise.all([store.listOrgs(), store.listAgents()]);
  const orgIds = new Set(orgs.map((o) => o.id));
  const byAssistant = new Map(agents.map((a) => [a.vapiAssistantId, a]));
  const problems: RowProblem[] = [];
  let unknownOrgs = 0;
  rows.forEach((row, i) => {
    if (!orgIds.has(row.org_id) && !row.org_name) {
      unknownOrgs++;
      problems.push({ row: i + 1, message: `${unknownOrg(row.org_id).message} Give it an org_name to create it` });
      return;
    }
    const linked = byAssistant.get(row.vapi_assistant_id);
    if (linked && (linked.orgId !== row.org_id || linked.type !== row.type)) {
      // Moving an assistant between slots within the file is fine if its old slot is re-pointed too.
      const oldSlotRow = rows.find((r) => r.org_id === linked.orgId && r.type === linked.type);
      if (!oldSlotRow) problems.push({ row: i + 1, message: assistantTaken(row.vapi_assistant_id, linked).message.replace(/\.$/, '') });
    }
  });
  // Same condition, same code as `agents link`: an unknown org is not_found, an assistant linked
  // elsewhere a conflict (both exit 1); a mix of the two is reported as not_found.
  if (problems.length) {
    const hint = unknownOrgs ? "Run `voxctl orgs list` to see the orgs, give the rows an org_name to create them, or fix those rows and import again." : 'Fix those rows (or the store) and import again.';
    throw importProblemsError(source, problems, hint, unknownOrgs ? 'not_found' : 'conflict');
  }

  const spinner = await ctx.spinner(`Importing ${rows.length} agents…`);
  spinner.start();
  let result;
  try {
    result = await store.importAgents(rows);
  } catch (e) {
    spinner.fail('Import failed; nothing was imported.');
    throw e;
  }
  spinner.succeed(`Imported ${result.imported} agents (${result.orgsCreated} new orgs) into the ${store.kind} store.`);
  if (ctx.flags.json) ctx.ui.jsonDoc({ ok: true, ...result });
}
