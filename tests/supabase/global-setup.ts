/**
 * vitest globalSetup: starts the real Postgres + PostgREST stack once per run and hands its
 * keys and control URL to the test files (`inject('supabase')`). If it cannot start, the run
 * fails here, saying why; nothing is skipped.
 */
import type { TestProject } from 'vitest/node';
import { startStack, type StackInfo } from './stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    supabase: StackInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  let stack;
  try {
    stack = await startStack();
  } catch (e) {
    throw new Error(`The Supabase test tier (Postgres + PostgREST) could not start: ${(e as Error).message}`);
  }
  if (process.env.VOXCTL_STACK_VERBOSE) console.log(`Supabase test stack up in ${Date.now() - started} ms`);
  project.provide('supabase', stack.info);
  return () => stack.stop();
}
