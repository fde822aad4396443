/** `startServer`: wires the database, the in-memory recommender and the HTTP server together. */
import { type Authenticator, type AuthOptions, createAuthenticator } from './auth/tokens.ts';
import type { ExecutorStats } from './graphql/executor.ts';
import type { QueryLimits } from './graphql/limits.ts';
import { heapGrowingPercentFromEnv, limitHeapGrowth } from './heap.ts';
import { Metrics } from './http/metrics.ts';
import type { RateLimitOptions } from './http/security.ts';
import { startHttp, startMetricsHttp } from './http/server.ts';
import { createLogger, type Logger } from './logger.ts';
import { RecommenderService } from './serving/service.ts';
import { type SimilarModelTask, similarModelFromEnv } from './serving/snapshot.ts';
import type { ApiStore } from './store.ts';

export interface ServerOptions {
  /** TCP port; 0 picks a free one (default PORT or 4000). */
  port?: number;
  /** Interface to listen on (default HOST or 127.0.0.1). */
  host?: string;
  /** An open @movierec/db Database; the caller keeps ownership (it is not closed by `close()`). */
  db?: import('@movierec/db').Database;
  /** postgres:// URL (default DATABASE_URL); without one, the embedded PGlite database. */
  databaseUrl?: string;
  /** PGlite data folder when no PostgreSQL URL is given. */
  dataDir?: string;
  logger?: Logger;
  /** A ready-made store (tests, other back ends); takes precedence over db/databaseUrl/dataDir. */
  store?: ApiStore;
  /** How often to poll for a new active model and for other processes' ratings (ms, default 2000). */
  pollMs?: number;
  /** Folder served at / (the web page: apps/api/static, passed by apps/api and the CLI); none by default. */
  staticDir?: string;
  /** Whole-response cache budget in bytes (default MOVIEREC_RESPONSE_CACHE_BYTES, else 64 MiB; 0 disables it). */
  responseCacheBytes?: number;
  /** Byte budget of the user states held in memory (default MOVIEREC_USER_CACHE_BYTES, else 16 MiB; 0 holds none). */
  userCacheBytes?: number;
  /** Byte budget of each of the three caches of shared top-N lists: similar movies per model, popularity fallback
   * (default MOVIEREC_LIST_CACHE_BYTES, else 4 MiB; 0 holds none). */
  listCacheBytes?: number;
  limits?: QueryLimits;
  /**
   * Authentication (see auth/tokens.ts): `{ mode: 'jwt', secret }`, `{ mode: 'demo' }`, `{ mode: 'off' }`, …
   * Without it: off — which is refused on a host other than loopback. The process entry points (`runFromEnv`, the
   * CLI's serve/main) pass `authOptionsFromEnv()`, whose default is demo on loopback.
   */
  auth?: AuthOptions;
  /** Production mode: introspection and field suggestions off (default: NODE_ENV === 'production'). */
  production?: boolean;
  /** Per-client rate limit on /graphql and /auth (default 300 requests / 10 s, loopback clients exempt). */
  rateLimit?: RateLimitOptions;
  /** Slow-client timeouts (ms). */
  timeouts?: { requestMs?: number; headersMs?: number; keepAliveMs?: number };
  /** How long in-flight requests may finish on close before their connections are cut (ms, default 5000). */
  shutdownGraceMs?: number;
  /** With pushed events arriving, how often the poll still runs as a safety net (ms, default 30000). */
  safetyPollMs?: number;
  /**
   * Serve Prometheus metrics on this separate port (0: any free one) instead of /metrics on the main port — the way
   * to keep them private when the main port is public (MOVIEREC_METRICS_PORT in runFromEnv).
   */
  metricsPort?: number;
  /**
   * Run repeated query documents compiled by graphql-jit, and answer validated queries without Apollo's pipeline
   * (default true; false: every request through Apollo and graphql-js' execute — the reference the tests compare);
   * `{ after: n }`: compile a document after n runs by graphql-js (default 40).
   */
  compile?: boolean | { after: number };
  /** Listen for pushed events on a shared PostgreSQL (default true; false polls only, every pollMs). */
  pushedEvents?: boolean;
  /** Called with each pushed event's lag (ms from the database trigger to this process applying it). */
  onEventLag?: (kind: 'rating' | 'activation', ms: number) => void;
  /**
   * Which active model answers similarMovies: 'ranking' (its own item-item neighbours, the default) or 'rating'
   * (cosine of movie factors); default MOVIEREC_SIMILAR_MODEL, else DEFAULT_SIMILAR_MODEL (packages/api/README.md).
   */
  similarModel?: SimilarModelTask;
  /**
   * V8's old-generation growing factor for the process, as 1 + percent/100 (heap.ts: it keeps a loaded server's
   * memory from jumping after an outage or activation); 0 leaves V8's dynamic factor. Default
   * MOVIEREC_HEAP_GROWING_PERCENT, else 30.
   */
  heapGrowingPercent?: number;
}

