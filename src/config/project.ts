/**
 * Which folder is the project, found the way git finds its repository: from the working
 * directory upward, the nearest folder that holds the project's env files (`.env`,
 * `.env.local`, `.env.<NODE_ENV>`, `.env.<NODE_ENV>.local`) or its data dir (`.voxctl/`).
 * The search stops (and the working directory itself is the project, as for a new one):
 * - at the top of the git repository the working directory is in (a project never spans
 *   repositories; the top itself is still a candidate);
 * - below the home directory ($HOME is where personal `.env` files live, not a project —
 *   unless voxctl runs in $HOME itself);
 * - at `ceiling` (tests), and at the filesystem root.
 * `--cwd` bypasses the search: the folder given is the project.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

export interface ProjectLookup {
  /** NODE_ENV, which names two of the env files. */
  nodeEnv?: string | undefined;
  /** The home directory (never searched from below). */
  home?: string | undefined;
  /** The search does not go above this folder. */
  ceiling?: string | undefined;
}

/** The file names that mark a project folder. */
export function projectMarkers(nodeEnv?: string): string[] {
  const files = ['.env', '.env.local'];
  if (nodeEnv) files.push(`.env.${nodeEnv}`, `.env.${nodeEnv}.local`);
  return files;
}

function isProjectDir(dir: string, files: string[]): boolean {
  if (files.some((f) => existsSync(path.join(dir, f)))) return true;
  try {
    return statSync(path.join(dir, '.voxctl')).isDirectory();
  } catch {
    return false;
  }
}

/** The project folder for a command started in `start` (absolute). */
export function findProjectDir(start: string, opts: ProjectLookup = {}): string {
  const from = path.resolve(start);
  const files = projectMarkers(opts.nodeEnv);
  const home = opts.home ? path.resolve(opts.home) : undefined;
  const ceiling = opts.ceiling ? path.resolve(opts.ceiling) : undefined;
  // Bounded by the depth of the path: every step goes one folder up.
  for (let dir = from; ; ) {
    if (isProjectDir(dir, files)) return dir;
    if (existsSync(path.join(dir, '.git'))) return from;
    if (dir === ceiling) return from;
    const parent = path.dirname(dir);
    if (parent === dir || parent === home) return from;
    dir = parent;
  }
}
