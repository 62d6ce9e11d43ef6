/**
 * `assistants sync` / `status` / `restore` as reusable functions over narrow inputs (SyncDeps): read (store +
 * Vapi list endpoints), plan, snapshot, apply. They return the contract's document and the exit
 * code and print nothing on stdout, so other commands (`tunnel up --sync`) can run them
 * in-process and render the result their own way.
 */
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { ExitCode, UsageError } from '../errors.js';
import type { Org, Store } from '../store/types.js';
import { isDemoAssistant, unknownOrg } from '../store/validate.js';
import type { VapiAssistant, VapiClient, VapiPhoneNumber, VapiTool } from '../vapi/types.js';
import { applyWrites, type WriteOutcome } from './apply.js';
import { AdaptiveLimiter } from './limiter.js';
import { planSync, type PlanEntry, type PlanOrg, type PlannedWrite, type ResultKind, type WriteCheck } from './plan.js';
import { jsonEqual } from '../util/json.js';
import { webhookBaseUrl } from '../util/url.js';
import { orgSelection } from './orgs.js';
import { latestSnapshot, loadSnapshot, saveSnapshot, type Snapshot } from './snapshot.js';

export const DEFAULT_CONCURRENCY = 16;

/**
 * What the sync domain needs from the outside, and nothing more: no Context, no terminal. The
 * command (or `tunnel up --sync`) builds it and turns the progress events into output.
 */
export interface SyncDeps {
  /** Opened once the options are known to be valid. */
  store: () => Promise<Pick<Store, 'listOrgs' | 'listAgents'>>;
  /** Created only when there is something to read (nothing linked: no Vapi key needed). */
  vapi: () => Promise<VapiClient>;
  /** WEBHOOK_URL (and the file it came from, for messages) and VAPI_WEBHOOK_SECRET. */
  settings: { webhookUrl?: string | undefined; webhookUrlSource?: string | undefined; secret?: string | undefined };
  /**
   * The secrets voxctl knows (name → value): snapshots store a reference to the variable where a
   * header holds one of them, and restore resolves it.
   */
  secrets: Record<string, string | undefined>;
  /** Where snapshots are kept (`<dataDir>/snapshots`). */
  dataDir: string;
  /** Ctrl-C: stops between writes. */
  signal: AbortSignal;
  now: () => Date;
  onProgress?: ((event: SyncProgress) => void | Promise<void>) | undefined;
}

/** What a long sync or restore reports as it goes. */
export type SyncProgress =
  | { kind: 'note'; message: string }
  | { kind: 'reading'; assistants: number }
  | { kind: 'read'; ok: boolean }
  | { kind: 'writing'; phase: 'Updating' | 'Restoring'; done: number; total: number; failed: number; limit?: number | undefined }
  | { kind: 'written' }
  /** Interrupted while writing: the writes in flight finish, no new one starts (reported at once). */
  | { kind: 'stopping' };

/**
 * Runs the writes; an interrupt while they run is reported the moment it arrives (`stopping`),
 * so the user (and a test) knows it was seen before the writes in flight come back.
 */
async function writing<T>(signal: AbortSignal, report: (e: SyncProgress) => Promise<void>, work: () => Promise<T>): Promise<T> {
  const stopping = () => void report({ kind: 'stopping' });
  signal.addEventListener('abort', stopping, { once: true });
  try {
    return await work();
  } finally {
    signal.removeEventListener('abort', stopping);
    await report({ kind: 'written' });
  }
}

/** Each waiting request listens to the signal; many listeners are expected, not a leak. */
function quiet(signal: AbortSignal): AbortSignal {
  setMaxListeners(0, signal);
  return signal;
}