export interface RunningServer {
  /** Where the metrics are: `${url}/metrics`, or the separate metrics port's URL + /metrics. */
  metricsUrl: string;
  /** Base URL, e.g. http://127.0.0.1:4000 (GraphQL at `${url}/graphql`). */
  url: string;
  /** Stops accepting, lets in-flight requests finish, then stops polling and closes the database. */
  close(): Promise<void>;
  /** The in-memory recommender (for tests and benches). */
  service: RecommenderService;
  /** The token verifier (and, with a secret, minter) this server uses. */
  auth: Authenticator;
  /** How GraphQL operations ran: compiled or interpreted, and how many took the fast path (tests, benches). */
  graphqlStats: ExecutorStats;
}

/** A cache budget from the environment: a whole number of bytes ≥ 0; anything else is an error naming the variable. */
export function byteBudgetFromEnv(env: Record<string, string | undefined>, name: string): number {
  const raw = env[name] ?? '';
  if (!/^\d+$/.test(raw.trim()))
    throw new RangeError(
      `${name} must be a whole number of bytes (0 turns the cache off), got ${JSON.stringify(raw)}`,
    );
  return Number(raw);
}

/** A cache budget the options leave out, from the variable where it is set (so `movierec serve`, the main job and
 * apps/api all honour MOVIEREC_{RESPONSE,USER,LIST}_CACHE_BYTES); undefined: the cache's default. */
const budget = (given: number | undefined, name: string) =>
  given ?? (process.env[name] ? byteBudgetFromEnv(process.env, name) : undefined);

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger();
  const host = options.host ?? process.env.HOST ?? '127.0.0.1';
  const similarModel = options.similarModel ?? similarModelFromEnv(process.env);
  const responseCacheBytes = budget(options.responseCacheBytes, 'MOVIEREC_RESPONSE_CACHE_BYTES');
  const userCacheBytes = budget(options.userCacheBytes, 'MOVIEREC_USER_CACHE_BYTES');
  const listCacheBytes = budget(options.listCacheBytes, 'MOVIEREC_LIST_CACHE_BYTES');
  limitHeapGrowth(options.heapGrowingPercent ?? heapGrowingPercentFromEnv(process.env));
  // before anything opens: a refused configuration must not leave a database or poller behind
  const auth = await createAuthenticator(options.auth ?? { mode: 'off' }, host);
  let store = options.store;
  if (store === undefined) {
    const { openStore } = await import('./db-store.ts');
    store = await openStore({
      ...(options.db !== undefined ? { db: options.db } : {}),
      ...(options.databaseUrl !== undefined ? { url: options.databaseUrl } : {}),
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    });
  }
  const metrics = new Metrics({ pool: () => store.poolStats?.() ?? null });
  const service = new RecommenderService(store, log, {
    observer: metrics.observer(),
    pollMs: options.pollMs ?? 2000,
    ...(options.safetyPollMs !== undefined ? { safetyPollMs: options.safetyPollMs } : {}),
    ...(options.onEventLag !== undefined ? { onEventLag: options.onEventLag } : {}),
    ...(options.pushedEvents !== undefined ? { pushedEvents: options.pushedEvents } : {}),
    similarModel,
    ...(userCacheBytes !== undefined ? { userCacheBytes } : {}),
    ...(listCacheBytes !== undefined ? { listCacheBytes } : {}),
  });
  await service.start();
  let http: Awaited<ReturnType<typeof startHttp>>;
  try {
    http = await startHttp(service, log, {
      port: options.port ?? Number(process.env.PORT ?? 4000),
      host,
      auth,
      shutdownGraceMs: options.shutdownGraceMs ?? 5_000,
      ...(options.production !== undefined ? { production: options.production } : {}),
      ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
      ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
      ...(options.staticDir !== undefined ? { staticDir: options.staticDir } : {}),
      ...(responseCacheBytes !== undefined ? { responseCacheBytes } : {}),
      ...(options.limits !== undefined ? { limits: options.limits } : {}),
      ...(options.compile !== undefined ? { compile: options.compile } : {}),
      metrics,
      metricsOnMainPort: options.metricsPort === undefined,
    });
  } catch (err) {
    await service.stop();
    if (options.store === undefined) await store.close();
    throw err;
  }
  let metricsHttp: Awaited<ReturnType<typeof startMetricsHttp>> | null = null;
  if (options.metricsPort !== undefined) {
    try {
      metricsHttp = await startMetricsHttp(
        metrics,
        options.host ?? process.env.HOST ?? '127.0.0.1',
        options.metricsPort,
      );
    } catch (err) {
      await http.close();
      await service.stop();
      if (options.store === undefined) await store.close();
      throw err;
    }
  }
  log.info({
    msg: 'listening',
    url: http.url,
    auth: auth.mode,
    ...service.ready,
    ...(metricsHttp ? { metrics: metricsHttp.url } : {}),
  });
  if (auth.mode === 'off' && options.auth?.insecureNoAuth)
    log.warn({
      msg: 'AUTHENTICATION IS OFF: anyone who can reach this server reads every rating history and rates as any user',
    });
  let closing: Promise<void> | null = null;
  return {
    url: http.url,
    metricsUrl: `${metricsHttp?.url ?? http.url}/metrics`,
    service,
    auth,
    graphqlStats: http.graphqlStats,
    close() {
      closing ??= (async () => {
        await metricsHttp?.close();
        await http.close();
        await service.stop();
        log.debug({ msg: 'shutdown: closing the database' });
        if (options.store === undefined) await store.close();
        log.info({ msg: 'stopped' });
      })();
      return closing;
    },
  };
}
