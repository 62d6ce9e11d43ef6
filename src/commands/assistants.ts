/**
 * `voxctl assistants sync | status | restore`: option parsing and output. The work is in
 * src/sync/ (plan, apply, run).
 */
import { z } from 'zod';
import { SECRET_SETTING_NAMES } from '../config/spec.js';
import type { Context } from '../context.js';
import { ExitCode } from '../errors.js';
import { interruptedOutcome, withOutcome, type OutcomeError } from '../ui/outcome.js';
import path from 'node:path';
import type { Store } from '../store/types.js';
import {
  DEFAULT_CONCURRENCY,
  restoreSnapshot,
  syncOrgs,
  type RestoreReport,
  type SyncDeps,
  type SyncProgress,
  type SyncReport,
  type SyncResult,
} from '../sync/run.js';
import { createProgress, type Progress } from '../ui/progress.js';
import type { Spinner } from '../ui/spinner.js';
import { parseOptions, uuidFlag } from './options.js';
import { orgSelection } from '../sync/orgs.js';

const concurrencyFlag = z.coerce
  .number({ message: 'must be a number' })
  .int('must be a whole number')
  .min(1, 'must be at least 1')
  .max(64, 'must be at most 64');

const selectionSchema = z.object({
  org: z.array(uuidFlag('--org')).optional(),
  allOrgs: z.boolean().optional(),
  url: z.string().trim().min(1, 'must not be empty').optional(),
  concurrency: concurrencyFlag.optional(),
});

/** The secrets voxctl knows (name → value): snapshots store references to them, not the values. */
function configuredSecrets(ctx: Context): Record<string, string | undefined> {
  const values = ctx.projectEnv().values;
  return Object.fromEntries(SECRET_SETTING_NAMES.map((k) => [k, values[k]]));
}

/**
 * The sync domain's inputs from a Context: its store (or `store`, e.g. the one `tunnel up`
 * already holds), the Vapi client, the settings it reads, and progress drawn on stderr.
 */
export function syncDeps(ctx: Context, store?: Store): SyncDeps {
  const settings = ctx.settings();
  return {
    store: () => (store ? Promise.resolve(store) : ctx.store()),
    vapi: () => ctx.vapi(),
    settings: { webhookUrl: settings.WEBHOOK_URL, webhookUrlSource: ctx.projectEnv().sources.WEBHOOK_URL, secret: settings.VAPI_WEBHOOK_SECRET },
    secrets: configuredSecrets(ctx),
    dataDir: ctx.dataDir(),
    signal: ctx.signal,
    now: ctx.now,
    onProgress: progressOnUi(ctx),
  };
}

/** Sync progress events as notes, a spinner while reading, and a progress bar while writing. */
function progressOnUi(ctx: Context): (e: SyncProgress) => Promise<void> {
  let spinner: Spinner | undefined;
  let bar: Progress | undefined;
  return async (e) => {
    switch (e.kind) {
      case 'note':
        ctx.ui.info(e.message);
        return;
      case 'reading':
        spinner = await ctx.spinner(`Reading ${e.assistants} assistants' resources from Vapi…`);
        spinner.start();
        return;
      case 'read':
        if (e.ok) spinner?.stop();
        else spinner?.fail('Could not read from Vapi.');
        spinner = undefined;
        return;
      case 'writing':
        bar ??= createProgress(ctx.ui, e.phase, ctx.animate);
        bar.update(e.done, e.total, e.phase === 'Updating' ? `${e.failed ? `${e.failed} failed · ` : ''}${e.limit} at a time` : undefined);
        return;
      case 'written':
        bar?.stop();
        bar = undefined;
        return;
      case 'stopping':
        bar?.stop();
        bar = undefined;
        ctx.ui.warn('Stopping: the writes in flight finish, no new one starts (interrupt again to quit at once).');
        return;
    }
  };
}

function parseSelection(raw: Record<string, unknown>) {
  const org = raw.org === undefined ? undefined : Array.isArray(raw.org) ? raw.org : [raw.org];
  const opts = parseOptions(selectionSchema, { org, allOrgs: raw.allOrgs, url: raw.url, concurrency: raw.concurrency });
  orgSelection(opts.org, opts.allOrgs);
  return opts;
}

export async function assistantsSyncAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseSelection(raw);
  const dryRun = Boolean(raw.dryRun);
  // On a terminal the plan is shown before anything is written; the end shows only what failed.
  const showPlan = !dryRun && !ctx.flags.json && ctx.io.isStdoutTTY;
  const report = await syncOrgs(syncDeps(ctx), {
    orgIds: opts.org,
    allOrgs: opts.allOrgs,
    url: opts.url,
    dryRun,
    concurrency: opts.concurrency,
    mode: 'sync',
    onPlan: showPlan ? (p) => printPlanTable(ctx, p.document.results, p.orgs) : undefined,
  });
  printSyncReport(ctx, report, 'sync', { planShown: showPlan });
  return report.exitCode;
}

