/**
 * `voxctl init`: set a project up. Asks (inquirer, secrets masked) only for what is missing,
 * validating each answer; with --yes or no TTY it takes flags and the environment and never
 * prompts. Secrets go to .env.local (0600) and the rest to .env through the env-file writer; git
 * is made to ignore .env.local; the embedded store is created and migrated when no Supabase is
 * configured.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_VAPI_BASE_URL, SETTINGS, type SettingName } from '../config/env.js';
import type { Context } from '../context.js';
import { isVoxError, UsageError } from '../errors.js';
import { systemGit, type GitRunner } from '../doctor/checks.js';
import { withEnvLock } from '../envfile/lock.js';
import { parseEnvDocument } from '../envfile/parse.js';
import { commitFiles, describeEnvChanges, planFile, planProjectSettings, reportOf, type EnvFileReport, type PlannedFile } from '../envfile/write.js';
import type { ProjectEnv } from '../config/load-env.js';
import { dataDir } from '../config/paths.js';
import type { Verification } from '../init/verify.js';
import { fileError } from '../util/fs-errors.js';
import {
  validateBackendUrl,
  validateHttpUrl,
  validateNgrokDomain,
  validateNgrokToken,
  validateSupabaseKey,
  validateSupabaseUrl,
  validateVapiKey,
  validateWebhookSecret,
  type Validator,
} from '../init/values.js';
import { parseOptions } from './options.js';
import { TOOLS_PATH } from '../config/spec.js';

const schema = z.object({
  vapiKey: z.string().optional(),
  vapiBaseUrl: z.string().optional(),
  webhookSecret: z.string().optional(),
  ngrokToken: z.string().optional(),
  ngrokDomain: z.string().optional(),
  supabaseUrl: z.string().optional(),
  supabaseKey: z.string().optional(),
  backendUrl: z.string().optional(),
  store: z.enum(['embedded', 'supabase'], { message: 'must be embedded or supabase' }).optional(),
});
type InitOptions = z.infer<typeof schema>;

interface Field {
  key: SettingName;
  option: keyof InitOptions;
  flag: string;
  label: string;
  validate: Validator;
}

const FIELDS: Field[] = [
  { key: 'VAPI_PRIVATE_KEY', option: 'vapiKey', flag: '--vapi-key', label: 'Vapi private API key', validate: validateVapiKey },
  { key: 'VAPI_BASE_URL', option: 'vapiBaseUrl', flag: '--vapi-base-url', label: 'Vapi API base URL', validate: validateHttpUrl },
  { key: 'VAPI_WEBHOOK_SECRET', option: 'webhookSecret', flag: '--webhook-secret', label: 'webhook secret (X-Vapi-Secret)', validate: validateWebhookSecret },
  { key: 'NGROK_AUTHTOKEN', option: 'ngrokToken', flag: '--ngrok-token', label: 'ngrok authtoken', validate: validateNgrokToken },
  { key: 'NGROK_DOMAIN', option: 'ngrokDomain', flag: '--ngrok-domain', label: 'ngrok domain', validate: validateNgrokDomain },
  { key: 'SUPABASE_URL', option: 'supabaseUrl', flag: '--supabase-url', label: 'Supabase project URL', validate: validateSupabaseUrl },
  { key: 'SUPABASE_SERVICE_ROLE_KEY', option: 'supabaseKey', flag: '--supabase-key', label: 'Supabase service-role key', validate: validateSupabaseKey },
  { key: 'BACKEND_URL', option: 'backendUrl', flag: '--backend-url', label: 'public backend URL', validate: validateBackendUrl },
];
const field = (key: SettingName) => FIELDS.find((f) => f.key === key)!;

/** What to do about a bad flag value; "leave it out to be asked" only where something asks. */
function badFlagHint(f: Field, interactive: boolean): string {
  if (interactive) return `Pass a valid ${f.label}, or leave ${f.flag} out to be asked.`;
  if (f.key === 'VAPI_WEBHOOK_SECRET') return `Pass a valid ${f.label}, or leave ${f.flag} out to have one generated.`;
  return `Pass a valid ${f.label} (prompts are off: no TTY, CI, or --yes).`;
}

