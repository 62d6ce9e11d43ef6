import { randomBytes } from 'node:crypto';
import { chmod, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { SETTINGS, type SettingName } from '../config/env.js';
import { UsageError } from '../errors.js';
import { maskSecret } from '../util/mask.js';
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

/**
 * The one env-file writer. Changes only `updates` keys, keeps every other line, comment and
 * their order, refuses to put a secret into a non-`.local` file, writes atomically (temp file
 * in the same folder, fsync, rename: a crash leaves the old or the new file) and creates
 * `.local` files with mode 0600.
 */
export async function writeEnvFile(file: string, updates: Record<string, string | null>): Promise<EnvFileReport> {
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
  let before = '';
  let mode: number | undefined;
  let created = false;
  try {
    before = await readFile(file, 'utf8');
    mode = (await stat(file)).mode & 0o777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UsageError(`Cannot read ${file}: ${(e as Error).message}`, { hint: 'Check the file permissions.' });
    }
    created = true;
  }
  const { doc, changes } = applyEnvUpdates(parseEnvDocument(before), updates);
  const after = serializeEnvDocument(doc);
  const targetMode = isLocalFile(file) ? 0o600 : (mode ?? 0o644);
  if (after === before && !created) {
    if (isLocalFile(file) && mode !== undefined && (mode & 0o077) !== 0) await chmod(file, 0o600);
    return { file, created: false, changes, written: false };
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', targetMode);
    try {
      await fh.writeFile(after, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, targetMode);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new UsageError(`Cannot write ${file}: ${(e as Error).message}`, { hint: 'Check that the folder is writable.' });
  }
  return { file, created, changes, written: true };
}

/**
 * Writes settings to the files they belong in (SETTINGS[key].file): secrets to `.env.local`,
 * the rest to `.env`. Returns one report per file touched.
 */
export async function writeProjectSettings(cwd: string, updates: Partial<Record<SettingName, string | null>>): Promise<EnvFileReport[]> {
  const byFile = new Map<string, Record<string, string | null>>();
  for (const [key, value] of Object.entries(updates) as Array<[SettingName, string | null | undefined]>) {
    if (value === undefined) continue;
    const target = SETTINGS[key]?.file;
    if (!target) throw new UsageError(`${key} is not written to env files.`, { hint: 'Set it in the environment instead.' });
    const bucket = byFile.get(target) ?? {};
    bucket[key] = value;
    byFile.set(target, bucket);
  }
  const reports: EnvFileReport[] = [];
  // .env.local first: if it fails, no half-configured .env points at it.
  for (const name of ['.env.local', '.env']) {
    const u = byFile.get(name);
    if (u) reports.push(await writeEnvFile(path.join(cwd, name), u));
  }
  return reports;
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
