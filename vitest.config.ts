import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    // The real Postgres + PostgREST stack (Supabase test tier), started once per run, first: its
    // folders must stay outside the per-run temp folder (0700, which the postgres user cannot
    // enter). Then a temp folder per run and per file, removed after it (the run fails if one is
    // left).
    globalSetup: ['tests/supabase/global-setup.ts', 'tests/global-setup.ts'],
    hookTimeout: 60_000,
    testTimeout: 30_000,
    // Two cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
