// `voxctl agents import` of 5,000 rows (50 new orgs) through a real PostgREST 12.0.2 on a real
// Postgres (the test tier's stack, tests/supabase/stack.ts, started here on loopback), beside:
//   - the same import on the embedded store (VOXCTL_DATA_DIR in a temp dir), through the built CLI;
//   - baselines measured in this run on the same Supabase project: `voxctl orgs list` (process
//     start + store open + one request: the floor any command pays), the import's one rpc call
//     made with plain fetch (the server's share), and row-by-row `linkAgent` calls on a sample
//     of 100, projected to 5,000 (what a naive client would do).
// Goal: the Supabase import ≤ 1,000 ms from outside (a fresh process, as a user runs it).
// Run after `npm run build`: node bench/supabase.bench.mjs. Fails clearly if the stack cannot start.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'voxctl.js');
const RUNS = 3;
const SAMPLE = 100;
const GOAL_MS = 1000;
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => `${x.toFixed(0).padStart(6)} ms`;

/** The stack lives in tests/ as TypeScript; strip its types (no type check) into .bench-tmp. */
async function loadStack(out) {
  const ts = (await import('typescript')).default;
  mkdirSync(out, { recursive: true });
  const src = readFileSync(path.join(root, 'tests', 'supabase', 'stack.ts'), 'utf8');
  const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  writeFileSync(path.join(out, 'stack.js'), js);
  return import(pathToFileURL(path.join(out, 'stack.js')).href);
}

