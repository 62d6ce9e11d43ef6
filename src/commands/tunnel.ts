/**
 * `voxctl tunnel up`: the embedded receiver on 127.0.0.1, an ngrok tunnel to it, BACKEND_URL and
 * WEBHOOK_URL in .env, optionally `assistants sync` against the new URL; then one line (or one
 * NDJSON event) per webhook until SIGINT/SIGTERM, when everything closes and the command
 * returns 0. Every way the tunnel can fail is raised before any env file is written.
 */
import path from 'node:path';
import { z } from 'zod';
import type { Context } from '../context.js';
import { errorDocument, InternalError, UsageError, VoxError } from '../errors.js';
import type { Store } from '../store/types.js';
import type { Tunnel, TunnelFactory } from '../tunnel/types.js';
import { openProjectEventLog, type RequestEvent } from '../receiver/event-log.js';
import { formatRequestLine } from '../receiver/format.js';
import { parseForwardTarget } from '../receiver/forward.js';
import { STORE_LOCK_WAIT_MS } from '../receiver/http.js';
import { TOOLS_PATH } from '../config/spec.js';
import { DEFAULT_PORT, startWebhookReceiver, type WebhookReceiver } from '../receiver/server.js';
import { parseOptions, portFlag, uuidFlag } from './options.js';
import { orgSelection } from '../sync/orgs.js';
import { readReceiverState, writeReceiverState } from '../receiver/state.js';
import { DEFAULT_INSPECT_PORT, type Inspector } from '../inspector/server.js';

import type { RunSync } from '../services.js';
/** Runs the sync for `tunnel up --sync`; injectable as `ctx.service('runSync')`. */
export type { RunSync };

