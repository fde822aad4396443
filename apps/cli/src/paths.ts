import { fileURLToPath } from 'node:url';
import type { Context } from './framework/command.ts';

/** The repository root (apps/cli/src → ../../..), so defaults never depend on the working directory. */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));

/** Where `data fetch` keeps downloads: MOVIEREC_CACHE_DIR, else <repo>/.cache/datasets (gitignored). */
export function cacheDir(ctx: Context): string {
  const fromEnv = ctx.env.MOVIEREC_CACHE_DIR;
  return fromEnv
    ? ctx.resolvePath(fromEnv)
    : fileURLToPath(new URL('../../../.cache/datasets', import.meta.url));
}

/** The embedded database folder: MOVIEREC_DATA_DIR when set (else @movierec/db's default, <repo>/.data/pglite). */
export function dataDir(ctx: Context): string | undefined {
  const fromEnv = ctx.env.MOVIEREC_DATA_DIR;
  return fromEnv ? ctx.resolvePath(fromEnv) : undefined;
}
