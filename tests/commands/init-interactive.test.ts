// @inquirer/testing/vitest mocks every @inquirer/* prompt onto one virtual screen; it must be
// imported before the CLI (which loads @inquirer/prompts lazily, on the first question).
import { screen } from '@inquirer/testing/vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMswServer } from '../msw/server.js';
import { vapiKeyHandlers } from '../helpers/vapi-keys.js';
import { runCli } from '../helpers/run-cli.js';
import { useTestDb } from '../helpers/store.js';

const VAPI_KEY = '3f2b8c1e-7a4d-4e1f-9b2a-0c5d6e7f8a9b';
const NGROK = '2aBcDeFgHiJkLmNoPqRsTuVwXyZ_3cD4eF5gH6iJ7kL8mN9pQ';
const SERVICE_KEY = 'sb_secret_Zq8vT3kLmN0pQrStUvWx12345';

// init checks the key online: a Vapi (msw, at api.vapi.ai) that knows the keys these tests use.
const vapi = vapiKeyHandlers([VAPI_KEY, '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b']);
const msw = createMswServer(...vapi.handlers);
beforeAll(() => msw.listen());
afterAll(() => msw.close());

const testDb = useTestDb();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-init-tty-'));
});

/** Runs `voxctl init` on a (fake) terminal; the prompts appear on `screen`. */
const start = (args: string[] = [], env: Record<string, string> = {}) => runCli(['init', ...args], { env, cwd: dir, tty: true, storeFactory: testDb.factory });
const envOf = async (f: string) =>
  Object.fromEntries((await readFile(path.join(dir, f), 'utf8')).split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

async function waitFor(text: string): Promise<void> {
  for (let i = 0; i < 50 && !screen.getScreen().includes(text); i++) await screen.next();
  expect(screen.getScreen()).toContain(text);
}

describe('init, interactive', () => {
  it('asks for what is missing, refuses a bad answer, masks secrets as they are typed, and writes the files', async () => {
    const result = start();
    await waitFor('Where should voxctl keep your orgs and agents?');
    expect(screen.getScreen()).toContain('Embedded store: one SQLite file in .voxctl/');
    expect(screen.getScreen()).not.toContain('PostgreSQL');
    screen.keypress('enter');

    await waitFor('Vapi private API key');
    screen.type('not a key');
    screen.keypress('enter');
    await screen.next();
    expect(screen.getScreen()).toContain('spaces in it');
    // Clear the bad answer, then type the real key: only asterisks show.
    for (let i = 0; i < 'not a key'.length; i++) screen.keypress('backspace');
    screen.type(VAPI_KEY);
    expect(screen.getScreen()).not.toContain(VAPI_KEY);
    expect(screen.getScreen()).toContain('*'.repeat(VAPI_KEY.length));
    screen.keypress('enter');

    await waitFor('Ngrok authtoken');
    screen.type(NGROK);
    expect(screen.getScreen()).not.toContain(NGROK);
    screen.keypress('enter');

    const r = await result;
    expect(r.exitCode).toBe(0);
    const local = await envOf('.env.local');
    expect(local).toMatchObject({ VAPI_PRIVATE_KEY: VAPI_KEY, NGROK_AUTHTOKEN: NGROK });
    expect(local.VAPI_WEBHOOK_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(path.join(dir, '.env.local'))).mode & 0o777).toBe(0o600);
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toContain('.env.local');
    const everything = r.stdout + r.stderr + (await screen.getFullOutput());
    expect(everything).not.toContain(VAPI_KEY);
    expect(everything).not.toContain(NGROK);
    expect(r.stderr).toContain('voxctl tunnel up');
  });

  it('checks a typed Vapi key online and asks again when Vapi rejects it (one request per key)', async () => {
    vapi.seen.length = 0;
    const unknown = '0badc0de-0000-4000-8000-0000deadbeef';
    const result = start(['--store', 'embedded', '--ngrok-token', NGROK]);
    await waitFor('Vapi private API key');
    screen.type(unknown);
    screen.keypress('enter');
    await waitFor('Vapi rejected this key (401)');
    for (let i = 0; i < unknown.length; i++) screen.keypress('backspace');
    screen.type(VAPI_KEY);
    screen.keypress('enter');
    const r = await result;
    expect(r.exitCode, r.stderr).toBe(0);
    expect((await envOf('.env.local')).VAPI_PRIVATE_KEY).toBe(VAPI_KEY);
    expect(r.stderr).toContain('Vapi accepts the key.');
    // The typed key's check is the one reported: no second request before writing.
    expect(vapi.seen.map((s) => s.key)).toEqual([unknown, VAPI_KEY]);
    expect(r.stdout + r.stderr + (await screen.getFullOutput())).not.toContain(unknown);
  });

  it('asks only for what is missing', async () => {
    await writeFile(path.join(dir, '.env.local'), `VAPI_PRIVATE_KEY=${VAPI_KEY}\n`, { mode: 0o600 });
    const result = start([], { NGROK_AUTHTOKEN: NGROK });
    // The store question is asked (nothing chose one), the keys are not: one is in .env.local,
    // the other comes from the environment.
    await waitFor('Where should voxctl keep');
    screen.keypress('enter');
    const r = await result;
    expect(r.exitCode).toBe(0);
    expect(await screen.getFullOutput()).not.toMatch(/API key|authtoken/);
    expect(await envOf('.env.local')).toMatchObject({ VAPI_PRIVATE_KEY: VAPI_KEY, NGROK_AUTHTOKEN: NGROK });
  });

  it('sets up Supabase when chosen, checking the URL and the key', async () => {
    const result = start(['--vapi-key', VAPI_KEY, '--ngrok-token', NGROK]);
    await waitFor('Where should voxctl keep');
    screen.keypress('down');
    screen.keypress('enter');

    await waitFor('Supabase project URL');
    screen.type('abcd.supabase.co');
    screen.keypress('enter');
    await screen.next();
    expect(screen.getScreen()).toContain('Enter the project URL');
    for (let i = 0; i < 'abcd.supabase.co'.length; i++) screen.keypress('backspace');
    screen.type('https://abcd.supabase.co');
    screen.keypress('enter');

    await waitFor('Supabase service-role key');
    screen.type('sb_publishable_abcdefghijklmnopqrst');
    screen.keypress('enter');
    await screen.next();
    expect(screen.getScreen()).toContain('publishable (anon) key');
    for (let i = 0; i < 'sb_publishable_abcdefghijklmnopqrst'.length; i++) screen.keypress('backspace');
    screen.type(SERVICE_KEY);
    screen.keypress('enter');

    const r = await result;
    expect(r.exitCode).toBe(0);
    expect(await envOf('.env')).toEqual({ SUPABASE_URL: 'https://abcd.supabase.co' });
    expect((await envOf('.env.local')).SUPABASE_SERVICE_ROLE_KEY).toBe(SERVICE_KEY);
    expect(existsSync(path.join(dir, '.voxctl'))).toBe(false);
  });

  it('confirms before replacing a secret in .env.local', async () => {
    await writeFile(path.join(dir, '.env.local'), `VAPI_PRIVATE_KEY=${VAPI_KEY}\nNGROK_AUTHTOKEN=${NGROK}\n`, { mode: 0o600 });
    const other = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';
    const result = start(['--vapi-key', other, '--store', 'embedded']);
    await waitFor('Replace the VAPI_PRIVATE_KEY in .env.local?');
    screen.type('n');
    screen.keypress('enter');
    const r = await result;
    expect(r.exitCode).toBe(0);
    expect((await envOf('.env.local')).VAPI_PRIVATE_KEY).toBe(VAPI_KEY);
    expect(r.stderr).toContain('Kept the VAPI_PRIVATE_KEY in .env.local');
  });

  it('Ctrl-C exits 130 and writes nothing', async () => {
    const result = start();
    await waitFor('Where should voxctl keep');
    screen.keypress('enter');
    await waitFor('Vapi private API key');
    screen.keypress({ name: 'c', ctrl: true });
    const r = await result;
    expect(r.exitCode).toBe(130);
    expect(existsSync(path.join(dir, '.env.local'))).toBe(false);
  });
});