const DOMAIN = /^(?!-)[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$/i;

const schema = z
  .object({
    port: portFlag.default(DEFAULT_PORT),
    // Absent: the default port, or any free one when it is taken.
    inspectPort: portFlag.optional(),
    inspect: z.boolean().default(true),
    domain: z.string().trim().optional(),
    forwardTo: z.string().trim().min(1, 'must be a URL, e.g. http://localhost:3001').optional(),
    tunnel: z.boolean().default(true),
    sync: z.boolean().default(false),
    org: z.array(uuidFlag('--org')).default([]),
    allOrgs: z.boolean().default(false),
  })
  .superRefine((o, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (!o.sync && (o.allOrgs || o.org.length > 0)) issue(o.allOrgs ? 'allOrgs' : 'org', 'only applies with --sync');
    if (!o.tunnel && o.sync) issue('sync', 'needs the public URL; drop --no-tunnel');
    if (!o.tunnel && o.domain) issue('domain', 'needs a tunnel; drop --no-tunnel');
    if (!o.inspect && o.inspectPort !== undefined) issue('inspectPort', 'has no inspector to place; drop --no-inspect');
  });

/** `https://name.ngrok-free.dev/` → `name.ngrok-free.dev`; anything else that is not a bare domain → UsageError. */
function normalizeDomain(raw: string | undefined, from: string): string | undefined {
  if (!raw) return undefined;
  const d = raw
    .trim()
    .replace(/^https?:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  if (!DOMAIN.test(d)) {
    throw new UsageError(`${from} "${raw}" is not a domain.`, { hint: 'Give a bare domain such as name.ngrok-free.dev (see https://dashboard.ngrok.com/domains).' });
  }
  return d;
}

/**
 * Default RunSync: the sync domain called directly with the store this command already holds
 * (no CLI re-entry). In --json mode its document becomes the `sync` event; otherwise its report
 * is printed before the banner, as `assistants sync` prints it.
 */
function directSync(ctx: Context, store: Store): RunSync {
  return async (req) => {
    const [{ syncOrgs }, { printSyncReport, syncDeps, syncJsonDocument }] = await Promise.all([import('../sync/run.js'), import('./assistants.js')]);
    const report = await syncOrgs(syncDeps(ctx, store), { orgIds: req.orgIds, allOrgs: req.allOrgs, url: req.url, mode: 'sync' });
    if (!req.json) printSyncReport(ctx, report, 'sync');
    return { exitCode: report.exitCode, document: syncJsonDocument(report, 'sync') };
  };
}

export async function tunnelUpAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(schema, raw);
  if (opts.sync) orgSelection(opts.org, opts.allOrgs);
  const settings = ctx.settings();
  const domain = opts.domain ? normalizeDomain(opts.domain, '--domain') : normalizeDomain(settings.NGROK_DOMAIN, 'NGROK_DOMAIN');
  if (opts.forwardTo) {
    const t = parseForwardTarget(opts.forwardTo);
    if ('error' in t) throw new UsageError(`--forward-to: ${t.error}.`);
  }
  const ui = ctx.ui;
  const json = ctx.flags.json;

  // Fail fast on a missing token: nothing is started or written.
  let factory: TunnelFactory | undefined;
  if (opts.tunnel) {
    factory = ctx.service('tunnelFactory');
    if (!factory) {
      const { createNgrokTunnelFactory, missingTokenError } = await import('../tunnel/ngrok.js');
      if (!settings.NGROK_AUTHTOKEN) throw missingTokenError();
      factory = createNgrokTunnelFactory({ serverAddr: ctx.env.VOXCTL_NGROK_SERVER_ADDR || undefined });
    }
  }

  const store = await ctx.store();
  store.boundLockWait?.(STORE_LOCK_WAIT_MS);
  // WAL checkpoints run in a worker thread, not inside a booking's commit (sqlite-checkpointer.ts).
  await store.checkpointInBackground?.();
  const [orgs, agents] = await Promise.all([store.listOrgs(), store.listAgents()]);
  const orgNames = new Map(orgs.map((o) => [o.id, o.name]));
  const servedOrgs = orgs.filter((o) => agents.some((a) => a.orgId === o.id));

  // A refusal the log counts into a summary is shown as that summary (when its second is over),
  // so every id the terminal and the inspector show is one `webhook logs` and `webhook replay` find.
  // The inspector gets the log's own lines (serialised and redacted once, for both).
  let onSummary: (ev: RequestEvent) => void = () => {};
  let inspector: Inspector | null = null;
  const eventLog = openProjectEventLog(ctx.dataDir(), ctx.redactor, (m) => ui.warn(m), {
    onSummary: (ev) => onSummary(ev),
    onLine: (ev, line) => inspector?.publishJson(ev.id, line),
  });
  const logFile = eventLog.file;
  ctx.onDispose(() => eventLog.close());

  // Until the ready line is out, event lines wait (so `ready` stays the first NDJSON line).
  let ready = false;
  const early: Array<() => void> = [];
  const whenReady = (fn: () => void) => (ready ? fn() : early.push(fn));
  // Terminal lines keep their order; an org added after the start (in another terminal) is looked
  // up once, so its lines show its name like `webhook logs` does.
  let printed: Promise<void> = Promise.resolve();
  const printRequest = (ev: RequestEvent) => {
    printed = printed.then(async () => {
      // The inspector names orgs from the same map.
      if (ev.orgId && !orgNames.has(ev.orgId)) {
        const org = await store.getOrg(ev.orgId).catch(() => null);
        if (org) orgNames.set(org.id, org.name);
      }
      if (json) {
        // One short line per request: bodies, headers and answers are in the log and the inspector.
        const { body: _body, requestHeaders: _headers, answer: _answer, ...line } = ev;
        ui.jsonDoc({ event: 'request', ...line });
        return;
      }
      ui.line(formatRequestLine(ev, { theme: ctx.theme, orgName: (id) => orgNames.get(id) }));
    });
  };

  // The inspector first (its ring starts from the log's tail, then every request follows), on a
  // loopback listener of its own: the tunnel's traffic arrives on loopback too, so it must never
  // share the receiver's port.
  let receiverUrl: string | null = null;
  if (opts.inspect) {
    const { startProjectInspector } = await import('../inspector/project.js');
    inspector = await startProjectInspector({
      port: opts.inspectPort ?? DEFAULT_INSPECT_PORT,
      portIsDefault: opts.inspectPort === undefined,
      mode: 'tunnel',
      logFile,
      receiverUrl: () => receiverUrl,
      secret: () => settings.VAPI_WEBHOOK_SECRET,
      redact: (text) => ctx.redactor.redact(text),
      orgs: () => Object.fromEntries(orgNames),
      notice: (m) => ui.info(m),
    });
    const opened = inspector;
    ctx.onDispose(() => opened.close());
  }
  onSummary = (ev) => whenReady(() => printRequest(ev));
  let receiver: WebhookReceiver;
  try {
    receiver = await startWebhookReceiver({
      host: '127.0.0.1',
      port: opts.port,
      store,
      secret: settings.VAPI_WEBHOOK_SECRET,
      forwardTo: opts.forwardTo,
      eventLog,
      now: ctx.now,
      onEvent: (ev) => {
        if (!eventLog.summarized(ev)) whenReady(() => printRequest(ev));
      },
      onWarning: (m) => ui.warn(m),
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new VoxError('port_in_use', 1, `Port ${opts.port} on 127.0.0.1 is already in use.`, {
        hint: 'Stop whatever listens there (another `voxctl tunnel up`?), or pass --port <n> (--port 0 picks a free port).',
      });
    }
    throw e;
  }
  ctx.onDispose(() => receiver.close());
  receiverUrl = receiver.url;

  let tunnel: Tunnel | null = null;
  let publicUrl: string | null = null;
  let webhookUrl: string | null = null;
  if (factory) {
    const spinner = await ctx.spinner(`Opening the ${factory.name} tunnel…`);
    spinner.start();
    try {
      tunnel = await factory.open({
        addr: `127.0.0.1:${receiver.port}`,
        authtoken: settings.NGROK_AUTHTOKEN,
        domain,
        onStatus: (status, detail) => {
          if (json) whenReady(() => ui.jsonDoc({ event: 'tunnel', status, publicUrl, ...(detail ? { detail } : {}) }));
          if (status === 'disconnected') {
            ui.warn(ctx.theme.red(ctx.theme.bold(`The ${factory!.name} session dropped: Vapi cannot reach ${publicUrl} until it reconnects (retrying).`)));
          } else {
            ui.err(`${ctx.theme.green('✓')} The ${factory!.name} session is back: ${publicUrl} is reachable again.\n`);
          }
        },
      });
    } catch (e) {
      spinner.stop();
      await receiver.close();
      throw e instanceof VoxError ? e : new VoxError('tunnel', 1, `The tunnel could not be opened: ${(e as Error).message}`, { cause: e });
    }
    spinner.succeed(`Tunnel open: ${tunnel.url}`);
    // Closed once, on shutdown or (after an error) when the run ends.
    const opened = tunnel;
    let closing: Promise<void> | undefined;
    tunnel = { url: opened.url, close: () => (closing ??= opened.close()) };
    ctx.onDispose(() => tunnel?.close());
    publicUrl = tunnel.url;
    webhookUrl = `${publicUrl}${TOOLS_PATH}`;
  }

  // .env: only with a public URL (--no-tunnel writes nothing).
  let envReport: { file: string; changes: Array<{ key: string; action: string }> } | null = null;
  if (publicUrl && webhookUrl) {
    const { writeProjectSettings, describeEnvChanges } = await import('../envfile/write.js');
    const values = { BACKEND_URL: publicUrl, WEBHOOK_URL: webhookUrl };
    try {
      const [report] = await writeProjectSettings(ctx.cwd, values);
      if (report) {
        envReport = { file: path.relative(ctx.cwd, report.file) || report.file, changes: report.changes };
        const lines = describeEnvChanges(report, values);
        if (lines.length) ui.success(`Updated .env: ${lines.join('; ')}`);
        else ui.info('.env already has this BACKEND_URL and WEBHOOK_URL.');
      }
    } catch (e) {
      await tunnel?.close();
      await receiver.close();
      throw e;
    }
    ctx.reloadSettings();
    // A value from the environment or .env.local wins over .env: say so, or the user would
    // wonder why scripts still see the old URL.
    const pe = ctx.projectEnv();
    for (const [key, value] of Object.entries(values)) {
      if (pe.values[key] === value) continue;
      const where = pe.sources[key] === 'environment' ? 'the environment' : (pe.sources[key] ?? 'another file');
      ui.warn(`${key} is also set in ${where}, which overrides .env; remove it there so the new URL is used.`);
    }
  }

  // --sync: point the selected orgs' assistants, tools and numbers at the new URL.
  let syncEvent: Record<string, unknown> | null = null;
  if (opts.sync && webhookUrl) {
    const runSync = ctx.service('runSync') ?? directSync(ctx, store);
    ui.info(`Running assistants sync against ${webhookUrl}…`);
    let result: { exitCode: number; document?: unknown };
    try {
      result = await runSync({ orgIds: opts.org, allOrgs: opts.allOrgs, url: webhookUrl, json });
    } catch (e) {
      const err = e instanceof VoxError ? e : new InternalError(`Unexpected error: ${(e as Error).message}`, { cause: e });
      result = { exitCode: err.exitCode, document: errorDocument(err) };
      ui.warn(`assistants sync: ${err.message}${err.hint ? ` ${err.hint}` : ''}`);
    }
    syncEvent = { event: 'sync', exitCode: result.exitCode, ...(result.document !== undefined ? { result: result.document } : {}) };
    if (result.exitCode !== 0) {
      ui.warn(
        `assistants sync failed (exit ${result.exitCode}); the receiver keeps running, but Vapi may still call the old URL. Fix the cause and run \`voxctl assistants sync ${opts.allOrgs ? '--all-orgs' : opts.org.map((o) => `--org ${o}`).join(' ')} --url ${webhookUrl}\`.`,
      );
    }
  }

  // Tell other commands where the receiver is (`webhook test` without WEBHOOK_URL, `webhook replay`).
  try {
    const other = readReceiverState(ctx.dataDir());
    if (other && other.pid !== process.pid) {
      ui.warn(`Another voxctl receiver (pid ${other.pid}, ${other.localUrl}) already serves this folder; until this one stops, \`webhook test\` and \`webhook replay\` use this one.`);
    }
    const removeState = writeReceiverState(ctx.dataDir(), {
      pid: process.pid,
      since: ctx.now().toISOString(),
      localUrl: receiver.url,
      publicUrl,
      webhookUrl,
      store: store.description,
    });
    ctx.onDispose(removeState);
  } catch (e) {
    ui.debug(`receiver state not written: ${(e as Error).message}`);
  }
  // Ready.
  const shutdown = ctx.interrupts.untilInterrupted();
  if (json) {
    ui.jsonDoc({
      event: 'ready',
      localUrl: receiver.url,
      publicUrl,
      webhookUrl,
      forwardTo: opts.forwardTo ?? null,
      secretRequired: Boolean(settings.VAPI_WEBHOOK_SECRET),
      orgs: servedOrgs.length,
      assistants: agents.length,
      eventLog: logFile,
      env: envReport,
      inspectorUrl: inspector?.url ?? null,
    });
    if (syncEvent) ui.jsonDoc(syncEvent);
  } else {
    const t = ctx.theme;
    const row = (k: string, v: string) => ui.line(`  ${t.dim(k.padEnd(12))} ${v}`);
    ui.line(t.bold(opts.forwardTo ? 'voxctl receiver is relaying webhooks' : 'voxctl receiver is up'));
    row('Public URL', publicUrl ?? t.dim('none (--no-tunnel)'));
    row('Webhook URL', webhookUrl ? t.cyan(webhookUrl) : `${receiver.url}${TOOLS_PATH} ${t.dim('(local only)')}`);
    row('Local URL', receiver.url);
    if (opts.forwardTo) row('Forward to', opts.forwardTo);
    const names = servedOrgs.slice(0, 5).map((o) => o.name);
    const more = servedOrgs.length > 5 ? ` and ${servedOrgs.length - 5} more` : '';
    row('Orgs served', servedOrgs.length ? `${servedOrgs.length} (${agents.length} assistant${agents.length === 1 ? '' : 's'}): ${names.join(', ')}${more}` : t.yellow('none yet — link assistants with `voxctl agents link`'));
    row('Secret', settings.VAPI_WEBHOOK_SECRET ? 'required (X-Vapi-Secret or Authorization: Bearer)' : t.yellow('not set — anyone with the URL can call'));
    row('Event log', path.relative(ctx.cwd, logFile) || logFile);
    row('Inspector', inspector ? t.cyan(inspector.url) : t.dim('off (--no-inspect)'));
    ui.line(t.dim('Press Ctrl-C to stop.'));
  }
  ready = true;
  for (const fn of early.splice(0)) fn();

  const signal = await shutdown;
  ui.info(`\n${signal} received: closing the receiver${tunnel ? ' and the tunnel' : ''}…`);
  // The receiver first: requests in flight finish, and their answers still travel the tunnel.
  await receiver.close();
  await tunnel?.close();
  await eventLog.close();
  await inspector?.close();
  await printed;
  // The URL this run wrote to .env stays there (the next run replaces it) but now leads nowhere.
  if (envReport && webhookUrl) {
    ui.warn(
      `WEBHOOK_URL in .env (${webhookUrl}) no longer answers now that the tunnel is closed: \`webhook test\` and Vapi's calls to it fail until \`voxctl tunnel up\` runs again${domain ? ` (${domain} is fixed: the same URL comes back)` : ' (with a new URL: add --sync to re-point the assistants)'}.`,
    );
  }
  if (json) ui.jsonDoc({ event: 'stopped', signal });
  else ui.info('Stopped.');
  return 0;
}
