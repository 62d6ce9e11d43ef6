/**
 * `voxctl edge build|serve|deploy`: the receiver as a Supabase Edge Function. build writes
 * supabase/functions/<name>/ and `verify_jwt = false` in supabase/config.toml; serve runs it
 * under Deno on 127.0.0.1 against the configured Supabase until SIGINT/SIGTERM; deploy uploads
 * it through the Management API, sets VAPI_WEBHOOK_SECRET as a function secret and, with
 * --sync, re-points every org's assistants at its webhook URL.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { TOOLS_PATH } from '../config/spec.js';
import { parseOptions, portFlag } from './options.js';

const nameFlag = z
  .string()
  .trim()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'must be letters, digits, "_" or "-", starting with a letter (e.g. voxctl)')
  .default('voxctl');

const buildSchema = z.object({ name: nameFlag });

/** voxctl's version (package.json next to dist/), written into the generated entry. */
async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export async function edgeBuildAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(buildSchema, raw);
  const { buildFunction } = await import('../edge/build.js');
  const built = await buildFunction({ projectDir: ctx.cwd, name: opts.name, version: await version() });
  const rel = (p: string) => path.relative(ctx.cwd, p) || p;
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({
      ok: true,
      function: { name: built.name, dir: rel(built.dir), entrypoint: `${rel(built.dir)}/index.ts`, files: built.files.length, bytes: built.bytes, imports: built.imports },
      config: rel(built.configFile),
    });
    return 0;
  }
  ctx.ui.success(`Built ${rel(built.dir)}/ (${built.files.length} files, ${(built.bytes / 1024).toFixed(0)} KiB; the Edge Runtime allows 20 MB).`);
  ctx.ui.info(`${rel(built.configFile)}: [functions.${built.name}] verify_jwt = false (Vapi sends no Supabase JWT; X-Vapi-Secret is the gate).`);
  ctx.ui.info(`Next: \`voxctl edge serve\` to try it locally, \`voxctl edge deploy\` to publish it.`);
  return 0;
}

const serveSchema = z.object({
  name: nameFlag,
  port: portFlag.default(4244),
});

export async function edgeServeAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(serveSchema, raw);
  const settings = ctx.settings();
  if (!settings.SUPABASE_URL || !settings.SUPABASE_SERVICE_ROLE_KEY) {
    throw new UsageError('`voxctl edge serve` runs the function against your Supabase project, and none is configured.', {
      hint: 'Set SUPABASE_URL in .env and SUPABASE_SERVICE_ROLE_KEY in .env.local (voxctl init), apply `voxctl db schema`, then retry.',
    });
  }
  const { findDeno, serveFunction } = await import('../edge/serve.js');
  const deno = findDeno(ctx.env as NodeJS.ProcessEnv);
  const dir = path.join(ctx.cwd, 'supabase', 'functions', opts.name);
  const shutdown = ctx.interrupts.untilInterrupted();
  const served = await serveFunction({
    functionDir: dir,
    name: opts.name,
    port: opts.port,
    deno,
    supabaseUrl: settings.SUPABASE_URL,
    serviceRoleKey: settings.SUPABASE_SERVICE_ROLE_KEY,
    secret: settings.VAPI_WEBHOOK_SECRET,
    env: ctx.env as NodeJS.ProcessEnv,
    onLog: (line) => ctx.ui.warn(ctx.redactor.redact(line)),
  });
  ctx.onDispose(() => served.stop());
  const webhookUrl = `${served.url}${TOOLS_PATH}`;
  if (ctx.flags.json) ctx.ui.jsonDoc({ event: 'ready', url: served.url, webhookUrl });
  else {
    ctx.ui.line(ctx.theme.bold('voxctl Edge Function is up under Deno'));
    ctx.ui.line(`  ${ctx.theme.dim('URL'.padEnd(12))} ${served.url}`);
    ctx.ui.line(`  ${ctx.theme.dim('Webhook URL'.padEnd(12))} ${ctx.theme.cyan(webhookUrl)}`);
    ctx.ui.line(ctx.theme.dim('Press Ctrl-C to stop.'));
  }
  const ended = await Promise.race([shutdown.then((signal) => ({ signal })), served.exited.then((code) => ({ code }))]);
  if ('code' in ended) {
    throw new UsageError(`Deno stopped serving the function (exit code ${ended.code}).`, { hint: 'See its messages above; rebuild with `voxctl edge build`.' });
  }
  ctx.ui.info(`\n${ended.signal} received: stopping the function…`);
  await served.stop();
  if (ctx.flags.json) ctx.ui.jsonDoc({ event: 'stopped', signal: ended.signal });
  else ctx.ui.info('Stopped.');
  return 0;
}

const deploySchema = z.object({
  name: nameFlag,
  projectRef: z
    .string()
    .trim()
    .toLowerCase()
    .regex(/^[a-z0-9]{6,40}$/, 'must be a Supabase project ref: the <ref> in https://<ref>.supabase.co')
    .optional(),
  sync: z.boolean().default(false),
});

