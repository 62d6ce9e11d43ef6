/**
 * Ctrl-C on the real process: `voxctl assistants sync` (the built bin) against the fake Vapi on
 * a loopback HTTP server. The fake holds its PATCH answers; once the four concurrent writes are
 * on the wire, SIGINT; once the child has said it is stopping (its stderr line, written by the
 * interrupt handler), the answers go out. The writes in flight finish, no new one starts, the
 * JSON document reports both, and the exit code is 130.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeVapiServer, type FakeVapiServer } from '../fakes/vapi.js';
import { deferred, within } from '../helpers/events.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');
let srv: FakeVapiServer;
/** While set, every answer waits for it (the fake's latency is this gate, not a timer). */
let hold: Promise<void> | undefined;
beforeAll(async () => {
  srv = await startFakeVapiServer({ latencyMs: 1, sleep: () => hold ?? Promise.resolve() });
});
afterAll(() => srv.close());

function voxctl(args: string[], cwd: string, onStart?: (kill: () => void) => void, onStderr?: (all: string) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH, NO_COLOR: '1', CI: '1', VAPI_PRIVATE_KEY: srv.fake.apiKey, VAPI_BASE_URL: srv.url },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr);
    });
    onStart?.(() => child.kill('SIGINT'));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

it('SIGINT stops new writes, waits for those in flight, prints the document and exits 130', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-sigint-'));
  const rows = Array.from({ length: 60 }, (_, i) => {
    const a = srv.fake.addAssistant({ server: { url: 'https://old.example/hook' } });
    return { org_id: '00000000-0000-4000-8000-000000000001', org_name: 'Signal Clinic', type: `a${i}`, vapi_assistant_id: a.id };
  });
  await writeFile(path.join(dir, 'agents.json'), JSON.stringify(rows));
  expect((await voxctl(['agents', 'import', 'agents.json', '--custom-type'], dir)).code).toBe(0);

  let interrupt: () => void = () => {};
  const answers = deferred();
  const stopping = deferred();
  let released: Promise<unknown> | undefined;
  let patching = 0;
  srv.fake.onRequest = ({ method }) => {
    if (method !== 'PATCH') return;
    // From the first PATCH on (the plan's reads are answered), answers are held.
    hold = answers.promise;
    // --concurrency 4: the fourth PATCH means four writes are on the wire, all held.
    if (++patching === 4) {
      // (This one is held too: the gate stays shut until the child has said it is stopping.)
      srv.fake.onRequest = undefined;
      interrupt();
      // The held answers go out once the child has said it saw the signal (never on a timer).
      released = within(stopping.promise, 30_000, 'the child saying it is stopping after SIGINT').then(
        () => answers.resolve(),
        (e: unknown) => (answers.resolve(), e),
      );
    }
  };
  const r = await voxctl(
    ['assistants', 'sync', '--all-orgs', '--url', 'https://new.example/api/vapi/tools', '--concurrency', '4', '--json'],
    dir,
    (kill) => (interrupt = kill),
    (stderr) => {
      if (stderr.includes('Stopping: the writes in flight finish')) stopping.resolve();
    },
  );
  const missed = await released;
  hold = undefined;
  if (missed) throw missed;
  expect(r.code).toBe(130);
  expect(r.stderr).toContain('Stopping: the writes in flight finish, no new one starts');
  const doc = JSON.parse(r.stdout) as { summary: { updated: number; failed: number }; results: Array<{ action: string; error?: string }> };
  const patches = srv.fake.requests('PATCH');
  // The four in flight, and not one more: the child saw the signal before any answer came back.
  expect(patches).toHaveLength(4);
  expect(patches.every((p) => p.status === 200)).toBe(true);
  expect(doc.summary.updated).toBe(patches.length);
  expect(doc.summary.failed).toBe(60 - patches.length);
  expect(doc.results.filter((x) => x.action === 'failed').every((x) => x.error === 'not written: interrupted')).toBe(true);
}, 90_000);
