/**
 * The "done" path, end to end with the built bin and real services: `edge build` →
 * `edge serve` (Deno, against the PostgREST tier) → `webhook test bookClinicAppointment --url
 * <function URL>` books → `webhook logs --remote` shows it; SIGINT stops serve with exit 0. Deno must start (never skipped).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupabaseStore } from '../../src/store/supabase.js';
import { Redactor } from '../../src/util/mask.js';
import { runCli } from '../helpers/run-cli.js';
import { useProject } from '../supabase/project.js';

const BIN = path.join(__dirname, '..', '..', 'bin', 'voxctl.js');
const ORG = '0a000000-0000-4000-8000-0000000000e1';
const ASSISTANT = 'asst-edge-serve';
const SECRET = 'whsec-serve-0123456789abcdef';
const project = useProject();
let tmp: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-edge-serve-'));
  const store = await createSupabaseStore({ url: project.current.url, serviceRoleKey: project.current.keys.serviceRole, redactor: new Redactor() });
  await store.addOrg({ id: ORG, name: 'Edge Clinic', timezone: 'UTC' });
  await store.linkAgent({ orgId: ORG, type: 'inbound', vapiAssistantId: ASSISTANT });
  await store.close();
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('edge build → serve → webhook test → logs --remote', () => {
  it('books through the function served by Deno and stops on SIGINT with exit 0', async () => {
    const env = { SUPABASE_URL: project.current.url, SUPABASE_SERVICE_ROLE_KEY: project.current.keys.serviceRole, VAPI_WEBHOOK_SECRET: SECRET };
    expect((await runCli(['edge', 'build', '--json'], { cwd: tmp, env })).exitCode).toBe(0);

    const child = spawn(process.execPath, [BIN, 'edge', 'serve', '--port', '0', '--json'], {
      cwd: tmp,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS ?? '', NO_COLOR: '1', CI: '1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const ready = await new Promise<{ event: string; url: string; webhookUrl: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ready line; stderr: ${stderr}`)), 150_000);
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          const line = stdout.split('\n').find((l) => l.includes('"event":"ready"'));
          if (line) {
            clearTimeout(timer);
            resolve(JSON.parse(line) as { event: string; url: string; webhookUrl: string });
          }
        });
        void exited.then((code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
      });
      expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/voxctl$/);
      expect(ready.webhookUrl).toBe(`${ready.url}/api/vapi/tools`);

      const test = await runCli(
        ['webhook', 'test', 'bookClinicAppointment', '--assistant-id', ASSISTANT, '--url', `${ready.webhookUrl}/bookClinicAppointment`, '--arg', 'appointmentDate=2031-06-03', '--arg', 'appointmentTime=11:30', '--json'],
        { cwd: tmp, env },
      );
      expect(test.json()).toMatchObject({ ok: true, status: 200, answer: { result: expect.stringMatching(/^Booked/) } });
      expect(project.current.query(`select count(*)::int as n from appointments where org_id = '${ORG}' and status = 'booked'`)).toEqual([{ n: 1 }]);

      // The event reaches the table after the answer: read it (bounded) through the command.
      let events: Array<{ tools: string[]; status: number; orgId: string }> = [];
      for (let i = 0; i < 200 && events.length === 0; i++) {
        const logs = await runCli(['webhook', 'logs', '--remote', '--tool', 'bookClinicAppointment', '--json'], { cwd: tmp, env });
        expect(logs.exitCode).toBe(0);
        events = logs.json<{ events: typeof events }>().events;
        if (events.length === 0) await new Promise((r) => setTimeout(r, 25));
      }
      expect(events).toEqual([expect.objectContaining({ status: 200, orgId: ORG, tools: ['bookClinicAppointment'] })]);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('"event":"stopped"');
    expect(stdout + stderr).not.toContain(SECRET);
  }, 240_000);
});
