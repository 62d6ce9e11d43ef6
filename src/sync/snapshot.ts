/**
 * Snapshots of what a sync is about to change, saved under `<data dir>/snapshots/` BEFORE the
 * first write, so `voxctl assistants restore` can put the previous values back. Secrets stay in
 * `.env.local`: a value equal to a configured secret (the `X-Vapi-Secret` header) is stored as a
 * reference `{"$env":"VAPI_WEBHOOK_SECRET"}` that restore resolves from the environment. Other
 * header values (an old, rotated secret) remain, so the file is still written 0600, atomically.
 */
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { ensureWritableDir, fileError } from '../util/fs-errors.js';
import type { WriteResource } from './plan.js';

export interface SnapshotEntry {
  resource: WriteResource;
  id: string;
  orgId: string;
  /** Values of the written keys before the sync (null: the key was absent). */
  previous: Record<string, unknown>;
  /** The values the sync wrote. */
  written: Record<string, unknown>;
}

export interface Snapshot {
  version: 1;
  createdAt: string;
  webhookUrl: string;
  entries: SnapshotEntry[];
}

const snapshotSchema = z.object({
  version: z.literal(1),
  createdAt: z.string(),
  webhookUrl: z.string(),
  entries: z.array(
    z.object({
      resource: z.enum(['assistant', 'tool', 'phoneNumber']),
      id: z.string().min(1),
      orgId: z.string(),
      previous: z.record(z.string(), z.unknown()),
      written: z.record(z.string(), z.unknown()),
    }),
  ),
});

export const snapshotsDir = (dataDir: string) => path.join(dataDir, 'snapshots');

/** A reference to an environment variable, stored in place of a secret's value. */
export const ENV_REF = '$env';
type Secrets = Record<string, string | undefined>;

const isRef = (v: unknown): v is { [ENV_REF]: string } =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && typeof (v as Record<string, unknown>)[ENV_REF] === 'string';

function mapDeep(v: unknown, fn: (v: unknown) => unknown): unknown {
  const mapped = fn(v);
  if (mapped !== v) return mapped;
  if (Array.isArray(v)) return v.map((x) => mapDeep(x, fn));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapDeep(x, fn)]));
  return v;
}

/** `value` with every string equal to a configured secret replaced by a reference to its variable. */
export function referSecrets<T>(value: T, secrets: Secrets): T {
  const byValue = new Map<string, string>();
  for (const [name, v] of Object.entries(secrets)) if (v && v.length >= 8 && !byValue.has(v)) byValue.set(v, name);
  if (byValue.size === 0) return value;
  return mapDeep(value, (v) => (typeof v === 'string' && byValue.has(v) ? { [ENV_REF]: byValue.get(v)! } : v)) as T;
}

/** `value` with every reference resolved from `env`; a variable that is not set is a clear error. */
export function resolveSecrets<T>(value: T, env: Secrets, file: string): T {
  return mapDeep(value, (v) => {
    if (!isRef(v)) return v;
    const name = v[ENV_REF];
    const resolved = env[name];
    if (!resolved) {
      throw new UsageError(`Snapshot ${file} refers to ${name}, which is not set.`, {
        hint: `Set ${name} in .env.local (or the environment) to the value it had at the sync, then run the restore again.`,
      });
    }
    return resolved;
  }) as T;
}

/**
 * Writes the snapshot and returns its path, e.g. `.voxctl/snapshots/sync-2025-06-01T12-00-00-000Z.json`.
 * Values equal to one of `secrets` (name → value) are stored as references.
 */
export async function saveSnapshot(dataDir: string, snapshot: Snapshot, secrets: Secrets = {}): Promise<string> {
  const dir = snapshotsDir(dataDir);
  // Not mkdir({recursive}): it spins forever where a parent answers ENOENT (`/proc/nope`).
  ensureWritableDir(dir, 0o700);
  const stamp = snapshot.createdAt.replace(/[:.]/g, '-');
  let file = path.join(dir, `sync-${stamp}.json`);
  for (let n = 2; await exists(file); n++) file = path.join(dir, `sync-${stamp}-${n}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify(referSecrets(snapshot, secrets), null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw fileError(e, file, 'write the snapshot');
  }
  return file;
}

async function exists(file: string): Promise<boolean> {
  try {
    await readFile(file);
    return true;
  } catch {
    return false;
  }
}

/** The newest snapshot in the data dir, or null. */
export async function latestSnapshot(dataDir: string): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir(snapshotsDir(dataDir));
  } catch {
    return null;
  }
  const files = names.filter((n) => /^sync-.*\.json$/.test(n)).sort();
  return files.length ? path.join(snapshotsDir(dataDir), files[files.length - 1]!) : null;
}

/** Reads and checks a snapshot; references to secrets are resolved from `env`. */
export async function loadSnapshot(file: string, env: Secrets = {}): Promise<Snapshot> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    // A file voxctl cannot read is exit 1 naming it (contract: "Exit codes"), not a usage error.
    throw fileError(e, file, 'read the snapshot', 'Pass a file from the snapshots/ folder of your data dir (VOXCTL_DATA_DIR, default .voxctl/).');
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`Snapshot ${file} is not valid JSON.`, { hint: 'Pass a snapshot written by `voxctl assistants sync`.' });
  }
  const res = snapshotSchema.safeParse(data);
  if (!res.success) {
    throw new UsageError(`Snapshot ${file} is not a voxctl sync snapshot (${res.error.issues[0]?.message ?? 'bad shape'}).`, {
      hint: 'Pass a snapshot written by `voxctl assistants sync`.',
    });
  }
  return resolveSecrets(res.data as Snapshot, env, file);
}
