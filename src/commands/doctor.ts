/**
 * `voxctl doctor`: the security checklist and common-issue checks. Exit 0 when every check
 * passes (skipped ones included), else 1. `--json`: {"ok","checks":[{"id","ok","message","hint"}]}
 * (skipped checks also carry "skipped": true).
 */
import { existsSync } from 'node:fs';
import type { Context } from '../context.js';
import { withOutcome } from '../ui/outcome.js';
import { ExitCode, isVoxError, type VoxError } from '../errors.js';
import {
  checkAssistantUrls,
  checkConfig,
  checkDuplicates,
  checkEnvLocalIgnored,
  checkEnvLocalMode,
  checkNgrokToken,
  checkOrgMetadata,
  checkSecretsLocation,
  checkSecretsUntracked,
  checkStore,
  checkUnlinkedClaims,
  checkVapiKey,
  checkWebhookSecret,
  checkWebhookUrl,
  looksOffline,
  systemGit,
  type CheckResult,
  type DoctorInput,
} from '../doctor/checks.js';

/** How long doctor waits for each answer of the store and of Vapi. */
export const DOCTOR_TIMEOUT_MS = 5_000;

export async function doctorAction(_raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<number> {
  const projectEnv = ctx.projectEnv();
  let settings = null;
  let settingsError: VoxError | null = null;
  try {
    settings = ctx.settings();
  } catch (e) {
    if (!isVoxError(e)) throw e;
    settingsError = e;
  }
  const timeoutMs = ctx.service('checkTimeoutMs') ?? DOCTOR_TIMEOUT_MS;
  const input: DoctorInput = {
    cwd: ctx.cwd,
    projectEnv,
    settings,
    settingsError,
    git: ctx.service('git') ?? systemGit(ctx.cwd),
    // A quick check: no retries and a short timeout, so an unreachable service fails in seconds.
    store: () => ctx.store({ retry: false, timeoutMs }),
    vapi: () => ctx.vapi({ retry: { maxAttempts: 2, baseDelayMs: 250 }, timeoutMs }),
  };

  // Nothing set up here yet (no env file, no data dir, no Supabase in the environment): the
  // first thing to say is how to start, before the list of what fails because of it.
  const empty = projectEnv.files.length === 0 && !existsSync(ctx.dataDir()) && !projectEnv.values.SUPABASE_URL?.trim();
  const INIT_HINT = 'No voxctl project here (no .env files, no store): run `voxctl init` first, or pass --cwd <project dir>.';

  const spinner = await ctx.spinner('Checking…');
  spinner.start();
  const checks: CheckResult[] = [];
  checks.push(checkConfig(input));
  checks.push(await checkSecretsLocation(input));
  checks.push(await checkEnvLocalIgnored(input));
  checks.push(await checkEnvLocalMode(input));
  checks.push(await checkSecretsUntracked(input));
  checks.push(checkWebhookSecret(input));
  checks.push(checkNgrokToken(input));
  checks.push(checkWebhookUrl(input));
  spinner.text = 'Checking the store and Vapi…';
  const { checkEdgeFunction, edgeFunctionUrl } = await import('../doctor/edge-check.js');
  // A deployed Edge Function is checked where there is one to check: WEBHOOK_URL points at one,
  // or SUPABASE_URL names a supabase.co project (whose default function may answer).
  const functionUrl = settings ? edgeFunctionUrl(settings.WEBHOOK_URL, settings.SUPABASE_URL) : null;
  const [store, vapi, edge] = await Promise.all([
    checkStore(input),
    checkVapiKey(input),
    functionUrl ? checkEdgeFunction({ functionUrl, secret: settings?.VAPI_WEBHOOK_SECRET, timeoutMs }) : null,
  ]);
  checks.push(store.result, vapi.result);
  const remote = { store: store.state, vapi: vapi.state };
  checks.push(await checkAssistantUrls(input, remote).catch((e: unknown) => failedCheck('assistants-webhook-url', e)));
  checks.push(checkOrgMetadata(remote));
  checks.push(checkDuplicates(remote));
  checks.push(checkUnlinkedClaims(remote));
  if (edge) checks.push(edge);
  spinner.stop();

  const ok = checks.every((c) => c.ok);
  if (ctx.flags.json) {
    const failed = checks.filter((c) => !c.ok);
    ctx.ui.jsonDoc(
      withOutcome(
        { checks: checks.map((c) => ({ id: c.id, ok: c.ok, ...(c.skipped ? { skipped: true } : {}), message: c.message, hint: c.hint })) },
        ok ? ExitCode.ok : ExitCode.failure,
        () => ({
          code: 'checks_failed',
          message: `${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => c.id).join(', ')}.`,
          hint: empty ? INIT_HINT : (failed[0]?.hint ?? 'See the failed checks.'),
        }),
      ),
    );
  } else {
    if (empty) ctx.ui.line(`${ctx.theme.yellow('!')} ${INIT_HINT}\n`);
    render(ctx, checks);
  }
  return ok ? ExitCode.ok : ExitCode.failure;
}

function failedCheck(id: string, e: unknown): CheckResult {
  const err = e as VoxError;
  if (looksOffline(e)) return { id, ok: true, skipped: true, message: `skipped: offline: ${err.message}`, hint: null };
  return { id, ok: false, message: err.message, hint: err.hint ?? 'Re-run with --debug.' };
}

function render(ctx: Context, checks: CheckResult[]): void {
  const t = ctx.theme;
  const width = Math.max(...checks.map((c) => c.id.length));
  for (const c of checks) {
    const mark = c.skipped ? t.dim('–') : c.ok ? t.green('✓') : t.red('✗');
    const text = c.skipped ? t.dim(c.message) : c.message;
    ctx.ui.line(`${mark} ${c.id.padEnd(width)}  ${text}`);
    if (!c.ok && c.hint) ctx.ui.line(`  ${' '.repeat(width)}  ${t.dim('→')} ${c.hint}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  const skipped = checks.filter((c) => c.skipped).length;
  const passed = checks.length - failed - skipped;
  ctx.ui.line();
  const summary = `${passed} passed, ${failed} failed, ${skipped} skipped`;
  ctx.ui.line(failed ? t.red(summary) : t.green(summary));
}
