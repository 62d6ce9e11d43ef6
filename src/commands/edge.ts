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
import { parseOptions } from './options.js';

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
  port: z
    .string()
    .trim()
    .regex(/^\d{1,5}$/, 'must be a port number from 0 to 65535 (0 picks a free port)')
    .transform(Number)
    .refine((n) => n <= 65535, 'must be a port number from 0 to 65535 (0 picks a free port)')
    .default(4243),
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
