import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEventLog, readEvents, type RequestEvent } from '../../src/receiver/event-log.js';
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
  // A clock that never moves and a timer that never fires: only flush() can write these lines.
  const armed: number[] = [];
  const log = openEventLog({
    file,
    maxDelayMs: 50,
    now: () => 0,
    setTimer: (_fn, ms) => (armed.push(ms), () => {}),
    redactor: new Redactor(['supersecretvalue']),
  });
  log.append(ev(1, 'leaked supersecretvalue here'));
  log.append(ev(2));
  expect(existsSync(file) ? readFileSync(file, 'utf8') : '').toBe('');
  expect(armed).toEqual([50]);
  await log.flush();
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

/** A clock and timer the test moves by hand: no waiting on the wall clock. */
function manualTime() {
  let t = 0;
  const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  return {
    now: () => t,
    setTimer: (fn: () => void, ms: number) => {
      const timer = { at: t + ms, fn, live: true };
      timers.push(timer);
      return () => (timer.live = false);
    },
    /** Moves the clock without running timers (a busy event loop). */
    advance(ms: number) {
      t += ms;
    },
    /** Runs the timers that are due (the loop got to them). */
    runDue() {
      for (const timer of timers.splice(0)) {
        if (timer.live && timer.at <= t) timer.fn();
        else if (timer.live) timers.push(timer);
      }
    },
  };
}

const onDisk = (file: string) => {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as RequestEvent).id);
  } catch {
    return [];
  }
};

describe('kill -9 window', () => {
  it('writes synchronously once a batch is maxBatch events, with no timer and no await', () => {
    const file = path.join(dir, 'events.ndjson');
    const clock = manualTime();
    const log = openEventLog({ file, maxBatch: 5, maxDelayMs: 50, ...clock });
    for (let i = 0; i < 4; i++) log.append(ev(i));
    expect(onDisk(file)).toEqual([]);
    log.append(ev(4));
    expect(onDisk(file)).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
  });

  it('an event arriving when the oldest pending one is maxDelayMs old writes the batch at once (a busy loop never ran the timer)', () => {
    const file = path.join(dir, 'events.ndjson');
    const clock = manualTime();
    const log = openEventLog({ file, maxBatch: 1000, maxDelayMs: 50, ...clock });
    log.append(ev(1));
    clock.advance(30);
    log.append(ev(2));
    expect(onDisk(file)).toEqual([]);
    clock.advance(20);
    // The timer is overdue but the loop has not got to it: the next request carries the write.
    log.append(ev(3));
    expect(onDisk(file)).toEqual(['e1', 'e2', 'e3']);
  });

  it('in the quiet case the timer writes the batch when its oldest event is due', () => {
    const file = path.join(dir, 'events.ndjson');
    const clock = manualTime();
    const log = openEventLog({ file, maxDelayMs: 50, ...clock });
    log.append(ev(1));
    clock.advance(49);
    clock.runDue();
    expect(onDisk(file)).toEqual([]);
    clock.advance(1);
    clock.runDue();
    expect(onDisk(file)).toEqual(['e1']);
  });
});

