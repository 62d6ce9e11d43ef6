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
import { receiverContract, SECRET } from '../webhook/receiver-contract.js';

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
