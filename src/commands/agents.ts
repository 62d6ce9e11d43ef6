import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Context } from '../context.js';
import { CancelledError, ConflictError, NotFoundError, UsageError, type VoxError } from '../errors.js';
import type { Agent, ImportRow } from '../store/types.js';
import { AGENT_TYPE, assertAgentType, assistantTaken, CONTROL_CHARS_MESSAGE, hasControlChars, isUuid, unknownOrg } from '../store/validate.js';
import { parseOptions, uuidFlag } from './options.js';
import { confirmAgentType, CUSTOM_TYPE_FLAG, isKnownAgentType, nearestKnownType, unknownTypeMessage } from './agent-type.js';
import { fileError } from '../util/fs-errors.js';

const typeFlag = z.string().trim().regex(AGENT_TYPE, 'use 1-40 lower-case letters, digits, "-" or "_" (e.g. inbound)');
const assistantIdFlag = z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters');

const publicAgent = (a: Agent) => ({ org_id: a.orgId, org_name: a.orgName, type: a.type, vapi_assistant_id: a.vapiAssistantId });

export async function agentsLinkAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(z.object({ org: uuidFlag('the org id'), type: typeFlag, assistantId: assistantIdFlag, customType: z.boolean().optional() }), raw);
  await confirmAgentType(ctx, opts.type, opts.customType);
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

/** How many problems an import lists; the rest are counted. */
export const MAX_LISTED_PROBLEMS = 20;

/** What is wrong with a row: malformed (usage), names an org that does not exist, takes a linked assistant. */
export type ProblemCode = 'usage' | 'not_found' | 'conflict';

export interface RowProblem {
  row: number;
  code: ProblemCode;
  message: string;
}

const IMPORT_HINT = 'The file must be a JSON array of {"org_id","org_name"?,"type","vapi_assistant_id"} objects.';

const HINTS: Record<ProblemCode | 'type', string> = {
  usage: IMPORT_HINT,
  type: `Pass ${CUSTOM_TYPE_FLAG} to import other types as they are.`,
  not_found: 'Run `voxctl orgs list` to see the orgs, or give those rows an org_name to create them.',
  conflict: 'Unlink those assistants first (`voxctl agents unlink --assistant-id <id>`), or re-point their old slots in the same file.',
};

/**
 * One error for every problem of an import, all kinds together, in row order: the first
 * MAX_LISTED_PROBLEMS listed (message and `problems`), then how many more. The code keeps the
 * contract's rule: any malformed row makes it a usage error (2: fix the file); otherwise rows
 * naming an org that does not exist are not_found and rows whose assistant is linked elsewhere
 * a conflict (1), as in `agents link`; a mix of those two is not_found.
 */
export function importProblemsError(source: string, all: RowProblem[], typeProblems = 0): VoxError {
  const problems = [...all].sort((a, b) => a.row - b.row);
  const listed = problems.slice(0, MAX_LISTED_PROBLEMS);
  const more = problems.length - listed.length;
  const count = (code: ProblemCode) => problems.filter((p) => p.code === code).length;
  const kind: ProblemCode = count('usage') ? 'usage' : count('not_found') ? 'not_found' : 'conflict';
  const hints = [count('usage') > typeProblems && HINTS.usage, typeProblems && HINTS.type, count('not_found') && HINTS.not_found, count('conflict') && HINTS.conflict];
  const hint = hints.filter((h): h is string => typeof h === 'string').join(' ');
  const details = { problems: listed, ...(more > 0 ? { moreProblems: more } : {}) };
  const make = (message: string) =>
    kind === 'not_found' ? new NotFoundError(message, { hint, details }) : kind === 'conflict' ? new ConflictError(message, { hint, details }) : new UsageError(message, { hint, details });
  if (problems.length === 1) return make(`${source}: row ${listed[0]!.row}: ${listed[0]!.message}. Nothing was imported.`);
  const rows = new Set(problems.map((p) => p.row)).size;
  const lines = listed.map((p) => `  row ${p.row}: ${p.message}`);
  if (more > 0) lines.push(`  … and ${more} more`);
  const what = rows === problems.length ? `${rows} rows have problems` : `${rows} rows have ${problems.length} problems`;
  const head = `${source}: ${what}${more > 0 ? ` (the first ${MAX_LISTED_PROBLEMS} below)` : ''}. Nothing was imported.`;
  return make(`${head}\n${lines.join('\n')}`);
}

/** A well-formed row and its number in the file (from 1). */
export type NumberedRow = ImportRow & { n: number };

