/**
 * Prometheus metrics (text exposition format) with prom-client, the Node ecosystem's standard client: one registry
 * per server (several servers can run in one process, as the tests do), the process's default metrics, and the
 * service's own — requests and latency by route, GraphQL operation and outcome, cache hits and misses by cache,
 * fold-ins, the serving model version and its load time, database calls and pool, and the lag of pushed events.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import type { OperationDefinitionNode } from 'graphql';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets (seconds) from 0.5 ms to 5 s: the API answers in milliseconds, an outage in seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A counter, gauge or histogram in `registry` alone (not prom-client's global one): each server has its own. */
function counter<T extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly T[] = [],
) {
  return new Counter<T>({ name, help, labelNames, registers: [registry] });
}

function gauge<T extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly T[] = [],
) {
  return new Gauge<T>({ name, help, labelNames, registers: [registry] });
}

function histogram<T extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly T[],
  buckets: number[] = LATENCY_BUCKETS,
) {
  return new Histogram<T>({ name, help, labelNames, buckets, registers: [registry] });
}

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = counter(
    this.registry,
    'movierec_http_requests_total',
    'HTTP requests by route and status code',
    ['route', 'status'],
  );
  readonly httpDuration = histogram(
    this.registry,
    'movierec_http_request_duration_seconds',
    'HTTP request latency by route (from the request to the end of the response)',
    ['route'],
  );
  readonly graphqlRequests = counter(
    this.registry,
    'movierec_graphql_requests_total',
    'GraphQL operations executed (response-cache hits excluded) by operation name and outcome',
    ['operation', 'outcome'],
  );
  readonly graphqlDuration = histogram(
    this.registry,
    'movierec_graphql_request_duration_seconds',
    'GraphQL execution latency by operation name and outcome',
    ['operation', 'outcome'],
  );
  readonly cacheRequests = counter(
    this.registry,
    'movierec_cache_requests_total',
    'Cache look-ups by cache (response, user, top) and result (hit, miss)',
    ['cache', 'result'],
  );
  readonly foldIns = counter(
    this.registry,
    'movierec_fold_ins_total',
    'Users folded into the serving model from their stored history',
  );
  readonly modelInfo = gauge(
    this.registry,
    'movierec_model_info',
    'The model version being served (value 1 on the current version)',
    ['version'],
  );
  readonly modelLoadSeconds = gauge(
    this.registry,
    'movierec_model_load_seconds',
    'Time the last model load took (parameters, catalogue, change feed)',
  );
  readonly dbCalls = histogram(
    this.registry,
    'movierec_db_call_duration_seconds',
    'Database calls made on requests and polls, by outcome',
    ['outcome'],
  );
  readonly eventLag = histogram(
    this.registry,
    'movierec_event_lag_seconds',
    'Lag of pushed events between replicas: from the database trigger to this process applying it',
    ['kind'],
    [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  readonly eventsListening = gauge(
    this.registry,
    'movierec_events_listening',
    '1 while pushed events (LISTEN/NOTIFY) arrive, 0 while this process falls back to polling',
  );

  /** Caches whose size every scrape reports (watchCache). */
  readonly #caches = new Map<string, () => { bytes: number; entries: number }>();

  constructor(options: { pool?: () => { total: number; idle: number; waiting: number } | null } = {}) {
    collectDefaultMetrics({ register: this.registry, prefix: 'movierec_' });
    const caches = this.#caches;
    for (const [field, help] of [
      [
        'bytes',
        'Bytes held by each bounded cache (response, user, lists), as the cache accounts them against its budget',
      ],
      ['entries', 'Entries held by each bounded cache (response bodies, user states, shared top-N lists)'],
    ] as const) {
      new Gauge({
        name: `movierec_cache_${field}`,
        help,
        labelNames: ['cache'] as const,
        registers: [this.registry],
        collect() {
          for (const [cache, read] of caches) this.set({ cache }, read()[field]);
        },
      });
    }
    const pool = options.pool;
    if (pool !== undefined) {
      new Gauge({
        name: 'movierec_db_pool_connections',
        help: 'Database pool connections by state (total, idle, waiting clients)',
        labelNames: ['state'] as const,
        registers: [this.registry],
        collect() {
          const s = pool();
          if (s === null) return;
          this.set({ state: 'total' }, s.total);
          this.set({ state: 'idle' }, s.idle);
          this.set({ state: 'waiting' }, s.waiting);
        },
      });
    }
  }

  /** The service's observer (see ServiceObserver): fold-ins, model loads, database calls, caches, events. */
  observer() {
    return {
      foldIn: () => this.foldIns.inc(),
      modelLoaded: (version: string | null, seconds: number) => this.setModel(version, seconds),
      dbCall: (seconds: number, ok: boolean) =>
        this.dbCalls.observe({ outcome: ok ? 'ok' : 'error' }, seconds),
      cache: (cache: string, hit: boolean) => this.cacheRequests.inc({ cache, result: hit ? 'hit' : 'miss' }),
      eventLag: (kind: string, ms: number) => this.eventLag.observe({ kind }, ms / 1000),
      listening: (on: boolean) => this.eventsListening.set(on ? 1 : 0),
    };
  }

  /** Reports a cache's bytes and entries on every scrape (movierec_cache_bytes / movierec_cache_entries). */
  watchCache(cache: string, read: () => { bytes: number; entries: number }): void {
    this.#caches.set(cache, read);
  }

  /** The model now served (the previous version's series is removed). */
  setModel(version: string | null, loadSeconds: number): void {
    this.modelInfo.reset();
    if (version !== null) this.modelInfo.set({ version }, 1);
    this.modelLoadSeconds.set(loadSeconds);
  }

  /** One GraphQL operation done (by Apollo, or by the HTTP fast path for a prepared query). */
  graphqlDone(operation: string, outcome: 'ok' | 'error', seconds: number): void {
    this.graphqlRequests.inc({ operation, outcome });
    this.graphqlDuration.observe({ operation, outcome }, seconds);
  }

  /** An Apollo plugin timing each executed operation by name and outcome ('ok', 'error'). */
  apolloPlugin(): ApolloServerPlugin {
    const metrics = this;
    return {
      async requestDidStart() {
        const started = performance.now();
        return {
          async willSendResponse({ operation, errors }) {
            // labelled by the root fields asked for (bounded by the schema), not by the client's operation name,
            // which a hostile client could vary to grow the series without bound
            const name = operationLabel(operation);
            const outcome = errors !== undefined && errors.length > 0 ? 'error' : 'ok';
            metrics.graphqlDone(name, outcome, (performance.now() - started) / 1000);
          },
        };
      },
    };
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** "query:recommendations" / "mutation:rateMovie" / "query:movie,similarMovies": the operation type and its root fields. */
export function operationLabel(operation: OperationDefinitionNode | undefined | null): string {
  if (operation === undefined || operation === null) return 'invalid';
  const fields = new Set<string>();
  for (const sel of operation.selectionSet.selections) {
    if (sel.kind === 'Field')
      fields.add(sel.name.value.startsWith('__') ? '__introspection' : sel.name.value);
    else fields.add('fragment');
  }
  return `${operation.operation}:${[...fields].sort().slice(0, 8).join(',')}`;
}
