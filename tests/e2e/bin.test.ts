import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');

/** Runs the built CLI as a user would (npm test builds dist/ first). */
async function voxctl(args: string[], cwd: string) {
  try {
    const r = await exec(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH, NO_COLOR: '1', CI: '1' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('the built bin', () => {
  it('shows help and exit codes', async () => {
    const r = await voxctl(['--help'], os.tmpdir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: voxctl/);
    expect(r.stdout).toMatch(/130\s+interrupted/);
  });

  it('adds an org to a fresh embedded store with no account and no network, and reads it back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-e2e-'));
    const add = await voxctl(['orgs', 'add', '--name', 'Demo', '--json'], dir);
    expect(add.code).toBe(0);
    const doc = JSON.parse(add.stdout) as { ok: boolean; org: { id: string; name: string; timezone: string } };
    expect(doc).toEqual({ ok: true, org: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Demo', timezone: 'UTC' } });
    const list = await voxctl(['orgs', 'list', '--json'], dir);
    expect(JSON.parse(list.stdout)).toEqual({ ok: true, orgs: [doc.org] });
  }, 60_000);

  it('books an appointment on a fresh clone with `webhook test bookClinicAppointment --local` (no account, no network)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-e2e-'));
    try {
      const r = await voxctl(['webhook', 'test', 'bookClinicAppointment', '--local'], dir);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/✓ bookClinicAppointment answered \(HTTP 200, \d+ ms\)/);
      expect(r.stdout).toMatch(/result: “Booked: Jordan Test is confirmed for 10 AM on \w+day, /);
      expect(r.stderr).toContain('created the demo org "Demo Clinic"');
      const logs = await voxctl(['webhook', 'logs', '--json'], dir);
      expect(JSON.parse(logs.stdout)).toMatchObject({ ok: true, events: [{ status: 200, tools: ['bookClinicAppointment'] }] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