const work = path.join(root, '.bench-tmp', `supabase-${process.pid}`);
const tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-bench-supabase-'));
let stack;
try {
  const { startStack } = await loadStack(work);
  let t0 = process.hrtime.bigint();
  try {
    stack = await startStack({ root });
  } catch (e) {
    console.error(`!! The Supabase stack (Postgres + PostgREST) could not start: ${e.message}`);
    process.exitCode = 1;
    throw e;
  }
  const coldStart = ms(t0);
  const project = await stack.lease();
  const supabaseEnv = { ...process.env, NO_COLOR: '1', CI: '1', SUPABASE_URL: project.url, SUPABASE_SERVICE_ROLE_KEY: stack.info.keys.serviceRole };
  const embeddedEnv = { ...process.env, NO_COLOR: '1', CI: '1', VOXCTL_DATA_DIR: path.join(tmp, 'data') };
  delete embeddedEnv.SUPABASE_URL;
  delete embeddedEnv.SUPABASE_SERVICE_ROLE_KEY;

  const rows = [];
  for (let o = 0; o < 50; o++) {
    const orgId = `${String(o).padStart(8, '0')}-0000-4000-8000-00000000b001`;
    for (let i = 0; i < 100; i++) rows.push({ org_id: orgId, org_name: `Clinic ${o}`, type: `line-${i}`, vapi_assistant_id: `asst_${o}_${i}` });
  }
  writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify(rows));

  // Asynchronous: the gateway runs in this process and must keep serving while the CLI runs.
  const cli = (args, env) =>
    new Promise((resolve, reject) => {
      const t = process.hrtime.bigint();
      const child = spawn(process.execPath, [bin, ...args], { cwd: tmp, env, timeout: 60_000 });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        const took = ms(t);
        if (code !== 0) reject(new Error(`voxctl ${args.join(' ')} exited ${code ?? signal}: ${stderr}`));
        else resolve({ t: took, stdout });
      });
    });
  const checkImport = (out) => {
    const doc = JSON.parse(out);
    if (doc.imported !== 5000 || doc.orgsCreated !== 50) throw new Error(`unexpected import result ${out}`);
  };
  const emptySupabase = () => stack.exec(project.database, 'truncate appointments, contacts, agent_claims, agents, organizations cascade');

  // Warm-up (file cache, PostgREST's pool), not measured.
  await cli(['orgs', 'list', '--json'], supabaseEnv);
  await cli(['orgs', 'list', '--json'], embeddedEnv);

  const sbImport = [];
  const embImport = [];
  const sbList = [];
  for (let i = 0; i < RUNS; i++) {
    emptySupabase();
    const r = await cli(['agents', 'import', 'agents.json', '--custom-type', '--json'], supabaseEnv);
    checkImport(r.stdout);
    sbImport.push(r.t);
    rmSync(path.join(tmp, 'data'), { recursive: true, force: true });
    await cli(['orgs', 'list', '--json'], embeddedEnv); // create the embedded store outside the measurement
    const e = await cli(['agents', 'import', 'agents.json', '--custom-type', '--json'], embeddedEnv);
    checkImport(e.stdout);
    embImport.push(e.t);
    sbList.push((await cli(['orgs', 'list', '--json'], supabaseEnv)).t);
  }
  const listed = JSON.parse((await cli(['agents', 'list', '--json'], supabaseEnv)).stdout).agents.length;
  if (listed !== 5000) throw new Error(`agents list after the import shows ${listed} agents, not 5000`);

  // The rpc call alone, with plain fetch (no CLI, no supabase-js).
  const rpc = [];
  for (let i = 0; i < RUNS; i++) {
    emptySupabase();
    t0 = process.hrtime.bigint();
    const res = await globalThis.fetch(`${project.url}/rest/v1/rpc/voxctl_import_agents`, {
      method: 'POST',
      headers: { apikey: stack.info.keys.serviceRole, authorization: `Bearer ${stack.info.keys.serviceRole}`, 'content-type': 'application/json' },
      body: JSON.stringify({ p_rows: rows }),
    });
    await res.text();
    rpc.push(ms(t0));
    if (!res.ok) throw new Error(`rpc answered ${res.status}`);
  }

  // Row by row through the store API: linkAgent on a sample, projected to 5,000.
  emptySupabase();
  const { createSupabaseStore } = await import(pathToFileURL(path.join(root, 'dist', 'store', 'supabase.js')).href);
  const { Redactor } = await import(pathToFileURL(path.join(root, 'dist', 'util', 'mask.js')).href);
  const store = await createSupabaseStore({ url: project.url, serviceRoleKey: stack.info.keys.serviceRole, redactor: new Redactor() });
  const orgIds = [...new Set(rows.map((r) => r.org_id))];
  for (const [i, id] of orgIds.entries()) await store.addOrg({ id, name: `Clinic ${i}` });
  t0 = process.hrtime.bigint();
  for (const r of rows.slice(0, SAMPLE)) await store.linkAgent({ orgId: r.org_id, type: r.type, vapiAssistantId: r.vapi_assistant_id });
  const rowByRow = (ms(t0) / SAMPLE) * rows.length;
  await store.close();

  const sb = median(sbImport);
  const emb = median(embImport);
  // Wall-clock figures scale with what else runs: say what the machine was doing.
  console.log(`machine: ${availableParallelism()} cores, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} (1/5/15 min) at the end`);
  console.log(`Supabase stack cold start (initdb, Postgres, roles, schema, control): ${fmt(coldStart)}`);
  console.log(`agents import of 5,000 rows (50 new orgs), whole CLI in a fresh process, median of ${RUNS}:`);
  console.log(`  Supabase (PostgREST 12.0.2 → Postgres)       ${fmt(sb)}   goal ≤ ${GOAL_MS} ms: ${sb <= GOAL_MS ? 'met' : 'MISSED'}`);
  console.log(`  embedded store                               ${fmt(emb)}   (Supabase ${(sb / emb).toFixed(2)}× its time)`);
  console.log('baselines, same run, same Supabase project:');
  console.log(`  voxctl orgs list (start + open + 1 request)  ${fmt(median(sbList))}   the floor of any command`);
  console.log(`  the import rpc alone (plain fetch)           ${fmt(median(rpc))}   the server's share`);
  console.log(`  linkAgent row by row (${SAMPLE} → 5,000 projected) ${fmt(rowByRow)}   ${(rowByRow / sb).toFixed(1)}× the CLI import`);
  if (sb > GOAL_MS) process.exitCode = 1;
} finally {
  await stack?.stop();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
