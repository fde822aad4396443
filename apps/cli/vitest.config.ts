import { defineConfig } from 'vitest/config';

// The tests run the CLI as child processes (tsx start-up, an embedded database): generous timeouts, since the
// machine is shared; no test asserts a time.
export default defineConfig({
  test: {
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