export interface SyncOptions {
  /** Org ids to sync; ignored with `allOrgs`. */
  orgIds?: string[] | undefined;
  allOrgs?: boolean | undefined;
  /** Base webhook URL (else WEBHOOK_URL); must be https. */
  url?: string | undefined;
  /** Plan only (`--dry-run`, and `status`). */
  dryRun?: boolean | undefined;
  /** 'status' changes the exit code rule (3 on drift). */
  mode?: 'sync' | 'status' | undefined;
  /** Upper bound of concurrent writes (default 16). */
  concurrency?: number | undefined;
  /** Called with the plan (actions `would-update` etc.) before anything is written. */
  onPlan?: ((plan: SyncPreview) => void) | undefined;
}

export interface SyncPreview {
  document: SyncDocument;
  orgs: Array<Pick<Org, 'id' | 'name'>>;
}

export type SyncAction = 'updated' | 'would-update' | 'unchanged' | 'failed' | 'missing';

export interface SyncResult {
  orgId: string;
  kind: ResultKind;
  id: string;
  name?: string;
  action: SyncAction;
  before: string | null;
  after: string | null;
  error?: string;
}

export interface SyncSummary {
  updated: number;
  wouldUpdate: number;
  unchanged: number;
  failed: number;
  missing: number;
}

/** The `--json` document of the contract. */
export interface SyncDocument {
  ok: true;
  dryRun: boolean;
  webhookUrl: string;
  summary: SyncSummary;
  results: SyncResult[];
}

export interface SyncReport {
  document: SyncDocument;
  exitCode: number;
  interrupted: boolean;
  /** Where the previous values were saved (null: nothing was written). */
  snapshotPath: string | null;
  orgs: Array<Pick<Org, 'id' | 'name'>>;
  requests: { total: number; retries: number; rateLimited: number };
  elapsedMs: number;
}

/** The selected orgs, in the store's order; an unknown id fails before anything is read from Vapi. */
async function selectOrgs(store: Pick<Store, 'listOrgs'>, opts: Pick<SyncOptions, 'orgIds' | 'allOrgs'>): Promise<Org[]> {
  const sel = orgSelection(opts.orgIds, opts.allOrgs);
  const all = await store.listOrgs();
  if (sel.allOrgs) return all;
  const byId = new Map(all.map((o) => [o.id, o]));
  for (const id of sel.orgIds) if (!byId.has(id)) throw unknownOrg(id);
  return sel.orgIds.map((id) => byId.get(id)!);
}

const emptySummary = (): SyncSummary => ({ updated: 0, wouldUpdate: 0, unchanged: 0, failed: 0, missing: 0 });

function toResult(e: PlanEntry, action: SyncAction, error?: string): SyncResult {
  return {
    orgId: e.orgId,
    kind: e.kind,
    id: e.id,
    ...(e.name !== undefined ? { name: e.name } : {}),
    action,
    before: e.before,
    after: e.after,
    ...(error ? { error } : {}),
  };
}

function summarize(results: SyncResult[]): SyncSummary {
  const s = emptySummary();
  for (const r of results) {
    if (r.action === 'updated') s.updated++;
    else if (r.action === 'would-update') s.wouldUpdate++;
    else if (r.action === 'unchanged') s.unchanged++;
    else if (r.action === 'failed') s.failed++;
    else s.missing++;
  }
  return s;
}

/** Full objects from the three list endpoints (1,000 per request), in parallel. */
async function readVapi(client: VapiClient, gate: AdaptiveLimiter, signal: AbortSignal | undefined) {
  const opts = { gate, signal };
  const [assistants, tools, phoneNumbers] = await Promise.all([client.listAssistants(opts), client.listTools(opts), client.listPhoneNumbers(opts)]);
  return { assistants, tools, phoneNumbers };
}

