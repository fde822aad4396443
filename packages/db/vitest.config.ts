import { defineConfig } from 'vitest/config';

// Database tests start real PostgreSQL databases and WASM PGlite instances; on a shared 2-core machine one PGlite
// start can take 10 s, so the time limits are generous (no test asserts a duration).
export default defineConfig({
  test: {
    testTimeout: 240_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