export async function assistantsStatusAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseSelection(raw);
  const report = await syncOrgs(syncDeps(ctx), { orgIds: opts.org, allOrgs: opts.allOrgs, url: opts.url, mode: 'status' });
  printSyncReport(ctx, report, 'status');
  return report.exitCode;
}

export async function assistantsRestoreAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const opts = parseOptions(z.object({ snapshot: z.string().trim().min(1, 'must not be empty').optional(), concurrency: concurrencyFlag.optional() }), {
    snapshot: raw.snapshot,
    concurrency: raw.concurrency,
  });
  const deps = syncDeps(ctx);
  const report = await restoreSnapshot(deps, { snapshot: opts.snapshot === undefined ? undefined : path.resolve(ctx.workDir, opts.snapshot), concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY });
  printRestoreReport(ctx, report);
  return report.exitCode;
}

const dash = (v: string | null | undefined) => (v === null || v === undefined || v === '' ? '-' : v);

function actionLabel(ctx: Context, action: string): string {
  const t = ctx.theme;
  if (action === 'updated' || action === 'restored') return t.green(action);
  if (action === 'would-update') return t.yellow(action);
  if (action === 'failed' || action === 'missing' || action === 'skipped') return t.red(action);
  return t.dim(action);
}

function urlChange(ctx: Context, before: string | null, after: string | null): string {
  if (before === after || after === null) return dash(before ?? after);
  return `${dash(before)} ${ctx.theme.dim('→')} ${after}`;
}

/**
 * `--json`: the contract's document, nothing else on stdout. Piped: one tab-separated line per
 * resource (org, kind, id, name, action, before, after, error). TTY: a table per org with what
 * changes (unchanged resources counted), then the summary on stderr.
 */
/** The TTY table: per org, the resources that change (or failed), old → new; unchanged ones counted. */
export function printPlanTable(ctx: Context, rows: SyncResult[], orgs: Array<{ id: string; name: string }>, onlyProblems = false): void {
  const t = ctx.theme;
  for (const org of orgs) {
    const mine = rows.filter((r) => r.orgId === org.id);
    const shown = mine.filter((r) => (onlyProblems ? r.action === 'failed' || r.action === 'missing' : r.action !== 'unchanged'));
    if (!mine.length || (onlyProblems && !shown.length)) continue;
    ctx.ui.line(`${t.bold(org.name)} ${t.dim(org.id)}`);
    if (shown.length) {
      ctx.ui.table<SyncResult>(shown, [
        { header: 'kind', value: (r) => r.kind },
        { header: 'resource', value: (r) => (r.name ? `${r.name} ${t.dim(r.id.slice(0, 8))}` : r.id) },
        { header: 'action', value: (r) => actionLabel(ctx, r.action) },
        { header: 'url (old → new)', value: (r) => urlChange(ctx, r.before, r.after) + (r.error ? `  ${t.red(r.error)}` : '') },
      ]);
    }
    const same = mine.filter((r) => r.action === 'unchanged').length;
    if (same && !onlyProblems) ctx.ui.line(t.dim(`  ${same} already in sync`));
    ctx.ui.line();
  }
}

/** The `error` that sums up a sync or status run that did not exit 0. */
function syncOutcome(report: SyncReport, mode: 'sync' | 'status'): OutcomeError {
  const s = report.document.summary;
  if (report.exitCode === ExitCode.interrupted) return interruptedOutcome();
  if (report.exitCode === ExitCode.credentials) {
    return { code: 'credentials', message: 'Vapi rejected the API key while writing.', hint: 'Run `voxctl doctor` to check your credentials.' };
  }
  if (report.exitCode === ExitCode.drift) {
    return { code: 'drift', message: `${s.wouldUpdate} resource${s.wouldUpdate === 1 ? '' : 's'} not pointed at ${report.document.webhookUrl}.`, hint: `Run \`voxctl assistants sync\` with the same flags to fix it.` };
  }
  const parts = [s.failed ? `${s.failed} failed` : '', s.missing ? `${s.missing} missing` : ''].filter(Boolean).join(', ');
  return {
    code: s.failed ? 'failed' : 'not_found',
    message: `${mode === 'status' ? 'assistants status' : 'assistants sync'}: ${parts || 'errors'} (see results).`,
    hint: s.missing
      ? 'Missing: linked in the store but unknown to Vapi. Re-link with `voxctl agents link`, or fix the tool ids in the assistant.'
      : 'Fix the errors listed in results and run the same command again.',
  };
}

