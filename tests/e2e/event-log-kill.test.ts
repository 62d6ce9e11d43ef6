/**
 * kill -9 of a running `tunnel up` under sustained bursts: what the log has written stays, and
 * its batches reach the disk without further traffic. No wall-clock bound: each burst's requests
 * are awaited in events.ndjson (file change events), then the process is killed as the next
 * burst starts being answered. (The 50 ms time bound itself is tested on an injected clock in
 * tests/webhook/event-log.test.ts.)
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { parseEventLines, rotatedName } from '../../src/receiver/event-log.js';
import { untilFile, within } from '../helpers/events.js';
import { request } from '../helpers/http.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');
const BURST = 48;

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

it('kill -9 during bursts keeps every request the log had written, and batches reach the disk without more traffic', async () => {
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

  // Every marker in the log and its rotations (each file read whole; a torn last line is skipped).
  const file = path.join(dir, '.voxctl', 'events.ndjson');
  const logged = () =>
    new Set(
      [rotatedName(file, 3), rotatedName(file, 2), rotatedName(file, 1), file]
        .filter((f) => existsSync(f))
        .flatMap((f) => parseEventLines(readFileSync(f, 'utf8')).map((e) => e.path.split('/').pop())),
    );
  // Large bodies (900 KB, parsed and checked by the receiver) keep its event loop busy, as a busy
  // machine does; the marker travels in the path, which the log keeps for every request.
  const padding = 'x'.repeat(900 * 1024);
  const answered: string[] = [];
  const send = async (marker: string) => {
    const res = await request(`${ready.localUrl}/api/vapi/tools/${marker}`, { body: { message: { type: 'status-update', status: 'in-progress', padding } } });
    if (res.status === 200) answered.push(marker);
  };
  const burst = (b: number) => Array.from({ length: BURST }, (_, i) => send(`m-${b}-${i}`).catch(() => {}));

  // Three bursts, each answered in full and then awaited in the log: no request follows to push
  // the batch out, so the log's own timer writes it.
  for (let b = 0; b < 3; b++) {
    await Promise.all(burst(b));
    const markers = answered.filter((m) => m.startsWith(`m-${b}-`));
    expect(markers).toHaveLength(BURST);
    await untilFile(file, () => (markers.every((m) => logged().has(m)) ? true : undefined), 30_000, `burst ${b} in the event log`);
  }
  // The fourth burst: killed as its first answer arrives, with the rest in flight.
  const last = burst(3);
  await Promise.race(last);
  child.kill('SIGKILL');
  await Promise.all(last);
  expect(await within(exited, 30_000, 'exit after SIGKILL')).toBe('SIGKILL');

  // What was written before the kill is all still there; nothing logged that was not sent.
  const after = logged();
  const written = answered.filter((m) => !m.startsWith('m-3-'));
  expect(written).toHaveLength(3 * BURST);
  expect(written.filter((m) => !after.has(m))).toEqual([]);
  expect([...after].filter((m) => !/^m-[0-3]-\d+$/.test(m ?? ''))).toEqual([]);
}, 90_000);
