/**
 * `voxctl doctor`'s checks: the seed guide's security checklist and its common issues, each a
 * small function returning `{id, ok, message, hint}`. Checks that need the network (Vapi, a
 * Supabase store) are skipped, not failed, when there is no key or no connection; everything
 * else runs offline. Secret values are never part of a message: files and keys are named instead.
 */
import { execFile } from 'node:child_process';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import dotenvFlow from 'dotenv-flow';
import { SECRET_SETTING_NAMES, SETTINGS, type Settings } from '../config/env.js';
import type { ProjectEnv } from '../config/load-env.js';
import { isVoxError, type VoxError } from '../errors.js';
import { SCHEMA_VERSION } from '../store/schema.js';
import type { Agent, Store } from '../store/types.js';
import { isDemoAssistant } from '../store/validate.js';
import { AGENT_TYPE_METADATA_KEY } from '../assistants/upsert.js';
import type { VapiAssistant, VapiClient, VapiTool } from '../vapi/types.js';
import { TOOLS_PATH, WEBHOOK_SECRET_MIN_LENGTH } from '../config/spec.js';
import { isJsonObject as isObj } from '../util/json.js';
import { findSecretAssignments } from './secret-scan.js';

export interface CheckResult {
  id: string;
  /** True when the check passed, or was skipped. */
  ok: boolean;
  /** Present (true) when the check could not run here (offline, no key); not a failure. */
  skipped?: true;
  message: string;
  /** What to do about it; null when there is nothing to do. */
  hint: string | null;
}

export interface GitResult {
  code: number;
  stdout: string;
}

/** Runs git in the project (null when git is not installed). */
export type GitRunner = (args: string[]) => Promise<GitResult | null>;

export interface DoctorInput {
  cwd: string;
  projectEnv: ProjectEnv;
  settings: Settings | null;
  settingsError: VoxError | null;
  git: GitRunner;
  store: () => Promise<Store>;
  vapi: () => Promise<VapiClient>;
  platform?: NodeJS.Platform;
}


const pass = (id: string, message: string): CheckResult => ({ id, ok: true, message, hint: null });
const fail = (id: string, message: string, hint: string | null): CheckResult => ({ id, ok: false, message, hint });
const skip = (id: string, message: string, hint: string | null = null): CheckResult => ({ id, ok: true, skipped: true, message: `skipped: ${message}`, hint });

const list = (items: string[], max = 5) => `${items.slice(0, max).join('; ')}${items.length > max ? `; and ${items.length - max} more` : ''}`;
const isLocalFile = (f: string) => /\.local$/.test(path.basename(f));

export function systemGit(cwd: string): GitRunner {
  return (args) =>
    new Promise((resolve) => {
      execFile('git', ['-C', cwd, ...args], { timeout: 15_000, maxBuffer: 64 * 1024 * 1024, windowsHide: true }, (err, stdout) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return resolve(null);
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, stdout: String(stdout) });
      });
    });
}

/** The configured secrets (name → value) wherever they came from; short values are ignored. */
function configuredSecrets(env: ProjectEnv): Array<[string, string]> {
  return SECRET_SETTING_NAMES.map((k) => [k, env.values[k]?.trim() ?? ''] as [string, string]).filter(([, v]) => v.length >= 8);
}

// ---------------------------------------------------------------------------------------------

export function checkConfig(input: DoctorInput): CheckResult {
  if (input.settingsError) return fail('config', input.settingsError.message, input.settingsError.hint ?? 'Fix the value in your env file.');
  const files = input.projectEnv.files.map((f) => path.relative(input.cwd, f) || f);
  return pass('config', `settings are valid${files.length ? ` (read ${files.join(', ')})` : ' (no env files; environment only)'}`);
}

