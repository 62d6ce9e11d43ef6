/**
 * `voxctl edge deploy` against a fake Supabase Management API (msw): as strict as the real one
 * about the route, the token, the secrets body and the multipart upload (metadata and every
 * file the entry imports), and its error answers each end in a clear message and exit code.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { http, HttpResponse } from 'msw';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { importSpecifiers } from '../../src/edge/graph.js';
import { runCli } from '../helpers/run-cli.js';
import { createMswServer } from '../msw/server.js';

const API = 'https://api.supabase.test';
const REF = 'abcdefghijklmnopqrst';
const TOKEN = 'sbp_0123456789abcdef0123456789abcdef01234567';
const SECRET = 'whsec-deploy-0123456789abcdef';
const SERVICE_KEY = 'sb_secret_0123456789abcdefghijklmnop';

interface Seen {
  secrets: unknown[];
  deploys: Array<{ slug: string | null; metadata: unknown; files: Map<string, string> }>;
  calls: string[];
}
let seen: Seen;
/** What the fake answers the deploy with, per attempt (default 201). */
let deployAnswers: Array<() => Response>;
let secretsAnswer: (() => Response) | undefined;

const refusal = (status: number, message: string) => HttpResponse.json({ message }, { status });

const api = createMswServer(
  http.post(`${API}/v1/projects/:ref/secrets`, async ({ request, params }) => {
    seen.calls.push(`secrets ${String(params.ref)}`);
    if (request.headers.get('authorization') !== `Bearer ${TOKEN}`) return refusal(401, 'Unauthorized');
    if (params.ref !== REF) return refusal(404, 'Project not found');
    if (!/^application\/json/.test(request.headers.get('content-type') ?? '')) return refusal(415, 'Unsupported Media Type');
    if (secretsAnswer) return secretsAnswer();
    seen.secrets.push(await request.json());
    return new HttpResponse(null, { status: 201 });
  }),
  http.post(`${API}/v1/projects/:ref/functions/deploy`, async ({ request, params }) => {
    seen.calls.push(`deploy ${String(params.ref)}`);
    if (request.headers.get('authorization') !== `Bearer ${TOKEN}`) return refusal(401, 'Unauthorized');
    if (params.ref !== REF) return refusal(404, 'Project not found');
    if (!/^multipart\/form-data; boundary=/.test(request.headers.get('content-type') ?? '')) return refusal(400, 'expected multipart/form-data');
    const form = await request.formData();
    const metadata = form.get('metadata');
    if (typeof metadata !== 'string') return refusal(400, 'metadata must be a form field holding JSON');
    const files = new Map<string, string>();
    for (const f of form.getAll('file')) {
      if (typeof f === 'string') return refusal(400, 'file parts must be files');
      files.set(f.name, await f.text());
    }
    for (const key of form.keys()) if (key !== 'metadata' && key !== 'file') return refusal(400, `unexpected part ${key}`);
    seen.deploys.push({ slug: new URL(request.url).searchParams.get('slug'), metadata: JSON.parse(metadata), files });
    const next = deployAnswers.shift();
    if (next) return next();
    return HttpResponse.json({ id: 'fn-1', slug: 'voxctl', name: 'voxctl', version: 7, status: 'ACTIVE' }, { status: 201 });
  }),
);

let tmp: string;
beforeAll(() => api.listen());
afterAll(() => api.close());
beforeEach(() => {
  seen = { secrets: [], deploys: [], calls: [] };
  deployAnswers = [];
  secretsAnswer = undefined;
  tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-edge-deploy-'));
});
afterEach(() => {
  api.reset();
  rmSync(tmp, { recursive: true, force: true });
});

const env = (over: Record<string, string> = {}) => ({
  SUPABASE_URL: `https://${REF}.supabase.co`,
  SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY,
  SUPABASE_ACCESS_TOKEN: TOKEN,
  SUPABASE_MANAGEMENT_API_URL: API,
  VAPI_WEBHOOK_SECRET: SECRET,
  ...over,
});
const slept: number[] = [];
const deploy = (args: string[] = [], over: Record<string, string> = {}, services: Record<string, unknown> = {}) =>
  runCli(['edge', 'deploy', '--json', ...args], { cwd: tmp, env: env(over), services: { managementRetrySleep: async (ms: number) => void slept.push(ms), ...services } });

/** Every module the uploaded entry reaches, resolved among the uploaded files (fails on a missing one). */
function reachable(files: Map<string, string>, entry: string): string[] {
  const out: string[] = [];
  const queue = [entry];
  while (queue.length) {
    const f = queue.shift()!;
    if (out.includes(f)) continue;
    const code = files.get(f);
    if (code === undefined) throw new Error(`the upload lacks ${f}`);
    out.push(f);
    for (const spec of importSpecifiers(code)) {
      if (spec.startsWith('npm:')) continue;
      if (!spec.startsWith('.')) throw new Error(`${f} imports ${spec}, which Deno cannot resolve`);
      queue.push(path.posix.normalize(path.posix.join(path.posix.dirname(f), spec)));
    }
  }
  return out;
}