/** The sync document as `--json` prints it: `ok` mirrors the exit code, with an `error` that sums up. */
export function syncJsonDocument(report: SyncReport, mode: 'sync' | 'status'): unknown {
  return withOutcome(report.document, report.exitCode, () => syncOutcome(report, mode));
}

export function printSyncReport(ctx: Context, report: SyncReport, mode: 'sync' | 'status', view: { planShown?: boolean } = {}): void {
  const doc = report.document;
  if (ctx.flags.json) {
    ctx.ui.jsonDoc(syncJsonDocument(report, mode));
    return;
  }
  const rows = doc.results;
  if (!ctx.io.isStdoutTTY) {
    ctx.ui.table(rows, [
      { header: 'org', value: (r) => r.orgId },
      { header: 'kind', value: (r) => r.kind },
      { header: 'id', value: (r) => r.id },
      { header: 'name', value: (r) => dash(r.name) },
      { header: 'action', value: (r) => r.action },
      { header: 'before', value: (r) => dash(r.before) },
      { header: 'after', value: (r) => dash(r.after) },
      { header: 'error', value: (r) => r.error ?? '' },
    ]);
  } else {
    // After a shown plan, only what did not go to plan is listed again.
    printPlanTable(ctx, rows, report.orgs, Boolean(view.planShown));
  }
  const s = doc.summary;
  const parts =
    mode === 'status' || doc.dryRun
      ? [`${s.wouldUpdate} to update`, `${s.unchanged} in sync`]
      : [`${s.updated} updated`, `${s.unchanged} unchanged`];
  if (s.failed) parts.push(`${s.failed} failed`);
  if (s.missing) parts.push(`${s.missing} missing`);
  const tail = report.requests.total ? ` (${report.requests.total} requests, ${(report.elapsedMs / 1000).toFixed(1)} s)` : '';
  const line = `${parts.join(', ')} → ${doc.webhookUrl}${tail}`;
  if (s.failed || s.missing) ctx.ui.warn(line);
  else ctx.ui.success(line);
  if (report.interrupted) ctx.ui.warn('Interrupted: writes in flight were finished, the rest was not started. Run the same command again to finish.');
  if (s.missing) ctx.ui.info(ctx.theme.dim('Missing: linked in the store but unknown to Vapi. Re-link with `voxctl agents link`, or fix the tool ids in the assistant.'));
  if (mode === 'status' && s.wouldUpdate && !s.failed && !s.missing) ctx.ui.info(ctx.theme.dim('Drift found: run `voxctl assistants sync` with the same flags to fix it.'));
  if (mode === 'sync' && doc.dryRun && s.wouldUpdate) ctx.ui.info(ctx.theme.dim('Dry run: nothing was written.'));
}

export function printRestoreReport(ctx: Context, report: RestoreReport): void {
  const doc = report.document;
  if (ctx.flags.json) {
    ctx.ui.jsonDoc(
      withOutcome(doc, report.exitCode, () => {
        if (report.exitCode === ExitCode.interrupted) return interruptedOutcome();
        if (report.exitCode === ExitCode.credentials) return { code: 'credentials', message: 'Vapi rejected the API key while writing.', hint: 'Run `voxctl doctor` to check your credentials.' };
        const s = doc.summary;
        return {
          code: 'failed',
          message: `assistants restore: ${s.failed} failed, ${s.skipped} skipped, ${s.missing} missing (see results).`,
          hint: 'Skipped resources were changed by someone else since the sync; check them in the Vapi dashboard.',
        };
      }),
    );
    return;
  }
  ctx.ui.table(doc.results, [
    ...(ctx.io.isStdoutTTY ? [] : [{ header: 'org', value: (r: (typeof doc.results)[number]) => r.orgId }]),
    { header: 'kind', value: (r) => r.kind },
    { header: 'id', value: (r) => r.id },
    { header: 'action', value: (r) => (ctx.io.isStdoutTTY ? actionLabel(ctx, r.action) : r.action) },
    { header: 'url (now → restored)', value: (r) => (ctx.io.isStdoutTTY ? urlChange(ctx, r.before, r.after) : `${dash(r.before)}\t${dash(r.after)}`) },
    { header: 'error', value: (r) => r.error ?? '' },
  ]);
  const s = doc.summary;
  const line = `Restored ${s.restored}, already as before ${s.unchanged}, skipped ${s.skipped}, failed ${s.failed}, missing ${s.missing} (from ${doc.snapshot}).`;
  if (s.failed || s.skipped || s.missing) ctx.ui.warn(line);
  else ctx.ui.success(line);
}

