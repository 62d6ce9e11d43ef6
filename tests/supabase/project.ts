/**
 * A test file's own Supabase project on the run's stack (tests/supabase/stack.ts): its own
 * database, PostgREST and gateway, leased before the file's tests and released after them.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, inject } from 'vitest';
import type { LeaseOptions, ProjectInfo, StackInfo } from './stack.js';

/** The API roles a Supabase project has (the stack creates them in every database). */
export type SupabaseRole = 'anon' | 'authenticated' | 'service_role';

export const TABLES = 'appointments, contacts, agent_claims, agents, organizations';

export interface TestProject extends ProjectInfo {
  keys: StackInfo['keys'];
  /** SQL through the Postgres socket, as the superuser or (`as`) after `set role`; rows as objects. */
  query<T = Record<string, unknown>>(sql: string, opts?: { as?: SupabaseRole }): T[];
  /** Runs SQL statements as the superuser (no result). */
  exec(sql: string): void;
  /** Empties voxctl's tables. */
  reset(): void;
}

export function stackInfo(): StackInfo {
  const info = inject('supabase');
  if (!info) throw new Error('The Supabase test stack was not provided: is tests/supabase/global-setup.ts in vitest.config.ts?');
  return info;
}

export function psql(info: StackInfo, database: string, sql: string): string {
  const r = spawnSync(info.pg.psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', info.pg.socketDir, '-p', String(info.pg.port), '-U', info.pg.user, '-d', database, '-At'], {
    input: sql,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export async function leaseProject(opts: LeaseOptions = {}): Promise<TestProject> {
  const info = stackInfo();
  const res = await fetch(`${info.control}/lease`, { method: 'POST', body: JSON.stringify(opts) });
  const body = (await res.json()) as ProjectInfo & { error?: string };
  if (!res.ok) throw new Error(`Could not lease a Supabase test project: ${body.error}`);
  const query = <T>(sql: string, opts: { as?: SupabaseRole } = {}): T[] => {
    const role = opts.as ? `set role ${opts.as};\n` : '';
    return JSON.parse(psql(info, body.database, `${role}select coalesce(json_agg(t), '[]'::json) from (${sql.replace(/;\s*$/, '')}) t;`).trim() || '[]') as T[];
  };
  return {
    ...body,
    keys: info.keys,
    query,
    exec: (sql) => void psql(info, body.database, sql),
    reset: () => void psql(info, body.database, `truncate ${TABLES} cascade;`),
  };
}

export async function releaseProject(p: ProjectInfo): Promise<void> {
  await fetch(`${stackInfo().control}/lease/${p.id}`, { method: 'DELETE' });
}

/** Leases a project for the calling file (beforeAll) and releases it (afterAll). */
export function useProject(opts: LeaseOptions = {}): { readonly current: TestProject } {
  let p: TestProject | undefined;
  beforeAll(async () => {
    p = await leaseProject(opts);
  });
  afterAll(async () => {
    if (p) await releaseProject(p);
  });
  return {
    get current() {
      if (!p) throw new Error('useProject: the project exists only inside tests and hooks.');
      return p;
    },
  };
}
