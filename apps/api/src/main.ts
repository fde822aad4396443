/**
 * Runs the API (the @movierec/api package) with this app's web page: `pnpm --filter api start` (or
 * `tsx apps/api/src/main.ts`); configuration from the environment (see `runFromEnv`).
 */
import { runFromEnv } from '@movierec/api';
import { staticDir } from './static-dir.ts';

await runFromEnv({ staticDir });
