/**
 * Runs the server as a process, configured from the environment: PORT, HOST, DATABASE_URL (else the embedded PGlite
 * in MOVIEREC_DATA_DIR or .data/pglite), LOG_LEVEL, MOVIEREC_POLL_MS, MOVIEREC_RESPONSE_CACHE_BYTES,
 * MOVIEREC_USER_CACHE_BYTES, MOVIEREC_LIST_CACHE_BYTES,
 * MOVIEREC_METRICS_PORT, MOVIEREC_PUSHED_EVENTS (0: poll only). Prints one
 * machine-readable line `{"listening":"http://…"}` on stdout; SIGINT/SIGTERM shut it down gracefully (exit 0), or
 * after 9 s whatever is still running (exit 1). Authentication from MOVIEREC_AUTH, MOVIEREC_JWT_SECRET, … (see
 * auth/tokens.ts): demo on a loopback host by default, refused elsewhere without a key.
 */
import { authOptionsFromEnv } from './auth/tokens.ts';
import { createLogger } from './logger.ts';
import { startServer } from './start.ts';

export async function runFromEnv(options: { staticDir?: string } = {}): Promise<void> {
  const log = createLogger();
  const env = process.env;
  try {
    const start = () =>
      startServer({
        logger: log,
        auth: authOptionsFromEnv(env),
        ...(options.staticDir !== undefined ? { staticDir: options.staticDir } : {}),
        ...(env.MOVIEREC_DATA_DIR ? { dataDir: env.MOVIEREC_DATA_DIR } : {}),
        ...(env.MOVIEREC_POLL_MS ? { pollMs: Number(env.MOVIEREC_POLL_MS) } : {}),
        ...(env.MOVIEREC_PUSHED_EVENTS === '0' ? { pushedEvents: false } : {}),
        ...(env.MOVIEREC_METRICS_PORT ? { metricsPort: Number(env.MOVIEREC_METRICS_PORT) } : {}),
      });
    // A replica started while its PostgreSQL is down waits for it (not listening, so a load balancer's check keeps
    // it out of rotation) instead of exiting; a SIGTERM while waiting stops it.
    let waiting = true;
    const giveUp = () => {
      if (waiting) process.exit(0);
    };
    process.once('SIGINT', giveUp);
    process.once('SIGTERM', giveUp);
    let server: Awaited<ReturnType<typeof startServer>>;
    for (let delay = 500, logged = false; ; delay = Math.min(delay * 2, 5000)) {
      try {
        server = await start();
        break;
      } catch (err) {
        if ((err as Error).name !== 'DatabaseConnectionError' || !env.DATABASE_URL) throw err;
        if (!logged)
          log.warn({
            msg: 'database unreachable: waiting for it before listening',
            err: String((err as Error).message),
          });
        logged = true;
        await new Promise((done) => setTimeout(done, delay));
      }
    }
    waiting = false;
    process.off('SIGINT', giveUp);
    process.off('SIGTERM', giveUp);
    process.stdout.write(`${JSON.stringify({ listening: server.url })}\n`);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      // whatever happens, the process is gone within 10 s of the signal (in-flight requests get 5 s, see start.ts)
      setTimeout(() => {
        log.error({ msg: 'shutdown did not finish within 9 s; exiting anyway', signal });
        process.exit(1);
      }, 9_000).unref();
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
}
