import { existsSync } from 'node:fs';
import path from 'node:path';
import dotenvFlow from 'dotenv-flow';
import { UsageError } from '../errors.js';
import type { SourceMap } from './env.js';

export interface ProjectEnv {
  /** process env over file values (process env wins). */
  values: Record<string, string | undefined>;
  /** The file (relative to the project) or `environment` each value came from. */
  sources: SourceMap;
  /** The env files that exist and were read, highest priority first. */
  files: string[];
}

/**
 * Layers the project's env files with dotenv-flow without touching process.env: `.env.local`,
 * `.env.<NODE_ENV>.local`, `.env.<NODE_ENV>`, `.env`, with the process environment on top.
 */
export function loadProjectEnv(cwd: string, env: Record<string, string | undefined>): ProjectEnv {
  const nodeEnv = env.NODE_ENV;
  let files: string[];
  try {
    files = dotenvFlow.listFiles({ path: cwd, ...(nodeEnv ? { node_env: nodeEnv } : {}) }).filter((f) => existsSync(f));
  } catch (e) {
    throw new UsageError(`Cannot list the env files in ${cwd}: ${(e as Error).message}`, { hint: 'Check --cwd.' });
  }
  // listFiles returns lowest priority first (.env … .env.local).
  const sources: SourceMap = {};
  const values: Record<string, string | undefined> = {};
  for (const file of files) {
    let parsed: Record<string, string>;
    try {
      parsed = dotenvFlow.parse(file);
    } catch (e) {
      throw new UsageError(`Cannot read ${path.relative(cwd, file) || file}: ${(e as Error).message}`, {
        hint: 'Fix the file permissions or its syntax (KEY=value lines).',
      });
    }
    for (const [k, v] of Object.entries(parsed)) {
      values[k] = v;
      sources[k] = path.relative(cwd, file) || file;
    }
  }
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined) {
      values[k] = v;
      sources[k] = 'environment';
    }
  }
  return { values, sources, files: files.slice().reverse() };
}
