// `voxctl --help` start-up time beside `node -e 0`, measured in the same run (goal: ≤ 2×).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'voxctl.js');
const RUNS = 15;

function time(args) {
  const samples = [];
  for (let i = 0; i < RUNS + 2; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    if (i >= 2) samples.push(ms); // two warm-up runs fill the OS file cache
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], min: samples[0] };
}

const baseline = time(['-e', '0']);
const help = time([bin, '--help']);
const sub = time([bin, 'assistants', 'sync', '--help']);
const ratio = help.median / baseline.median;
console.log(`startup (median of ${RUNS})`);
console.log(`  node -e 0                     ${baseline.median.toFixed(1)} ms   (baseline)`);
console.log(`  voxctl --help                 ${help.median.toFixed(1)} ms   ${ratio.toFixed(2)}× baseline  (goal ≤ 2×) ${ratio <= 2 ? 'OK' : 'MISSED'}`);
console.log(`  voxctl assistants sync --help ${sub.median.toFixed(1)} ms   ${(sub.median / baseline.median).toFixed(2)}× baseline`);