describe('edge deploy', () => {
  it('sets the secret, uploads the entry and every file it imports with verify_jwt off, and prints the URLs', async () => {
    const r = await deploy();
    expect(r.stderr).not.toContain(TOKEN);
    expect(r.exitCode).toBe(0);
    expect(r.json()).toMatchObject({
      ok: true,
      url: `https://${REF}.supabase.co/functions/v1/voxctl`,
      webhookUrl: `https://${REF}.supabase.co/functions/v1/voxctl/api/vapi/tools`,
      function: { name: 'voxctl', projectRef: REF, version: 7, verifyJwt: false },
    });
    // The secret first, so the function never runs without it.
    expect(seen.calls).toEqual([`secrets ${REF}`, `deploy ${REF}`]);
    expect(seen.secrets).toEqual([[{ name: 'VAPI_WEBHOOK_SECRET', value: SECRET }]]);
    const d = seen.deploys[0]!;
    expect(d.slug).toBe('voxctl');
    expect(d.metadata).toEqual({ entrypoint_path: 'index.ts', name: 'voxctl', verify_jwt: false });
    // Exactly the built folder, and everything the entry reaches is in it.
    const dir = path.join(tmp, 'supabase', 'functions', 'voxctl');
    const uploaded = [...d.files.keys()].sort();
    expect(reachable(d.files, 'index.ts').sort()).toEqual(uploaded);
    expect(uploaded).toEqual(expect.arrayContaining(['index.ts', 'voxctl/edge/function.js', 'voxctl/receiver/core.js', 'voxctl/store/supabase.js']));
    for (const f of uploaded) expect(d.files.get(f)).toBe(readFileSync(path.join(dir, f), 'utf8'));
    expect([...d.files.values()].join('\n')).not.toContain(SECRET);
    expect(readFileSync(path.join(tmp, 'supabase', 'config.toml'), 'utf8')).toMatch(/\[functions\.voxctl\][^[]*verify_jwt = false/);
  });

  it('--sync re-points every org at the webhook URL through the same sync as tunnel up --sync', async () => {
    const syncs: unknown[] = [];
    const r = await deploy(['--sync'], {}, { runSync: async (req: unknown) => (syncs.push(req), { exitCode: 0, document: { ok: true, orgs: [] } }) });
    expect(r.exitCode).toBe(0);
    expect(syncs).toEqual([{ orgIds: [], allOrgs: true, url: `https://${REF}.supabase.co/functions/v1/voxctl/api/vapi/tools`, json: true }]);
    expect(r.json()).toMatchObject({ ok: true, sync: { ok: true } });
  });

  it('takes --project-ref and --name over SUPABASE_URL', async () => {
    const r = await deploy(['--project-ref', 'ABCDEFGHIJKLMNOPQRST', '--name', 'clinic-hooks'], { SUPABASE_URL: 'https://db.example.com', SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY });
    expect(r.exitCode).toBe(0);
    expect(seen.deploys[0]).toMatchObject({ slug: 'clinic-hooks', metadata: { name: 'clinic-hooks' } });
    expect(r.json()).toMatchObject({ url: `https://${REF}.supabase.co/functions/v1/clinic-hooks` });
  });

  it('a rejected token is exit 4, naming the fix, without the token', async () => {
    const r = await deploy([], { SUPABASE_ACCESS_TOKEN: 'sbp_wrongwrongwrongwrongwrongwrongwrongwrong00' });
    expect(r.exitCode).toBe(4);
    expect(r.json()).toMatchObject({ ok: false, error: { message: expect.stringContaining('rejected SUPABASE_ACCESS_TOKEN (HTTP 401') } });
    expect(r.stdout + r.stderr).not.toContain('sbp_wrongwrong');
    expect(seen.deploys).toHaveLength(0);
  });

  it('no token is exit 4; no secret is exit 2 (nothing sent)', async () => {
    expect((await deploy([], { SUPABASE_ACCESS_TOKEN: '' })).exitCode).toBe(4);
    const noSecret = await deploy([], { VAPI_WEBHOOK_SECRET: '' });
    expect(noSecret.exitCode).toBe(2);
    expect(noSecret.json()).toMatchObject({ error: { message: expect.stringContaining('VAPI_WEBHOOK_SECRET is not set') } });
    expect(seen.calls).toEqual([]);
  });

  it('an unknown project is exit 1 naming the ref', async () => {
    const r = await deploy(['--project-ref', 'zzzzzzzzzzzzzzzzzzzz']);
    expect(r.exitCode).toBe(1);
    expect(r.json()).toMatchObject({ ok: false, error: { code: 'not_found', message: expect.stringContaining('no project "zzzzzzzzzzzzzzzzzzzz"') } });
  });

  it('a function refused as too large (413) is exit 1 saying so', async () => {
    deployAnswers = [() => refusal(413, 'Payload too large')];
    const r = await deploy();
    expect(r.exitCode).toBe(1);
    expect(r.json()).toMatchObject({ error: { code: 'payload_too_large', message: expect.stringContaining('too large (HTTP 413') } });
  });

  it('retries 5xx (bounded): two failures then success deploys; three failures are exit 1', async () => {
    slept.length = 0;
    deployAnswers = [() => refusal(502, 'Bad Gateway'), () => refusal(503, 'busy')];
    const ok = await deploy();
    expect(ok.exitCode).toBe(0);
    expect(seen.deploys).toHaveLength(3);
    expect(slept).toEqual([500, 1000]);

    seen.deploys = [];
    deployAnswers = [() => refusal(500, 'boom'), () => refusal(500, 'boom'), () => refusal(500, 'boom'), () => refusal(500, 'never reached')];
    const failed = await deploy();
    expect(failed.exitCode).toBe(1);
    expect(seen.deploys).toHaveLength(3);
    expect(failed.json()).toMatchObject({ error: { message: expect.stringContaining('HTTP 500: boom) after 3 attempts') } });
  });
});
