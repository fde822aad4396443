import { fileURLToPath } from 'node:url';

/** The bundled ml-latest-small folder, found relative to this module (no absolute paths baked in). */
export const BUNDLED_DIR = fileURLToPath(new URL('../datasets/ml-latest-small/', import.meta.url));

/** Repository root (packages/data/src → ../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Default download cache: `.cache/datasets` under the repository root. */
export const DEFAULT_CACHE_DIR = fileURLToPath(new URL('../../../.cache/datasets/', import.meta.url));
