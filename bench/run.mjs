// Runs every bench/*.bench.mjs in turn (after `npm run build`), each in its own process.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const f of files) {
  console.log(`\n### ${f}`);
  const r = spawnSync(process.execPath, [path.join(dir, f)], { stdio: 'inherit', timeout: 180_000 });
  if (r.status !== 0) {
    failed++;
    console.log(`!! ${f} exited with ${r.status ?? r.signal}`);
  }
}
process.exitCode = failed ? 1 : 0;
