import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

// One graphql-js for everything: Node loads graphql's CommonJS build for Apollo, graphql-tools and graphql-jit,
// while Vite would hand our own sources its ESM build — two copies whose instanceof checks fail across each other
// (a schema built by one and executed by the other). The alias sends our imports to the copy Node loads.
const graphql = createRequire(new URL('../../packages/api/package.json', import.meta.url)).resolve('graphql');

export default defineConfig({
  resolve: { alias: [{ find: /^graphql$/, replacement: graphql }] },
});
