import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deferred, within } from '../helpers/events.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'voxctl-e2e-follow-'));
  mkdirSync(path.join(dir, '.voxctl'));
  const ev = { id: 'ev-1', time: '2030-03-04T09:00:00.000Z', method: 'POST', path: '/api/vapi/tools', type: 'status-update', tools: [], orgId: null, assistantId: null, status: 200, latencyMs: 1 };
  writeFileSync(path.join(dir, '.voxctl', 'events.ndjson'), `${JSON.stringify(ev)}\n`);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Spawns the built CLI. `following` resolves once it says so on stderr (human output) or prints
 * its first stdout line (--json: the backlog); the command prints the backlog and the notice
 * and claims Ctrl-C in one synchronous step, so a signal sent after either finds it following.
 */
function follow(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'webhook', 'logs', '--follow', ...args], { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', CI: '1' } });
  let stdout = '';
  let stderr = '';
  const following = deferred();
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    if (args.includes('--json') && stdout.includes('\n')) following.resolve();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (stderr.includes('Following')) following.resolve();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then(() => following.reject(new Error(`exited before following; stderr: ${stderr}`)));
  return { child, exited, following: following.promise, out: () => stdout, err: () => stderr };
}

describe('webhook logs --follow as a real process', () => {
  it('Ctrl-C ends the follow quietly with exit 0, like tail -f (no "Error: Interrupted.")', async () => {
    const p = follow([]);
    await within(p.following, 60_000, 'the follow to start');
    expect(p.out()).toContain('status-update');
    p.child.kill('SIGINT');
    expect(await within(p.exited, 30_000, 'exit after SIGINT')).toBe(0);
    expect(p.err()).not.toMatch(/Error|Interrupted/);
    expect(p.err().trim()).toBe('Following .voxctl/events.ndjson (Ctrl-C to stop)…');
  }, 90_000);

  it('with --json the last line is {"event":"stopped","signal":"SIGINT"}', async () => {
    const p = follow(['--json']);
    await within(p.following, 60_000, 'the follow to start');
    p.child.kill('SIGINT');
    expect(await within(p.exited, 30_000, 'exit after SIGINT')).toBe(0);
    const lines = p.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.event)).toEqual(['request', 'stopped']);
    expect(lines.at(-1)).toEqual({ event: 'stopped', signal: 'SIGINT' });
  }, 90_000);
});
