// The embedded store (SQLite file, on node:sqlite from Node 22.16 and better-sqlite3 on Node 20:
// the line printed first names which), measured from the outside as a user meets it,
// each figure beside a baseline measured in the same run:
//   (a) `voxctl orgs list --json` on an existing store vs `node -e 0` (median of 9 fresh
//       processes; peak RSS from /usr/bin/time -f %M when it exists, else from the child's
//       getrusage maxrss through a preload, same measure for both).
//       goals: ≤ 3 × node -e 0, ≤ 150 MB.
//   (b) a fresh folder's first command, `webhook test bookClinicAppointment --local --json`
//       (creates the store, the demo org, books): wall time and peak RSS (median of 5).
//       goals: ≤ 3 s, ≤ 250 MB.
//   (c) `agents import` of 5,000 rows (50 new orgs) vs 5,000 sequential linkAgent calls.
// Run after `npm run build`; temp folders are deleted at the end.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'voxctl.js');
const { openEmbeddedStore } = await import(pathToFileURL(path.join(root, 'dist', 'store', 'sqlite.js')).href);
const { sqliteDriver } = await import(pathToFileURL(path.join(root, 'dist', 'store', 'sqlite-driver.js')).href);
const driverName = (await sqliteDriver()).name;

const RUNS = 9;
const FRESH_RUNS = 5;
const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x) => `${x.toFixed(0).padStart(6)} ms`;
const mb = (kb) => `${(kb / 1024).toFixed(0).padStart(4)} MB`;
const ok = (b) => (b ? 'OK' : 'MISSED');

const tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-bench-store-'));
const dataDir = path.join(tmp, 'data');
const baseEnv = { ...process.env, NO_COLOR: '1', CI: '1' };
delete baseEnv.SUPABASE_URL;
delete baseEnv.SUPABASE_SERVICE_ROLE_KEY;
delete baseEnv.VOXCTL_DATA_DIR;
const env = { ...baseEnv, VOXCTL_DATA_DIR: dataDir };

// Peak RSS: GNU time when installed; otherwise a preload that reports the process's own maxrss
// at exit on fd 3 (both measure the same thing: the kernel's high-water mark for the process).
const gnuTime = existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '-e', '0'], { encoding: 'utf8' }).status === 0;
const preload = path.join(tmp, 'maxrss.cjs');
writeFileSync(preload, `process.on('exit', () => { try { require('fs').writeSync(3, String(process.resourceUsage().maxRSS)); } catch {} });`);

