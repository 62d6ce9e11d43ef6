/**
 * `voxctl edge serve`: the built function (supabase/functions/<name>/index.ts) under Deno on
 * 127.0.0.1, the stand-in for Supabase's Edge Runtime. Deno is found as VOXCTL_DENO, then the
 * `deno` npm package's binary in voxctl's node_modules, then `deno` on PATH. The function gets
 * only what Supabase would give it: SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY, VAPI_WEBHOOK_SECRET
 * (plus what Deno needs for its module cache), and permission for the network and those
 * variables only: no file access.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { UsageError, VoxError } from '../errors.js';
import { ENTRY_NAME } from './build.js';

const DENO_HINT = 'Install Deno (https://deno.com, or `npm install --save-dev deno`), or set VOXCTL_DENO to its binary.';

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The deno binary to run, or a UsageError naming the fix. */
export function findDeno(env: NodeJS.ProcessEnv): string {
  if (env.VOXCTL_DENO) {
    if (executable(env.VOXCTL_DENO)) return env.VOXCTL_DENO;
    throw new UsageError(`VOXCTL_DENO is "${env.VOXCTL_DENO}", which is not an executable file.`, { hint: DENO_HINT });
  }
  try {
    // The `deno` npm package ships its binary in a per-platform package.
    const require = createRequire(import.meta.url);
    const pkg = path.dirname(require.resolve(`@deno/${process.platform}-${process.arch}${process.platform === 'linux' ? '-glibc' : ''}/package.json`));
    const bin = path.join(pkg, process.platform === 'win32' ? 'deno.exe' : 'deno');
    if (executable(bin)) return bin;
  } catch {
    // not installed
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const bin = path.join(dir, process.platform === 'win32' ? 'deno.exe' : 'deno');
    if (executable(bin)) return bin;
  }
  throw new UsageError('Deno is not installed: `voxctl edge serve` runs the function under Deno, as Supabase does.', { hint: DENO_HINT });
}

export interface ServedFunction {
  /** `http://127.0.0.1:<port>/<name>` */
  url: string;
  port: number;
  child: ChildProcess;
  /** Resolves with the exit code when Deno exits. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export interface ServeOptions {
  functionDir: string;
  name: string;
  port: number;
  deno: string;
  supabaseUrl: string;
  serviceRoleKey: string;
  secret?: string | undefined;
  /** The function's own lines on stderr (warnings), secrets already masked by the function. */
  onLog?: (line: string) => void;
  /** How long Deno may take to load the function (first run: it fetches npm packages). */
  startTimeoutMs?: number;
  /** Passed through for Deno's cache (default: the user's). */
  env?: NodeJS.ProcessEnv;
}

export async function serveFunction(opts: ServeOptions): Promise<ServedFunction> {
  const entry = path.join(opts.functionDir, ENTRY_NAME);
  if (!existsSync(entry)) {
    throw new UsageError(`${path.relative(process.cwd(), entry) || entry} does not exist.`, { hint: 'Run `voxctl edge build` first.' });
  }
  const parent = opts.env ?? process.env;
  const keep = ['PATH', 'HOME', 'DENO_DIR', 'XDG_CACHE_HOME', 'NPM_CONFIG_REGISTRY', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY', 'https_proxy', 'http_proxy', 'no_proxy', 'DENO_TLS_CA_STORE', 'DENO_CERT', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS'];
  const env: Record<string, string> = { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' };
  for (const k of keep) if (parent[k]) env[k] = parent[k]!;
  env.SUPABASE_URL = opts.supabaseUrl;
  env.SUPABASE_SERVICE_ROLE_KEY = opts.serviceRoleKey;
  if (opts.secret) env.VAPI_WEBHOOK_SECRET = opts.secret;
  env.VOXCTL_EDGE_PORT = String(opts.port);
  const allowEnv = ['SUPABASE_URL', 'SUPABASE_SERVICE_ROLE_KEY', 'VAPI_WEBHOOK_SECRET', 'VOXCTL_EDGE_PORT'];
  const child = spawn(
    opts.deno,
    ['run', '--quiet', '--no-prompt', '--allow-net', `--allow-env=${allowEnv.join(',')}`, '--no-lock', '--no-config', '--node-modules-dir=none', entry],
    { cwd: opts.functionDir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stderr = '';
  let pendingErr = '';
  child.stderr!.on('data', (c: Buffer) => {
    const text = c.toString('utf8');
    if (stderr.length < 8000) stderr += text;
    pendingErr += text;
    const lines = pendingErr.split('\n');
    pendingErr = lines.pop()!;
    for (const l of lines) if (l.trim()) opts.onLog?.(l);
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => done(new VoxError('edge_start', 1, `Deno did not start the function within ${Math.round((opts.startTimeoutMs ?? 120_000) / 1000)} s.`, { hint: 'Check that Deno can reach the npm registry (the first run fetches @supabase/supabase-js).' })), opts.startTimeoutMs ?? 120_000);
    const onData = (c: Buffer) => {
      out += c.toString('utf8');
      const m = /\{"event":"listening","port":(\d+)\}/.exec(out);
      if (m) done(undefined, Number(m[1]));
    };
    const onExit = (code: number | null) =>
      done(new VoxError('edge_start', 1, `Deno exited (code ${code}) before the function listened: ${stderr.trim().split('\n').slice(-5).join(' ').slice(0, 800) || 'no output'}`, { hint: 'Run `voxctl edge build` again; check SUPABASE_URL and SUPABASE_SERVICE_ROLE_KEY.' }));
    function done(e?: Error, p?: number) {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      if (e) {
        child.kill('SIGKILL');
        reject(e);
      } else resolve(p!);
    }
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  child.stdout!.resume();
  let stopping: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${port}/${opts.name}`,
    port,
    child,
    exited,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      })();
      return stopping;
    },
  };
}
