import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { openEventLog, readEvents, type RequestEvent } from '../../src/webhook/event-log.js';
import { Redactor } from '../../src/util/mask.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'voxctl-evlog-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const ev = (i: number, extra = ''): RequestEvent => ({
  id: `e${i}`,
  time: '2030-03-04T09:00:00.000Z',
  method: 'POST',
  path: '/api/vapi/tools',
  type: 'status-update',
  tools: [],
  orgId: null,
  assistantId: null,
  status: 200,
  latencyMs: 1,
  ...(extra ? { error: extra } : {}),
});

it('splits one large batch across rotations, each file within the limit', async () => {
  const file = path.join(dir, 'events.ndjson');
  const log = openEventLog({ file, maxBytes: 1000, keep: 50 });
  for (let i = 0; i < 40; i++) log.append(ev(i));
  await log.close();
  const events = await readEvents(file, { keep: 50 });
  expect(events.map((e) => e.id)).toEqual(Array.from({ length: 40 }, (_, i) => `e${i}`));
  for (let n = 0; n <= 10; n++) {
    const f = n === 0 ? file : `${file}.${n}`;
    try {
      expect(statSync(f).size).toBeLessThanOrEqual(1000);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  expect(statSync(file).mode & 0o777).toBe(0o600);
});

it('writes lines in batches, and flush() writes at once', async () => {
  const file = path.join(dir, 'events.ndjson');
  const log = openEventLog({ file, flushDelayMs: 60_000, redactor: new Redactor(['supersecretvalue']) });
  log.append(ev(1, 'leaked supersecretvalue here'));
  log.append(ev(2));
  const started = Date.now();
  await log.flush();
  expect(Date.now() - started).toBeLessThan(5000);
  const text = readFileSync(file, 'utf8');
  expect(text.trim().split('\n')).toHaveLength(2);
  expect(text).not.toContain('supersecretvalue');
  expect(text).toContain('supe…alue');
  await log.close();
  // Closed: later appends are dropped, not thrown.
  log.append(ev(3));
  expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
});

it('keeps answering when the log cannot be written, and reports it once', async () => {
  const errors: Error[] = [];
  const file = path.join(dir, 'sub', 'events.ndjson');
  const log = openEventLog({ file, onError: (e) => errors.push(e) });
  rmSync(path.join(dir, 'sub'), { recursive: true, force: true });
  // A directory where the file should be: every write fails.
  const { mkdirSync } = await import('node:fs');
  mkdirSync(file, { recursive: true });
  log.append(ev(1));
  await log.flush();
  log.append(ev(2));
  await log.flush();
  expect(errors).toHaveLength(1);
  await log.close();
});

it('writes multi-byte text exactly, masked, across rotations (sizes are counted in bytes)', async () => {
  const file = path.join(dir, 'events.ndjson');
  const secret = 'sk-ümlaut-secret-🔑-0123456789';
  const log = openEventLog({ file, maxBytes: 1200, keep: 50, redactor: new Redactor([secret]) });
  const body = `{"message":{"type":"tool-calls","note":"Grüße 👋 ${secret} \\"quoted\\"\\n"}}`;
  for (let i = 0; i < 12; i++) log.append({ ...ev(i, `fehler ✗ ${i}`), path: `/api/vapi/tools/ü${i}`, body, bodyBytes: Buffer.byteLength(body) });
  await log.close();
  const events = await readEvents(file, { keep: 50 });
  expect(events.map((e) => e.id)).toEqual(Array.from({ length: 12 }, (_, i) => `e${i}`));
  const masked = body.split(secret).join('sk-ü…6789');
  for (const [i, e] of events.entries()) {
    expect(e.path).toBe(`/api/vapi/tools/ü${i}`);
    expect(e.error).toBe(`fehler ✗ ${i}`);
    expect(e.body).toBe(masked);
  }
  let files = 0;
  for (let n = 0; n <= 50; n++) {
    const f = n === 0 ? file : `${file}.${n}`;
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    files++;
    expect(text).not.toContain(secret);
    expect(text.endsWith('\n')).toBe(true);
    expect(statSync(f).size).toBe(Buffer.byteLength(text));
    expect(statSync(f).size).toBeLessThanOrEqual(1200);
  }
  expect(files).toBeGreaterThan(1);
});
