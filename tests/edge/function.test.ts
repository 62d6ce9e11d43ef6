/**
 * The Edge Function tier: `voxctl edge build`'s output served by Deno (the stand-in for
 * Supabase's Edge Runtime) against a real PostgREST + Postgres project, held to the same receiver
 * contract as the node:http adapter (tests/webhook/receiver-contract.ts). Deno must start: a
 * machine without it FAILS this file (it never skips).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunction } from '../../src/edge/build.js';
import { findDeno, serveFunction, type ServedFunction } from '../../src/edge/serve.js';
import { createSupabaseStore } from '../../src/store/supabase.js';
import type { Store } from '../../src/store/types.js';
import { Redactor } from '../../src/util/mask.js';
import { request } from '../helpers/http.js';
import { useProject } from '../supabase/project.js';
import { runCli } from '../helpers/run-cli.js';
import { toolCallsMessage } from '../helpers/vapi-messages.js';
import { ASSISTANT_A, ORG_A, receiverContract, SECRET } from '../webhook/receiver-contract.js';

const DIST = path.join(__dirname, '..', '..', 'dist');
const project = useProject();
let tmp: string;
let store: Store;
let open: ServedFunction | undefined;
let guarded: ServedFunction | undefined;
const logs: string[] = [];

beforeAll(async () => {
  if (!existsSync(path.join(DIST, 'edge', 'function.js'))) throw new Error('dist/ is missing the function: run `npm run build` first (npm test does).');
  tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-edge-fn-'));
  const built = await buildFunction({ projectDir: tmp, name: 'voxctl', version: 'test', dist: DIST });
  const deno = findDeno(process.env);
  const p = project.current;
  const serve = (secret: string | undefined) =>
    serveFunction({
      functionDir: built.dir,
      name: 'voxctl',
      port: 0,
      deno,
      supabaseUrl: p.url,
      serviceRoleKey: p.keys.serviceRole,
      secret,
      onLog: (l) => logs.push(l),
      startTimeoutMs: 150_000,
    });
  [open, guarded] = await Promise.all([serve(undefined), serve(SECRET)]);
  store = await createSupabaseStore({ url: p.url, serviceRoleKey: p.keys.serviceRole, redactor: new Redactor() });
}, 180_000);
afterAll(async () => {
  await open?.stop();
  await guarded?.stop();
  await store?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

receiverContract('Edge Function under Deno, Supabase store (PostgREST)', {
  store: () => store,
  reset: () => project.current.reset(),
  booked: async () => Number(project.current.query<{ n: number }>(`select count(*)::int as n from appointments where status = 'booked'`)[0]!.n),
  url: ({ secret }) => (secret ? guarded! : open!).url,
});

describe('the function itself', () => {
  it('is served under its /<name> prefix only', async () => {
    const base = open!.url.replace(/\/voxctl$/, '');
    expect((await request(`${base}/voxctl/healthz`, { method: 'GET' })).status).toBe(200);
    const other = await request(`${base}/other/api/vapi/tools`, { body: { message: { type: 'status-update' } } });
    expect(other.status).toBe(404);
  });

  it('holds only relative imports and npm: specifiers, and no secret', () => {
    const dir = path.join(tmp, 'supabase', 'functions', 'voxctl');
    const entry = readFileSync(path.join(dir, 'index.ts'), 'utf8');
    expect(entry).toContain("from './voxctl/edge/function.js'");
    const store = readFileSync(path.join(dir, 'voxctl', 'store', 'supabase.js'), 'utf8');
    expect(store).toMatch(/import\('npm:@supabase\/supabase-js@\d+\.\d+\.\d+'\)/);
    expect(logs.join('\n')).not.toContain(SECRET);
  });
});

describe('events of the function', () => {
  /** The function writes events after answering: wait (bounded) until `n` rows are in the table. */
  async function storedEvents(n: number): Promise<Array<{ id: string; status: number; event: Record<string, unknown> }>> {
    for (let i = 0; i < 200; i++) {
      const rows = project.current.query<{ id: string; status: number; event: Record<string, unknown> }>('select id, status, event from voxctl_events order by time');
      if (rows.length >= n) return rows;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`fewer than ${n} events were stored`);
  }

  it('stores every answered request in voxctl_events, secret masked; webhook logs/replay --remote read them', async () => {
    project.current.reset();
    project.current.exec('delete from voxctl_events;');
    await store.addOrg({ id: ORG_A, name: 'Sunrise Dental', timezone: 'UTC' });
    await store.linkAgent({ orgId: ORG_A, type: 'inbound', vapiAssistantId: ASSISTANT_A });
    const url = `${guarded!.url}/api/vapi/tools/bookClinicAppointment`;
    const body = toolCallsMessage([{ id: 'call-ev', name: 'bookClinicAppointment', args: { appointmentDate: '2031-03-18', appointmentTime: '10:00', patientEmail: 'ev@example.com', patientName: 'Eve', note: SECRET } }], { assistantId: ASSISTANT_A });
    expect((await request(url, { body, headers: { 'x-vapi-secret': SECRET } })).status).toBe(200);
    expect((await request(url, { body })).status).toBe(401);
    const rows = await storedEvents(2);
    expect(rows.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(JSON.stringify(rows)).not.toContain(SECRET);
    const ok = rows.find((r) => r.status === 200)!.event;
    expect(ok).toMatchObject({ orgId: ORG_A, tools: ['bookClinicAppointment'], path: '/api/vapi/tools/bookClinicAppointment' });
    expect((ok.requestHeaders as Record<string, string>)['x-vapi-secret']).toBe('whse…cdef');
    expect(String(ok.answer)).toContain('Booked');

    // No local log in this folder and Supabase configured: logs reads the table (filters apply).
    const env = { SUPABASE_URL: project.current.url, SUPABASE_SERVICE_ROLE_KEY: project.current.keys.serviceRole, VAPI_WEBHOOK_SECRET: SECRET };
    const logs = await runCli(['webhook', 'logs', '--status', '2xx', '--json'], { cwd: tmp, env });
    expect(logs.exitCode).toBe(0);
    expect(logs.json()).toMatchObject({ ok: true, source: 'supabase', events: [expect.objectContaining({ id: rows.find((r) => r.status === 200)!.id, status: 200 })] });
    expect((logs.json() as { events: unknown[] }).events).toHaveLength(1);

    // Replay the stored request to the function: the slot is taken now, so the answer is an error result.
    const id = rows.find((r) => r.status === 200)!.id;
    const replay = await runCli(['webhook', 'replay', id.slice(0, 8), '--remote', '--url', url, '--json'], { cwd: tmp, env });
    expect(replay.json()).toMatchObject({ eventId: id, status: 200 });
    expect((replay.json() as { results: Array<{ toolCallId: string; error?: string }> }).results).toEqual([{ toolCallId: 'call-ev', name: 'bookClinicAppointment', error: expect.any(String) }]);
    expect(replay.exitCode).toBe(1);
  });
});

describe('doctor check for a deployed function (src/doctor/edge-check.ts)', () => {
  it('passes when the function answers with our secret, fails naming the fix when it holds another', async () => {
    const { checkEdgeFunction } = await import('../../src/doctor/edge-check.js');
    expect(await checkEdgeFunction({ functionUrl: guarded!.url, secret: SECRET })).toMatchObject({ id: 'edge-function', ok: true, message: expect.stringContaining('holds the same') });
    const other = await checkEdgeFunction({ functionUrl: guarded!.url, secret: 'another-secret-0123456789' });
    expect(other).toMatchObject({ ok: false, hint: expect.stringContaining('voxctl edge deploy') });
    expect(JSON.stringify(other)).not.toContain('another-secret-0123456789');
    const none = await checkEdgeFunction({ functionUrl: `${guarded!.url.replace(/\/voxctl$/, '')}/other`, secret: SECRET });
    expect(none).toMatchObject({ ok: true, skipped: true, message: expect.stringContaining('no voxctl function') });
  });
});
