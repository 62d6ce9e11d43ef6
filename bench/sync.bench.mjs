// `voxctl assistants sync` against a fake Vapi on a real loopback HTTP server with 40 ms latency
// and a concurrency cap of 8 (429 + Retry-After beyond it): 300 assistants with 3 saved and 1
// inline function tool each, and one phone number per assistant, all on an old URL.
// Printed beside (a) the lower bound — requests: list pages + one PATCH per drifted resource;
// time: PATCHes ÷ 8 × 40 ms — and (b) a sequential GET+PATCH baseline (what the seed script does)
// measured in the same process on a sample and projected linearly to the same work.
// Goals: requests ≤ 1.05 × bound; time ≤ 1.5 × bound (voxctl is not told the cap); ≥ 10 × faster
// than the baseline. Run after `npm run build`: node bench/sync.bench.mjs
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = path.join(root, '.bench-tmp', `sync-${process.pid}`);
const LATENCY = 40;
const CAP = 8;
const ASSISTANTS = 300;
const ORGS = 30;
const BASELINE_SAMPLE = 100;
const OLD = 'http://localhost:3001/api/vapi/tools';
const NEW = 'https://bench.ngrok-free.dev/api/vapi/tools';

/** The fake lives in tests/ as TypeScript; strip its types (no type check) into .bench-tmp. */
async function loadFake() {
  const ts = (await import('typescript')).default;
  const out = path.join(tmp, 'fakes');
  mkdirSync(out, { recursive: true });
  for (const f of ['vapi-core.ts', 'vapi-http.ts']) {
    const src = readFileSync(path.join(root, 'tests', 'fakes', f), 'utf8');
    const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(path.join(out, f.replace(/\.ts$/, '.js')), js);
  }
  return import(pathToFileURL(path.join(out, 'vapi-http.js')).href);
}

function seed(fake, n, tag) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const toolIds = [0, 1, 2].map((k) => fake.addTool({ function: { name: `${tag}fn${i}_${k}` }, server: { url: `${OLD}/${tag}fn${i}_${k}`, timeoutSeconds: 20 } }).id);
    const a = fake.addAssistant({
      name: `Assistant ${i}`,
      server: { url: OLD, timeoutSeconds: 20 },
      metadata: { team: 'bench' },
      model: {
        provider: 'openai',
        model: 'gpt-4o',
        messages: [{ role: 'system', content: `You are assistant ${i}.` }],
        toolIds,
        tools: [{ type: 'function', function: { name: `${tag}inline${i}` }, server: { url: `${OLD}/${tag}inline${i}` } }],
      },
    });
    fake.addPhoneNumber({ assistantId: a.id, server: { url: OLD } });
    rows.push(a.id);
  }
  return rows;
}

const orgId = (k) => `00000000-0000-4000-8000-${String(k).padStart(12, '0')}`;