/** A secret flag given as `-` is read from standard input (keeps it out of the process list). */
async function readFlagValue(ctx: Context, f: Field, raw: string, stdinUsed: { used: boolean }): Promise<string> {
  if (raw !== '-') return raw.trim();
  if (stdinUsed.used) throw new UsageError(`Only one flag can read standard input (${f.flag} -).`);
  stdinUsed.used = true;
  const stdin = ctx.io.stdin;
  if (!stdin) throw new UsageError(`${f.flag} -: there is no standard input to read.`);
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0]!.trim();
}

export async function initAction(raw: Record<string, unknown>, _args: string[], ctx: Context): Promise<void> {
  const opts = parseOptions(schema, raw);
  const prompt = ctx.prompt;
  const pe = ctx.projectEnv();
  const inFiles = (k: SettingName) => {
    const src = pe.sources[k];
    return Boolean(pe.values[k]?.trim()) && src !== undefined && src !== 'environment';
  };
  const fromEnv = (k: SettingName) => (pe.sources[k] === 'environment' && pe.values[k]?.trim() ? pe.values[k]!.trim() : undefined);

  // 1. Flags: each validated, named in the error.
  const updates: Partial<Record<SettingName, string>> = {};
  const origin: Partial<Record<SettingName, 'flag' | 'environment' | 'prompt' | 'generated'>> = {};
  const stdinUsed = { used: false };
  for (const f of FIELDS) {
    const v = opts[f.option];
    if (typeof v !== 'string') continue;
    const value = await readFlagValue(ctx, f, v, stdinUsed);
    const ok = f.validate(value);
    if (ok !== true) throw new UsageError(`${f.flag}: ${ok}`, { hint: badFlagHint(f, prompt.interactive) });
    updates[f.key] = value;
    origin[f.key] = 'flag';
  }

  // 2. Values only in the process environment are written to the files (validated first).
  for (const f of FIELDS) {
    if (updates[f.key] !== undefined || inFiles(f.key)) continue;
    const v = f.key === 'VAPI_PRIVATE_KEY' ? (fromEnv('VAPI_PRIVATE_KEY') ?? fromEnv('VAPI_API_KEY')) : fromEnv(f.key);
    if (v === undefined) continue;
    const ok = f.validate(v);
    if (ok !== true) throw new UsageError(`${f.key} (from the environment): ${ok}`, { hint: `Fix or unset ${f.key}, or pass ${f.flag}.` });
    updates[f.key] = v;
    origin[f.key] = 'environment';
  }
  const has = (k: SettingName) => updates[k] !== undefined || inFiles(k) || (k === 'VAPI_PRIVATE_KEY' && inFiles('VAPI_API_KEY'));

  // 3. The store: Supabase when asked for (or already set up), else the embedded store.
  const supabaseWanted = opts.store === 'supabase' || has('SUPABASE_URL') || has('SUPABASE_SERVICE_ROLE_KEY');
  if (opts.store === 'embedded' && supabaseWanted) {
    throw new UsageError('--store embedded, but Supabase is configured (SUPABASE_URL / SUPABASE_SERVICE_ROLE_KEY).', {
      hint: 'Remove SUPABASE_URL from .env and SUPABASE_SERVICE_ROLE_KEY from .env.local to use the embedded store.',
    });
  }
  let useSupabase = supabaseWanted;
  // Answered before: an embedded store already exists here (a second init does not ask again).
  const embeddedExists = !supabaseWanted && existsSync(path.join(dataDir(ctx.cwd, pe.values.VOXCTL_DATA_DIR?.trim() || undefined), 'store.db'));
  if (embeddedExists && !opts.store && prompt.interactive) ctx.ui.info('Using the embedded store that is already set up here (`--store supabase` to switch).');
  if (!supabaseWanted && !opts.store && !embeddedExists && prompt.interactive) {
    useSupabase =
      (await prompt.select({
        message: 'Where should voxctl keep your orgs and agents?',
        flag: '--store embedded|supabase',
        choices: [
          { value: 'embedded', name: 'Embedded store: one SQLite file in .voxctl/ (no account needed)' },
          { value: 'supabase', name: 'My Supabase project' },
        ],
        default: 'embedded',
      })) === 'supabase';
  }

  // 4. What is still missing: asked interactively, else named in one usage error.
  const required: SettingName[] = ['VAPI_PRIVATE_KEY'];
  if (!has('BACKEND_URL')) required.push('NGROK_AUTHTOKEN');
  if (useSupabase) required.push('SUPABASE_URL', 'SUPABASE_SERVICE_ROLE_KEY');
  const missing = required.filter((k) => !has(k));
  if (missing.length && !prompt.interactive) {
    const flags = missing.map((k) => field(k).flag);
    throw new UsageError(`Missing ${missing.map((k) => `${k} (${field(k).flag})`).join(', ')}.`, {
      hint: `Pass ${flags.join(' and ')} or set ${missing.join(', ')} in the environment; prompts are off (no TTY, CI, --json or --yes). Secrets can come from stdin: ${flags[0]} -.`,
    });
  }
  // A Vapi key typed at the prompt is checked online as it is entered: a key Vapi rejects is
  // asked again instead of ending init after every other question.
  let typedKeyCheck: Verification | undefined;
  const vapiKeyOnline = async (v: string): Promise<true | string> => {
    const shape = validateVapiKey(v);
    if (shape !== true) return shape;
    const { verifyVapiKey, VERIFY_TIMEOUT_MS } = await import('../init/verify.js');
    const baseUrl = (updates.VAPI_BASE_URL ?? pe.values.VAPI_BASE_URL?.trim() ?? DEFAULT_VAPI_BASE_URL).replace(/\/+$/, '');
    try {
      typedKeyCheck = await verifyVapiKey(ctx, ctx.service('checkTimeoutMs') ?? VERIFY_TIMEOUT_MS, { key: v.trim(), baseUrl });
      return true;
    } catch (e) {
      if (isVoxError(e) && e.code === 'credentials') return 'Vapi rejected this key (401): paste the private key (Vapi dashboard → API Keys → Private Key).';
      throw e;
    }
  };
  for (const k of missing) {
    const f = field(k);
    const secret = SETTINGS[k].secret;
    const answer = await prompt.ask({
      message: `${f.label[0]!.toUpperCase()}${f.label.slice(1)}${k === 'NGROK_AUTHTOKEN' ? ' (dashboard.ngrok.com → Your Authtoken)' : k === 'VAPI_PRIVATE_KEY' ? ' (Vapi dashboard → API Keys)' : ''}:`,
      flag: f.flag,
      secret,
      validate: k === 'VAPI_PRIVATE_KEY' ? vapiKeyOnline : f.validate,
    });
    updates[k] = answer.trim();
    origin[k] = 'prompt';
  }

  // 5. A webhook secret is generated when there is none: the receiver then requires it.
  if (!has('VAPI_WEBHOOK_SECRET')) {
    updates.VAPI_WEBHOOK_SECRET = randomBytes(32).toString('hex');
    origin.VAPI_WEBHOOK_SECRET = 'generated';
  }
  if (updates.BACKEND_URL !== undefined) updates.WEBHOOK_URL = `${updates.BACKEND_URL.replace(/\/+$/, '')}${TOOLS_PATH}`;

  // 6. Replacing a secret already in its file needs a yes (the environment may shadow the file,
  // so the file itself is read). Without a TTY that yes is --yes: nothing is replaced silently.
  const inFile = await fileValues(ctx.cwd, ['.env.local', '.env']);
  const replacing = (Object.entries(updates) as Array<[SettingName, string]>).filter(([k, v]) => {
    const now = inFile[SETTINGS[k].file ?? '.env.local']?.[k]?.trim();
    return SETTINGS[k].secret && Boolean(now) && now !== v;
  });
  if (replacing.length && !ctx.flags.yes && !prompt.interactive) {
    const names = replacing.map(([k]) => k);
    throw new UsageError(`init would replace ${names.join(', ')} in .env.local; nothing was written.`, {
      hint: `Pass --yes to replace ${names.length === 1 ? 'it' : 'them'}, or leave the new value out (flag or environment) to keep the one in .env.local.`,
    });
  }
  for (const [k] of replacing) {
    if (ctx.flags.yes) continue;
    const ok = await prompt.confirm({ message: `Replace the ${k} in .env.local?`, flag: '--yes' });
    if (!ok) {
      delete updates[k];
      ctx.ui.info(`Kept the ${k} in .env.local.`);
    }
  }

  // 7. Check everything, then write, all or nothing: the planned files give the settings, the
  // store is set up with them, and only then are .env.local, .env and .gitignore written. The
  // env-file lock makes a concurrent init wait, so the files end with one run's values.
  for (const k of Object.keys(updates) as SettingName[]) if (SETTINGS[k].secret) ctx.redactor.add(updates[k]);
  const git = ctx.service('git') ?? systemGit(ctx.cwd);
  let reports: EnvFileReport[] = [];
  let gitignore: { added: string[] } = { added: [] };
  let storeDoc: Record<string, unknown> = {};
  const planned = plannedEnv(pe, updates);

  // 7a. Online: the Vapi key and the Supabase project answer (not verified when offline).
  ctx.reloadSettings(planned);
  const verifications = await verifyOnline(ctx, typedKeyCheck && ctx.settings().vapiKey === updates.VAPI_PRIVATE_KEY ? typedKeyCheck : undefined);
  await withEnvLock(ctx.cwd, async () => {
    const envPlans = Object.keys(updates).length ? await planProjectSettings(ctx.cwd, updates) : [];
    ctx.reloadSettings(planned);
    const settings = ctx.settings();
    const dataDir = ctx.dataDir();
    const relData = path.relative(ctx.cwd, dataDir);
    const ignoreEntries = ['.env.local', ...(!settings.useSupabase && relData && !relData.startsWith('..') && !path.isAbsolute(relData) ? [`${relData.split(path.sep).join('/')}/`] : [])];
    const ignorePlan = await planGitIgnore(ctx.cwd, ignoreEntries, git);

    // 8. The store, before any file is written.
    if (settings.useSupabase) {
      storeDoc = { kind: 'supabase', url: settings.SUPABASE_URL };
    } else {
      const spinner = await ctx.spinner(`Setting up the embedded store in ${relData || dataDir}…`);
      spinner.start();
      try {
        const store = await ctx.store();
        // init writes: it creates the store (read-only commands never do).
        const { SqliteStore } = await import('../store/sqlite.js');
        if (store instanceof SqliteStore) store.create();
        const version = await store.schemaVersion();
        spinner.succeed(`Embedded store ready in ${relData || dataDir} (schema version ${version}).`);
        storeDoc = { kind: 'embedded', dataDir, version };
      } catch (e) {
        spinner.fail('Could not set up the embedded store; no env file was written.');
        throw e;
      }
    }
    await commitFiles([...envPlans, ...(ignorePlan.plan ? [ignorePlan.plan] : [])]);
    reports = envPlans.map(reportOf);
    gitignore = { added: ignorePlan.added };
  });
  ctx.reloadSettings();
  for (const v of verifications) {
    if (v.verified) ctx.ui.info(`  ${ctx.theme.green('✓')} ${v.message}.`);
    else ctx.ui.warn(`${v.message}. Run \`voxctl doctor\` once online.`);
  }
  for (const r of reports) for (const line of describeEnvChanges(r, updates)) ctx.ui.info(`  ${line}`);
  if (origin.VAPI_WEBHOOK_SECRET === 'generated') ctx.ui.info('  Generated VAPI_WEBHOOK_SECRET; `voxctl assistants sync` sends it to Vapi as X-Vapi-Secret.');
  if (gitignore.added.length) ctx.ui.info(`  Added ${gitignore.added.join(', ')} to .gitignore.`);
  if (storeDoc.kind === 'supabase') ctx.ui.info('  Supabase is configured: apply the schema once with `voxctl db schema` (SQL editor or psql).');

  if (ctx.flags.json) {
    ctx.ui.jsonDoc({
      ok: true,
      files: reports.map((r) => ({ file: path.relative(ctx.cwd, r.file), created: r.created, changes: r.changes.filter((c) => c.action !== 'unchanged') })),
      generated: Object.entries(origin)
        .filter(([, o]) => o === 'generated')
        .map(([k]) => k),
      gitignore: { file: '.gitignore', added: gitignore.added },
      store: storeDoc,
      verified: verifications,
    });
    return;
  }
  const t = ctx.theme;
  ctx.ui.success(reports.some((r) => r.written) ? 'Project set up.' : 'Nothing to change: everything was already set up.');
  ctx.ui.info(`\n${t.bold('Next:')}`);
  const next = (cmd: string, note: string) => ctx.ui.info(`  ${`${ctx.commandPrefix} ${cmd}`.padEnd(54)} ${t.dim(`# ${note}`)}`);
  next('webhook test bookClinicAppointment --local', 'try the receiver, no account needed');
  next('orgs add --name "Sunrise Dental"', 'your first org (prints its id)');
  if (!has('BACKEND_URL')) next('tunnel up --sync --all-orgs', 'public URL → .env; leave it running');
  next('doctor', 'check everything');
}

/** The Vapi key (when there is one) and a Supabase store, checked online before anything is written. */
async function verifyOnline(ctx: Context, vapiChecked?: Verification): Promise<Verification[]> {
  const { verifySupabase, verifyVapiKey, VERIFY_TIMEOUT_MS } = await import('../init/verify.js');
  const timeoutMs = ctx.service('checkTimeoutMs') ?? VERIFY_TIMEOUT_MS;
  const settings = ctx.settings();
  const spinner = await ctx.spinner('Checking the keys online…');
  spinner.start();
  try {
    return await Promise.all([
      ...(vapiChecked ? [Promise.resolve(vapiChecked)] : settings.vapiKey ? [verifyVapiKey(ctx, timeoutMs)] : []),
      ...(settings.useSupabase ? [verifySupabase(ctx, timeoutMs)] : []),
    ]);
  } catch (e) {
    spinner.fail('A check failed; no file was written.');
    throw e;
  } finally {
    spinner.stop();
  }
}

/** The project env with `updates` applied where the files decide (the environment still wins). */
function plannedEnv(pe: ProjectEnv, updates: Partial<Record<SettingName, string>>): ProjectEnv {
  const values = { ...pe.values };
  const sources = { ...pe.sources };
  for (const [k, v] of Object.entries(updates) as Array<[SettingName, string]>) {
    if (sources[k] === 'environment') continue;
    values[k] = v;
    sources[k] = SETTINGS[k].file ?? '.env';
  }
  return { ...pe, values, sources };
}

/** The values each of `names` holds in the project folder, read from the file itself. */
async function fileValues(cwd: string, names: string[]): Promise<Record<string, Record<string, string>>> {
  const out: Record<string, Record<string, string>> = {};
  for (const name of names) {
    const file = path.join(cwd, name);
    let text = '';
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(e, file, 'read');
    }
    const values: Record<string, string> = {};
    for (const l of parseEnvDocument(text).lines) if (l.kind === 'entry') values[l.key] = l.value;
    out[name] = values;
  }
  return out;
}