/** Secrets only in `.env.local` (or the process environment): none in `.env` or `.env.<NODE_ENV>`. */
export async function checkSecretsLocation(input: DoctorInput): Promise<CheckResult> {
  const id = 'secrets-in-env-local';
  const secrets = configuredSecrets(input.projectEnv);
  const found: string[] = [];
  for (const file of input.projectEnv.files) {
    if (isLocalFile(file)) continue;
    let parsed: Record<string, string>;
    try {
      parsed = dotenvFlow.parse(file);
    } catch {
      continue;
    }
    const rel = path.relative(input.cwd, file) || file;
    for (const [k, v] of Object.entries(parsed)) {
      if (!v.trim()) continue;
      if ((SETTINGS as Record<string, { secret: boolean } | undefined>)[k]?.secret) found.push(`${k} in ${rel}`);
      else {
        const same = secrets.find(([, s]) => v.includes(s));
        if (same) found.push(`${k} in ${rel} holds the value of ${same[0]}`);
      }
    }
  }
  if (found.length) {
    return fail(id, `secrets in files that may be committed: ${list(found)}`, 'Move them to .env.local (git-ignored, mode 0600): `voxctl init` does it; then rotate any key that was ever committed.');
  }
  const where = new Set(secrets.map(([k]) => input.projectEnv.sources[k] ?? 'environment'));
  return pass(id, secrets.length ? `secrets come only from ${[...where].join(', ')}` : 'no secrets configured in env files');
}

/** `.env.local` is ignored by git and not tracked. */
export async function checkEnvLocalIgnored(input: DoctorInput): Promise<CheckResult> {
  const id = 'env-local-gitignored';
  const repo = await input.git(['rev-parse', '--show-toplevel']);
  if (!repo) return skip(id, 'git is not installed');
  if (repo.code !== 0) return skip(id, 'not a git repository (nothing here can be committed)', 'Once you `git init`, run `voxctl init` to make git ignore .env.local.');
  const tracked = await input.git(['ls-files', '--error-unmatch', '--', '.env.local']);
  if (tracked && tracked.code === 0) {
    return fail(id, '.env.local is tracked by git: its secrets are in the repository history', 'Run `git rm --cached .env.local`, commit, and rotate every key it held (Vapi, ngrok, Supabase).');
  }
  const ignored = await input.git(['check-ignore', '-q', '--', '.env.local']);
  if (ignored && ignored.code === 0) return pass(id, '.env.local is ignored by git');
  return fail(id, '.env.local is not ignored by git: `git add .` would commit your secrets', 'Add `.env.local` to .gitignore (`voxctl init` does it).');
}

/** `.env.local` is readable by its owner only. */
export async function checkEnvLocalMode(input: DoctorInput): Promise<CheckResult> {
  const id = 'env-local-mode';
  if ((input.platform ?? process.platform) === 'win32') return skip(id, 'file modes do not apply on Windows');
  let mode: number;
  try {
    mode = (await stat(path.join(input.cwd, '.env.local'))).mode & 0o777;
  } catch {
    return pass(id, 'no .env.local (no secrets stored in files)');
  }
  if (mode & 0o077) {
    return fail(id, `.env.local has mode ${mode.toString(8).padStart(4, '0')}: other users can read your secrets`, 'Run `chmod 600 .env.local` (voxctl writes it with 0600).');
  }
  return pass(id, `.env.local has mode ${mode.toString(8).padStart(4, '0')}`);
}

const MAX_SCAN_BYTES = 1024 * 1024;
const MAX_SCAN_FILES = 20_000;
/** Example files carry placeholders by design; a configured secret's value is still found in them. */
const isExampleFile = (rel: string) => /\.(example|sample|template)$/.test(rel);

/**
 * No secret in any file git tracks: neither the value of a configured secret, nor a secret
 * variable assigned a value shaped like its key (see secret-scan). References such as
 * `${{ secrets.VAPI_PRIVATE_KEY }}`, `$NGROK_AUTHTOKEN` or `process.env.X`, and code, pass.
 */
