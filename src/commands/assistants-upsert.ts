/**
 * `voxctl assistants upsert --org <id> --type <type> [--file <assistant.json>]`: create the org's
 * assistant of that type on the first run, update it afterwards, keep its id in `agents`.
 */
import { z } from 'zod';
import type { Context } from '../context.js';
import { expandDefinition, loadDefinition } from '../assistants/definition.js';
import { upsertAssistant } from '../assistants/upsert.js';
import { AGENT_TYPE, unknownOrg } from '../store/validate.js';
import { parseOptions, uuidFlag } from './options.js';
import { confirmAgentType, CUSTOM_TYPE_FLAG, isKnownAgentType, KNOWN_AGENT_TYPES, nearestKnownType } from './agent-type.js';
import { UsageError } from '../errors.js';
import { webhookBaseUrl } from '../util/url.js';

const schema = z.object({
  org: uuidFlag('--org'),
  type: z.string().trim().regex(AGENT_TYPE, 'use 1-40 lower-case letters, digits, "-" or "_" (e.g. inbound)'),
  file: z.string().trim().min(1, 'must not be empty').optional(),
  customType: z.boolean().optional(),
  url: z.string().trim().optional(),
  wait: z.coerce.number().min(0, 'must be 0 or more seconds').max(3600, 'must be at most 3600 seconds').default(90),
});

export async function assistantsUpsertAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(schema, raw);
  const settings = ctx.settings();
  const base = webhookBaseUrl(opts.url, settings.WEBHOOK_URL, ctx.projectEnv().sources.WEBHOOK_URL);
  if (!opts.file && !isKnownAgentType(opts.type)) {
    // Only the known types have a template; a near-miss is most likely a typo.
    const near = nearestKnownType(opts.type);
    throw new UsageError(`There is no assistant template for type "${opts.type}"${near ? `; did you mean ${near}?` : '.'}`, {
      hint: `Templates: ${KNOWN_AGENT_TYPES.join(', ')}. For a type of your own pass --file <assistant.json> ${CUSTOM_TYPE_FLAG} (start from templates/assistants/inbound.json).`,
    });
  }
  await confirmAgentType(ctx, opts.type, opts.customType);
  const loaded = await loadDefinition({ file: opts.file, type: opts.type, cwd: ctx.workDir });
  if (loaded.dropped.length) ctx.ui.warn(`${loaded.source}: ignoring read-only ${loaded.dropped.join(', ')} (Vapi sets them).`);

  const store = await ctx.store();
  const org = await store.getOrg(opts.org);
  if (!org) throw unknownOrg(opts.org);
  const { definition, notes } = expandDefinition(loaded.definition, { orgName: org.name, orgId: org.id, type: opts.type, webhookUrl: base }, loaded.source);
  for (const n of notes) ctx.ui.warn(n);
  const vapi = await ctx.vapi();

  const spinner = await ctx.spinner(`Upserting the ${opts.type} assistant of ${org.name}…`);
  spinner.start();
  let result;
  try {
    result = await upsertAssistant(
      { orgId: org.id, type: opts.type, definition, webhookUrl: base, secret: settings.VAPI_WEBHOOK_SECRET },
      {
        store,
        vapi,
        waitMs: opts.wait * 1000,
        // Stop the spinner around messages so they do not tangle with its frames.
        log: (m) => {
          spinner.stop();
          ctx.ui.info(m);
          spinner.start();
        },
        warn: (m) => {
          spinner.stop();
          ctx.ui.warn(m);
          spinner.start();
        },
        ...ctx.service('upsertDeps'),
      },
    );
  } catch (e) {
    spinner.fail(`Could not upsert the ${opts.type} assistant of ${org.name}.`);
    throw e;
  }
  const what = `the ${result.type} assistant of ${org.name} (${result.assistantId})`;
  if (result.action === 'created') spinner.succeed(`Created ${what} from ${loaded.source}; linked it in the ${store.kind} store.`);
  else if (result.recovered) spinner.succeed(`Recovered ${what}: an earlier run created it but did not record it; linked it now.`);
  else if (result.changed.length) spinner.succeed(`Updated ${what}: ${result.changed.join(', ')}.`);
  else spinner.succeed(`Updated ${what}: already up to date, nothing sent.`);

  if (ctx.flags.json) {
    ctx.ui.jsonDoc({ ok: true, orgId: result.orgId, type: result.type, assistantId: result.assistantId, action: result.action });
  } else {
    ctx.ui.line(result.assistantId);
  }
}