/**
 * The format pass: checks every row (shape, fields, repeats within the file) and returns the
 * well-formed rows with every problem found, by row; the store pass (checkRowsAgainstStore)
 * adds its problems to the same list, so one run reports them all. A file that is not a
 * non-empty array is refused at once.
 */
export function checkImportRows(data: unknown, source: string): { rows: NumberedRow[]; problems: RowProblem[] } {
  const fail = (msg: string) => new UsageError(`${source}: ${msg}. Nothing was imported.`, { hint: IMPORT_HINT });
  if (!Array.isArray(data)) throw fail('expected a JSON array at the top level');
  if (data.length === 0) throw fail('the array is empty');
  const rows: NumberedRow[] = [];
  const problems: RowProblem[] = [];
  const slot = new Map<string, number>();
  const assistant = new Map<string, { row: number; key: string }>();
  const orgName = new Map<string, { name: string; row: number }>();
  data.forEach((item, i) => {
    const n = i + 1;
    const bad = (message: string) => problems.push({ row: n, code: 'usage', message });
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
    rows.push({ ...row, n });
  });
  return { rows, problems };
}

/**
 * The store pass, with read queries only (listOrgs, listAgents), so both stores report the same:
 * a row naming an org that does not exist without org_name is not_found; a row taking an
 * assistant linked to another slot is a conflict, unless the file re-points that old slot too.
 */
export function checkRowsAgainstStore(rows: NumberedRow[], orgs: Array<{ id: string }>, agents: Agent[]): RowProblem[] {
  const orgIds = new Set(orgs.map((o) => o.id));
  const byAssistant = new Map(agents.map((a) => [a.vapiAssistantId, a]));
  const slots = new Set(rows.map((r) => `${r.org_id}/${r.type}`));
  const problems: RowProblem[] = [];
  for (const row of rows) {
    if (!orgIds.has(row.org_id) && !row.org_name) {
      problems.push({ row: row.n, code: 'not_found', message: `${unknownOrg(row.org_id).message} Give it an org_name to create it` });
      continue;
    }
    const linked = byAssistant.get(row.vapi_assistant_id);
    if (linked && (linked.orgId !== row.org_id || linked.type !== row.type) && !slots.has(`${linked.orgId}/${linked.type}`)) {
      problems.push({ row: row.n, code: 'conflict', message: assistantTaken(row.vapi_assistant_id, linked).message.replace(/\.$/, '') });
    }
  }
  return problems;
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
    throw fileError(e, file, 'read', `Pass the path of a JSON file (absolute, or relative to ${ctx.workDir}), or - to read stdin.`);
  }
}

export async function agentsImportAction(raw: Record<string, unknown>, args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(z.object({ customType: z.boolean().optional() }), raw);
  const file = args[0]!;
  const { text, source } = await readInput(ctx, file);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${source} is not valid JSON: ${(e as Error).message}. Nothing was imported.`, { hint: IMPORT_HINT });
  }
  const { rows: numbered, problems } = checkImportRows(data, source);
  const store = await ctx.store();
  // Cross-check against what is stored in the same pass, so one run lists every bad row and the
  // error names a row rather than a constraint.
  const [orgs, agents] = await Promise.all([store.listOrgs(), store.listAgents()]);
  problems.push(...checkRowsAgainstStore(numbered, orgs, agents));

  // Types voxctl does not know: --custom-type, or one question for all of them on a terminal
  // when nothing else is wrong; otherwise every such row is listed with the others.
  let customRows = opts.customType ? [] : numbered.filter((r) => !isKnownAgentType(r.type));
  if (customRows.length && !problems.length && ctx.prompt.interactive) {
    const types = [...new Set(customRows.map((r) => r.type))];
    const named = types.slice(0, 5).map((t) => { const near = nearestKnownType(t); return near ? `${t} (did you mean ${near}?)` : t; });
    const ok = await ctx.prompt.confirm({
      message: `${customRows.length} rows use types voxctl does not know: ${named.join(', ')}${types.length > 5 ? ` and ${types.length - 5} more` : ''}. assistant-request routes only inbound. Import them as custom types?`,
      flag: CUSTOM_TYPE_FLAG,
      default: false,
    });
    if (!ok) throw new CancelledError('Nothing was imported.');
    customRows = [];
  } else {
    for (const r of customRows) problems.push({ row: r.n, code: 'usage', message: unknownTypeMessage(r.type) });
  }
  if (problems.length) throw importProblemsError(source, problems, customRows.length);
  const rows: ImportRow[] = numbered.map(({ n: _n, ...row }) => row);

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