export async function checkSecretsUntracked(input: DoctorInput): Promise<CheckResult> {
  const id = 'no-secrets-tracked';
  const files = await input.git(['ls-files', '-z', '--cached']);
  if (!files) return skip(id, 'git is not installed');
  if (files.code !== 0) return skip(id, 'not a git repository');
  const secrets = configuredSecrets(input.projectEnv);
  const names = files.stdout.split('\0').filter(Boolean);
  const hits: string[] = [];
  let configuredLeak = false;
  let scanned = 0;
  for (const rel of names.slice(0, MAX_SCAN_FILES)) {
    const text = await readSmallText(path.join(input.cwd, rel));
    if (text === null) continue;
    scanned++;
    const leaked = secrets.filter(([, v]) => text.includes(v)).map(([k]) => k);
    if (leaked.length) {
      configuredLeak = true;
      hits.push(`${rel} contains the value of ${leaked.join(', ')}`);
    } else if (!isExampleFile(rel)) {
      for (const f of findSecretAssignments(text)) hits.push(`${rel}:${f.line} sets ${f.name} to ${f.shape}`);
    }
  }
  if (hits.length) {
    const hint = configuredLeak
      ? 'Remove those values from the files (keep secrets in .env.local or your CI secrets), commit, and rotate the keys whose values are there: they stay in the git history.'
      : 'Replace each literal with a reference (`${{ secrets.NAME }}` in CI, `process.env.NAME` in code) and keep the value in .env.local; if it is a real key, rotate it: it stays in the git history.';
    return fail(id, `secrets in files git tracks: ${list(hits)}`, hint);
  }
  return pass(id, `no secret in the ${scanned} tracked file${scanned === 1 ? '' : 's'} scanned`);
}

