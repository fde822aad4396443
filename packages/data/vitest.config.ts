import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // the machines are shared; reading real files can take a few seconds when they are busy
    testTimeout: 30_000,
  },
});
