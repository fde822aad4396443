/** The server as a process, as apps/api/src/main.ts runs it (spawned by resilience.test.ts). */
import { runFromEnv } from '../src/run.ts';

await runFromEnv();
