import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { request } from '../helpers/http.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');

/** Spawns the built CLI; `lines` fills as NDJSON arrives on stdout. */
function start(args: string[], cwd: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', CI: '1', ...env } });
  const lines: Array<Record<string, unknown>> = [];
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    const parts = stdout.split('\n');
    stdout = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = async (pred: () => boolean, ms: number) => {
    const until = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > until) throw new Error(`timed out; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return { child, lines, exited, waitFor, stderr: () => stderr };
}

describe('tunnel up as a real process', () => {
  it('serves, logs, and exits 0 on SIGINT', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-e2e-tunnel-'));
    const p = start(['tunnel', 'up', '--no-tunnel', '--port', '0', '--json'], dir);
    await p.waitFor(() => p.lines.length > 0, 60_000);
    const ready = p.lines[0]!;
    expect(ready).toMatchObject({ event: 'ready', publicUrl: null, webhookUrl: null });
    const res = await request(`${ready.localUrl as string}/api/vapi/tools`, { body: { message: { type: 'status-update', status: 'ringing' } }, keepAlive: false });
    expect(res.status).toBe(200);
    await p.waitFor(() => p.lines.length > 1, 10_000);
    expect(p.lines[1]).toMatchObject({ event: 'request', status: 200, type: 'status-update', orgId: null });
    p.child.kill('SIGINT');
    const started = Date.now();
    expect(await p.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(p.lines.at(-1)).toEqual({ event: 'stopped', signal: 'SIGINT' });
    expect(p.stderr()).toContain('VAPI_WEBHOOK_SECRET is not set');
    const log = await readFile(path.join(dir, '.voxctl', 'events.ndjson'), 'utf8');
    expect(JSON.parse(log.trim())).toMatchObject({ type: 'status-update', status: 200 });
  }, 90_000);

  it('exits 1 with a fix when ngrok cannot be reached, writing no env file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-e2e-tunnel-'));
    const p = start(['tunnel', 'up', '--port', '0'], dir, { NGROK_AUTHTOKEN: 'offline-token-0123456789' });
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/Could not reach ngrok/);
    expect(p.stderr()).not.toContain('offline-token-0123456789');
    await expect(readFile(path.join(dir, '.env'), 'utf8')).rejects.toThrow();
  }, 90_000);
});
