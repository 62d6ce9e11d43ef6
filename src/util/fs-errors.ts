/**
 * Filesystem failures as user errors: a file or folder voxctl cannot read or write is exit 1
 * naming the path and what the system refused (contract: "Exit codes"), never "Unexpected
 * error … bug" or a usage error. Shared by every write point (data dir, event log, snapshots,
 * env files) so the wording is one.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { isVoxError, VoxError } from '../errors.js';

/** A path voxctl cannot read, create or write. Exit 1. */
export class FileAccessError extends VoxError {
  readonly path: string;
  constructor(message: string, file: string, options: { hint?: string; cause?: unknown } = {}) {
    super('file_access', 1, message, { ...options, details: { path: file } });
    this.path = file;
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  ENOENT: 'no such file or folder',
  EEXIST: 'it already exists',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the path is too long',
};

const FS_CODES = new Set(Object.keys(REASONS));

/** True for the errno errors `fileError` turns into a clear message. */
export function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && FS_CODES.has((e as NodeJS.ErrnoException).code!);
}

/**
 * `e` (from fs) as a FileAccessError naming `file`, what voxctl was doing and the system's
 * reason; errors that are not filesystem errors (or already voxctl's) are returned unchanged.
 */
export function fileError(e: unknown, file: string, doing: string, hint?: string): unknown {
  if (isVoxError(e) || !isFsError(e)) return e;
  const code = e.code!;
  // The caller's path, not e.path: that may be a temp file the user never named.
  const target = file;
  const reason = REASONS[code] ?? code;
  const fix =
    hint ??
    (code === 'EACCES' || code === 'EPERM'
      ? `Make ${target} writable for this user (e.g. \`chmod u+w\`), or point VOXCTL_DATA_DIR / --cwd at a folder you own.`
      : code === 'EROFS'
        ? 'Point VOXCTL_DATA_DIR / --cwd at a writable folder.'
        : code === 'ENOSPC' || code === 'EDQUOT'
          ? 'Free some space, or point VOXCTL_DATA_DIR at another disk.'
          : `Check the path ${target}.`);
  return new FileAccessError(`Cannot ${doing} ${target}: ${reason} (${code}).`, target, { hint: fix, cause: e });
}

/**
 * Creates `dir` (and missing parents) and checks that it is a writable folder, failing fast with a
 * FileAccessError. Walks up by itself: Node's recursive mkdir spins forever where the kernel
 * answers ENOENT for a parent that exists (`/proc/nope`).
 */
export function ensureWritableDir(dir: string, mode?: number): string {
  const full = path.resolve(dir);
  const missing: string[] = [];
  let cur = full;
  for (;;) {
    let st;
    try {
      st = statSync(cur);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw fileError(e, cur, 'use the folder');
      const parent = path.dirname(cur);
      if (parent === cur) throw fileError(e, cur, 'use the folder');
      missing.unshift(cur);
      cur = parent;
      continue;
    }
    if (!st.isDirectory()) {
      throw new FileAccessError(`Cannot create the folder ${full}: ${cur} is a file, not a folder.`, cur, { hint: `Remove or rename ${cur}, or choose another path.` });
    }
    break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d, mode === undefined ? undefined : { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(e, d, 'create the folder');
    }
  }
  try {
    accessSync(full, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw fileError(e, full, 'write in the folder');
  }
  return full;
}
