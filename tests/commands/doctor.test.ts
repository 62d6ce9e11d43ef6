import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DOCTOR_TIMEOUT_MS } from '../../src/commands/doctor.js';
import { ngrokTokenShape } from '../../src/doctor/checks.js';
import type { Store } from '../../src/store/types.js';
import { FAKE_VAPI_URL, FakeVapi, vapiHandlers } from '../fakes/vapi.js';
import { createMswServer } from '../msw/server.js';
import { runCli } from '../helpers/run-cli.js';
import { useTestDb } from '../helpers/store.js';

const BASE = 'https://clinic.ngrok-free.dev/api/vapi/tools';
const NGROK = '2aBcDeFgHiJkLmNoPqRsTuVwXyZ_3cD4eF5gH6iJ7kL8mN9pQ';
const SECRET = 'whsec-doctor-0123456789abcdef';

let fake = new FakeVapi();
const msw = createMswServer(...vapiHandlers({ handle: (r) => fake.handle(r) } as FakeVapi));
const testDb = useTestDb();
let store: Store;
let dir: string;

beforeAll(async () => {
  msw.listen();
  store = testDb.store;
});
afterAll(async () => {
  msw.close();
});
beforeEach(async () => {
  fake = new FakeVapi();
  dir = await mkdtemp(path.join(os.tmpdir(), 'voxctl-doctor-'));
});
afterEach(() => msw.reset());

/** A loopback port where nothing listens (bound, then closed). */
async function closedPort(): Promise<number> {
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as AddressInfo;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  return port;
}

const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.email=t@example.com', '-c', 'user.name=T', ...args], { stdio: 'pipe' });

interface Check {
  id: string;
  ok: boolean;
  skipped?: boolean;
  message: string;
  hint: string | null;
}
const doctor = async (env: Record<string, string> = {}) => {
  const r = await runCli(['doctor', '--json'], { env, cwd: dir, storeFactory: testDb.factory });
  const doc = r.json<{ ok: boolean; checks: Check[] }>();
  const by = (id: string) => doc.checks.find((c) => c.id === id)!;
  return { ...r, doc, by };
};

/** A project that passes every check: git ignores .env.local (0600), URLs agree, assistants are in order. */
async function healthyProject() {
  git('init', '-q');
  await writeFile(path.join(dir, '.gitignore'), 'node_modules/\n.env.local\n');
  await writeFile(path.join(dir, '.env'), `VAPI_BASE_URL=${FAKE_VAPI_URL}\nBACKEND_URL=https://clinic.ngrok-free.dev\nWEBHOOK_URL=${BASE}\n`);
  await writeFile(path.join(dir, '.env.local'), `VAPI_PRIVATE_KEY=${fake.apiKey}\nVAPI_WEBHOOK_SECRET=${SECRET}\nNGROK_AUTHTOKEN=${NGROK}\n`, { mode: 0o600 });
  await writeFile(path.join(dir, 'README.md'), '# clinic\n');
  git('add', '.');
  git('commit', '-qm', 'init');
  const org = await store.addOrg({ name: 'Sunrise Dental' });
  const a = fake.addAssistant({
    name: 'Sarah',
    server: { url: BASE },
    metadata: { org_id: org.id, voxctl_agent_type: 'inbound' },
    model: { provider: 'openai', model: 'gpt-4o', tools: [{ type: 'function', function: { name: 'bookClinicAppointment' }, server: { url: `${BASE}/bookClinicAppointment` } }] },
  });
  const tool = fake.addTool({ function: { name: 'checkAvailability' }, server: { url: `${BASE}/checkAvailability` } });
  const b = fake.addAssistant({ name: 'Marcy', server: { url: BASE }, metadata: { org_id: org.id, voxctl_agent_type: 'follow-up' }, model: { provider: 'openai', model: 'gpt-4o', toolIds: [tool.id] } });
  await store.linkAgent({ orgId: org.id, type: 'inbound', vapiAssistantId: String(a.id) });
  await store.linkAgent({ orgId: org.id, type: 'follow-up', vapiAssistantId: String(b.id) });
  return { org, inbound: a, followUp: b, tool };
}