describe('torn last line', () => {
  it('a line torn by a crash does not swallow the next event; readers skip it', async () => {
    const file = path.join(dir, 'events.ndjson');
    writeFileSync(file, `${JSON.stringify(ev(1))}\n{"id":"e2","time":"2030-03-04T09:`);
    const log = openEventLog({ file });
    log.append(ev(3));
    await log.close();
    expect((await readEvents(file)).map((e) => e.id)).toEqual(['e1', 'e3']);
    expect(readFileSync(file, 'utf8').endsWith(`${JSON.stringify(ev(3))}\n`)).toBe(true);
  });

  it('a file ending in a newline gets no empty line', async () => {
    const file = path.join(dir, 'events.ndjson');
    writeFileSync(file, `${JSON.stringify(ev(1))}\n`);
    const log = openEventLog({ file });
    log.append(ev(2));
    await log.close();
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify(ev(1))}\n${JSON.stringify(ev(2))}\n`);
  });
});

describe('refusals', () => {
  it('a flood of refused requests does not push answered ones out of retention: 20 lines, then one summary line per second', async () => {
    const file = path.join(dir, 'events.ndjson');
    const clock = manualTime();
    const summaries: RequestEvent[] = [];
    const log = openEventLog({ file, maxBytes: 20_000, keep: 1, ...clock, onSummary: (s) => summaries.push(s) });
    log.append(ev(1));
    // 66,000 unauthenticated requests over 3 s, on two paths, one 413 among them.
    const sent: RequestEvent[] = [];
    for (let i = 0; i < 66_000; i++) {
      if (i % 22_000 === 0 && i > 0) clock.advance(1000);
      const status = i === 5 ? 413 : 401;
      const e = { ...ev(100 + i, 'Missing or wrong X-Vapi-Secret'), status, path: i % 2 ? '/api/vapi/tools' : '/api/vapi/tools/x' };
      sent.push(e);
      log.append(e);
    }
    log.append(ev(2));
    await log.close();
    const events = await readEvents(file, { keep: 1 });
    expect(events.filter((e) => e.status === 200).map((e) => e.id)).toEqual(['e1', 'e2']);
    // The first 20 of each second are lines of their own (findable by id), the rest are counted.
    const single = events.filter((e) => e.status !== 200 && !e.refused);
    const firsts = [0, 22_000, 44_000].flatMap((s) => Array.from({ length: 20 }, (_, i) => `e${100 + s + i}`));
    expect(single.map((e) => e.id)).toEqual(firsts);
    expect(sent.filter((e) => !log.summarized(e)).map((e) => e.id)).toEqual(firsts);
    expect(single.find((e) => e.id === 'e105')).toMatchObject({ status: 413 });
    const lines = events.filter((e) => e.refused);
    expect(lines).toHaveLength(3);
    // What listeners were given is what the log holds.
    expect(summaries.map((s) => s.id)).toEqual(lines.map((s) => s.id));
    expect(lines.reduce((n, s) => n + s.refused!.count, 0)).toBe(66_000 - 60);
    expect(lines[0]!.refused).toMatchObject({ count: 21_980, byStatus: { '401': 21_980 }, byPath: { '/api/vapi/tools': 10_990, '/api/vapi/tools/x': 10_990 } });
    expect(lines[0]).toMatchObject({ status: 401, type: 'refused', tools: [] });
  });

  it('counts at most 20 distinct paths per summary, the rest as (other)', async () => {
    const file = path.join(dir, 'events.ndjson');
    const log = openEventLog({ file, ...manualTime() });
    for (let i = 0; i < 70; i++) log.append({ ...ev(i), status: 404, path: `/probe/${i}` });
    await log.close();
    const summary = (await readEvents(file)).find((e) => e.refused);
    expect(summary!.refused!.count).toBe(50);
    expect(Object.keys(summary!.refused!.byPath)).toHaveLength(21);
    expect(summary!.refused!.byPath['(other)']).toBe(30);
  });

  it('two logs on one file lose nothing when one of them rotates', async () => {
    const file = path.join(dir, 'events.ndjson');
    const a = openEventLog({ file, maxBytes: 2000, keep: 50, maxBatch: 1 });
    const b = openEventLog({ file, maxBytes: 2000, keep: 50, maxBatch: 1 });
    // Interleaved, each written at once (maxBatch 1): both rotate the file under the other.
    for (let i = 0; i < 60; i++) (i % 2 ? b : a).append(ev(i));
    await a.close();
    await b.close();
    const events = await readEvents(file, { keep: 50 });
    expect(events.map((e) => e.id).sort()).toEqual(Array.from({ length: 60 }, (_, i) => `e${i}`).sort());
    // The newest lines of both writers are in the live file, not stranded in a rotated one.
    expect(onDisk(file).slice(-2)).toEqual(['e58', 'e59']);
    // Each writer saw the other's lines: no file grew past the bound.
    for (let n = 0; n <= 50; n++) {
      const f = n === 0 ? file : `${file}.${n}`;
      if (existsSync(f)) expect(statSync(f).size).toBeLessThanOrEqual(2000);
    }
  });

  it('4xx answers relayed from a --forward-to backend are logged one by one', async () => {
    const file = path.join(dir, 'events.ndjson');
    const log = openEventLog({ file, ...manualTime() });
    log.append({ ...ev(1), status: 404, forwardedTo: 'http://127.0.0.1:3001' });
    await log.close();
    expect(onDisk(file)).toEqual(['e1']);
  });
});