export async function edgeDeployAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(deploySchema, raw);
  const settings = ctx.settings();
  const values = ctx.projectEnv().values;
  const token = values.SUPABASE_ACCESS_TOKEN?.trim();
  ctx.redactor.add(token);
  const { AuthError } = await import('../errors.js');
  if (!token) {
    throw new AuthError('SUPABASE_ACCESS_TOKEN is not set: `voxctl edge deploy` needs a Supabase personal access token.', {
      hint: 'Create one at https://supabase.com/dashboard/account/tokens and put it in .env.local as SUPABASE_ACCESS_TOKEN (it starts with sbp_).',
    });
  }
  const { projectRefFromUrl, deployFunction, DEFAULT_MANAGEMENT_API_URL } = await import('../edge/deploy.js');
  const projectRef = opts.projectRef ?? projectRefFromUrl(settings.SUPABASE_URL);
  if (!projectRef) {
    throw new UsageError(
      settings.SUPABASE_URL ? `SUPABASE_URL (${settings.SUPABASE_URL}) is not a https://<ref>.supabase.co URL, so the project ref is unknown.` : 'No Supabase project to deploy to: SUPABASE_URL is not set.',
      { hint: 'Pass --project-ref <ref> (Project Settings → General), or set SUPABASE_URL=https://<ref>.supabase.co in .env.' },
    );
  }
  const secret = settings.VAPI_WEBHOOK_SECRET;
  if (!secret) {
    throw new UsageError('VAPI_WEBHOOK_SECRET is not set: a deployed function without it would let anyone who learns its URL book appointments.', {
      hint: 'Set it in .env.local (e.g. `openssl rand -hex 32`), then deploy; `assistants sync` makes Vapi send it.',
    });
  }
  const apiUrl = (values.SUPABASE_MANAGEMENT_API_URL ?? '').trim() || DEFAULT_MANAGEMENT_API_URL;
  if (!/^https?:\/\//i.test(apiUrl)) throw new UsageError(`SUPABASE_MANAGEMENT_API_URL "${apiUrl.slice(0, 80)}" is not an http(s) URL.`, { hint: 'Unset it to use https://api.supabase.com.' });
  if (opts.sync && !settings.useSupabase) {
    throw new UsageError('--sync re-points the assistants of the orgs in your Supabase store, and no Supabase store is configured.', {
      hint: 'Set SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY (the project the function serves), or deploy without --sync.',
    });
  }

  const { buildFunction } = await import('../edge/build.js');
  const built = await buildFunction({ projectDir: ctx.cwd, name: opts.name, version: await version() });
  const spinner = await ctx.spinner(`Deploying ${built.name} to Supabase project ${projectRef}…`);
  spinner.start();
  let deployed;
  try {
    deployed = await deployFunction({ apiUrl, token, projectRef, built, secret, redactor: ctx.redactor, ...(ctx.service('managementRetrySleep') ? { sleep: ctx.service('managementRetrySleep') } : {}) });
  } finally {
    spinner.stop();
  }

  let syncDoc: unknown;
  let exitCode = 0;
  if (opts.sync) {
    const store = await ctx.store();
    const runSync =
      ctx.service('runSync') ??
      (async (req: { orgIds: string[]; allOrgs: boolean; url: string; json: boolean }) => {
        const [{ syncOrgs }, { printSyncReport, syncDeps, syncJsonDocument }] = await Promise.all([import('../sync/run.js'), import('./assistants.js')]);
        const report = await syncOrgs(syncDeps(ctx, store), { orgIds: req.orgIds, allOrgs: req.allOrgs, url: req.url, mode: 'sync' });
        if (!req.json) printSyncReport(ctx, report, 'sync');
        return { exitCode: report.exitCode, document: syncJsonDocument(report, 'sync') };
      });
    const r = await runSync({ orgIds: [], allOrgs: true, url: deployed.webhookUrl, json: ctx.flags.json });
    syncDoc = r.document;
    exitCode = r.exitCode;
  }
  if (ctx.flags.json) {
    ctx.ui.jsonDoc({
      ok: exitCode === 0,
      url: deployed.url,
      webhookUrl: deployed.webhookUrl,
      function: { name: built.name, projectRef, version: deployed.version, status: deployed.status, files: built.files.length, bytes: built.bytes, verifyJwt: false },
      ...(syncDoc !== undefined ? { sync: syncDoc } : {}),
    });
    return exitCode;
  }
  ctx.ui.success(`Deployed ${built.name} to ${projectRef}${deployed.version !== null ? ` (version ${deployed.version})` : ''}: ${built.files.length} files, ${(built.bytes / 1024).toFixed(0)} KiB, verify_jwt off, VAPI_WEBHOOK_SECRET set.`);
  ctx.ui.line(`  ${ctx.theme.dim('URL'.padEnd(12))} ${deployed.url}`);
  ctx.ui.line(`  ${ctx.theme.dim('Webhook URL'.padEnd(12))} ${ctx.theme.cyan(deployed.webhookUrl)}`);
  if (!opts.sync) ctx.ui.info(`Point your assistants at it: \`voxctl assistants sync --all-orgs --url ${deployed.webhookUrl}\` (or deploy with --sync).`);
  return exitCode;
}
