import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMswServer } from '../msw/server.js';
import { vapiKeyHandlers } from '../helpers/vapi-keys.js';
import { run } from '../../src/main.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { bufferIo } from '../../src/ui/io.js';
import { validateSupabaseKey, validateVapiKey } from '../../src/init/values.js';
import { runCli } from '../helpers/run-cli.js';
import { useTestDb } from '../helpers/store.js';

const VAPI_KEY = '3f2b8c1e-7a4d-4e1f-9b2a-0c5d6e7f8a9b';
const NGROK = '2aBcDeFgHiJkLmNoPqRsTuVwXyZ_3cD4eF5gH6iJ7kL8mN9pQ';
const jwt = (role: string) => `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ role, iss: 'supabase' })).toString('base64url')}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
const SERVICE_KEY = jwt('service_role');

// init checks the key online: a Vapi (msw, at api.vapi.ai) that knows the keys these tests use.
const vapi = vapiKeyHandlers([VAPI_KEY, '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b']);
const msw = createMswServer(...vapi.handlers);
beforeAll(() => msw.listen());
afterAll(() => msw.close());

const testDb = useTestDb();
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-init-'));
});

const init = (args: string[], env: Record<string, string> = {}) => runCli(['init', ...args], { env, cwd: dir, storeFactory: testDb.factory });
const read = (f: string) => readFile(path.join(dir, f), 'utf8');
const envOf = async (f: string) => Object.fromEntries((await read(f)).split('\n').filter((l) => /^[A-Z_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

describe('init, non-interactive (--yes or no TTY)', () => {
  it('writes secrets to .env.local (0600), generates a webhook secret, makes git ignore .env.local and migrates the store', async () => {
    const r = await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK, '--json']);
    expect(r.exitCode).toBe(0);
    const local = await envOf('.env.local');
    expect(local.VAPI_PRIVATE_KEY).toBe(VAPI_KEY);
    expect(local.NGROK_AUTHTOKEN).toBe(NGROK);
    expect(local.VAPI_WEBHOOK_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(path.join(dir, '.env.local'))).mode & 0o777).toBe(0o600);
    expect(existsSync(path.join(dir, '.env'))).toBe(false);
    expect(await read('.gitignore')).toContain('.env.local\n.voxctl/\n');
    expect(r.json()).toEqual({
      ok: true,
      files: [{ file: '.env.local', created: true, changes: expect.arrayContaining([{ key: 'VAPI_PRIVATE_KEY', action: 'added' }]) }],
      generated: ['VAPI_WEBHOOK_SECRET'],
      gitignore: { file: '.gitignore', added: ['.env.local', '.voxctl/'] },
      store: { kind: 'embedded', dataDir: path.join(dir, '.voxctl'), version: SCHEMA_VERSION },
      verified: [{ id: 'vapi-key', verified: true, message: 'Vapi accepts the key' }],
    });
    for (const s of [VAPI_KEY, NGROK, local.VAPI_WEBHOOK_SECRET!]) expect(r.stdout + r.stderr).not.toContain(s);
  });

  it('never prompts: a missing value is a usage error naming the flags, and nothing is written', async () => {
    for (const args of [['--yes'], []]) {
      const r = await init([...args, '--json']);
      expect(r.exitCode).toBe(2);
      const { error } = r.json<{ error: { message: string; hint: string } }>();
      expect(error.message).toBe('Missing VAPI_PRIVATE_KEY (--vapi-key), NGROK_AUTHTOKEN (--ngrok-token).');
      expect(error.hint).toContain('Pass --vapi-key and --ngrok-token');
      expect(existsSync(path.join(dir, '.env.local'))).toBe(false);
      expect(existsSync(path.join(dir, '.gitignore'))).toBe(false);
    }
    const human = await init(['--vapi-key', VAPI_KEY]);
    expect(human.exitCode).toBe(2);
    expect(human.stderr).toContain('Missing NGROK_AUTHTOKEN (--ngrok-token)');
  });

  it('takes values from the environment and writes them where they belong', async () => {
    const r = await init(['--yes', '--ngrok-domain', 'clinic.ngrok-free.dev'], { VAPI_API_KEY: VAPI_KEY, NGROK_AUTHTOKEN: NGROK, VAPI_WEBHOOK_SECRET: 'env-secret-0123456789' });
    expect(r.exitCode).toBe(0);
    expect(await envOf('.env.local')).toEqual({ VAPI_PRIVATE_KEY: VAPI_KEY, NGROK_AUTHTOKEN: NGROK, VAPI_WEBHOOK_SECRET: 'env-secret-0123456789' });
    expect(await envOf('.env')).toEqual({ NGROK_DOMAIN: 'clinic.ngrok-free.dev' });
  });

  it.each([
    [['--vapi-key', 'https://api.vapi.ai'], '--vapi-key: That is a URL, not the Vapi private key.'],
    [['--ngrok-token', 'cr_2IEh2EYZF5XxPRAtzSSSnBGadhz'], '--ngrok-token: That does not look like an ngrok authtoken'],
    [['--webhook-secret', 'short'], '--webhook-secret: Use at least 16 characters'],
    [['--supabase-url', 'https://abcd.supabase.co/rest/v1/agents'], '--supabase-url: Use the project URL without a path'],
    [['--supabase-url', 'https://abcd.supabase.co', '--supabase-key', jwt('anon')], '--supabase-key: That is the anon key'],
    [['--backend-url', 'http://localhost:3001'], '--backend-url: Vapi needs https'],
    [['--ngrok-domain', 'https://x.ngrok-free.dev'], '--ngrok-domain: Enter a bare domain'],
  ])('refuses a bad value: %j', async (args, message) => {
    const direct = await init(['--yes', ...args, '--json']);
    expect(direct.exitCode).toBe(2);
    expect(direct.json<{ error: { message: string } }>().error.message).toContain(message);
    expect(existsSync(path.join(dir, '.env.local'))).toBe(false);
  });

  it('sets up Supabase: URL in .env, key in .env.local, no embedded store; half a Supabase is refused', async () => {
    const half = await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK, '--supabase-url', 'https://abcd.supabase.co', '--json']);
    expect(half.exitCode).toBe(2);
    expect(half.json<{ error: { message: string } }>().error.message).toBe('Missing SUPABASE_SERVICE_ROLE_KEY (--supabase-key).');

    const r = await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK, '--supabase-url', 'https://abcd.supabase.co', '--supabase-key', SERVICE_KEY, '--json']);
    expect(r.exitCode).toBe(0);
    expect(await envOf('.env')).toEqual({ SUPABASE_URL: 'https://abcd.supabase.co' });
    expect((await envOf('.env.local')).SUPABASE_SERVICE_ROLE_KEY).toBe(SERVICE_KEY);
    expect(r.json()).toMatchObject({ store: { kind: 'supabase', url: 'https://abcd.supabase.co' }, gitignore: { added: ['.env.local'] } });
    expect(existsSync(path.join(dir, '.voxctl'))).toBe(false);
  });

  it('with --backend-url needs no ngrok token and writes BACKEND_URL and WEBHOOK_URL', async () => {
    const r = await init(['--yes', '--vapi-key', VAPI_KEY, '--backend-url', 'https://api.clinic.example/']);
    expect(r.exitCode).toBe(0);
    expect(await envOf('.env')).toEqual({ BACKEND_URL: 'https://api.clinic.example/', WEBHOOK_URL: 'https://api.clinic.example/api/vapi/tools' });
  });

  it('keeps what is in the files: comments, other keys, an existing .gitignore; a second run changes nothing', async () => {
    await writeFile(path.join(dir, '.env'), '# my settings\nPORT=3000\n');
    await writeFile(path.join(dir, '.gitignore'), 'node_modules/\ndist/');
    const first = await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK]);
    expect(first.exitCode).toBe(0);
    expect(await read('.env')).toBe('# my settings\nPORT=3000\n');
    expect(await read('.gitignore')).toBe('node_modules/\ndist/\n\n# voxctl: secrets and the embedded store stay out of git\n.env.local\n.voxctl/\n');
    const secret = (await envOf('.env.local')).VAPI_WEBHOOK_SECRET;
    const localBefore = await read('.env.local');

    const again = await init(['--yes', '--json']);
    expect(again.exitCode).toBe(0);
    expect(again.json()).toMatchObject({ files: [], generated: [], gitignore: { added: [] } });
    expect(await read('.env.local')).toBe(localBefore);
    expect((await envOf('.env.local')).VAPI_WEBHOOK_SECRET).toBe(secret);
  });

  it("uses git's own rules: a repo that already ignores *.local gets no new line", async () => {
    execFileSync('git', ['init', '-q', dir]);
    await writeFile(path.join(dir, '.gitignore'), '*.local\n.voxctl\n');
    const r = await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK, '--json']);
    expect(r.json()).toMatchObject({ gitignore: { added: [] } });
    expect(await read('.gitignore')).toBe('*.local\n.voxctl\n');
    expect(execFileSync('git', ['-C', dir, 'status', '--porcelain']).toString()).not.toContain('.env.local');
  });

  it('a bad flag value without a TTY gets a hint that fits: nothing asks, a secret left out is generated', async () => {
    const short = await init(['--vapi-key', VAPI_KEY, '--ngrok-token', NGROK, '--webhook-secret', 'short', '--json']);
    expect(short.exitCode).toBe(2);
    const err = short.json<{ error: { message: string; hint: string } }>().error;
    expect(err.message).toMatch(/^--webhook-secret: /);
    expect(err.hint).toBe('Pass a valid webhook secret (X-Vapi-Secret), or leave --webhook-secret out to have one generated.');
    const key = await init(['--vapi-key', 'nope', '--json']);
    expect(key.json<{ error: { hint: string } }>().error.hint).toBe('Pass a valid Vapi private API key (prompts are off: no TTY, CI, or --yes).');
    expect(key.json<{ error: { hint: string } }>().error.hint).not.toContain('to be asked');
  });

  it('replaces a secret already in .env.local only with --yes', async () => {
    await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK]);
    const other = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';
    const refused = await init(['--vapi-key', other]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('init would replace VAPI_PRIVATE_KEY in .env.local; nothing was written.');
    expect(refused.stderr).toContain('Pass --yes to replace it');
    expect((await envOf('.env.local')).VAPI_PRIVATE_KEY).toBe(VAPI_KEY);
    const replaced = await init(['--yes', '--vapi-key', other]);
    expect(replaced.exitCode).toBe(0);
    expect(replaced.stderr).toContain('changed VAPI_PRIVATE_KEY=9e8d…7c6b in .env.local');
    expect((await envOf('.env.local')).VAPI_PRIVATE_KEY).toBe(other);
  });

  it('without a TTY, a secret from the environment does not replace the one in .env.local without --yes', async () => {
    await init(['--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK]);
    const before = await read('.env.local');
    const other = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';
    const refused = await init(['--json'], { VAPI_PRIVATE_KEY: other });
    expect(refused.exitCode).toBe(2);
    expect(refused.json<{ error: { message: string } }>().error.message).toContain('VAPI_PRIVATE_KEY');
    expect(await read('.env.local')).toBe(before);
    expect((await init(['--yes'], { VAPI_PRIVATE_KEY: other })).exitCode).toBe(0);
    expect((await envOf('.env.local')).VAPI_PRIVATE_KEY).toBe(other);
  });

  it('a failing init leaves every file byte for byte as it was (the store is checked before anything is written)', async () => {
    const files = { '.env': '\uFEFF# mine\r\nBACKEND_URL=http://old # keep\r\n', '.env.local': 'VAPI_PRIVATE_KEY=3f2b8c1e-7a4d-4e1f-9b2a-0c5d6e7f8a9b\n', '.gitignore': 'node_modules' };
    for (const [f, text] of Object.entries(files)) await writeFile(path.join(dir, f), text);
    const failingStore = async () => {
      throw new Error('the store is broken');
    };
    const r = await runCli(['init', '--yes', '--ngrok-token', NGROK, '--backend-url', 'https://new.example.com'], { env: {}, cwd: dir, storeFactory: failingStore });
    expect(r.exitCode).toBe(1);
    for (const [f, text] of Object.entries(files)) expect(await read(f)).toBe(text);
    // A fresh folder: no file is created either.
    const empty = await mkdtemp(path.join(os.tmpdir(), 'voxctl-init-'));
    const r2 = await runCli(['init', '--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK], { env: {}, cwd: empty, storeFactory: failingStore });
    expect(r2.exitCode).toBe(1);
    expect(await readdir(empty)).toEqual([]);
    await rm(empty, { recursive: true, force: true });
  });

  it('two inits at once with different values end with one run’s values, never a mix', async () => {
    const other = '9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b';
    const runs = await Promise.all([
      init(['--yes', '--vapi-key', VAPI_KEY, '--webhook-secret', 'secret-of-run-one-123', '--backend-url', 'https://one.example.com']),
      init(['--yes', '--vapi-key', other, '--webhook-secret', 'secret-of-run-two-456', '--backend-url', 'https://two.example.com']),
    ]);
    expect(runs.map((r) => r.exitCode)).toEqual([0, 0]);
    const local = await envOf('.env.local');
    const env = await envOf('.env');
    const one = local.VAPI_PRIVATE_KEY === VAPI_KEY;
    expect([local.VAPI_PRIVATE_KEY, local.VAPI_WEBHOOK_SECRET, env.BACKEND_URL]).toEqual(
      one ? [VAPI_KEY, 'secret-of-run-one-123', 'https://one.example.com'] : [other, 'secret-of-run-two-456', 'https://two.example.com'],
    );
    expect(await readdir(dir)).not.toContain('.voxctl-env.lock');
  });

  it('reads a secret flag given as - from stdin', async () => {
    const io = bufferIo();
    io.stdin = Readable.from([`${VAPI_KEY}\n`]);
    const code = await run(['init', '--yes', '--vapi-key', '-', '--ngrok-token', NGROK], { io, env: {}, cwd: dir, projectCeiling: dir, storeFactory: testDb.factory });
    expect(code).toBe(0);
    expect((await envOf('.env.local')).VAPI_PRIVATE_KEY).toBe(VAPI_KEY);
  });

  it('creates and migrates the real embedded store under VOXCTL_DATA_DIR', async () => {
    const data = path.join(dir, 'state');
    const r = await runCli(['init', '--yes', '--vapi-key', VAPI_KEY, '--ngrok-token', NGROK, '--json'], { env: { VOXCTL_DATA_DIR: data }, cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(existsSync(path.join(data, 'store.db'))).toBe(true);
    expect(r.json()).toMatchObject({ store: { kind: 'embedded', dataDir: data, version: SCHEMA_VERSION }, gitignore: { added: ['.env.local', 'state/'] } });
    const doctor = await runCli(['doctor', '--json'], { env: { VOXCTL_DATA_DIR: data }, cwd: dir });
    const checks = doctor.json<{ checks: Array<{ id: string; ok: boolean }> }>().checks;
    expect(checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['webhook-url']);
  });
});

describe('init value checks', () => {
  it('validates key shapes', () => {
    expect(validateVapiKey(VAPI_KEY)).toBe(true);
    expect(validateVapiKey(`"${VAPI_KEY}"`)).toBe('Leave out the quotes.');
    expect(validateVapiKey(`Bearer ${VAPI_KEY}`)).toContain('spaces');
    expect(validateSupabaseKey('sb_secret_abcdefghijklmnopqrstuv')).toBe(true);
    expect(validateSupabaseKey('sb_publishable_abcdefghijklmnop')).toContain('publishable');
    expect(validateSupabaseKey(SERVICE_KEY)).toBe(true);
    expect(validateSupabaseKey('not-a-key-at-all-really')).toContain('does not look like a Supabase key');
  });
});