describe('doctor', () => {
  it('on an empty folder starts with "run `voxctl init`" (and says it in --json)', async () => {
    const human = await runCli(['doctor'], { env: {}, cwd: dir });
    expect(human.exitCode).toBe(1);
    expect(human.stdout.split('\n')[0]).toBe('! No voxctl project here (no .env files, no store): run `voxctl init` first, or pass --cwd <project dir>.');
    const json = await runCli(['doctor', '--json'], { env: {}, cwd: dir });
    expect(json.json<{ error: { hint: string } }>().error.hint).toMatch(/^No voxctl project here .*run `voxctl init` first/);
    // A set-up project does not get that line.
    await healthyProject();
    expect((await runCli(['doctor'], { env: {}, cwd: dir, storeFactory: testDb.factory })).stdout).not.toContain('voxctl init');
  });

  it('passes every check on a healthy project and exits 0, with the JSON document of the contract', async () => {
    await healthyProject();
    const r = await doctor();
    expect(r.exitCode).toBe(0);
    expect(r.doc.ok).toBe(true);
    expect(r.doc.checks.map((c) => c.id)).toEqual([
      'config',
      'secrets-in-env-local',
      'env-local-gitignored',
      'env-local-mode',
      'no-secrets-tracked',
      'webhook-secret',
      'ngrok-token',
      'webhook-url',
      'store',
      'vapi-key',
      'assistants-webhook-url',
      'assistants-org-metadata',
      'duplicate-assistants',
      'unlinked-assistants',
    ]);
    for (const c of r.doc.checks) {
      expect(Object.keys(c)).toEqual(['id', 'ok', 'message', 'hint']);
      expect(c).toMatchObject({ ok: true, hint: null });
    }
    expect(r.by('assistants-webhook-url').message).toContain(`all 2 linked assistants and their tools use ${BASE}`);
    expect(r.stdout).not.toContain(fake.apiKey);
    expect(r.stdout).not.toContain(SECRET);
    expect(r.stdout).not.toContain(NGROK);
  });

  it('checks the Edge Function WEBHOOK_URL points at: it answers, but holds another secret → fails naming edge deploy', async () => {
    await healthyProject();
    const seen: string[] = [];
    const fn = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const ours = req.headers['x-vapi-secret'] === 'the-function-holds-this-one-000';
      const status = req.url === '/functions/v1/voxctl/healthz' ? 200 : req.url === '/functions/v1/voxctl/api/vapi/tools' && ours ? 200 : 401;
      res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => fn.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(fn.address() as AddressInfo).port}/functions/v1/voxctl`;
      const r = await doctor({ WEBHOOK_URL: `${base}/api/vapi/tools` });
      expect(r.exitCode).toBe(1);
      expect(r.by('edge-function')).toMatchObject({ ok: false, message: `the function at ${base} refuses this project's VAPI_WEBHOOK_SECRET (it holds another one)`, hint: expect.stringContaining('voxctl edge deploy') });
      expect(seen).toEqual(['GET /functions/v1/voxctl/healthz', 'POST /functions/v1/voxctl/api/vapi/tools']);
      expect(r.stdout).not.toContain(SECRET);
    } finally {
      await new Promise<void>((resolve) => fn.close(() => resolve()));
    }
  });

  it('prints a readable report with hints for failures and a summary', async () => {
    await healthyProject();
    await writeFile(path.join(dir, '.env.local'), `VAPI_PRIVATE_KEY=${fake.apiKey}\nNGROK_AUTHTOKEN=${NGROK}\n`, { mode: 0o600 });
    const r = await runCli(['doctor'], { cwd: dir, storeFactory: testDb.factory });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/✓ config +settings are valid/);
    expect(r.stdout).toMatch(/✗ webhook-secret +VAPI_WEBHOOK_SECRET is not set/);
    expect(r.stdout).toMatch(/→ Set one in \.env\.local/);
    expect(r.stdout).toContain('13 passed, 1 failed, 0 skipped');
  });

  it('fails when a secret sits in .env (naming the key and file, never the value)', async () => {
    await healthyProject();
    await writeFile(path.join(dir, '.env'), `VAPI_BASE_URL=${FAKE_VAPI_URL}\nWEBHOOK_URL=${BASE}\nVAPI_PRIVATE_KEY=${fake.apiKey}\nNOTES=${SECRET}\n`);
    const r = await doctor();
    expect(r.exitCode).toBe(1);
    const c = r.by('secrets-in-env-local');
    expect(c.ok).toBe(false);
    // "ok" mirrors the exit code, with an error that names the failed checks.
    expect(r.doc).toMatchObject({ ok: false, error: { code: 'checks_failed', message: expect.stringContaining('secrets-in-env-local') } });
    expect(c.message).toContain('VAPI_PRIVATE_KEY in .env');
    expect(c.message).toContain('NOTES in .env holds the value of VAPI_WEBHOOK_SECRET');
    expect(c.hint).toContain('.env.local');
    expect(r.stdout).not.toContain(fake.apiKey);
    expect(r.stdout).not.toContain(SECRET);
  });

  it('fails when git does not ignore .env.local, and when it tracks it', async () => {
    await healthyProject();
    await writeFile(path.join(dir, '.gitignore'), 'node_modules/\n');
    const notIgnored = await doctor();
    expect(notIgnored.by('env-local-gitignored')).toMatchObject({ ok: false, message: expect.stringContaining('not ignored by git') });
    git('add', '.env.local');
    git('commit', '-qm', 'oops');
    const tracked = await doctor();
    expect(tracked.by('env-local-gitignored')).toMatchObject({ ok: false, message: expect.stringContaining('tracked by git') });
    expect(tracked.by('env-local-gitignored').hint).toContain('git rm --cached .env.local');
    // And the committed file now leaks every secret it holds.
    expect(tracked.by('no-secrets-tracked').ok).toBe(false);
    expect(tracked.by('no-secrets-tracked').message).toContain('.env.local contains the value of NGROK_AUTHTOKEN, VAPI_PRIVATE_KEY, VAPI_WEBHOOK_SECRET');
  });

  it('fails when .env.local is readable by others', async () => {
    await healthyProject();
    await chmod(path.join(dir, '.env.local'), 0o644);
    const r = await doctor();
    expect(r.by('env-local-mode')).toMatchObject({ ok: false, message: expect.stringContaining('mode 0644'), hint: expect.stringContaining('chmod 600') });
  });

  it('finds a secret value or a secret assignment in tracked files', async () => {
    await healthyProject();
    await writeFile(path.join(dir, 'client.js'), `export const key = "${fake.apiKey}";\n`);
    await writeFile(path.join(dir, '.env.production'), `NGROK_AUTHTOKEN=someothertoken123456789\n`);
    await writeFile(path.join(dir, '.env.local.example'), 'VAPI_PRIVATE_KEY=\nNGROK_AUTHTOKEN=<your token>\n');
    git('add', '-f', 'client.js', '.env.production', '.env.local.example');
    git('commit', '-qm', 'leak');
    const r = await doctor();
    const c = r.by('no-secrets-tracked');
    expect(c.ok).toBe(false);
    expect(c.message).toContain('client.js contains the value of VAPI_PRIVATE_KEY');
    expect(c.message).toContain('.env.production:1 sets NGROK_AUTHTOKEN to a 23-character token');
    expect(c.message).not.toContain('.env.local.example');
    expect(r.stdout).not.toContain(fake.apiKey);
  });

  it('skips the git checks outside a git repository', async () => {
    await writeFile(path.join(dir, '.env'), `WEBHOOK_URL=${BASE}\n`);
    const r = await doctor();
    expect(r.by('env-local-gitignored')).toMatchObject({ ok: true, skipped: true });
    expect(r.by('no-secrets-tracked')).toMatchObject({ ok: true, skipped: true });
  });

  it('fails a Vapi key that Vapi rejects (401), and skips the checks that need it', async () => {
    await healthyProject();
    const r = await doctor({ VAPI_PRIVATE_KEY: 'sk-wrong-key-000000000000' });
    expect(r.exitCode).toBe(1);
    expect(r.by('vapi-key')).toMatchObject({ ok: false, message: expect.stringMatching(/^Vapi rejected the API key \(401/) });
    // Said once, and no hint that sends the user to the command they are running.
    expect(r.by('vapi-key')!.message).not.toMatch(/rejected.*rejected/);
    expect(r.by('vapi-key')!.hint).toMatch(/VAPI_PRIVATE_KEY/);
    expect(r.by('vapi-key')!.hint).not.toContain('voxctl doctor');
    for (const id of ['assistants-webhook-url', 'assistants-org-metadata', 'duplicate-assistants', 'unlinked-assistants']) {
      expect(r.by(id)).toMatchObject({ ok: true, skipped: true });
    }
    expect(r.stdout).not.toContain('sk-wrong-key-000000000000');
  });

  it('fails a Vapi that refuses the connection (a service down is not "offline"); skips a missing key', async () => {
    await healthyProject();
    const port = await closedPort();
    const down = await doctor({ VAPI_BASE_URL: `http://127.0.0.1:${port}` });
    expect(down.exitCode).toBe(1);
    expect(down.by('vapi-key')).toMatchObject({ ok: false, message: expect.stringContaining('Vapi is unreachable'), hint: expect.stringContaining('VAPI_BASE_URL') });
    expect(down.by('vapi-key').skipped).toBeUndefined();
    expect(down.by('duplicate-assistants').skipped).toBe(true);

    const noKey = await doctor({ VAPI_PRIVATE_KEY: '' });
    expect(noKey.exitCode).toBe(0);
    expect(noKey.by('vapi-key')).toMatchObject({ ok: true, skipped: true, message: 'skipped: no Vapi key configured' });
  });

  it('finds drift: an assistant or tool of an org off WEBHOOK_URL (localhost included)', async () => {
    const { followUp, tool } = await healthyProject();
    fake.store.assistant.get(String(followUp.id))!.server = { url: 'http://localhost:3001/api/vapi/tools' };
    fake.store.tool.get(String(tool.id))!.server = { url: 'https://old.example.com/api/vapi/tools/checkAvailability' };
    const r = await doctor();
    expect(r.exitCode).toBe(1);
    const c = r.by('assistants-webhook-url');
    expect(c.ok).toBe(false);
    expect(c.message).toContain('Sunrise Dental uses 2 URLs');
    expect(c.message).toContain(`follow-up ${followUp.id} → http://localhost:3001/api/vapi/tools`);
    expect(c.message).toContain('tool checkAvailability');
    expect(c.hint).toContain('voxctl assistants sync --all-orgs');
  });

  it('reports a linked assistant missing from Vapi', async () => {
    const { org } = await healthyProject();
    await store.linkAgent({ orgId: org.id, type: 'outbound', vapiAssistantId: 'asst-deleted' });
    const r = await doctor();
    expect(r.by('assistants-webhook-url').message).toContain('outbound asst-deleted is not in Vapi');
  });

  it('finds assistants without (or with a wrong) metadata.org_id', async () => {
    const { inbound, followUp } = await healthyProject();
    delete fake.store.assistant.get(String(inbound.id))!.metadata;
    fake.store.assistant.get(String(followUp.id))!.metadata = { org_id: '0f000000-0000-4000-8000-00000000000f' };
    const r = await doctor();
    const c = r.by('assistants-org-metadata');
    expect(c.ok).toBe(false);
    expect(c.message).toContain(`inbound ${inbound.id} has no metadata.org_id`);
    expect(c.message).toContain(`follow-up ${followUp.id} claims org 0f000000-0000-4000-8000-00000000000f`);
  });

  it('finds duplicate assistants for one (org, type), and unlinked assistants claiming an org', async () => {
    const { org, inbound } = await healthyProject();
    const dup = fake.addAssistant({ name: 'Sarah', server: { url: BASE }, metadata: { org_id: org.id, voxctl_agent_type: 'inbound' } });
    const stray = fake.addAssistant({ name: 'Stray', metadata: { org_id: '0e000000-0000-4000-8000-00000000000e' } });
    const r = await doctor();
    expect(r.exitCode).toBe(1);
    const d = r.by('duplicate-assistants');
    expect(d.ok).toBe(false);
    expect(d.message).toContain(`has 2 assistants with type inbound (${inbound.id} linked, ${dup.id})`);
    const u = r.by('unlinked-assistants');
    expect(u.ok).toBe(false);
    expect(u.message).toContain(`${dup.id} (Sarah) claims org ${org.id}`);
    expect(u.message).toContain(`${stray.id} (Stray) claims org 0e000000-0000-4000-8000-00000000000e`);
    expect(u.hint).toContain('voxctl agents link');
  });

  it.each([
    ['', false, 'is not set'],
    ['ngrok config add-authtoken 2aBcDeFgHiJkLmNoPqRsTuVwXyZ_3cD4eF5gH6iJ7kL8mN9pQ', false, 'contains spaces'],
    ['cr_2IEh2EYZF5XxPRAtzSSSnBGadhz', false, 'resource id'],
    ['short12345', false, 'characters'],
    [NGROK, true, 'well-formed'],
    ['4nq9771bPxe8ctg7LKr_2ClH7Y15Zqe4bWLWF9p', true, 'older token format'],
  ])('checks the ngrok token shape offline: %s', async (token, ok, text) => {
    await writeFile(path.join(dir, '.env.local'), token ? `NGROK_AUTHTOKEN="${token}"\n` : '', { mode: 0o600 });
    const r = await doctor();
    expect(r.by('ngrok-token')).toMatchObject({ ok, message: expect.stringContaining(text) });
  });

  it.each([
    [{}, 'is not set'],
    [{ WEBHOOK_URL: 'http://clinic.example.com/api/vapi/tools' }, 'not https'],
    [{ WEBHOOK_URL: 'https://localhost:3001/api/vapi/tools' }, 'Vapi cannot reach'],
    [{ WEBHOOK_URL: BASE, BACKEND_URL: 'https://other.ngrok-free.dev' }, 'is not BACKEND_URL + /api/vapi/tools'],
  ])('checks WEBHOOK_URL: %j', async (env, text) => {
    const r = await doctor(env as Record<string, string>);
    expect(r.by('webhook-url')).toMatchObject({ ok: false, message: expect.stringContaining(text) });
  });

  it('reports a store at an older schema version, and a bad configuration', async () => {
    const old: Store = Object.create(store) as Store;
    old.schemaVersion = async () => 1;
    const r = await runCli(['doctor', '--json'], { cwd: dir, storeFactory: async () => old });
    const doc = r.json<{ checks: Check[] }>();
    expect(doc.checks.find((c) => c.id === 'store')).toMatchObject({ ok: false, message: expect.stringContaining('schema version 1'), hint: 'Run `voxctl db migrate`.' });

    await writeFile(path.join(dir, '.env'), 'WEBHOOK_URL=localhost:3001\n');
    const bad = await doctor();
    expect(bad.exitCode).toBe(1);
    expect(bad.by('config')).toMatchObject({ ok: false, message: expect.stringContaining('WEBHOOK_URL (from .env)') });
    expect(bad.by('store').skipped).toBe(true);
  });
});

