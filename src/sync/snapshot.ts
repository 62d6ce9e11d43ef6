/**
 * Snapshots of what a sync is about to change, saved under `<data dir>/snapshots/` BEFORE the
 * first write, so `voxctl assistants restore` can put the previous values back. A snapshot holds
 * header values (possibly an old webhook secret), so it is written with mode 0600, atomically.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
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

/** Writes the snapshot and returns its path, e.g. `.voxctl/snapshots/sync-2025-06-01T12-00-00-000Z.json`. */
export async function saveSnapshot(dataDir: string, snapshot: Snapshot): Promise<string> {
  const dir = snapshotsDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stamp = snapshot.createdAt.replace(/[:.]/g, '-');
  let file = path.join(dir, `sync-${stamp}.json`);
  for (let n = 2; await exists(file); n++) file = path.join(dir, `sync-${stamp}-${n}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(snapshot, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
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

export async function loadSnapshot(file: string): Promise<Snapshot> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`Cannot read snapshot ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}.`, {
      hint: 'Pass a file from the snapshots/ folder of your data dir (VOXCTL_DATA_DIR, default .voxctl/).',
    });
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
  return res.data as Snapshot;
}
