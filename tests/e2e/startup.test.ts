/**
 * What the built bin loads for `orgs list` (start-up speed: bench/startup.bench.mjs): a resolve
 * hook, registered with --import, records every module the process resolves. On an existing
 * embedded store with no setting set, the list path loads neither zod nor any other command's
 * module nor the terminal libraries; with a setting set, the settings are still validated.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../src/config/env.js';
import { createContext } from '../../src/context.js';
import { bufferIo } from '../../src/ui/io.js';

const exec = promisify(execFile);
const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');

let dir: string;
let hook: string;
let loaded: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-startup-'));
  loaded = path.join(dir, 'loaded.txt');
  hook = path.join(dir, 'record-resolves.mjs');
  // module.registerHooks (Node ≥ 22.15) runs in the thread; module.register (Node 20) in a worker.
  await writeFile(
    hook,
    `import module from 'node:module';
import { appendFileSync } from 'node:fs';
const out = ${JSON.stringify(loaded)};
if (module.registerHooks) {
  module.registerHooks({ resolve(spec, ctx, next) { const r = next(spec, ctx); appendFileSync(out, r.url + '\\n'); return r; } });
} else {
  const src = 'import { appendFileSync } from "node:fs"; export async function resolve(spec, ctx, next) { const r = await next(spec, ctx); appendFileSync(' + JSON.stringify(out) + ', r.url + "\\\\n"); return r; }';
  module.register('data:text/javascript,' + encodeURIComponent(src));
}
`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function voxctl(args: string[], cwd: string) {
  await rm(loaded, { force: true });
  try {
    const r = await exec(process.execPath, ['--import', pathToFileURL(hook).href, BIN, ...args], { cwd, env: { PATH: process.env.PATH, NO_COLOR: '1', CI: '1' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr, loaded: (await readFile(loaded, 'utf8')).split('\n').filter(Boolean) };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr, loaded: (await readFile(loaded, 'utf8').catch(() => '')).split('\n').filter(Boolean) };
  }
}

describe('orgs list --json on an existing store', () => {
  let project: string;
  beforeAll(async () => {
    project = await mkdtemp(path.join(dir, 'project-'));
    const add = await voxctl(['orgs', 'add', '--name', 'Alpha Dental', '--json'], project);
    expect(add.code, add.stderr).toBe(0);
    // The hook sees what an ordinary command loads: zod among it.
    expect(add.loaded.some((u) => u.includes('/node_modules/zod/'))).toBe(true);
  }, 60_000);

  it('loads neither zod nor any other command, nor the terminal libraries', async () => {
    const r = await voxctl(['orgs', 'list', '--json'], project);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, orgs: [{ id: expect.any(String), name: 'Alpha Dental', timezone: 'UTC' }] });
    expect(r.loaded.some((u) => u.endsWith('/dist/commands/orgs-list.js'))).toBe(true);
    const heavy = r.loaded.filter((u) => /\/node_modules\/(zod|chalk|ora|@inquirer|@supabase|axios|@ngrok)\/|\/dist\/(commands\/(?!orgs-list|issue-message)|vapi\/|receiver\/|sync\/)/.test(u));
    expect(heavy).toEqual([]);
  }, 60_000);

  it('still validates the settings when one is set', async () => {
    await writeFile(path.join(project, '.env'), 'WEBHOOK_URL=not a url\n');
    const r = await voxctl(['orgs', 'list', '--json'], project);
    await rm(path.join(project, '.env'));
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('WEBHOOK_URL (from .env) must be an http(s) URL') } });
  }, 60_000);
});

it('the settings without a setting set are what the zod schema gives for them', async () => {
  const project = await mkdtemp(path.join(dir, 'bare-'));
  const ctx = createContext({ io: bufferIo(), env: { VAPI_BASE_URL: '  ' }, cwd: project });
  await ctx.prepare({ lazySettings: true });
  expect(ctx.settings()).toEqual(parseSettings({ VAPI_BASE_URL: '  ' }));
  expect(ctx.settings()).toEqual(parseSettings({}));
  await ctx.dispose();
});
