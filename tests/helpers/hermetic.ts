/**
 * What keeps a test independent of the developer's project and shell: the CLI never runs in
 * the repository (where a user's `.env.local` or a running receiver's `.voxctl/receiver.json`
 * may sit), and the project settings of the developer's shell never reach a test.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The voxctl repository (or worktree) the tests run from. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Project settings a developer's shell may export (and voxctl would read). */
export const PROJECT_ENV = /^(VAPI_|SUPABASE_|NGROK_)|^(WEBHOOK_URL|BACKEND_URL|VOXCTL_DATA_DIR|VOXCTL_NO_PROMPT)$/;

/** Removes every project setting from `env` (in place); returns the names removed. */
export function stripProjectEnv(env: Record<string, string | undefined>): string[] {
  const removed = Object.keys(env).filter((k) => PROJECT_ENV.test(k));
  for (const k of removed) delete env[k];
  return removed;
}

const inside = (dir: string, root: string) => {
  const rel = path.relative(root, path.resolve(dir));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

/** Throws when `dir` is the repository or a folder inside it. */
export function assertOutsideRepo(dir: string): void {
  if (inside(dir, REPO_ROOT)) {
    throw new Error(`Tests must not run the CLI in the repository (${dir}): its .env.local or .voxctl/ would change the result. Use a temp folder.`);
  }
}

const testDirs = new Map<string, string>();

/**
 * The folder of the current test (one per test name, under the per-file TMPDIR that
 * tests/setup.ts removes after the file): every call of one test shares it, no two tests do.
 */
export function testDir(testName: string | undefined): string {
  const key = testName ?? '(outside a test)';
  let dir = testDirs.get(key);
  if (!dir) {
    dir = mkdtempSync(path.join(os.tmpdir(), 'voxctl-cli-'));
    testDirs.set(key, dir);
  }
  return dir;
}
