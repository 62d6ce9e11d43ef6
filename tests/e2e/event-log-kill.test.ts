/**
 * kill -9 of a running `tunnel up` under sustained bursts: every request answered more than
 * 200 ms before the kill is in events.ndjson (the log's bound is 50 ms plus the next request).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { parseEventLines } from '../../src/receiver/event-log.js';
import { request } from '../helpers/http.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');
const BOUND_MS = 200;
const BURST = 48;

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

it('kill -9 during bursts loses no request answered more than 200 ms before it', async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-e2e-kill-'));
  const child = spawn(process.execPath, [BIN, 'tunnel', 'up', '--no-tunnel', '--port', '0', '--json'], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', CI: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  // Awaits the ready line (or the process ending first).
  const ready = await new Promise<{ localUrl: string }>((resolve, reject) => {
    let out = '';
    const onData = (c: Buffer) => {
      out += c.toString();
      const nl = out.indexOf('\n');
      if (nl === -1) return;
      child.stdout.off('data', onData);
      child.stdout.resume();
      resolve(JSON.parse(out.slice(0, nl)) as { localUrl: string });
    };
    child.stdout.on('data', onData);
    void exited.then(() => reject(new Error(`tunnel up ended before it was ready: ${stderr}`)));
  });

  const answeredAt = new Map<string, number>();
  // Large bodies (900 KB, parsed and checked by the receiver) keep its event loop busy, as a busy
  // machine does; the marker travels in the path, which the log keeps for every request.
  const padding = 'x'.repeat(900 * 1024);
  const send = async (marker: string) => {
    const res = await request(`${ready.localUrl}/api/vapi/tools/${marker}`, { body: { message: { type: 'status-update', status: 'in-progress', padding } } });
    if (res.status === 200) answeredAt.set(marker, performance.now());
  };
  // Bursts of 48 at once, back to back; once three bursts' answers are past the bound, the
  // process is killed as the next burst starts being answered.
  let killedAt = 0;
  let n = 0;
  for (let burst = 0; burst < 400 && !killedAt; burst++) {
    const inFlight = Array.from({ length: BURST }, () => send(`m-${n++}`).catch(() => {}));
    const t = performance.now();
    if ([...answeredAt.values()].filter((at) => t - at > BOUND_MS).length >= 3 * BURST) {
      await Promise.race(inFlight);
      killedAt = performance.now();
      child.kill('SIGKILL');
    }
    await Promise.all(inFlight);
  }
  expect(killedAt).toBeGreaterThan(0);
  expect(await exited).toBe('SIGKILL');

  const logged = new Set(parseEventLines(await readFile(path.join(dir, '.voxctl', 'events.ndjson'), 'utf8')).map((e) => e.path.split('/').pop()));
  const due = [...answeredAt].filter(([, at]) => at < killedAt - BOUND_MS).map(([m]) => m);
  expect(due.length).toBeGreaterThanOrEqual(3 * BURST);
  expect(due.filter((m) => !logged.has(m))).toEqual([]);
}, 90_000);