describe('doctor on a fresh project with the real embedded store', () => {
  it('checks the embedded store offline without creating it, and reports what to set up', async () => {
    const data = path.join(dir, 'data');
    const r = await runCli(['doctor', '--json'], { cwd: dir, env: { VOXCTL_DATA_DIR: data } });
    expect(r.exitCode).toBe(1);
    const doc = r.json<{ ok: boolean; checks: Check[] }>();
    const by = (id: string) => doc.checks.find((c) => c.id === id)!;
    expect(by('store')).toMatchObject({ ok: true, message: expect.stringContaining('does not exist yet; the first command that writes creates it') });
    expect(existsSync(data)).toBe(false);
    // Once a command wrote, doctor finds it at the current schema version.
    expect((await runCli(['db', 'migrate'], { cwd: dir, env: { VOXCTL_DATA_DIR: data } })).exitCode).toBe(0);
    const again = (await runCli(['doctor', '--json'], { cwd: dir, env: { VOXCTL_DATA_DIR: data } })).json<{ checks: Check[] }>();
    expect(again.checks.find((c) => c.id === 'store')).toMatchObject({ ok: true, message: expect.stringContaining('schema version') });
    expect(by('vapi-key').skipped).toBe(true);
    expect(doc.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['webhook-secret', 'ngrok-token', 'webhook-url']);
  });
});

