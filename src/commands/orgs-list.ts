/**
 * `orgs list`: its own module, importing neither zod nor the flag schemas of the other `orgs`
 * commands, so the list path loads only what listing needs (start-up: bench/startup.bench.mjs).
 */
import type { Context } from '../context.js';
import type { Org } from '../store/types.js';

export const publicOrg = (o: Org) => ({ id: o.id, name: o.name, timezone: o.timezone });

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