export async function syncOrgs(deps: SyncDeps, opts: SyncOptions): Promise<SyncReport> {
  const started = Date.now();
  const mode = opts.mode ?? 'sync';
  const dryRun = mode === 'status' || Boolean(opts.dryRun);
  const signal = quiet(deps.signal);
  const report = async (e: SyncProgress) => deps.onProgress?.(e);
  const webhookUrl = webhookBaseUrl(opts.url, deps.settings.webhookUrl, deps.settings.webhookUrlSource);
  const secret = deps.settings.secret;
  const store = await deps.store();
  const orgs = await selectOrgs(store, opts);
  const orgIds = new Set(orgs.map((o) => o.id));
  const selected = (await store.listAgents()).filter((a) => orgIds.has(a.orgId));
  const agents = selected.filter((a) => !isDemoAssistant(a.vapiAssistantId));
  if (agents.length < selected.length) {
    await report({ kind: 'note', message: `Leaving out ${selected.length - agents.length} demo assistant(s) (from \`webhook test --local\`; they are not in Vapi).` });
  }
  const planOrgs: PlanOrg[] = orgs.map((o) => ({
    id: o.id,
    assistantIds: agents.filter((a) => a.orgId === o.id).map((a) => a.vapiAssistantId),
  }));
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const limiter = new AdaptiveLimiter({ max: concurrency });

  const base = { orgs: orgs.map((o) => ({ id: o.id, name: o.name })), snapshotPath: null as string | null };
  if (agents.length === 0) {
    await report({
      kind: 'note',
      message: orgs.length ? 'No assistants are linked to the selected organizations; nothing to do. Link one with `voxctl agents link`.' : 'No organizations in the store; nothing to do. Add one with `voxctl orgs add`.',
    });
    const document: SyncDocument = { ok: true, dryRun, webhookUrl, summary: emptySummary(), results: [] };
    return { ...base, document, exitCode: ExitCode.ok, interrupted: false, requests: { total: 0, retries: 0, rateLimited: 0 }, elapsedMs: Date.now() - started };
  }

  const client = await deps.vapi();
  await report({ kind: 'reading', assistants: agents.length });
  let remote;
  try {
    remote = await readVapi(client, limiter, signal);
  } catch (e) {
    await report({ kind: 'read', ok: false });
    throw e;
  }
  await report({ kind: 'read', ok: true });

  const plan = planSync({ webhookUrl, secret, orgs: planOrgs, ...remote });
  if (opts.onPlan) {
    const preview = plan.entries.map((e) => toResult(e, e.action === 'update' ? 'would-update' : e.action, e.error));
    opts.onPlan({ document: { ok: true, dryRun: true, webhookUrl, summary: summarize(preview), results: preview }, orgs: base.orgs });
  }
  let outcomes: WriteOutcome[] = [];
  let interrupted = false;
  let snapshotPath: string | null = null;

  if (!dryRun && plan.writes.length > 0) {
    const snapshot: Snapshot = {
      version: 1,
      createdAt: deps.now().toISOString(),
      webhookUrl,
      entries: plan.writes.map((w) => ({ resource: w.resource, id: w.id, orgId: w.orgId, previous: w.previous, written: w.body })),
    };
    // Saved before the first write: if this fails, nothing is written.
    snapshotPath = await saveSnapshot(deps.dataDir, snapshot, deps.secrets);
    await report({ kind: 'note', message: `Saved the previous values to ${snapshotPath} (undo with \`voxctl assistants restore\`).` });
    const res = await writing(signal, report, () =>
      applyWrites(plan.writes, {
        client,
        concurrency,
        signal,
        limiter,
        onProgress: (p) => void report({ kind: 'writing', phase: 'Updating', done: p.done, total: p.total, failed: p.failed, limit: p.limit }),
      }),
    );
    outcomes = res.outcomes;
    interrupted = res.interrupted;
  }

  const results: SyncResult[] = plan.entries.map((e) => {
    if (e.action === 'missing') return toResult(e, 'missing', e.error);
    if (e.action === 'failed') return toResult(e, 'failed', e.error);
    if (e.action === 'unchanged') return toResult(e, 'unchanged');
    if (dryRun) return toResult(e, 'would-update');
    const o = outcomes[e.write!];
    if (o?.status === 'done') return toResult(e, 'updated');
    return toResult(e, 'failed', o?.error ?? 'not written');
  });
  const summary = summarize(results);
  const authFailed = outcomes.some((o) => o.auth);
  let exitCode: number = ExitCode.ok;
  if (mode === 'status') exitCode = summary.failed || summary.missing ? ExitCode.failure : summary.wouldUpdate ? ExitCode.drift : ExitCode.ok;
  else if (authFailed) exitCode = ExitCode.credentials;
  else if (interrupted) exitCode = ExitCode.interrupted;
  else if (summary.failed || summary.missing) exitCode = ExitCode.failure;

  return {
    ...base,
    snapshotPath,
    document: { ok: true, dryRun, webhookUrl, summary, results },
    exitCode,
    interrupted,
    requests: { total: client.stats.requests, retries: client.stats.retries, rateLimited: client.stats.rateLimited },
    elapsedMs: Date.now() - started,
  };
}

