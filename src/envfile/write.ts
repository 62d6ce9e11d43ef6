import { randomBytes } from 'node:crypto';
import { chmod, lstat, open, readFile, readlink, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { SETTINGS, type SettingName } from '../config/env.js';
import { UsageError } from '../errors.js';
import { fileError, FileAccessError } from '../util/fs-errors.js';
import { maskSecret } from '../util/mask.js';
import { withEnvLock } from './lock.js';
import { applyEnvUpdates, parseEnvDocument, serializeEnvDocument, type EnvChange } from './parse.js';

export interface EnvFileReport {
  /** Absolute path of the file. */
  file: string;
  created: boolean;
  /** Changes per key (values not included: some are secrets). */
  changes: EnvChange[];
  /** True when the file's bytes changed. */
  written: boolean;
}

const isLocalFile = (file: string) => /\.local$/.test(path.basename(file));

function isSecretKey(key: string): boolean {
  return (SETTINGS as Record<string, { secret: boolean } | undefined>)[key]?.secret === true;
}

/** One file's planned new bytes: nothing is written until `commitFiles`. */
export interface PlannedFile {
  /** The path as named (a symlink stays a symlink: `target` is written). */
  file: string;
  /** Where the bytes go: the file itself, or the end of its symlink chain. */
  target: string;
  /** The bytes now (null: the file does not exist). */
  before: string | null;
  after: string;
  /** Mode for the written file; owner kept when the file exists. */
  mode: number;
  owner: { uid: number; gid: number } | null;
}

/** Where writing `file` must land: through a symlink to its target (a dangling link too). */
async function resolveTarget(file: string): Promise<string> {
  let cur = path.resolve(file);
  for (let hops = 0; hops < 40; hops++) {
    let st;
    try {
      st = await lstat(cur);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return cur;
      throw fileError(e, cur, 'read');
    }
    if (!st.isSymbolicLink()) return cur;
    cur = path.resolve(path.dirname(cur), await readlink(cur));
  }
  throw new FileAccessError(`Cannot write ${file}: too many symbolic links.`, file, { hint: `Check where ${file} points (ls -l).` });
}

/** Plans writing `after(before)` to `file`, keeping its mode and owner when it exists. */
export async function planFile(file: string, after: (before: string | null) => string, opts: { privateMode?: boolean } = {}): Promise<PlannedFile> {
  const target = await resolveTarget(file);
  let before: string | null = null;
  let mode: number | undefined;
  let owner: PlannedFile['owner'] = null;
  try {
    before = await readFile(target, 'utf8');
    const st = await stat(target);
    mode = st.mode & 0o777;
    owner = { uid: st.uid, gid: st.gid };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(e, target, 'read');
  }
  // Secrets files stay private: an existing mode is kept unless it lets others read.
  const finalMode = opts.privateMode ? (mode !== undefined && (mode & 0o077) === 0 ? mode : 0o600) : (mode ?? 0o644);
  return { file, target, before, after: after(before), mode: finalMode, owner };
}

/** Plans an env-file update (see `writeEnvFile`), refusing secrets outside `.local` files. */
export async function planEnvFile(file: string, updates: Record<string, string | null>): Promise<PlannedFile & { changes: EnvChange[] }> {
  if (!isLocalFile(file)) {
    const secrets = Object.entries(updates)
      .filter(([k, v]) => v !== null && isSecretKey(k))
      .map(([k]) => k);
    if (secrets.length) {
      throw new UsageError(`Refusing to write ${secrets.join(', ')} to ${path.basename(file)}: secrets belong in .env.local.`, {
        hint: '.env may be committed; put secrets in .env.local (git-ignored, mode 0600).',
      });
    }
  }
  let changes: EnvChange[] = [];
  const plan = await planFile(
    file,
    (before) => {
      const applied = applyEnvUpdates(parseEnvDocument(before ?? ''), updates);
      changes = applied.changes;
      return serializeEnvDocument(applied.doc);
    },
    { privateMode: isLocalFile(file) },
  );
  return { ...plan, changes };
}

const changed = (p: PlannedFile) => p.before === null || p.before !== p.after;

async function writeAtomically(p: PlannedFile, text: string): Promise<void> {
  const tmp = path.join(path.dirname(p.target), `.${path.basename(p.target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', p.mode);
    try {
      await fh.writeFile(text, 'utf8');
      if (p.owner && typeof process.getuid === 'function' && (p.owner.uid !== process.getuid() || p.owner.gid !== process.getgid?.())) {
        // Keep the owner (root editing a user's project); allowed only where the system lets us.
        await fh.chown(p.owner.uid, p.owner.gid).catch(() => undefined);
      }
      await fh.chmod(p.mode);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, p.target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw fileError(e, p.target, 'write');
  }
}

/**
 * Writes every planned file that changes, each atomically (temp file in the same folder, fsync,
 * rename: a crash leaves the old or the new file). All or nothing: when one write fails, the
 * files already written get their old bytes back (or are removed when they were new).
 */
export async function commitFiles(plans: PlannedFile[]): Promise<void> {
  const done: PlannedFile[] = [];
  try {
    for (const p of plans) {
      if (changed(p)) {
        await writeAtomically(p, p.after);
        done.push(p);
      } else if (p.before !== null && (await stat(p.target)).mode % 0o1000 !== p.mode) {
        await chmod(p.target, p.mode);
      }
    }
  } catch (e) {
    for (const p of done.reverse()) {
      try {
        if (p.before === null) await rm(p.target, { force: true });
        else await writeAtomically(p, p.before);
      } catch {
        // Best effort: the first error is the one to report.
      }
    }
    throw e;
  }
}

/**
 * The one env-file writer for a single file. Changes only `updates` keys, keeps every other
 * line, comment (inline ones too), BOM and their order, refuses to put a secret into a
 * non-`.local` file, writes through a symlink, keeps mode and owner, creates `.local` files
 * with mode 0600, and holds the project's env-file lock while it reads and writes.
 */
export async function writeEnvFile(file: string, updates: Record<string, string | null>): Promise<EnvFileReport> {
  return withEnvLock(path.dirname(path.resolve(file)), async () => {
    const plan = await planEnvFile(file, updates);
    await commitFiles([plan]);
    return { file, created: plan.before === null, changes: plan.changes, written: changed(plan) };
  });
}

/** Plans settings into the files they belong in (SETTINGS[key].file): secrets `.env.local`, the rest `.env`. */
export async function planProjectSettings(cwd: string, updates: Partial<Record<SettingName, string | null>>): Promise<Array<PlannedFile & { changes: EnvChange[] }>> {
  const byFile = new Map<string, Record<string, string | null>>();
  for (const [key, value] of Object.entries(updates) as Array<[SettingName, string | null | undefined]>) {
    if (value === undefined) continue;
    const target = SETTINGS[key]?.file;
    if (!target) throw new UsageError(`${key} is not written to env files.`, { hint: 'Set it in the environment instead.' });
    const bucket = byFile.get(target) ?? {};
    bucket[key] = value;
    byFile.set(target, bucket);
  }
  const plans: Array<PlannedFile & { changes: EnvChange[] }> = [];
  // .env.local first: if it fails, no half-configured .env points at it.
  for (const name of ['.env.local', '.env']) {
    const u = byFile.get(name);
    if (u) plans.push(await planEnvFile(path.join(cwd, name), u));
  }
  return plans;
}

export const reportOf = (p: PlannedFile & { changes: EnvChange[] }): EnvFileReport => ({ file: p.file, created: p.before === null, changes: p.changes, written: changed(p) });

/**
 * Writes settings to the files they belong in, all or nothing, under the project's env-file
 * lock. Returns one report per file touched.
 */
export async function writeProjectSettings(cwd: string, updates: Partial<Record<SettingName, string | null>>): Promise<EnvFileReport[]> {
  return withEnvLock(cwd, async () => {
    const plans = await planProjectSettings(cwd, updates);
    await commitFiles(plans);
    return plans.map(reportOf);
  });
}

/** "KEY: old → new" lines for humans; secret values masked. */
export function describeEnvChanges(report: EnvFileReport, values: Record<string, string | null | undefined>): string[] {
  return report.changes
    .filter((c) => c.action !== 'unchanged')
    .map((c) => {
      const v = values[c.key];
      const shown = v == null ? '' : isSecretKey(c.key) ? maskSecret(v) : v;
      return `${c.action} ${c.key}${c.action === 'removed' ? '' : `=${shown}`} in ${path.basename(report.file)}`;
    });
}
