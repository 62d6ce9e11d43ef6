/**
 * One temp folder per test run (`<tmp>/voxctl-test-run-*`): every test file gets its own
 * folder inside it as TMPDIR (tests/setup.ts), removed after the file. At the end of the run
 * the run folder must be empty — a leftover means a file's cleanup did not run or something
 * wrote after it — and it is removed either way, so a run leaves no `voxctl-*` folders behind.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const saved = { TMPDIR: process.env.TMPDIR, TMP: process.env.TMP, TEMP: process.env.TEMP };
  const runDir = mkdtempSync(path.join(os.tmpdir(), 'voxctl-test-run-'));
  // Workers inherit this; os.tmpdir() reads TMPDIR on every call.
  process.env.TMPDIR = process.env.TMP = process.env.TEMP = runDir;
  process.env.VOXCTL_TEST_RUN_DIR = runDir;
  return () => {
    let left: string[] = [];
    try {
      left = readdirSync(runDir);
    } catch {
      left = [];
    }
    rmSync(runDir, { recursive: true, force: true });
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (left.length) {
      // vitest reports an error thrown here but still exits 0: set the exit code as well.
      process.exitCode = 1;
      throw new Error(`The test run left ${left.length} temp folder(s) in ${runDir} (now removed): ${left.slice(0, 10).join(', ')}. Remove what a test creates in afterEach/afterAll.`);
    }
  };
}
