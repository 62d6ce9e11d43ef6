/**
 * init checks what it can online before writing anything: a Vapi key Vapi does not know and a
 * Supabase that cannot be reached stop it; offline (the host does not resolve), the values are
 * kept and reported as not verified.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Prompter } from '../../src/ui/prompt.js';
import { createMswServer } from '../msw/server.js';
import { vapiKeyHandlers } from '../helpers/vapi-keys.js';
import { runCli } from '../helpers/run-cli.js';

const VAPI_KEY = '3f2b8c1e-7a4d-4e1f-9b2a-0c5d6e7f8a9b';
const UNKNOWN_KEY = '0badc0de-0000-4000-8000-0000deadbeef';
const NGROK = '2aBcDeFgHiJkLmNoPqRsTuVwXyZ_3cD4eF5gH6iJ7kL8mN9pQ';
const SERVICE_KEY = 'sb_secret_Zq8vT3kLmN0pQrStUvWx12345';

const vapi = vapiKeyHandlers([VAPI_KEY]);
const msw = createMswServer(...vapi.handlers);
beforeAll(() => msw.listen());
afterAll(() => msw.close());

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-init-verify-'));
  vapi.seen.length = 0;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const init = (args: string[], opts: { prompter?: Prompter; tty?: boolean } = {}) => runCli(['init', ...args], { env: {}, cwd: dir, ...opts });

async function closedPort(): Promise<number> {
  const srv = http.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('init checks the answers online', () => {
  it('a key Vapi rejects stops init (exit 4) and nothing is written', async () => {
    const r = await init(['--yes', '--vapi-key', UNKNOWN_KEY, '--ngrok-token', NGROK, '--json']);
    expect(r.exitCode).toBe(4);
    const err = r.json<{ error: { code: string; message: string; hint: string } }>().error;
    expect(err.code).toBe('credentials');
    expect(err.message).toMatch(/^Vapi rejected the API key \(401.*Nothing was written\.$/);
    expect(err.hint).toContain('Private Key');
    expect(await readdir(dir)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(UNKNOWN_KEY);
    // One request, with that key.
    expect(vapi.seen).toEqual([{ path: '/assistant/00000000-0000-4000-8000-000000000000', key: UNKNOWN_KEY }]);
  });

  it('a key Vapi accepts is reported as verified', async () => {
    const r = await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain('✓ Vapi accepts the key.');
    expect(r.stderr).toContain('Project set up.');
  });

  it('a Supabase that cannot be reached stops init (exit 1) and nothing is written', async () => {
    const port = await closedPort();
    const r = await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK, '--supabase-url', `http://127.0.0.1:${port}`, '--supabase-key', SERVICE_KEY, '--json']);
    expect(r.exitCode).toBe(1);
    expect(r.json<{ error: { message: string } }>().error.message).toContain(`Cannot reach Supabase at 127.0.0.1:${port}`);
    expect(await readdir(dir)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(SERVICE_KEY);
  });

  it('offline (the hosts do not resolve), the values are kept and reported as not verified', async () => {
    const r = await init([
      '--yes',
      '--vapi-key',
      VAPI_KEY,
      '--vapi-base-url',
      'https://vapi.voxctl-offline.invalid',
      '--ngrok-token',
      NGROK,
      '--supabase-url',
      'https://abcd.voxctl-offline.invalid',
      '--supabase-key',
      SERVICE_KEY,
      '--json',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = r.json<{ verified: Array<{ id: string; verified: boolean; message: string }> }>();
    expect(doc.verified.map((v) => [v.id, v.verified])).toEqual([
      ['vapi-key', false],
      ['store', false],
    ]);
    expect(doc.verified[0]!.message).toMatch(/^Vapi key not verified \(offline: /);
    expect(doc.verified[1]!.message).toMatch(/^Supabase not verified \(offline: /);
    expect(await readFile(path.join(dir, '.env.local'), 'utf8')).toContain(`VAPI_PRIVATE_KEY=${VAPI_KEY}`);
    const human = await init(['--yes']);
    expect(human.exitCode).toBe(0);
    expect(human.stderr).toMatch(/! Vapi key not verified \(offline: .*\)\. Run `voxctl doctor` once online\./);
  });
});

describe('a second init', () => {
  it('does not ask the store question again once the embedded store exists', async () => {
    const first = await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK, '--store', 'embedded']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(existsSync(path.join(dir, '.voxctl', 'store.db'))).toBe(true);
    const asked: string[] = [];
    const prompter: Prompter = {
      interactive: true,
      select: (o) => {
        asked.push(o.message);
        return Promise.reject(new Error(`asked: ${o.message}`));
      },
      ask: (o) => {
        asked.push(o.message);
        return Promise.reject(new Error(`asked: ${o.message}`));
      },
      confirm: (o) => {
        asked.push(o.message);
        return Promise.reject(new Error(`asked: ${o.message}`));
      },
    };
    const again = await init([], { prompter, tty: true });
    expect(asked).toEqual([]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('Using the embedded store that is already set up here (`--store supabase` to switch).');
  });
});