// ---------------------------------------------------------------------------------------------
// restore

export type RestoreAction = 'restored' | 'unchanged' | 'skipped' | 'failed' | 'missing';

export interface RestoreResult {
  orgId: string;
  kind: 'assistant' | 'tool' | 'phoneNumber';
  id: string;
  action: RestoreAction;
  /** server.url now, and after the restore. */
  before: string | null;
  after: string | null;
  error?: string;
}

export interface RestoreDocument {
  ok: true;
  snapshot: string;
  summary: Record<RestoreAction, number>;
  results: RestoreResult[];
}

export interface RestoreReport {
  document: RestoreDocument;
  exitCode: number;
}

const urlIn = (v: unknown): string | null => {
  if (v && typeof v === 'object' && typeof (v as { url?: unknown }).url === 'string') return (v as { url: string }).url;
  return null;
};
const norm = (v: unknown) => (v === null ? undefined : v);

/**
 * What restore sends for a key that was absent before the sync. Vapi offers no way to delete a
 * field: in its OpenAPI spec only fields documented "Pass `null` to clear" are nullable, and
 * `server` (assistant, tool, phone number) and `metadata` are not (the SDK types them optional,
 * never null), so `null` is refused. The documented value that leaves nothing behind is an
 * empty object: a Server without a url (every Server field is optional; Vapi then uses the next
 * URL in precedence: tool → assistant → phone number → org) and metadata without keys.
 */
const EMPTY_VALUE: Record<string, Record<string, never>> = { server: {}, metadata: {} };
const isEmptyObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
/** `now` already holds `prev` (an absent `prev` is also met by the empty value restore sends). */
const alreadyBack = (key: string, now: unknown, prev: unknown) =>
  jsonEqual(norm(now), norm(prev)) || (prev === null && key in EMPTY_VALUE && isEmptyObject(now));

/**
 * Puts back the values a sync replaced. A resource is restored only where it still holds exactly
 * what the sync wrote; if someone changed it since, it is skipped (never overwritten blindly).
 */
