import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    // The real Postgres + PostgREST stack (Supabase test tier), started once per run.
    globalSetup: ['tests/supabase/global-setup.ts'],
    // PGlite needs several seconds to initialise a data dir on these machines; tests share one
    // instance per file, but the first hook in a file still pays for it.
    hookTimeout: 60_000,
    testTimeout: 30_000,
    // Two cores: more workers than that only make PGlite start-up slower.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
