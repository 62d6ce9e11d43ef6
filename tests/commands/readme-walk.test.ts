/**
 * "The first five minutes" of the README, run exactly as written (commands read from README.md),
 * in two "terminals" on one folder with the real embedded store: `tunnel up` keeps running
 * while the second block runs. Vapi is the msw fake at its real base URL, the tunnel a fake
 * whose public https URL msw relays to the real local receiver.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { http } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_VAPI_BASE_URL } from '../../src/config/env.js';
import type { TunnelFactory } from '../../src/tunnel/types.js';
import { Interrupts } from '../../src/util/signals.js';
import { FakeVapi, vapiHandlers } from '../fakes/vapi.js';
import { createMswServer } from '../msw/server.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';

const PUBLIC = 'https://walk-test-7.ngrok-free.dev';
const NGROK = '2aBcDeFgHiJkLmNoPqRsTuVwXyZ_3cD4eF5gH6iJ7kL8mN9pQ';
// Friday 2030-01-04 15:00 UTC: the next weekday is Monday 2030-01-07.
const NOW = new Date('2030-01-04T15:00:00.000Z');

let fake = new FakeVapi();
let receiverBase: string | null = null;
const msw = createMswServer(
  ...vapiHandlers({ handle: (r) => fake.handle(r) } as FakeVapi, DEFAULT_VAPI_BASE_URL),
  // The tunnel: the public URL relays to the receiver on loopback, as ngrok does.
  http.all(`${PUBLIC}/*`, async ({ request }) => {
    const url = new URL(request.url);
    const headers = new Headers();
    for (const k of ['content-type', 'x-vapi-secret', 'authorization']) {
      const v = request.headers.get(k);
      if (v !== null) headers.set(k, v);
    }
    const res = await fetch(`${receiverBase}${url.pathname}${url.search}`, { method: request.method, headers, body: ['GET', 'HEAD'].includes(request.method) ? undefined : await request.arrayBuffer() });
    return new Response(await res.arrayBuffer(), { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
  }),
);
beforeAll(() => msw.listen());
afterAll(() => msw.close());

let dir: string;
beforeEach(async () => {
  fake = new FakeVapi();
  receiverBase = null;
  dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-walk-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** The `npx voxctl …` lines of each code block under "## The first five minutes", as argv. */
function readmeBlocks(): string[][][] {
  const readme = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');
  const start = readme.indexOf('## The first five minutes');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) =>
    m[1]!
      .split('\n')
      .filter((l) => l.startsWith('npx voxctl '))
      .map((l) => argv(l.replace(/\s+#.*$/, '').slice('npx voxctl '.length))),
  );
}

/** Splits a shell line into words (double quotes group). */
function argv(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

const fakeTunnel: TunnelFactory = {
  name: 'ngrok',
  async open(o) {
    receiverBase = `http://${o.addr}`;
    return { url: PUBLIC, close: async () => {} };
  },
};

describe('the README walk ("The first five minutes")', () => {
  it.each([
    ['on a fresh clone', false],
    ['after the set-up step made the demo org (`webhook test --local`)', true],
  ])('works as written, in order, for a user with real accounts (fakes of Vapi and ngrok): %s', async (_name, afterSetUp) => {
    const blocks = readmeBlocks();
    if (afterSetUp) {
      const demo = await runCli(['webhook', 'test', 'bookClinicAppointment', '--local'], { cwd: dir, env: {}, now: () => NOW });
      expect(demo.exitCode, demo.stderr).toBe(0);
      expect(demo.stderr).toContain('created the demo org "Demo Clinic"');
    }
    expect(blocks).toHaveLength(2);
    const outbound = fake.addAssistant({ name: 'Campaign' });
    let orgId = '';
    const fill = (args: string[]) => args.map((a) => a.replace('<org-id>', orgId).replace('<vapi-id>', String(outbound.id)));
    // The user's shell (npx) supplies the keys init asks for; prompts are off without a TTY.
    const env = (args: string[]) => (args[0] === 'init' ? { VAPI_PRIVATE_KEY: fake.apiKey, NGROK_AUTHTOKEN: NGROK, npm_command: 'exec' } : { npm_command: 'exec' });
    const runStep = async (args: string[]): Promise<CliResult> => {
      const r = await runCli(fill(args), { cwd: dir, env: env(args), now: () => NOW });
      expect(r.exitCode, `npx voxctl ${args.join(' ')}\n${r.stderr}`).toBe(0);
      if (args[0] === 'orgs' && args[1] === 'add') orgId = r.stdout.trim();
      return r;
    };

    // Terminal 1: everything up to `tunnel up`, which keeps running.
    const [first, second] = blocks as [string[][], string[][]];
    const tunnelAt = first.findIndex((a) => a[0] === 'tunnel' && a[1] === 'up');
    expect(tunnelAt).toBe(first.length - 1);
    for (const args of first.slice(0, tunnelAt)) {
      const r = await runStep(args);
      // Run through npx, its next steps read as the README does.
      if (args[0] === 'init') expect(r.stderr).toMatch(/^ {2}npx voxctl tunnel up --sync --all-orgs +# /m);
    }
    expect(orgId).toMatch(/^[0-9a-f-]{36}$/);

    const em = new EventEmitter();
    const interrupts = new Interrupts(em);
    const tunnel = runCli(fill(first[tunnelAt]!), { cwd: dir, env: {}, now: () => NOW, interrupts, services: { tunnelFactory: fakeTunnel } });
    await interrupts.waiting();

    // Terminal 2, same folder, while the receiver runs.
    const results = new Map<string, CliResult>();
    for (const args of second) results.set(args.slice(0, 2).join(' '), await runStep(args));

    const sarah = [...fake.store.assistant.values()].find((a) => a.name === 'Sarah · Sunrise Dental');
    expect(sarah?.server).toMatchObject({ url: `${PUBLIC}/api/vapi/tools` });
    const test = results.get('webhook test')!;
    expect(test.stdout).toMatch(/bookClinicAppointment.* answered \(HTTP 200/);
    expect(test.stdout).toContain('Booked:');
    if (afterSetUp) expect(test.stderr).toContain(`Using Sunrise Dental (${orgId}), the only org besides the demo org`);

    em.emit('SIGINT');
    const stopped = await tunnel;
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stdout).toMatch(/tool-calls {2}bookClinicAppointment {2}Sunrise Dental/);
  });
});