/** Runs node with args in a fresh process; returns wall ms, peak RSS (kB) and stdout. */
function spawnMeasured(args, { cwd = tmp, e = env } = {}) {
  const t0 = process.hrtime.bigint();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], { cwd, env: e, encoding: 'utf8', timeout: 60_000 })
    : spawnSync(process.execPath, ['--require', preload, ...args], { cwd, env: e, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const t = ms(t0);
  if (r.status !== 0) throw new Error(`${args.join(' ').slice(0, 120)} exited ${r.status ?? r.signal}: ${r.stderr}`);
  const rssKb = gnuTime ? Number(r.stderr.trim().split('\n').at(-1)) : Number(r.output[3]);
  return { t, rssKb, stdout: r.stdout };
}

try {
  // An existing store with a few orgs.
  let t0 = process.hrtime.bigint();
  const store0 = await openEmbeddedStore(dataDir);
  for (const name of ['Alpha Dental', 'Beta Clinic', 'Gamma Care']) await store0.addOrg({ name });
  const created = ms(t0);
  await store0.close();

  // (a) orgs list vs node -e 0, interleaved.
  const node = [];
  const list = [];
  spawnMeasured([bin, 'orgs', 'list', '--json']); // warm the OS file cache
  for (let i = 0; i < RUNS; i++) {
    node.push(spawnMeasured(['-e', '0']));
    const r = spawnMeasured([bin, 'orgs', 'list', '--json']);
    if (JSON.parse(r.stdout).orgs.length !== 3) throw new Error(`orgs list printed ${r.stdout}`);
    list.push(r);
  }

  // (b) a fresh folder's first command, each run in a new folder.
  const fresh = [];
  for (let i = 0; i < FRESH_RUNS; i++) {
    const dir = mkdtempSync(path.join(tmp, 'fresh-'));
    const r = spawnMeasured([bin, 'webhook', 'test', 'bookClinicAppointment', '--local', '--json'], { cwd: dir, e: baseEnv });
    const doc = JSON.parse(r.stdout);
    if (!doc.ok || !/^Booked/.test(doc.answer?.result ?? '')) throw new Error(`webhook test --local printed ${r.stdout}`);
    fresh.push(r);
  }

  // (c) agents import of 5,000 rows for 50 new orgs through the CLI, vs sequential linkAgent.
  const rows = [];
  for (let o = 0; o < 50; o++) {
    const orgId = `${String(o).padStart(8, '0')}-0000-4000-8000-00000000b001`;
    for (let i = 0; i < 100; i++) rows.push({ org_id: orgId, org_name: `Clinic ${o}`, type: `line-${i}`, vapi_assistant_id: `asst_${o}_${i}` });
  }
  writeFileSync(path.join(tmp, 'agents.json'), JSON.stringify(rows));
  const imports = [];
  for (let i = 0; i < 3; i++) {
    const dir = mkdtempSync(path.join(tmp, 'import-'));
    const imp = spawnMeasured([bin, 'agents', 'import', path.join(tmp, 'agents.json'), '--custom-type', '--json'], { cwd: dir, e: baseEnv });
    const doc = JSON.parse(imp.stdout);
    if (doc.imported !== 5000 || doc.orgsCreated !== 50) throw new Error(`unexpected import result ${imp.stdout}`);
    imports.push(imp.t);
  }
  const seqDir = mkdtempSync(path.join(tmp, 'seq-'));
  const s = await openEmbeddedStore(seqDir);
  const orgIds = [...new Set(rows.map((r) => r.org_id))];
  for (const [i, id] of orgIds.entries()) await s.addOrg({ id, name: `Clinic ${i}` });
  t0 = process.hrtime.bigint();
  for (const r of rows) await s.linkAgent({ orgId: r.org_id, type: r.type, vapiAssistantId: r.vapi_assistant_id });
  const sequential = ms(t0);
  if ((await s.listAgents()).length !== 5000) throw new Error('baseline did not link 5,000 agents');
  await s.close();

  const nodeT = median(node.map((r) => r.t));
  const listT = median(list.map((r) => r.t));
  const listRss = Math.max(...list.map((r) => r.rssKb));
  const nodeRss = Math.max(...node.map((r) => r.rssKb));
  const freshT = median(fresh.map((r) => r.t));
  const freshRss = Math.max(...fresh.map((r) => r.rssKb));
  console.log(`embedded store (SQLite via ${driverName} on Node ${process.versions.node}, ${path.basename(dataDir)}/store.db): created with 3 orgs in-process in ${created.toFixed(0)} ms; peak RSS by ${gnuTime ? '/usr/bin/time -f %M' : 'process.resourceUsage().maxRSS'}`);
  console.log(`(a) existing store, fresh process each (median of ${RUNS}; RSS: the highest run)`);
  console.log(`  node -e 0                               ${fmt(nodeT)}   ${mb(nodeRss)}   (baseline)`);
  console.log(
    `  voxctl orgs list --json                 ${fmt(listT)}   ${mb(listRss)}   ${(listT / nodeT).toFixed(2)}× baseline (goal ≤ 3×) ${ok(listT <= 3 * nodeT)}, RSS (goal ≤ 150 MB) ${ok(listRss <= 150 * 1024)}`,
  );
  console.log(`(b) fresh folder, first command (median of ${FRESH_RUNS}; RSS: the highest run)`);
  console.log(
    `  webhook test bookClinicAppointment --local --json  ${fmt(freshT)}   ${mb(freshRss)}   ${(freshT / nodeT).toFixed(1)}× node -e 0 (goal ≤ 3 s) ${ok(freshT <= 3000)}, RSS (goal ≤ 250 MB) ${ok(freshRss <= 250 * 1024)}`,
  );
  console.log(`(c) 5,000 agents for 50 new orgs`);
  console.log(`  5,000 sequential linkAgent calls        ${fmt(sequential)}   (baseline, store already open, one transaction each)`);
  console.log(`  voxctl agents import (whole CLI)        ${fmt(median(imports))}   ${(sequential / median(imports)).toFixed(1)}× faster than baseline, incl. process start (median of 3)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
