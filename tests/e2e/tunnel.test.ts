import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { within } from '../helpers/events.js';
import { request } from '../helpers/http.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');

/** Spawns the built CLI; `lines` fills as NDJSON arrives on stdout, `line(n)` awaits the n-th (0-based). */
function start(args: string[], cwd: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', CI: '1', ...env } });
  const lines: Array<Record<string, unknown>> = [];
  const arrived = new EventEmitter();
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    const parts = stdout.split('\n');
    stdout = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
    arrived.emit('line');
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const line = (n: number, ms: number) =>
    within(
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const look = () => {
          if (lines.length <= n) return;
          arrived.off('line', look);
          resolve(lines[n]!);
        };
        arrived.on('line', look);
        look();
        void exited.then((code) => reject(new Error(`exited ${code} before stdout line ${n + 1}; stderr: ${stderr}`)));
      }),
      ms,
      () => `stdout line ${n + 1}; stderr: ${stderr}`,
    );
  return { child, lines, exited, line, stderr: () => stderr };
}

describe('tunnel up as a real process', () => {
  it('serves, logs, and exits 0 on SIGINT', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-e2e-tunnel-'));
    const p = start(['tunnel', 'up', '--no-tunnel', '--port', '0', '--json'], dir);
    const ready = await p.line(0, 60_000);
    expect(ready).toMatchObject({ event: 'ready', publicUrl: null, webhookUrl: null });
    const res = await request(`${ready.localUrl as string}/api/vapi/tools`, { body: { message: { type: 'status-update', status: 'ringing' } }, keepAlive: false });
    expect(res.status).toBe(200);
    expect(await p.line(1, 30_000)).toMatchObject({ event: 'request', status: 200, type: 'status-update', orgId: null });
    p.child.kill('SIGINT');
    // Awaited; the bound only fails a process that never exits.
    expect(await within(p.exited, 30_000, 'exit after SIGINT')).toBe(0);
    expect(p.lines.at(-1)).toEqual({ event: 'stopped', signal: 'SIGINT' });
    expect(p.stderr()).toContain('VAPI_WEBHOOK_SECRET is not set');
    const log = await readFile(path.join(dir, '.voxctl', 'events.ndjson'), 'utf8');
    expect(JSON.parse(log.trim())).toMatchObject({ type: 'status-update', status: 200 });
  }, 90_000);

  it('exits 1 with a fix when ngrok cannot be reached, writing no env file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-e2e-tunnel-'));
    const p = start(['tunnel', 'up', '--port', '0'], dir, { NGROK_AUTHTOKEN: 'offline-token-0123456789', VOXCTL_NGROK_SERVER_ADDR: '127.0.0.1:1' });
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/Could not reach ngrok/);
    expect(p.stderr()).not.toContain('offline-token-0123456789');
    await expect(readFile(path.join(dir, '.env'), 'utf8')).rejects.toThrow();
  }, 90_000);
});