/** Plans appending the entries git does not ignore yet to `<cwd>/.gitignore`, keeping what is there. */
export async function planGitIgnore(cwd: string, entries: string[], git: GitRunner): Promise<{ added: string[]; plan: PlannedFile | null }> {
  const file = path.join(cwd, '.gitignore');
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(e, file, 'read');
  }
  const inRepo = (await git(['rev-parse', '--show-toplevel']))?.code === 0;
  const lines = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  const added: string[] = [];
  for (const entry of entries) {
    let ignored: boolean;
    if (inRepo) ignored = (await git(['check-ignore', '-q', '--no-index', '--', entry]))?.code === 0;
    else {
      const bare = entry.replace(/\/$/, '');
      ignored = [entry, `/${entry}`, bare, `/${bare}`, ...(entry === '.env.local' ? ['.env*.local', '*.local', '.env*', '.env.*'] : [])].some((p) => lines.has(p));
    }
    if (!ignored) added.push(entry);
  }
  if (!added.length) return { added, plan: null };
  const plan = await planFile(file, (before) => {
    const now = before ?? '';
    const prefix = now === '' || now.endsWith('\n') ? '' : '\n';
    return `${now}${prefix}${now ? '\n' : ''}# voxctl: secrets and the embedded store stay out of git\n${added.join('\n')}\n`;
  });
  return { added, plan };
}
