// The embedded store: (a) opening an existing data dir plus one query, beside raw PGlite opening
// the same dir and running `select 1`; (b) `agents import` of 5,000 rows (50 orgs), beside 5,000
// sequential `linkAgent` calls on the same kind of store. Run after `npm run build`; uses a temp
// data dir that it deletes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'voxctl.js');
const pgliteJs = pathToFileURL(path.join(root, 'dist', 'store', 'pglite.js')).href;
const { openEmbeddedStore } = await import(pgliteJs);

const RUNS = 3;
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => `${x.toFixed(0).padStart(6)} ms`;

const tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-bench-store-'));
const dataDir = path.join(tmp, 'data');
const env = { ...process.env, NO_COLOR: '1', CI: '1', VOXCTL_DATA_DIR: dataDir };
delete env.SUPABASE_URL;
delete env.SUPABASE_SERVICE_ROLE_KEY;

/** Runs a node script (or the CLI) in a fresh process, as a user's command would; returns ms. */
function spawnTimed(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: tmp, env, encoding: 'utf8', timeout: 60_000 });
  const t = ms(t0);
  if (r.status !== 0) throw new Error(`${args.join(' ').slice(0, 120)} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return { t, stdout: r.stdout };
}

// Fresh-process scripts: the store's open + listOrgs, and the baseline raw PGlite open + select 1.
const storeScript = `
  const { openEmbeddedStore } = await import(${JSON.stringify(pgliteJs)});
  const s = await openEmbeddedStore(${JSON.stringify(dataDir)}, 'bench');
  await s.listOrgs();
  await s.close();`;
const rawScript = `
  const { PGlite } = await import(${JSON.stringify(pathToFileURL(path.join(root, 'node_modules', '@electric-sql', 'pglite', 'dist', 'index.js')).href)});
  const db = await PGlite.create({ dataDir: ${JSON.stringify(path.join(dataDir, 'pgdata'))} });
  await db.query('select 1');
  await db.close();`;

try {
  // Create and migrate the data dir once (not measured beyond this one figure).
  let t0 = process.hrtime.bigint();
  const store0 = await openEmbeddedStore(dataDir, 'bench');
  const created = ms(t0);
  for (const name of ['Alpha Dental', 'Beta Clinic', 'Gamma Care']) await store0.addOrg({ name });
  await store0.close();

  // (a) open an existing data dir + one query, each in a fresh process (as a command does).
  const raw = [];
  const store = [];
  const cli = [];
  spawnTimed(['--input-type=module', '-e', rawScript]); // warm the OS file cache
  for (let i = 0; i < RUNS; i++) {
    raw.push(spawnTimed(['--input-type=module', '-e', rawScript]).t);
    store.push(spawnTimed(['--input-type=module', '-e', storeScript]).t);
    cli.push(spawnTimed([bin, 'orgs', 'list', '--json']).t);
  }

  // (b) agents import of 5,000 rows for 50 new orgs through the real CLI (a fresh process).
  const rows = [];
  for (let o = 0; o < 50; o++) {
    const orgId = `${String(o).padStart(8, '0')}-0000-4000-8000-00000000b001`;
    for (let i = 0; i < 100; i++) rows.push({ org_id: orgId, org_name: `Clinic ${o}`, type: `line-${i}`, vapi_assistant_id: `asst_${o}_${i}` });
  }
  writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify(rows));
  const emptyStore = async () => {
    const s = await openEmbeddedStore(dataDir, 'bench reset');
    await s.db.exec('truncate appointments, contacts, agents, organizations cascade');
    await s.close();
  };
  const imports = [];
  for (let i = 0; i < RUNS; i++) {
    await emptyStore(); // every run creates the 50 orgs and 5,000 agents anew
    const imp = spawnTimed([bin, 'agents', 'import', 'agents.json', '--json']);
    const doc = JSON.parse(imp.stdout);
    if (doc.imported !== 5000 || doc.orgsCreated !== 50) throw new Error(`unexpected import result ${imp.stdout}`);
    imports.push(imp.t);
  }
  const imp = { t: median(imports) };

  // In-process, on one open store: the import call alone vs 5,000 sequential linkAgent calls.
  const s = await openEmbeddedStore(dataDir, 'bench');
  const reset = () => s.db.exec('truncate appointments, contacts, agents, organizations cascade');
  await reset();
  t0 = process.hrtime.bigint();
  await s.importAgents(rows);
  const importCall = ms(t0);
  await reset();
  const orgIds = [...new Set(rows.map((r) => r.org_id))];
  for (const [i, id] of orgIds.entries()) await s.addOrg({ id, name: `Clinic ${i}` });
  t0 = process.hrtime.bigint();
  for (const r of rows) await s.linkAgent({ orgId: r.org_id, type: r.type, vapiAssistantId: r.vapi_assistant_id });
  const sequential = ms(t0);
  const linked = (await s.listAgents()).length;
  await s.close();
  if (linked !== 5000) throw new Error(`baseline linked ${linked} agents`);

  const a = median(store);
  const b = median(raw);
  console.log(`embedded store (PGlite), data dir created and migrated once in ${created.toFixed(0)} ms`);
  console.log(`(a) open an existing data dir + one query, fresh process each (median of ${RUNS})`);
  console.log(`  raw PGlite open + select 1          ${fmt(b)}   (baseline)`);
  console.log(`  openEmbeddedStore + listOrgs        ${fmt(a)}   ${(a / b).toFixed(2)}× baseline`);
  console.log(`  voxctl orgs list --json (whole CLI) ${fmt(median(cli))}   ${(median(cli) / b).toFixed(2)}× baseline`);
  console.log(`(b) 5,000 agents for 50 new orgs (CLI: median of ${RUNS} fresh processes)`);
  console.log(`  5,000 sequential linkAgent calls    ${fmt(sequential)}   (baseline, store already open)`);
  console.log(`  store.importAgents (one call)       ${fmt(importCall)}   ${(sequential / importCall).toFixed(1)}× faster than baseline`);
  console.log(`  voxctl agents import (whole CLI)    ${fmt(imp.t)}   ${(sequential / imp.t).toFixed(1)}× faster than baseline, incl. process start and store open`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
