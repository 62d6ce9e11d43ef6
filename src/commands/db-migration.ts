/**
 * `voxctl db schema --migration [dir]`: the schema as a Supabase CLI migration file
 * (`<dir>/<YYYYMMDDHHMMSS>_voxctl.sql`, dir default `supabase/migrations` in the project), which
 * `supabase db push` applies. Each file says which schema version it holds on its first line;
 * when the newest voxctl file in the dir holds an older version, the next one is written as a
 * further migration (`…_voxctl_v<N>.sql`) — the schema SQL is idempotent and upgrades any older
 * version in place, so the whole schema is the migration. Nothing is written when the dir is up
 * to date, and an existing file is never overwritten.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConflictError, UsageError } from '../errors.js';
import { ensureWritableDir, fileError } from '../util/fs-errors.js';

export const DEFAULT_MIGRATIONS_DIR = path.join('supabase', 'migrations');

const VOXCTL_FILE = /^(\d{14})_voxctl(?:_v\d+)?\.sql$/;
const MIGRATION_FILE = /^(\d+)_.*\.sql$/;
const HEADER = /^-- voxctl schema version (\d+)\b/;

export interface MigrationPlan {
  /** Absolute path of the file to write, or null when the dir already holds this version. */
  path: string | null;
  version: number;
  /** The newest voxctl migration found and the version it holds. */
  existing: { path: string; version: number } | null;
}

/** Supabase's migration version: the UTC time as YYYYMMDDHHMMSS. */
function stamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** The version one second after `prev` (the clock may be behind the newest file); +1 when `prev` is no timestamp. */
function after(prev: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(prev);
  const t = m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
  return Number.isNaN(t) ? String(BigInt(prev) + 1n) : stamp(new Date(t + 1000));
}

export async function planMigration(dir: string, version: number, now: Date): Promise<MigrationPlan> {
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch (e) {
    // A folder voxctl cannot read (a file in its place included) is exit 1 naming the path (contract).
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(e, dir, 'read the folder', 'Pass the migrations folder, e.g. supabase/migrations.');
  }
  // The newest voxctl file (by migration version) tells which schema version the project has.
  let existing: MigrationPlan['existing'] = null;
  for (const name of names.filter((n) => VOXCTL_FILE.test(n)).sort()) {
    const file = path.join(dir, name);
    const first = (await readFile(file, 'utf8').catch((e: unknown) => Promise.reject(fileError(e, file, 'read')))).split('\n', 1)[0] ?? '';
    const v = HEADER.exec(first);
    if (!v) {
      throw new UsageError(`${path.join(dir, name)} does not start with "-- voxctl schema version N"; cannot tell which schema version it holds.`, {
        hint: 'Restore its first line (voxctl writes it), or move the file out of the migrations dir.',
      });
    }
    existing = { path: path.join(dir, name), version: Number(v[1]) };
  }
  if (existing && existing.version >= version) return { path: null, version, existing };

  const latest = names
    .map((n) => MIGRATION_FILE.exec(n)?.[1])
    .filter((x): x is string => !!x)
    .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0))
    .at(-1);
  let ts = stamp(now);
  // `supabase db push` applies files in version order: the new one must come after every other.
  if (latest && BigInt(ts) <= BigInt(latest)) ts = after(latest);
  const name = existing ? `${ts}_voxctl_v${version}.sql` : `${ts}_voxctl.sql`;
  return { path: path.join(dir, name), version, existing };
}

export function migrationSql(sql: string, version: number, existing: MigrationPlan['existing']): string {
  const from = existing ? ` Upgrades version ${existing.version} (${path.basename(existing.path)}) in place.` : '';
  return `-- voxctl schema version ${version}, as a Supabase migration: apply it with \`supabase db push\`.${from}\n-- Written by \`voxctl db schema --migration\`; do not edit (write the next version with the same command).\n\n${sql.endsWith('\n') ? sql : `${sql}\n`}`;
}

/** Writes the file; refuses (ConflictError, nothing written) when it exists. */
export async function writeMigration(file: string, text: string): Promise<void> {
  // Not mkdir({recursive}): it spins forever where a parent answers ENOENT (`/proc/nope`).
  ensureWritableDir(path.dirname(file));
  try {
    await writeFile(file, text, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new ConflictError(`${file} already exists; voxctl does not overwrite migration files.`, {
        hint: 'Run the command again in a second (the file name carries the time), or move that file away.',
      });
    }
    throw fileError(e, file, 'write the migration');
  }
}