async function readSmallText(file: string): Promise<string | null> {
  let fh;
  try {
    fh = await open(file, 'r');
    const { size } = await fh.stat();
    if (size > MAX_SCAN_BYTES) return null;
    const buf = Buffer.alloc(size);
    await fh.read(buf, 0, size, 0);
    if (buf.subarray(0, 8000).includes(0)) return null;
    return buf.toString('utf8');
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

export function checkWebhookSecret(input: DoctorInput): CheckResult {
  const id = 'webhook-secret';
  const secret = input.projectEnv.values.VAPI_WEBHOOK_SECRET?.trim();
  if (!secret) {
    return fail(id, 'VAPI_WEBHOOK_SECRET is not set: the receiver accepts calls from anyone who knows the URL', 'Set one in .env.local (e.g. `voxctl init --webhook-secret "$(openssl rand -hex 32)"`), then `voxctl assistants sync` sends it as X-Vapi-Secret.');
  }
  if (secret.length < WEBHOOK_SECRET_MIN_LENGTH) {
    return fail(id, `VAPI_WEBHOOK_SECRET is only ${secret.length} characters`, `Use at least ${WEBHOOK_SECRET_MIN_LENGTH} random characters, e.g. \`openssl rand -hex 32\`.`);
  }
  return pass(id, 'VAPI_WEBHOOK_SECRET is set; the receiver requires X-Vapi-Secret');
}

/** ngrok authtokens: `<27 base62>_<20+ base62>` today; older ones are 30+ word characters. */
export function ngrokTokenShape(token: string): { ok: true; legacy: boolean } | { ok: false; why: string } {
  const t = token.trim();
  if (/\s/.test(t)) return { ok: false, why: 'it contains spaces (copy the token alone, not the `ngrok config add-authtoken` command)' };
  if (/^["']|["']$/.test(t)) return { ok: false, why: 'it is wrapped in quotes' };
  if (/^https?:\/\//i.test(t)) return { ok: false, why: 'it is a URL, not a token' };
  if (/^(cr|ak|ep|rd|tn)_/.test(t)) return { ok: false, why: `it starts with "${t.slice(0, 3)}", an ngrok resource id, not the authtoken` };
  if (/^[1-9A-Za-z][0-9A-Za-z]{26}_[0-9A-Za-z]{20,40}$/.test(t)) return { ok: true, legacy: false };
  if (/^[0-9A-Za-z_-]{30,100}$/.test(t)) return { ok: true, legacy: true };
  if (t.length < 30) return { ok: false, why: `it has only ${t.length} characters (an authtoken has 30 or more)` };
  const odd = /[^0-9A-Za-z_-]/.exec(t);
  if (odd) return { ok: false, why: `it holds "${odd[0]}", which ngrok authtokens never contain (letters, digits, "_" and "-" only)` };
  return { ok: false, why: `it has ${t.length} characters (an authtoken has at most 100)` };
}

export function checkNgrokToken(input: DoctorInput): CheckResult {
  const id = 'ngrok-token';
  const token = input.projectEnv.values.NGROK_AUTHTOKEN?.trim();
  const hint = 'Copy the authtoken from https://dashboard.ngrok.com/get-started/your-authtoken into .env.local (`voxctl init --ngrok-token <token>`).';
  if (!token) return fail(id, 'NGROK_AUTHTOKEN is not set: `voxctl tunnel up` cannot start a tunnel', hint);
  const shape = ngrokTokenShape(token);
  if (!shape.ok) return fail(id, `NGROK_AUTHTOKEN does not look like an ngrok authtoken: ${shape.why}`, hint);
  return pass(id, `NGROK_AUTHTOKEN is set and well-formed${shape.legacy ? ' (an older token format)' : ''} (not checked online)`);
}

function isLocalHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\./.test(h) || h === '::1' || h === '0.0.0.0' || /^10\./.test(h) || /^192\.168\./.test(h) || /^172\.(1[6-9]|2\d|3[01])\./.test(h);
}

export function checkWebhookUrl(input: DoctorInput): CheckResult {
  const id = 'webhook-url';
  const raw = input.projectEnv.values.WEBHOOK_URL?.trim();
  if (!raw) return fail(id, 'WEBHOOK_URL is not set', 'Run `voxctl tunnel up`: it starts the tunnel and writes BACKEND_URL and WEBHOOK_URL to .env.');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return fail(id, `WEBHOOK_URL "${raw}" is not a URL`, 'Run `voxctl tunnel up` to write it again.');
  }
  if (u.protocol !== 'https:') return fail(id, `WEBHOOK_URL uses ${u.protocol.replace(':', '')}, not https: ${raw}`, 'Vapi needs an https URL; use the tunnel URL (`voxctl tunnel up`).');
  if (isLocalHost(u.hostname)) return fail(id, `WEBHOOK_URL points at ${u.hostname}, which Vapi cannot reach: ${raw}`, 'Run `voxctl tunnel up` to get a public URL.');
  const backend = input.projectEnv.values.BACKEND_URL?.trim();
  if (backend) {
    const expected = `${backend.replace(/\/+$/, '')}${TOOLS_PATH}`;
    if (raw.replace(/\/+$/, '') !== expected) {
      return fail(id, `WEBHOOK_URL (${raw}) is not BACKEND_URL + ${TOOLS_PATH} (${expected})`, 'Run `voxctl tunnel up` to write both again, or fix one of them in .env.');
    }
  }
  return pass(id, `WEBHOOK_URL is https: ${raw}`);
}

// ---------------------------------------------------------------------------------------------
// Checks that need the store and Vapi

export interface RemoteState {
  store: { ok: true; store: Store; agents: Agent[] } | { ok: false; result: CheckResult };
  vapi: { ok: true; assistants: VapiAssistant[]; client: VapiClient } | { ok: false; result: CheckResult };
}

/** No connection at all (as opposed to an answer that says no). */
const noConnection = (e: unknown) => isVoxError(e) && e.code === 'network';

/**
 * The machine is offline, as far as one failure can tell: the host name did not resolve or
 * there is no route. A refused connection or a timeout is a service that is down: a failure.
 */
export function looksOffline(e: unknown): boolean {
  if (!noConnection(e)) return false;
  return /\b(ENOTFOUND|EAI_AGAIN|ENETUNREACH|EHOSTUNREACH|ENETDOWN)\b|does not resolve|DNS lookup failed/.test((e as VoxError).message);
}

export async function checkStore(input: DoctorInput): Promise<{ result: CheckResult; state: RemoteState['store'] }> {
  const id = 'store';
  if (!input.settings) {
    const r = skip(id, 'the configuration is invalid (see the config check)');
    return { result: r, state: { ok: false, result: r } };
  }
  let store: Store;
  try {
    store = await input.store();
  } catch (e) {
    const err = e as VoxError;
    // The Supabase advice fits only the Supabase store: an embedded store that cannot open
    // (e.g. sqlite_unavailable, whose message already says the fix) gets no borrowed hint.
    const fallback = input.settings.SUPABASE_URL
      ? 'Check SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY, or unset them to use the embedded store.'
      : null;
    const r = fail(id, `cannot open the store: ${err.message}`, err.hint ?? fallback);
    return { result: r, state: { ok: false, result: r } };
  }
  try {
    const version = await store.schemaVersion();
    if (version === null && store.kind === 'embedded') {
      // Read-only commands (doctor too) never create the embedded store; the first write does.
      const r = pass(id, `${store.description} does not exist yet; the first command that writes creates it (or run \`voxctl db migrate\`)`);
      return { result: r, state: { ok: true, store, agents: [] } };
    }
    if (version === null || version < SCHEMA_VERSION) {
      const r = fail(
        id,
        `${store.description} ${version === null ? 'has no voxctl schema' : `is at schema version ${version}; this voxctl needs ${SCHEMA_VERSION}`}`,
        store.kind === 'supabase' ? 'Apply `voxctl db schema` in the Supabase SQL editor.' : 'Run `voxctl db migrate`.',
      );
      return { result: r, state: { ok: false, result: r } };
    }
    const agents = await store.listAgents();
    const orgs = await store.listOrgs();
    return {
      result: pass(id, `${store.description} is reachable, at schema version ${version} (${orgs.length} org${orgs.length === 1 ? '' : 's'}, ${agents.length} linked assistant${agents.length === 1 ? '' : 's'})`),
      // Demo assistants (`webhook test --local`) are not in Vapi: the Vapi checks leave them out.
      state: { ok: true, store, agents: agents.filter((a) => !isDemoAssistant(a.vapiAssistantId)) },
    };
  } catch (e) {
    const err = e as VoxError;
    // The configured store is where every command reads and writes: unreachable is a failure,
    // offline or not (`orgs list` fails the same way).
    const r = noConnection(e)
      ? fail(id, `the store is unreachable: ${err.message}`, err.hint ?? 'Check SUPABASE_URL and your network.')
      : fail(id, `the store failed: ${err.message}`, err.hint ?? 'Re-run with --debug.');
    return { result: r, state: { ok: false, result: r } };
  }
}

export async function checkVapiKey(input: DoctorInput): Promise<{ result: CheckResult; state: RemoteState['vapi'] }> {
  const id = 'vapi-key';
  const done = (result: CheckResult): { result: CheckResult; state: RemoteState['vapi'] } => ({ result, state: { ok: false, result } });
  if (!input.settings) return done(skip(id, 'the configuration is invalid (see the config check)'));
  if (!input.settings.vapiKey) return done(skip(id, 'no Vapi key configured', 'Set VAPI_PRIVATE_KEY in .env.local (`voxctl init`) to check it and your assistants.'));
  try {
    const client = await input.vapi();
    const assistants = await client.listAssistants();
    return { result: pass(id, `Vapi accepts the key (${assistants.length} assistant${assistants.length === 1 ? '' : 's'})`), state: { ok: true, assistants, client } };
  } catch (e) {
    const err = e as VoxError;
    if (isVoxError(e) && e.code === 'credentials') {
      // The client's message already says "Vapi rejected the API key (401: …)"; its hint ends by
      // sending the user to `voxctl doctor`, which is where they are.
      const hint = (err.hint ?? '').replace(/\s*Run `voxctl doctor`[^.]*\.$/, '');
      return done(fail(id, err.message, hint || 'Use the private API key from the Vapi dashboard, not the public one.'));
    }
    if (looksOffline(e)) return done(skip(id, `offline, Vapi cannot be checked: ${err.message}`, 'Run `voxctl doctor` again once this machine is online.'));
    if (noConnection(e)) return done(fail(id, `Vapi is unreachable: ${err.message}`, err.hint ?? 'Check VAPI_BASE_URL and your network.'));
    return done(fail(id, `Vapi failed: ${err.message}`, err.hint ?? 'Re-run with --debug.'));
  }
}

interface Linked {
  agent: Agent;
  assistant: VapiAssistant | undefined;
}

function needBoth(id: string, remote: RemoteState): CheckResult | null {
  if (!remote.store.ok) return skip(id, 'the store could not be read (see the store check)');
  if (!remote.vapi.ok) return skip(id, remote.vapi.result.skipped ? 'Vapi is not available (see the vapi-key check)' : 'Vapi could not be read (see the vapi-key check)');
  return null;
}

/** Every linked assistant (and its function tools) uses WEBHOOK_URL; one URL per org. */
export async function checkAssistantUrls(input: DoctorInput, remote: RemoteState): Promise<CheckResult> {
  const id = 'assistants-webhook-url';
  const blocked = needBoth(id, remote);
  if (blocked) return blocked;
  const { agents } = remote.store as Extract<RemoteState['store'], { ok: true }>;
  const { assistants, client } = remote.vapi as Extract<RemoteState['vapi'], { ok: true }>;
  if (agents.length === 0) return pass(id, 'no linked assistants yet');
  const base = input.projectEnv.values.WEBHOOK_URL?.trim().replace(/\/+$/, '') || null;
  const byId = new Map(assistants.map((a) => [a.id, a]));
  const linked: Linked[] = agents.map((agent) => ({ agent, assistant: byId.get(agent.vapiAssistantId) }));
  const missing = linked.filter((l) => !l.assistant).map((l) => `${l.agent.orgName} ${l.agent.type} ${l.agent.vapiAssistantId} is not in Vapi`);
  let tools: Map<string, VapiTool> | null = null;
  if (linked.some((l) => (l.assistant?.model?.toolIds?.length ?? 0) > 0)) {
    tools = new Map((await client.listTools()).map((t) => [t.id, t]));
  }
  const wrong: string[] = [];
  const urlsByOrg = new Map<string, { name: string; urls: Set<string> }>();
  for (const { agent, assistant } of linked) {
    if (!assistant) continue;
    const url = assistant.server?.url ?? '(none)';
    const org = urlsByOrg.get(agent.orgId) ?? { name: agent.orgName, urls: new Set<string>() };
    org.urls.add(url);
    urlsByOrg.set(agent.orgId, org);
    const label = `${agent.orgName} ${agent.type} ${assistant.id}`;
    if (base && url !== base) wrong.push(`${label} → ${url}`);
    else if (!base && url !== '(none)' && (() => { try { return isLocalHost(new URL(url).hostname); } catch { return true; } })()) wrong.push(`${label} → ${url} (not reachable by Vapi)`);
    for (const t of assistant.model?.tools ?? []) {
      const name = t?.type === 'function' ? t.function?.name : undefined;
      if (name && base && t.server?.url !== `${base}/${name}`) wrong.push(`${label} inline tool ${name} → ${t.server?.url ?? '(none)'}`);
    }
    for (const toolId of assistant.model?.toolIds ?? []) {
      const t = tools?.get(toolId);
      if (!t) {
        missing.push(`${label} references tool ${toolId}, which is not in Vapi`);
        continue;
      }
      const name = t.type === 'function' ? t.function?.name : undefined;
      if (name && base && t.server?.url !== `${base}/${name}`) wrong.push(`${label} tool ${name} (${toolId}) → ${t.server?.url ?? '(none)'}`);
    }
  }
  const split = [...urlsByOrg.values()].filter((o) => o.urls.size > 1).map((o) => `${o.name} uses ${o.urls.size} URLs (${[...o.urls].join(', ')})`);
  const problems = [...split, ...wrong, ...missing];
  if (problems.length) {
    return fail(
      id,
      `${problems.length} problem${problems.length === 1 ? '' : 's'}${base ? ` (expected ${base})` : ''}: ${list(problems)}`,
      `Run \`voxctl assistants sync --all-orgs\` to point every assistant and tool at ${base ?? 'WEBHOOK_URL'}${missing.length ? '; re-link or re-create the missing ones (`voxctl assistants upsert`)' : ''}.`,
    );
  }
  return pass(id, base ? `all ${linked.length} linked assistants and their tools use ${base}` : `every org's assistants share one URL (WEBHOOK_URL is not set, so not compared)`);
}

/** Every linked assistant carries `metadata.org_id` of its org (else org_id never reaches the backend). */
export function checkOrgMetadata(remote: RemoteState): CheckResult {
  const id = 'assistants-org-metadata';
  const blocked = needBoth(id, remote);
  if (blocked) return blocked;
  const { agents } = remote.store as Extract<RemoteState['store'], { ok: true }>;
  const { assistants } = remote.vapi as Extract<RemoteState['vapi'], { ok: true }>;
  const byId = new Map(assistants.map((a) => [a.id, a]));
  const bad: string[] = [];
  for (const agent of agents) {
    const a = byId.get(agent.vapiAssistantId);
    if (!a) continue;
    const claimed = isObj(a.metadata) ? a.metadata.org_id : undefined;
    if (claimed === undefined || claimed === null) bad.push(`${agent.orgName} ${agent.type} ${a.id} has no metadata.org_id`);
    else if (String(claimed).toLowerCase() !== agent.orgId) bad.push(`${agent.orgName} ${agent.type} ${a.id} claims org ${String(claimed)}`);
  }
  if (bad.length) {
    return fail(id, `org_id does not reach the backend correctly: ${list(bad)}`, 'Run `voxctl assistants sync --all-orgs`: it sets metadata.org_id on every linked assistant (a wrong claim makes the receiver answer 403).');
  }
  return pass(id, agents.length ? 'every linked assistant carries its org in metadata.org_id' : 'no linked assistants yet');
}

/** No org has two Vapi assistants for one agent type (an id that changes on every save). */
export function checkDuplicates(remote: RemoteState): CheckResult {
  const id = 'duplicate-assistants';
  const blocked = needBoth(id, remote);
  if (blocked) return blocked;
  const { agents } = remote.store as Extract<RemoteState['store'], { ok: true }>;
  const { assistants } = remote.vapi as Extract<RemoteState['vapi'], { ok: true }>;
  const linkedIds = new Set(agents.map((a) => a.vapiAssistantId));
  const groups = new Map<string, VapiAssistant[]>();
  for (const a of assistants) {
    if (!isObj(a.metadata) || typeof a.metadata.org_id !== 'string') continue;
    const org = a.metadata.org_id.toLowerCase();
    const type = a.metadata[AGENT_TYPE_METADATA_KEY];
    // Same org and type; or, without a type marker, same org and name.
    const key = typeof type === 'string' ? `${org}\u0000type:${type}` : a.name ? `${org}\u0000name:${a.name}` : null;
    if (!key) continue;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  const dups: string[] = [];
  for (const [key, items] of groups) {
    if (items.length < 2) continue;
    items.sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    const [org, what] = key.split('\u0000') as [string, string];
    const keep = items.find((a) => linkedIds.has(a.id));
    dups.push(`org ${org} has ${items.length} assistants with ${what.replace(':', ' ')} (${items.map((a) => a.id + (a.id === keep?.id ? ' linked' : '')).join(', ')})`);
  }
  if (dups.length) {
    return fail(id, `duplicate assistants: ${list(dups)}`, 'Keep the linked one, delete the others in the Vapi dashboard, and update assistants in place with `voxctl assistants upsert` (it never creates a second one).');
  }
  return pass(id, 'no org has two assistants for one agent type');
}

/** No Vapi assistant claims an org in its metadata without being linked to it. */
export function checkUnlinkedClaims(remote: RemoteState): CheckResult {
  const id = 'unlinked-assistants';
  const blocked = needBoth(id, remote);
  if (blocked) return blocked;
  const { agents } = remote.store as Extract<RemoteState['store'], { ok: true }>;
  const { assistants } = remote.vapi as Extract<RemoteState['vapi'], { ok: true }>;
  const linked = new Map(agents.map((a) => [a.vapiAssistantId, a]));
  const bad: string[] = [];
  for (const a of assistants) {
    if (!isObj(a.metadata) || a.metadata.org_id === undefined || a.metadata.org_id === null) continue;
    if (linked.has(a.id)) continue;
    bad.push(`${a.id}${a.name ? ` (${a.name})` : ''} claims org ${String(a.metadata.org_id)}`);
  }
  if (bad.length) {
    return fail(
      id,
      `${bad.length} Vapi assistant${bad.length === 1 ? '' : 's'} claim${bad.length === 1 ? 's' : ''} an org without being linked: ${list(bad)}; the receiver answers their calls with 403`,
      'Link each with `voxctl agents link --org <id> --type <type> --assistant-id <id>`, or delete it / remove org_id from its metadata.',
    );
  }
  return pass(id, 'every assistant that claims an org is linked to it');
}
