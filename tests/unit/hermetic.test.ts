/**
 * The suite cannot depend on the folder it runs in: a developer's `.env.local` and a running
 * receiver's `.voxctl/receiver.json` in the repository, or project settings exported in their
 * shell, never reach a test.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ENV, REPO_ROOT, stripProjectEnv } from '../helpers/hermetic.js';
import { runCli } from '../helpers/run-cli.js';

describe('the test harness', () => {
  it('refuses to run the CLI in the repository or a folder inside it', async () => {
    await expect(runCli(['orgs', 'list'], { cwd: REPO_ROOT })).rejects.toThrow(/must not run the CLI in the repository/);
    await expect(runCli(['orgs', 'list'], { cwd: path.join(REPO_ROOT, 'templates') })).rejects.toThrow(/must not run the CLI in the repository/);
  });

  it("runs the CLI in the test's own temp folder, outside the repository, shared by the test's calls", async () => {
    const a = await runCli(['--version']);
    const b = await runCli(['--version']);
    expect(a.cwd).toBe(b.cwd);
    expect(existsSync(a.cwd)).toBe(true);
    expect(path.relative(REPO_ROOT, a.cwd).startsWith('..')).toBe(true);
    seen.push(a.cwd);
  });

  it('gives another test another folder', async () => {
    const r = await runCli(['--version']);
    expect(seen).toHaveLength(1);
    expect(r.cwd).not.toBe(seen[0]);
  });

  it("does not look for the project above the test's folder: a .env.local and a running receiver's receiver.json above do not count", async () => {
    const { cwd } = await runCli(['--version']);
    const parent = path.dirname(cwd);
    const above = path.join(parent, '.env.local');
    await writeFile(above, 'WEBHOOK_URL=https://above.example.com/api/vapi/tools\n');
    await mkdir(path.join(parent, '.voxctl'));
    // A live process (the test runner's parent) "serving" the folder above.
    const state = { pid: process.ppid, since: new Date().toISOString(), localUrl: 'http://127.0.0.1:9', publicUrl: null, webhookUrl: null, store: 'x' };
    await writeFile(path.join(parent, '.voxctl', 'receiver.json'), JSON.stringify(state));
    try {
      // Neither WEBHOOK_URL nor the receiver is found: a dry run has no URL.
      const dry = await runCli(['webhook', 'test', 'bookClinicAppointment', '--assistant-id', 'asst-1', '--dry-run', '--json']);
      expect(dry.exitCode, dry.stderr).toBe(0);
      expect(dry.json<{ url: string | null }>().url).toBeNull();
      const r = await runCli(['doctor', '--json']);
      const check = r.json<{ checks: Array<{ id: string; message: string }> }>().checks.find((c) => c.id === 'webhook-url')!;
      expect(check.message).toBe('WEBHOOK_URL is not set');
      // The first write creates the store in the test's folder, not in the folder above.
      expect((await runCli(['orgs', 'add', '--name', 'Here'])).exitCode).toBe(0);
      expect(existsSync(path.join(cwd, '.voxctl', 'store.db'))).toBe(true);
      expect(existsSync(path.join(parent, '.voxctl', 'store.db'))).toBe(false);
    } finally {
      await rm(above, { force: true });
      await rm(path.join(parent, '.voxctl'), { recursive: true, force: true });
    }
  });
});

const seen: string[] = [];

describe('the environment of a test', () => {
  it("has none of the developer's project settings (tests/setup.ts strips them)", () => {
    expect(Object.keys(process.env).filter((k) => PROJECT_ENV.test(k))).toEqual([]);
  });

  it('strips VAPI_*, SUPABASE_*, NGROK_*, WEBHOOK_URL, BACKEND_URL and VOXCTL_DATA_DIR, keeping the rest', () => {
    const env: Record<string, string> = {
      VAPI_PRIVATE_KEY: 'k',
      VAPI_WEBHOOK_SECRET: 's',
      SUPABASE_URL: 'u',
      SUPABASE_SERVICE_ROLE_KEY: 'r',
      NGROK_AUTHTOKEN: 't',
      WEBHOOK_URL: 'w',
      BACKEND_URL: 'b',
      VOXCTL_DATA_DIR: 'd',
      PATH: '/bin',
      VOXCTL_TEST_RUN_DIR: '/tmp/run',
      HOME: '/home/x',
    };
    expect(stripProjectEnv(env).sort()).toEqual(['BACKEND_URL', 'NGROK_AUTHTOKEN', 'SUPABASE_SERVICE_ROLE_KEY', 'SUPABASE_URL', 'VAPI_PRIVATE_KEY', 'VAPI_WEBHOOK_SECRET', 'VOXCTL_DATA_DIR', 'WEBHOOK_URL']);
    expect(env).toEqual({ PATH: '/bin', VOXCTL_TEST_RUN_DIR: '/tmp/run', HOME: '/home/x' });
  });
});
