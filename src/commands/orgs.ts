import { z } from 'zod';
import type { Context } from '../context.js';
import { CancelledError, UsageError } from '../errors.js';
import { canonicalTimezone, CONTROL_CHARS_MESSAGE, hasControlChars, orgHasAgents, unknownOrg } from '../store/validate.js';
import { FLAG_HINT, issueMessage, parseOptions, uuidFlag } from './options.js';
import { publicOrg } from './orgs-list.js';

export { orgsListAction } from './orgs-list.js';

const nameFlag = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((s) => !hasControlChars(s), CONTROL_CHARS_MESSAGE);

const addSchema = z.object({
  name: nameFlag,
  id: uuidFlag('the org id').optional(),
  timezone: z.string().trim().default('UTC'),
});

const sameName = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

export async function orgsAddAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(addSchema, raw);
  const timezone = canonicalTimezone(opts.timezone);
  const store = await ctx.store();
  // A second org of the same name is allowed (two clinics may share one), but rarely meant.
  const twins = (await store.listOrgs()).filter((o) => sameName(o.name, opts.name));
  const org = await store.addOrg({ id: opts.id, name: opts.name, timezone });
  const warnings = twins.length
    ? [`Another organization is already named "${twins[0]!.name}" (${twins.map((o) => o.id).join(', ')}); use the ids to tell them apart, or \`voxctl orgs rename\`.`]
    : [];
  for (const w of warnings) ctx.ui.warn(w);
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, org: publicOrg(org), ...(warnings.length ? { warnings } : {}) });
    return;
  }
  ctx.ui.success(`Added ${org.name} (${org.timezone}) to the ${store.kind} store.`);
  ctx.ui.line(org.id);
}

const orgArg = uuidFlag('the org id');

/** The `<org-id>` argument of rename/remove: its errors name the argument, not a flag it does not have. */
function orgIdArg(value: string | undefined): string {
  const res = orgArg.safeParse(value);
  if (res.success) return res.data;
  throw new UsageError(`<org-id> ${JSON.stringify(value ?? '')}: ${issueMessage(res.error.issues[0]!)}`, { hint: FLAG_HINT });
}

export async function orgsRenameAction(raw: Record<string, unknown>, args: string[], ctx: Context): Promise<void> {
  const opts = { id: orgIdArg(args[0]), ...parseOptions(z.object({ name: nameFlag }), raw) };
  const store = await ctx.store();
  const before = await store.getOrg(opts.id);
  if (!before) throw unknownOrg(opts.id);
  const twins = (await store.listOrgs()).filter((o) => o.id !== opts.id && sameName(o.name, opts.name));
  const org = await store.renameOrg(opts.id, opts.name);
  const warnings = twins.length ? [`Another organization is already named "${twins[0]!.name}" (${twins.map((o) => o.id).join(', ')}).`] : [];
  for (const w of warnings) ctx.ui.warn(w);
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, org: publicOrg(org), previousName: before.name, ...(warnings.length ? { warnings } : {}) });
    return;
  }
  ctx.ui.success(`Renamed ${before.name} to ${org.name}.`);
}

export async function orgsRemoveAction(raw: Record<string, unknown>, args: string[], ctx: Context): Promise<void> {
  const opts = { id: orgIdArg(args[0]), ...parseOptions(z.object({ force: z.boolean().default(false) }), raw) };
  const store = await ctx.store();
  const org = await store.getOrg(opts.id);
  if (!org) throw unknownOrg(opts.id);
  const agents = await store.listAgents({ orgId: org.id });
  if (agents.length > 0 && !opts.force) {
    // The store checks again, atomically; this only gives the answer before any question.
    throw orgHasAgents(org.id, agents.length);
  }
  if (!ctx.flags.yes) {
    const what = agents.length ? ` and unlink its ${agents.length} agent${agents.length === 1 ? '' : 's'} (${agents.map((a) => a.type).join(', ')})` : '';
    const ok = await ctx.prompt.confirm({ message: `Remove ${org.name} (${org.id})${what}, with its contacts and appointments?`, flag: '--yes' });
    if (!ok) {
      throw new CancelledError('Nothing was removed.');
    }
  }
  const res = await store.removeOrg(org.id, { force: opts.force });
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, removed: publicOrg(res.org), agentsUnlinked: res.agentsUnlinked });
    return;
  }
  ctx.ui.success(`Removed ${res.org.name}${res.agentsUnlinked ? ` and unlinked ${res.agentsUnlinked} agent${res.agentsUnlinked === 1 ? '' : 's'}` : ''}.`);
}
