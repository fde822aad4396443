#!/usr/bin/env node
// The `movierec` executable. It runs the precompiled bundle in dist/ (scripts/build.mjs: the CLI and the workspace
// packages' TypeScript bundled by esbuild), rebuilding it first when it is missing or a source file changed since it
// was built; where it cannot be built (no esbuild, a read-only checkout) it runs the TypeScript source through tsx, as
// `pnpm --filter cli <command>` does. MOVIEREC_NO_DIST=1 forces the tsx path.
import { buildCli, distIsFresh } from '../scripts/build.mjs';

let useDist = process.env.MOVIEREC_NO_DIST !== '1';
if (useDist && !distIsFresh()) {
  try {
    await buildCli();
  } catch (error) {
    process.stderr.write(
      `movierec: running from source (cannot precompile: ${error.message.split('\n')[0]})\n`,
    );
    useDist = false;
  }
}
if (useDist) {
  await import('../dist/main.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
}