describe('ngrokTokenShape', () => {
  it('accepts current and older tokens and names what is wrong otherwise', () => {
    expect(ngrokTokenShape(NGROK)).toEqual({ ok: true, legacy: false });
    expect(ngrokTokenShape('"abc"')).toMatchObject({ ok: false, why: expect.stringContaining('quotes') });
    expect(ngrokTokenShape('https://dashboard.ngrok.com')).toMatchObject({ ok: false, why: expect.stringContaining('URL') });
    // One reason, the one that holds: too short, or a character no token has.
    expect(ngrokTokenShape('abc')).toEqual({ ok: false, why: 'it has only 3 characters (an authtoken has 30 or more)' });
    expect(ngrokTokenShape(`${'a'.repeat(30)}.b`)).toEqual({ ok: false, why: 'it holds ".", which ngrok authtokens never contain (letters, digits, "_" and "-" only)' });
    expect(ngrokTokenShape('a'.repeat(101))).toEqual({ ok: false, why: 'it has 101 characters (an authtoken has at most 100)' });
  });
});

describe('doctor: secrets in tracked files are values, not names', () => {
  const README = path.resolve(__dirname, '../../README.md');
  /** The README's own GitHub Actions example, exactly as documented. */
  const readmeWorkflow = () => {
    const text = readFileSync(README, 'utf8');
    const m = /```yaml\n(# \.github\/workflows\/voice\.yml\n[\s\S]*?)```/.exec(text);
    if (!m) throw new Error('README has no .github/workflows/voice.yml example');
    return m[1]!;
  };

  it("passes the README's CI workflow committed as is, and code that names the variables", async () => {
    await healthyProject();
    await mkdir(path.join(dir, '.github', 'workflows'), { recursive: true });
    await writeFile(path.join(dir, '.github', 'workflows', 'voice.yml'), readmeWorkflow());
    await writeFile(
      path.join(dir, 'env.ts'),
      [
        'const schema = z.object({',
        '  NGROK_AUTHTOKEN: optional(token),',
        '  VAPI_PRIVATE_KEY: optional(token),',
        "  SUPABASE_SERVICE_ROLE_KEY: { secret: true, file: '.env.local' },",
        '});',
        'const key = { VAPI_PRIVATE_KEY: process.env.VAPI_PRIVATE_KEY };',
        'export VAPI_WEBHOOK_SECRET="$(openssl rand -hex 32)"',
        'NGROK_AUTHTOKEN=${NGROK_AUTHTOKEN}',
        'VAPI_PRIVATE_KEY=$VAPI_PRIVATE_KEY',
        "VAPI_PRIVATE_KEY: 'your-vapi-private-key'",
        '',
      ].join('\n'),
    );
    git('add', '.');
    git('commit', '-qm', 'ci');
    const r = await doctor();
    expect(r.by('no-secrets-tracked')).toMatchObject({ ok: true, message: expect.stringMatching(/^no secret in the \d+ tracked files scanned$/) });
    expect(r.exitCode).toBe(0);
  });

  it('fails values shaped like the key (Vapi UUID, JWT, sbp_, ngrok token), naming file:line and never the value', async () => {
    await healthyProject();
    const jwt = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${Buffer.from('{"role":"service_role","iss":"supabase"}').toString('base64url')}.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU`;
    const values = {
      vapi: '3f0c1a52-8b7e-4d2a-9c11-2a6b0d9e7f41',
      ngrok: '2zXyWvUtSrQpOnMlKjIhGfEdCbA_5fG6hI7jK8lM9nP0qR1sT',
      pat: `sbp_${'0123456789abcdef'.repeat(2)}01234567`,
    };
    await mkdir(path.join(dir, '.github', 'workflows'), { recursive: true });
    await writeFile(path.join(dir, '.github', 'workflows', 'leak.yml'), `env:\n  VAPI_PRIVATE_KEY: ${values.vapi}\n  NGROK_AUTHTOKEN: "${values.ngrok}"\n`);
    await writeFile(path.join(dir, 'config.js'), `module.exports = {\n  "SUPABASE_SERVICE_ROLE_KEY": "${jwt}",\n  SUPABASE_ACCESS_TOKEN: '${values.pat}',\n};\n`);
    git('add', '.');
    git('commit', '-qm', 'leak');
    const r = await doctor();
    const c = r.by('no-secrets-tracked');
    expect(c.ok).toBe(false);
    expect(c.message).toContain('.github/workflows/leak.yml:2 sets VAPI_PRIVATE_KEY to a Vapi key (UUID)');
    expect(c.message).toContain('.github/workflows/leak.yml:3 sets NGROK_AUTHTOKEN to an ngrok authtoken');
    expect(c.message).toContain('config.js:2 sets SUPABASE_SERVICE_ROLE_KEY to a JWT (Supabase key)');
    expect(c.message).toContain('config.js:3 sets SUPABASE_ACCESS_TOKEN to a Supabase access token (sbp_…)');
    // Not a configured secret: replace it with a reference; rotate only if it is a real key.
    expect(c.hint).toMatch(/^Replace each literal with a reference/);
    expect(c.hint).toContain('if it is a real key, rotate it');
    for (const v of [...Object.values(values), jwt]) expect(r.stdout).not.toContain(v);
  });
});

describe('doctor: an unreachable configured store is a failed check', () => {
  // Assembled, so no line of this file holds a key-shaped literal (doctor scans tracked files).
  const serviceRoleKey = ['sb', 'secret', 'doctor0123456789abcdef'].join('_');
  const supabaseEnv = (url: string) => ({ SUPABASE_URL: url, SUPABASE_SERVICE_ROLE_KEY: serviceRoleKey });

  it('fails (exit 1) when SUPABASE_URL points at a closed loopback port, without retries', async () => {
    await healthyProject();
    const port = await closedPort();
    const r = await runCli(['doctor', '--json'], { cwd: dir, env: supabaseEnv(`http://127.0.0.1:${port}`) });
    expect(r.exitCode).toBe(1);
    const doc = r.json<{ ok: boolean; checks: Check[]; error: { message: string } }>();
    const store = doc.checks.find((c) => c.id === 'store')!;
    expect(store).toMatchObject({ ok: false, message: expect.stringContaining(`Cannot reach Supabase at 127.0.0.1:${port}`), hint: expect.stringContaining('SUPABASE_URL') });
    expect(store.skipped).toBeUndefined();
    expect(doc.ok).toBe(false);
    expect(doc.error.message).toContain('store');
    expect(r.stdout).not.toContain('sb_secret_doctor0123456789abcdef');
  });

  it('bounds the wait: a store that accepts the connection and never answers fails after the check timeout', async () => {
    await healthyProject();
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const r = await runCli(['doctor', '--json'], { cwd: dir, env: supabaseEnv(`http://127.0.0.1:${port}`), services: { checkTimeoutMs: 50 } });
      expect(r.exitCode).toBe(1);
      const store = r.json<{ checks: Check[] }>().checks.find((c) => c.id === 'store')!;
      expect(store).toMatchObject({ ok: false, message: expect.stringContaining('no answer in time (timed out)') });
      // One request: no retries behind the timeout.
      expect(sockets.size).toBe(1);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('has a short default timeout', () => {
    expect(DOCTOR_TIMEOUT_MS).toBeLessThanOrEqual(5_000);
  });
});
