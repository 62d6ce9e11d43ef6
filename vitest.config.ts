import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    // A temp folder per run and per file, removed after it; the run fails if one is left.
    globalSetup: ['tests/global-setup.ts'],
    // PGlite needs several seconds to initialise a data dir on these machines; tests share one
    // instance per file, but the first hook in a file still pays for it.
    hookTimeout: 60_000,
    testTimeout: 30_000,
    // Two cores: more workers than that only make PGlite start-up slower.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
