import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { stripProjectEnv } from './helpers/hermetic.js';

// Tests must never depend on the developer's shell: no colours, no CI-specific behaviour.
delete process.env.FORCE_COLOR;
process.env.NO_COLOR = '1';
// Nor on the project settings it exports (VAPI_*, SUPABASE_*, NGROK_*, WEBHOOK_URL…): a CLI
// spawned with process.env, or a Context built without an env, sees none of them.
stripProjectEnv(process.env);

// Every temp folder this test file creates (mkdtemp under os.tmpdir(), embedded stores, logs)
// lands in a folder of its own, removed after the file (registered first, so it runs last).
const base = process.env.VOXCTL_TEST_RUN_DIR ?? os.tmpdir();
const fileTmp = mkdtempSync(path.join(base, 'file-'));
process.env.TMPDIR = process.env.TMP = process.env.TEMP = fileTmp;
afterAll(() => {
  rmSync(fileTmp, { recursive: true, force: true });
});
