import { EventEmitter } from 'node:events';
import { Interrupts } from '../../src/util/signals.js';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openEventLog, type RequestEvent } from '../../src/receiver/event-log.js';
import { localDay } from '../../src/receiver/format.js';
import { Redactor } from '../../src/util/mask.js';
import { runCli } from '../helpers/run-cli.js';
import { useTestDb } from '../helpers/store.js';

const ORG = '0a000000-0000-4000-8000-00000000000a';
const SECRET = 'whsec-logs-0123456789';

const testDb = useTestDb();
let cwd: string;
beforeEach(async () => {
  await testDb.store.addOrg({ id: ORG, name: 'Sunrise Dental' });
  cwd = mkdtempSync(path.join(tmpdir(), 'voxctl-logs-'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

const event = (i: number, over: Partial<RequestEvent> = {}): RequestEvent => ({
  id: `ev-${i}`,
  time: new Date(Date.UTC(2030, 2, 4, 9, 0, i)).toISOString(),
  method: 'POST',
  path: '/api/vapi/tools/bookClinicAppointment',
  type: 'tool-calls',
  tools: ['bookClinicAppointment'],
  orgId: ORG,
  assistantId: 'asst-a',
  status: 200,
  latencyMs: 3.2,
  results: [{ toolCallId: `c${i}`, name: 'bookClinicAppointment', result: `Booked ${i}` }],
  ...over,
});

async function writeEvents(events: RequestEvent[], opts: { maxBytes?: number } = {}) {
  const log = openEventLog({ file: path.join(cwd, '.voxctl', 'events.ndjson'), redactor: new Redactor([SECRET]), ...opts });
  for (const e of events) {
    log.append(e);
    await log.flush();
  }
  await log.close();
}

describe('webhook logs', () => {
  it('prints one line per request, newest last, with org names', async () => {
    // Written as lines (as older versions logged each refusal), a torn line among them.
    mkdirSync(path.join(cwd, '.voxctl'));
    const refused = event(2, { status: 401, type: null, tools: [], orgId: null, results: undefined, error: 'Missing or wrong X-Vapi-Secret' });
    writeFileSync(path.join(cwd, '.voxctl', 'events.ndjson'), `${JSON.stringify(event(1))}\n{"id":"torn","ti\n${JSON.stringify(refused)}\n`);
    const r = await runCli(['webhook', 'logs'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d {2}ev-1 {2}200 {2}tool-calls {2}bookClinicAppointment {2}Sunrise Dental {2}3ms {2}Booked 1$/);
    expect(lines[1]).toMatch(/ev-2 {2}401 {2}POST \/api\/vapi\/tools\/bookClinicAppointment {2}no org {2}3ms {2}Missing or wrong X-Vapi-Secret$/);
  });

  it('shows the date when the lines span more than one day, or --since reaches back more than a day', async () => {
    const day1 = '2030-03-04T12:00:00.000Z';
    const day3 = '2030-03-06T12:00:05.000Z';
    await writeEvents([event(1, { time: day1 }), event(2, { time: day3 })]);
    const stamp = (iso: string) => {
      const d = new Date(iso);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${localDay(iso)} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    };
    const two = await runCli(['webhook', 'logs'], { cwd, env: {}, storeFactory: testDb.factory });
    const lines = two.stdout.trim().split('\n');
    expect(lines.map((l) => l.slice(0, 19))).toEqual([stamp(day1), stamp(day3)]);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}ev-1 {2}200 {2}tool-calls/);
    // One day's lines: the time only; the same line with --since 7d: the date too.
    const one = await runCli(['webhook', 'logs', '-n', '1'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(one.stdout).toMatch(/^\d\d:\d\d:\d\d {2}ev-2 /);
    const week = await runCli(['webhook', 'logs', '--since', '7d'], { cwd, env: {}, storeFactory: testDb.factory, now: () => new Date('2030-03-06T13:00:00Z') });
    expect(week.stdout.trim().split('\n')).toHaveLength(2);
    const since = await runCli(['webhook', 'logs', '--since', '2d', '-n', '1'], { cwd, env: {}, storeFactory: testDb.factory, now: () => new Date('2030-03-06T13:00:00Z') });
    expect(since.stdout.startsWith(stamp(day3))).toBe(true);
  });

  it('on a terminal: a header, and columns aligned under it; piped: no header', async () => {
    await writeEvents([event(1), event(2, { status: 401, type: null, tools: [], orgId: null, results: undefined, error: 'Missing or wrong X-Vapi-Secret' })]);
    const tty = await runCli(['webhook', 'logs', '--no-color'], { cwd, env: {}, storeFactory: testDb.factory, tty: true });
    const [header, a, b] = tty.stdout.split('\n');
    expect(header).toMatch(/^TIME {4} {2}ID {8}HTTP {2}REQUEST {2,}ORG {2,}TOOK {2,}OUTCOME$/);
    for (const col of ['ID', 'HTTP', 'REQUEST', 'ORG', 'TOOK', 'OUTCOME']) {
      const at = header!.indexOf(col);
      expect(a![at - 1], `a blank before the ${col} column`).toBe(' ');
      expect(a![at], `${col} column starts`).not.toBe(' ');
      expect(b![at], `${col} column starts`).not.toBe(' ');
    }
    expect(a!.slice(header!.indexOf('ORG'))).toMatch(/^Sunrise Dental/);
    expect(b!.slice(header!.indexOf('OUTCOME'))).toMatch(/Missing or wrong X-Vapi-Secret$/);
    const piped = await runCli(['webhook', 'logs'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(piped.stdout).not.toContain('OUTCOME');
    expect(piped.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('--json gives one document; -n limits; rotated files are read too', async () => {
    await writeEvents(
      Array.from({ length: 30 }, (_, i) => event(i)),
      { maxBytes: 1500 },
    );
    const all = await runCli(['webhook', 'logs', '-n', '0', '--json'], { cwd, env: {}, storeFactory: testDb.factory });
    const doc = all.json<{ ok: boolean; file: string; events: RequestEvent[] }>();
    expect(doc.ok).toBe(true);
    expect(doc.file).toBe(path.join(cwd, '.voxctl', 'events.ndjson'));
    // Three generations are kept (current + .1 .. .3); the oldest events were dropped.
    expect(doc.events.length).toBeGreaterThan(10);
    expect(doc.events.at(-1)!.id).toBe('ev-29');
    const ids = doc.events.map((e) => Number(e.id.slice(3)));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    const last = await runCli(['webhook', 'logs', '-n', '2', '--json'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(last.json<{ events: RequestEvent[] }>().events.map((e) => e.id)).toEqual(['ev-28', 'ev-29']);
  });

  it('filters by --org, --tool, --status and --since before -n picks the latest', async () => {
    const OTHER = '0b000000-0000-4000-8000-00000000000b';
    const now = new Date(Date.UTC(2030, 2, 4, 12, 0, 0));
    const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000).toISOString();
    await writeEvents([
      event(1, { time: at(180) }),
      event(2, { time: at(90), orgId: OTHER }),
      event(3, { time: at(60), tools: ['checkAvailability'], path: '/api/vapi/tools/checkAvailability' }),
      event(4, { time: at(30), status: 502, error: 'backend down', results: undefined }),
      event(5, { time: at(5) }),
      // A refusal summary line counts by status.
      event(6, { time: at(2), status: 401, type: 'refused', tools: [], orgId: null, results: undefined, refused: { count: 3, from: at(2), to: at(2), byStatus: { '401': 2, '413': 1 }, byPath: { '/api/vapi/tools': 3 } } }),
    ]);
    const ids = async (...flags: string[]) => {
      const r = await runCli(['webhook', 'logs', '--json', ...flags], { cwd, env: {}, storeFactory: testDb.factory, now: () => now });
      expect(r.exitCode).toBe(0);
      return r.json<{ events: RequestEvent[] }>().events.map((e) => e.id);
    };
    expect(await ids('--org', ORG)).toEqual(['ev-1', 'ev-3', 'ev-4', 'ev-5']);
    expect(await ids('--org', ORG, '--tool', 'bookClinicAppointment', '-n', '2')).toEqual(['ev-4', 'ev-5']);
    expect(await ids('--tool', 'checkAvailability')).toEqual(['ev-3']);
    expect(await ids('--status', '5xx')).toEqual(['ev-4']);
    expect(await ids('--status', '413')).toEqual(['ev-6']);
    expect(await ids('--status', '200,502', '--since', '45m')).toEqual(['ev-4', 'ev-5']);
    expect(await ids('--since', at(61))).toEqual(['ev-3', 'ev-4', 'ev-5', 'ev-6']);
    const bad = await runCli(['webhook', 'logs', '--status', 'teapot', '--json'], { cwd, env: {} });
    expect(bad.exitCode).toBe(2);
    expect(bad.json()).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringContaining('--status') } });
    const none = await runCli(['webhook', 'logs', '--tool', 'nothing'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(none.stderr).toContain('matches the filters');
  });

  it('--org that neither the log nor the store knows is not_found (exit 1), as everywhere; a removed org\'s requests still show', async () => {
    const REMOVED = '0b000000-0000-4000-8000-00000000000b';
    const TYPO = '0c000000-0000-4000-8000-00000000000c';
    await writeEvents([event(1), event(2, { orgId: REMOVED })]);
    const cli = (...flags: string[]) => runCli(['webhook', 'logs', '--json', ...flags], { cwd, env: {}, storeFactory: testDb.factory });
    const typo = await cli('--org', TYPO);
    expect(typo.exitCode).toBe(1);
    expect(typo.json()).toMatchObject({ ok: false, error: { code: 'not_found', message: `Organization ${TYPO} does not exist.` } });
    const removed = await cli('--org', REMOVED);
    expect(removed.exitCode).toBe(0);
    expect(removed.json<{ events: RequestEvent[] }>().events.map((e) => e.id)).toEqual(['ev-2']);
    // Known to the store, nothing logged yet: an empty answer.
    const quiet = '0d000000-0000-4000-8000-00000000000d';
    await testDb.store.addOrg({ id: quiet, name: 'Quiet Clinic' });
    const none = await cli('--org', quiet);
    expect(none.exitCode).toBe(0);
    expect(none.json()).toMatchObject({ ok: true, events: [] });
  });

  it('never shows a secret that reached the log', async () => {
    await writeEvents([event(1, { results: [{ toolCallId: 'c', name: 'x', error: `bad ${SECRET}` }] })]);
    const r = await runCli(['webhook', 'logs', '--json'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).toContain('whse…6789');
  });

  it('works while `tunnel up` holds the embedded store (org ids instead of names)', async () => {
    await writeEvents([event(1)]);
    // Another live process (our parent) holds the store lock, as a running `tunnel up` would.
    writeFileSync(path.join(cwd, '.voxctl', 'store.lock'), JSON.stringify({ pid: process.ppid, command: 'voxctl tunnel up', since: new Date().toISOString() }));
    const r = await runCli(['webhook', 'logs'], { cwd, env: {} });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/200 {2}tool-calls {2}bookClinicAppointment {2}0a000000 {2}3ms {2}Booked 1/);
  });

  it('says so when there is no log yet', async () => {
    const r = await runCli(['webhook', 'logs'], { cwd, env: {}, storeFactory: testDb.factory });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('No webhook requests logged yet');
  });

  it('--follow prints new requests until Ctrl-C, across a rotation', async () => {
    await writeEvents([event(1)]);
    const signals = new EventEmitter();
    // Each poll is triggered by the test, and the test learns when the follower is back to
    // waiting (it has read and printed what was there): no wall-clock delays.
    let release: (() => void) | undefined;
    let onWaiting: (() => void) | undefined;
    const logPollWait = (signal: AbortSignal) =>
      new Promise<void>((resolve) => {
        release = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
        const w = onWaiting;
        onWaiting = undefined;
        w?.();
      });
    const waiting = () => (release ? Promise.resolve() : new Promise<void>((r) => (onWaiting = r)));
    const poll = () => {
      const r = release!;
      release = undefined;
      const back = waiting();
      r();
      return back;
    };
    const interrupts = new Interrupts(signals);
    const running = runCli(['webhook', 'logs', '--follow', '--json'], { cwd, env: {}, storeFactory: testDb.factory, interrupts, services: { logPollWait } });
    await waiting();
    expect(signals.listenerCount('SIGINT')).toBe(1);
    const log = openEventLog({ file: path.join(cwd, '.voxctl', 'events.ndjson'), maxBytes: 700 });
    for (let i = 2; i <= 6; i++) {
      log.append(event(i));
      await log.flush();
      await poll();
    }
    await log.close();
    await poll();
    signals.emit('SIGINT');
    const r = await running;
    // Ctrl-C is the normal end of a follow (like `tail -f`, `tunnel up`): exit 0; with --json the
    // last line says it stopped, as tunnel up's.
    expect(r.exitCode).toBe(0);
    expect(r.lines().at(-1)).toEqual({ event: 'stopped', signal: 'SIGINT' });
    expect(r.lines<{ event: string; id: string }>().slice(0, -1).map((l) => `${l.event}:${l.id}`)).toEqual(['request:ev-1', 'request:ev-2', 'request:ev-3', 'request:ev-4', 'request:ev-5', 'request:ev-6']);
    expect(signals.listenerCount('SIGINT')).toBe(0);
  });
});