export async function restoreSnapshot(
  deps: Pick<SyncDeps, 'vapi' | 'dataDir' | 'signal' | 'onProgress' | 'secrets'>,
  opts: { snapshot?: string | undefined; concurrency?: number | undefined },
): Promise<RestoreReport> {
  const file = opts.snapshot ? path.resolve(opts.snapshot) : await latestSnapshot(deps.dataDir);
  if (!file) {
    throw new UsageError(`No snapshot found in ${deps.dataDir}/snapshots.`, {
      hint: 'Snapshots are written by `voxctl assistants sync` before it changes anything; pass --snapshot <file> to use another one.',
    });
  }
  const snapshot = await loadSnapshot(file, deps.secrets);
  const signal = quiet(deps.signal);
  const report = async (e: SyncProgress) => deps.onProgress?.(e);
  const client = await deps.vapi();
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const limiter = new AdaptiveLimiter({ max: concurrency });
  const kinds = new Set(snapshot.entries.map((e) => e.resource));
  const gate = { gate: limiter, signal };
  const [assistants, tools, phones] = await Promise.all([
    kinds.has('assistant') ? client.listAssistants(gate) : Promise.resolve([] as VapiAssistant[]),
    kinds.has('tool') ? client.listTools(gate) : Promise.resolve([] as VapiTool[]),
    kinds.has('phoneNumber') ? client.listPhoneNumbers(gate) : Promise.resolve([] as VapiPhoneNumber[]),
  ]);
  const current: Record<string, Map<string, Record<string, unknown>>> = {
    assistant: new Map(assistants.map((a) => [a.id, a])),
    tool: new Map(tools.map((t) => [t.id, t])),
    phoneNumber: new Map(phones.map((p) => [p.id, p])),
  };

  const results: RestoreResult[] = [];
  const writes: Array<Pick<PlannedWrite, 'resource' | 'id' | 'body' | 'checks'>> = [];
  const writeOf: number[] = [];
  for (const e of snapshot.entries) {
    const now = current[e.resource]!.get(e.id);
    const r: RestoreResult = { orgId: e.orgId, kind: e.resource, id: e.id, action: 'unchanged', before: null, after: urlIn(e.previous.server) };
    if (!now) {
      results.push({ ...r, action: 'missing', error: 'Vapi no longer has this resource' });
      continue;
    }
    r.before = urlIn(now.server);
    const body: Record<string, unknown> = {};
    const checks: WriteCheck[] = [];
    const changedSince: string[] = [];
    const cannotClear: string[] = [];
    for (const [key, prev] of Object.entries(e.previous)) {
      if (alreadyBack(key, now[key], prev)) continue;
      if (!jsonEqual(norm(now[key]), norm(e.written[key]))) changedSince.push(key);
      if (prev === null && !(key in EMPTY_VALUE)) cannotClear.push(key);
      const value = prev === null ? EMPTY_VALUE[key] : prev;
      body[key] = value;
      // An emptied server is checked by its url (Vapi may fill in defaults such as timeoutSeconds).
      checks.push(prev === null && key === 'server' ? { path: [key, 'url'], value: undefined } : { path: [key], value });
    }
    if (changedSince.length) {
      results.push({ ...r, action: 'skipped', error: `changed since the sync (${changedSince.join(', ')}); not overwritten` });
      continue;
    }
    if (cannotClear.length) {
      results.push({ ...r, action: 'skipped', error: `had no ${cannotClear.join(', ')} before the sync, and Vapi has no documented way to remove a field` });
      continue;
    }
    if (Object.keys(body).length === 0) {
      results.push(r);
      continue;
    }
    if (e.resource === 'phoneNumber' && typeof now.provider === 'string') body.provider = now.provider;
    writeOf[results.length] = writes.length;
    writes.push({ resource: e.resource, id: e.id, body: body, checks });
    results.push({ ...r, action: 'restored' });
  }

  if (writes.length) {
    const res = await writing(signal, report, () =>
      applyWrites(writes, {
        client,
        concurrency,
        signal,
        limiter,
        onProgress: (p) => void report({ kind: 'writing', phase: 'Restoring', done: p.done, total: p.total, failed: p.failed }),
      }),
    );
    results.forEach((r, i) => {
      const w = writeOf[i];
      if (w === undefined) return;
      const o = res.outcomes[w]!;
      if (o.status !== 'done') {
        r.action = 'failed';
        r.error = o.error ?? 'not written';
      }
    });
    if (res.interrupted) {
      return { document: restoreDoc(file, results), exitCode: ExitCode.interrupted };
    }
    if (res.outcomes.some((o) => o.auth)) return { document: restoreDoc(file, results), exitCode: ExitCode.credentials };
  }
  const doc = restoreDoc(file, results);
  const bad = doc.summary.failed + doc.summary.skipped + doc.summary.missing;
  return { document: doc, exitCode: bad ? ExitCode.failure : ExitCode.ok };
}

function restoreDoc(file: string, results: RestoreResult[]): RestoreDocument {
  const summary: Record<RestoreAction, number> = { restored: 0, unchanged: 0, skipped: 0, failed: 0, missing: 0 };
  for (const r of results) summary[r.action]++;
  return { ok: true, snapshot: file, summary, results };
}
