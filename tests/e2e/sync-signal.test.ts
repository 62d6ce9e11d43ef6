/**
 * Ctrl-C on the real process: `voxctl assistants sync` (the built bin) against the fake Vapi on
 * a loopback HTTP server; SIGINT after the first PATCH arrives. The writes in flight finish, no
 * new one starts, the JSON document reports both, and the exit code is 130.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeVapiServer, type FakeVapiServer } from '../fakes/vapi.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');
let srv: FakeVapiServer;
beforeAll(async () => {
  srv = await startFakeVapiServer({ latencyMs: 100 });
});
afterAll(() => srv.close());

function voxctl(args: string[], cwd: string, onStart?: (kill: () => void) => void) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH, NO_COLOR: '1', CI: '1', VAPI_PRIVATE_KEY: srv.fake.apiKey, VAPI_BASE_URL: srv.url },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
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
  expect((await voxctl(['agents', 'import', 'agents.json'], dir)).code).toBe(0);

  let interrupt: () => void = () => {};
  srv.fake.onRequest = ({ method }) => {
    if (method === 'PATCH') {
      srv.fake.onRequest = undefined;
      setTimeout(() => interrupt(), 30); // while the first writes are on the wire
    }
  };
  const r = await voxctl(['assistants', 'sync', '--all-orgs', '--url', 'https://new.example/api/vapi/tools', '--concurrency', '4', '--json'], dir, (kill) => (interrupt = kill));
  expect(r.code).toBe(130);
  const doc = JSON.parse(r.stdout) as { summary: { updated: number; failed: number }; results: Array<{ action: string; error?: string }> };
  const patches = srv.fake.requests('PATCH');
  expect(patches.length).toBeGreaterThan(0);
  expect(patches.length).toBeLessThan(60);
  expect(patches.every((p) => p.status === 200)).toBe(true);
  expect(doc.summary.updated).toBe(patches.length);
  expect(doc.summary.failed).toBe(60 - patches.length);
  expect(doc.results.filter((x) => x.action === 'failed').every((x) => x.error === 'not written: interrupted')).toBe(true);
}, 90_000);
