/**
 * Runs the API: `pnpm --filter api start` (or `tsx apps/api/src/main.ts`). Configuration from the environment:
 * PORT, HOST, DATABASE_URL (else the embedded PGlite in MOVIEREC_DATA_DIR or .data/pglite), LOG_LEVEL,
 * MOVIEREC_POLL_MS. SIGINT/SIGTERM shut it down gracefully.
 */
import { createLogger } from './logger.ts';
import { startServer } from './start.ts';

const log = createLogger();
try {
  const server = await startServer({
    logger: log,
    ...(process.env.MOVIEREC_DATA_DIR ? { dataDir: process.env.MOVIEREC_DATA_DIR } : {}),
    ...(process.env.MOVIEREC_POLL_MS ? { pollMs: Number(process.env.MOVIEREC_POLL_MS) } : {}),
    ...(process.env.MOVIEREC_RESPONSE_CACHE_BYTES
      ? { responseCacheBytes: Number(process.env.MOVIEREC_RESPONSE_CACHE_BYTES) }
      : {}),
  });
  // one machine-readable line a parent process can wait for
  process.stdout.write(`${JSON.stringify({ listening: server.url })}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ msg: 'shutting down', signal });
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ msg: 'shutdown failed', err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  log.error({ msg: 'could not start', err: String((err as Error).message ?? err) });
  process.exit(1);
}
