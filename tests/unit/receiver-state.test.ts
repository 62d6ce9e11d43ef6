import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECEIVER_STATE_NAME, readReceiverState, writeReceiverState, type ReceiverState } from '../../src/receiver/state.js';

let dir: string;
let other: ChildProcess | undefined;

/** Another process (the first `tunnel up`), alive until the test ends it. */
async function otherProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child;
}

const state = (pid: number, port: number): ReceiverState => ({
  pid,
  since: '2030-01-01T00:00:00.000Z',
  localUrl: `http://127.0.0.1:${port}`,
  publicUrl: null,
  webhookUrl: null,
  store: 'embedded store',
});

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'voxctl-state-'));
});
afterEach(() => {
  other?.kill('SIGKILL');
  other = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('receiver.json with two receivers on one folder', () => {
  it('hands the file back to the first receiver when the second stops while the first still runs', async () => {
    other = await otherProcess();
    const first = state(other.pid!, 41001);
    writeFileSync(path.join(dir, RECEIVER_STATE_NAME), JSON.stringify(first), { mode: 0o600 });

    const remove = writeReceiverState(dir, state(process.pid, 41002));
    expect(readReceiverState(dir)?.localUrl).toBe('http://127.0.0.1:41002');
    remove();

    // Other commands still find the receiver that is running.
    expect(readReceiverState(dir)).toEqual(first);
  });

  it('removes the file when the receiver it replaced has stopped meanwhile', async () => {
    other = await otherProcess();
    writeFileSync(path.join(dir, RECEIVER_STATE_NAME), JSON.stringify(state(other.pid!, 41001)), { mode: 0o600 });
    const remove = writeReceiverState(dir, state(process.pid, 41002));
    const exited = new Promise((resolve) => other!.once('exit', resolve));
    other.kill('SIGKILL');
    await exited;
    remove();
    expect(existsSync(path.join(dir, RECEIVER_STATE_NAME))).toBe(false);
  });

  it('leaves a newer receiver\'s file alone', () => {
    const remove = writeReceiverState(dir, state(process.pid, 41002));
    const newer = JSON.stringify(state(process.pid + 1, 41003));
    writeFileSync(path.join(dir, RECEIVER_STATE_NAME), newer);
    remove();
    expect(readFileSync(path.join(dir, RECEIVER_STATE_NAME), 'utf8')).toBe(newer);
  });
});