async function main() {
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const { startFakeVapiServer } = await loadFake();
  const { run } = await import(pathToFileURL(path.join(root, 'dist', 'main.js')).href);
  const { bufferIo } = await import(pathToFileURL(path.join(root, 'dist', 'ui', 'io.js')).href);
  const { openMemoryDb, SqliteStore, dbSource } = await import(pathToFileURL(path.join(root, 'dist', 'store', 'sqlite.js')).href);

  const srv = await startFakeVapiServer({ latencyMs: LATENCY, concurrencyCap: CAP, retryAfterSeconds: 1 });
  const base = await startFakeVapiServer({ latencyMs: LATENCY, concurrencyCap: CAP, retryAfterSeconds: 1 });
  try {
    const ids = seed(srv.fake, ASSISTANTS, '');
    const db = await openMemoryDb();
    const store = new SqliteStore(dbSource(db, false), 'bench store');
    await store.importAgents(ids.map((id, i) => ({ org_id: orgId(i % ORGS), org_name: `Org ${i % ORGS}`, type: `agent${Math.floor(i / ORGS)}`, vapi_assistant_id: id })));

    // voxctl, in-process (the store is already open, as it would be after the first query).
    const io = bufferIo();
    const env = { VAPI_PRIVATE_KEY: srv.fake.apiKey, VAPI_BASE_URL: srv.url, VOXCTL_DATA_DIR: path.join(tmp, 'data'), NO_COLOR: '1' };
    const t0 = performance.now();
    const extra = process.env.BENCH_SYNC_CONCURRENCY ? ['--concurrency', process.env.BENCH_SYNC_CONCURRENCY] : [];
    const code = await run(['assistants', 'sync', '--all-orgs', '--url', NEW, '--json', ...extra], { io, env, cwd: tmp, storeFactory: async () => store });
    const ms = performance.now() - t0;
    const doc = JSON.parse(io.out());
    if (code !== 0) throw new Error(`sync exited ${code}: ${io.err()} ${JSON.stringify(doc.summary ?? doc)}`);
    const log = srv.fake.requests();
    const patches = log.filter((r) => r.method === 'PATCH' && r.status === 200).length;
    const listPages = log.filter((r) => r.method === 'GET' && r.status === 200).length;
    const rejected = log.filter((r) => r.status === 429).length;
    const boundRequests = listPages + patches;
    const boundMs = (patches / CAP) * LATENCY;

    const peak = srv.fake.maxInFlight;

    // Rerun: must write nothing.
    srv.fake.clearLog();
    const io2 = bufferIo();
    await run(['assistants', 'sync', '--all-orgs', '--url', NEW, '--json'], { io: io2, env, cwd: tmp, storeFactory: async () => store });
    const rerunPatches = srv.fake.requests('PATCH').length;
    db.close();

    // Baseline: one resource at a time, GET it, then PATCH its server (the seed script's way),
    // on a sample in the same mix as the real work (assistants : tools : phones = 1 : 3 : 1).
    seed(base.fake, Math.ceil(BASELINE_SAMPLE / 5), 'b');
    const headers = { authorization: `Bearer ${base.fake.apiKey}`, 'content-type': 'application/json' };
    const work = [
      ...base.fake.all('assistant').map((a) => ['assistant', a.id, () => ({ server: { ...a.server, url: NEW } })]),
      ...base.fake.all('tool').map((t) => ['tool', t.id, () => ({ server: { ...t.server, url: `${NEW}/${t.function.name}` } })]),
      ...base.fake.all('phoneNumber').map((p) => ['phone-number', p.id, () => ({ provider: p.provider, server: { ...p.server, url: NEW } })]),
    ].slice(0, BASELINE_SAMPLE);
    const b0 = performance.now();
    for (const [kind, id, body] of work) {
      const g = await globalThis.fetch(`${base.url}/${kind}/${id}`, { headers });
      if (g.status !== 200) throw new Error(`baseline GET ${g.status}`);
      await g.json();
      const p = await globalThis.fetch(`${base.url}/${kind}/${id}`, { method: 'PATCH', headers, body: JSON.stringify(body()) });
      if (p.status !== 200) throw new Error(`baseline PATCH ${p.status}`);
      await p.json();
    }
    const sampleMs = performance.now() - b0;
    const baselineMs = (sampleMs / work.length) * patches;

    const reqRatio = log.length / boundRequests;
    const timeRatio = ms / boundMs;
    const speedup = baselineMs / ms;
    const ok = (b) => (b ? 'OK' : 'MISSED');
    const s = doc.summary;
    console.log(`sync: ${ASSISTANTS} assistants × (3 saved + 1 inline tool) + ${ASSISTANTS} phone numbers, ${ORGS} orgs; fake Vapi on loopback, ${LATENCY} ms latency, cap ${CAP} (429 beyond)`);
    console.log(`  result          ${s.updated} updated (${patches} PATCHes), ${s.unchanged} unchanged, ${s.failed} failed, ${s.missing} missing; rerun wrote ${rerunPatches}`);
    console.log(`  requests        ${log.length} (${listPages} list pages, ${patches} PATCHes, ${rejected} answered 429)   bound ${boundRequests}   ${reqRatio.toFixed(3)}× (goal ≤ 1.05×) ${ok(reqRatio <= 1.05)}`);
    console.log(`  wall time       ${(ms / 1000).toFixed(2)} s   bound ${(boundMs / 1000).toFixed(2)} s   ${timeRatio.toFixed(2)}× (goal ≤ 1.5×) ${ok(timeRatio <= 1.5)}`);
    console.log(`  baseline        sequential GET+PATCH: ${(sampleMs / work.length).toFixed(1)} ms per resource on ${work.length}, projected ${(baselineMs / 1000).toFixed(1)} s for ${patches}   voxctl is ${speedup.toFixed(1)}× faster (goal ≥ 10×) ${ok(speedup >= 10)}`);
    console.log(`  peak in flight  ${peak} at the server (cap ${CAP}; voxctl's --concurrency default 16)`);
    if (!(reqRatio <= 1.05 && timeRatio <= 1.5 && speedup >= 10 && rerunPatches === 0 && s.failed === 0)) process.exitCode = 1;
  } finally {
    await srv.close();
    await base.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
