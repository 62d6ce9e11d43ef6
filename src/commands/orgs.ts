import { z } from 'zod';
import type { Context } from '../context.js';
import { assertTimezone } from '../store/validate.js';
import type { Org } from '../store/types.js';
import { parseOptions, uuidFlag } from './options.js';

const addSchema = z.object({
  name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  id: uuidFlag('the org id').optional(),
  timezone: z.string().trim().default('UTC'),
});

const publicOrg = (o: Org) => ({ id: o.id, name: o.name, timezone: o.timezone });

export async function orgsAddAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(addSchema, raw);
  assertTimezone(opts.timezone);
  const store = await ctx.store();
  const org = await store.addOrg({ id: opts.id, name: opts.name, timezone: opts.timezone });
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, org: publicOrg(org) });
    return;
  }
  ctx.ui.success(`Added ${org.name} (${org.timezone}) to the ${store.kind} store.`);
  ctx.ui.line(org.id);
}

export async function orgsListAction(_raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const store = await ctx.store();
  const orgs = await store.listOrgs();
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, orgs: orgs.map(publicOrg) });
    return;
  }
  if (orgs.length === 0) {
    ctx.ui.info('No organizations yet. Add one with `voxctl orgs add --name <name>`.');
    return;
  }
  ctx.ui.table(orgs, [
    { header: 'id', value: (o) => o.id },
    { header: 'name', value: (o) => o.name },
    { header: 'timezone', value: (o) => o.timezone },
  ]);
}
