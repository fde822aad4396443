/**
 * The HTTP server: node:http routing in front of Apollo Server 5 (`executeHTTPGraphQLRequest`), /health, /ready,
 * the static web page, one JSON log line per request (debug), and graceful shutdown.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { DEFAULT_LIMITS, type QueryLimits, queryLimitsRule } from '../graphql/limits.ts';
import { type ApiContext, type CacheDeps, resolvers } from '../graphql/resolvers.ts';
import type { Logger } from '../logger.ts';
import type { RecommenderService } from '../serving/service.ts';
import type { Metrics } from './metrics.ts';
import { ResponseCache } from './response-cache.ts';
import { serveStatic } from './static.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Largest request body accepted (bytes). */
const MAX_BODY = 1024 * 1024;

export interface HttpOptions {
  port: number;
  host: string;
  /** Folder served at / (the web page); without one, only /graphql, /health and /ready answer. */
  staticDir?: string;
  limits?: QueryLimits;
  /** Whole-response cache budget in bytes (0 disables it). */
  responseCacheBytes?: number;
  /** How long in-flight requests may take to finish on close before their connections are cut (ms). */
  shutdownGraceMs?: number;
  /** Prometheus metrics (counted always; exposed at /metrics on this port when metricsOnMainPort). */
  metrics?: Metrics;
  metricsOnMainPort?: boolean;
}

export interface RunningHttp {
  url: string;
  close(): Promise<void>;
  responseCache: ResponseCache;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        fail(new HttpError(413, `request body larger than ${MAX_BODY} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () =>
      done(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', fail);
  });
}

/** Route labels of the request metrics (every other path counts as 'static'). */
const ROUTES = new Set(['/graphql', '/health', '/ready', '/metrics']);

async function sendMetrics(metrics: Metrics, res: ServerResponse): Promise<void> {
  const { contentType, body } = await metrics.render();
  res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A separate listener answering only GET /metrics (a port kept off the public network). */
export async function startMetricsHttp(
  metrics: Metrics,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && (req.method === 'GET' || req.method === 'HEAD')) {
      sendMetrics(metrics, res).catch(() => res.destroy());
      return;
    }
    sendJson(res, 404, { error: `no such page: ${path} (this port serves only GET /metrics)` });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const addr = server.address() as AddressInfo;
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${h}:${addr.port}`,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export async function startHttp(
  service: RecommenderService,
  log: Logger,
  options: HttpOptions,
): Promise<RunningHttp> {
  const apollo = new ApolloServer<ApiContext>({
    typeDefs,
    resolvers,
    validationRules: [queryLimitsRule(options.limits ?? DEFAULT_LIMITS)],
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ...(options.metrics !== undefined ? [options.metrics.apolloPlugin()] : []),
    ],
    includeStacktraceInErrorResponses: false,
    // shutdown is ours (startServer's close, called by main.ts on SIGINT/SIGTERM), not Apollo's signal handlers
    stopOnTerminationSignals: false,
    logger: {
      debug: () => {},
      info: () => {},
      warn: (...m: unknown[]) => log.warn({ msg: 'apollo', detail: m.map(String).join(' ') }),
      error: (...m: unknown[]) => log.error({ msg: 'apollo', detail: m.map(String).join(' ') }),
    },
    formatError(formatted, error) {
      const code = formatted.extensions?.code;
      if (code === 'INTERNAL_SERVER_ERROR') log.error({ msg: 'resolver error', err: String(error) });
      return formatted;
    },
  });
  await apollo.start();
  const cache = new ResponseCache(options.responseCacheBytes ?? 64 * 1024 * 1024);
  let closing = false;
  let inFlight = 0;
  let idle: (() => void) | null = null;

  async function graphql(
    req: IncomingMessage,
    res: ServerResponse,
    search: string,
  ): Promise<string | undefined> {
    const method = req.method ?? 'GET';
    if (method !== 'POST' && method !== 'GET')
      throw new HttpError(405, `${method} not allowed on /graphql (use POST or GET)`);
    const raw = method === 'POST' ? await readBody(req) : '';
    const contentType = req.headers['content-type'] ?? '';
    const cacheKey = method === 'POST' && contentType.startsWith('application/json') ? raw : null;
    if (cacheKey !== null) {
      const hit = cache.get(cacheKey, service.epoch, Date.now());
      if (hit !== null) {
        res.writeHead(200, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': hit.length,
        });
        res.end(hit);
        return 'hit';
      }
    }
    let body: unknown;
    if (method === 'POST' && contentType.startsWith('application/json')) {
      try {
        body = JSON.parse(raw);
      } catch (err) {
        throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
      }
    } else body = raw;
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const deps: CacheDeps = { cacheable: cacheKey !== null, users: [], movieStats: [] };
    const epoch = service.epoch;
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search, body },
      context: async () => ({ service, deps }),
    });
    for (const [k, v] of result.headers) res.setHeader(k, v);
    const status = result.status ?? 200;
    if (result.body.kind === 'complete') {
      const out = Buffer.from(result.body.string, 'utf8');
      res.setHeader('content-length', out.length);
      res.writeHead(status);
      res.end(out);
      if (cacheKey !== null && deps.cacheable && status === 200 && epoch === service.epoch) {
        if (!result.body.string.includes('"errors":')) {
          const catalogue = service.snapshot?.catalogue ?? null;
          const pairs = deps.movieStats;
          const movies = new Int32Array(pairs.length / 2);
          const movieVersions = new Uint32Array(pairs.length / 2);
          for (let j = 0; j < movies.length; j++) {
            movies[j] = pairs[2 * j]!;
            movieVersions[j] = pairs[2 * j + 1]!;
          }
          const users = [...new Set(deps.users)];
          cache.set(cacheKey, out, epoch, { users, catalogue, movies, movieVersions }, Date.now());
        }
      }
      return deps.cacheable ? 'miss' : undefined;
    }
    res.writeHead(status);
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
    return undefined;
  }

  async function ready(res: ServerResponse): Promise<void> {
    const state = service.ready;
    let databaseReachable = false;
    let detail: string | undefined;
    try {
      await Promise.race([
        service.store.ping(),
        new Promise((_, fail) => setTimeout(() => fail(new Error('ping timed out after 2 s')), 2000).unref()),
      ]);
      databaseReachable = true;
    } catch (err) {
      detail = String((err as Error).message ?? err);
    }
    const ok = state.modelLoaded && databaseReachable && !closing;
    sendJson(res, ok ? 200 : 503, {
      status: ok ? 'ready' : 'not ready',
      modelLoaded: state.modelLoaded,
      modelVersion: state.modelVersion,
      databaseReachable,
      ...(closing ? { shuttingDown: true } : {}),
      ...(detail ? { detail } : {}),
    });
  }

  const metrics = options.metrics;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    inFlight++;
    if (closing) res.setHeader('connection', 'close');
    let cacheNote: string | undefined;
    // path and query split by hand: `new URL` per request is measurable on the cached hot path
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    try {
      if (path === '/graphql') cacheNote = await graphql(req, res, q < 0 ? '' : target.slice(q));
      else if (path === '/health') sendJson(res, 200, { status: 'ok' });
      else if (path === '/ready') await ready(res);
      else if (path === '/metrics' && metrics !== undefined && options.metricsOnMainPort)
        await sendMetrics(metrics, res);
      else if (req.method === 'GET' || req.method === 'HEAD') {
        if (options.staticDir === undefined || !(await serveStatic(options.staticDir, path, req, res)))
          throw new HttpError(404, `no such page: ${path}`);
      } else throw new HttpError(405, `${req.method} not allowed on ${path}`);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log.error({ msg: 'request failed', method: req.method, path, err: String(err) });
      if (!res.headersSent)
        sendJson(res, status, { error: err instanceof HttpError ? err.message : 'internal error' });
      else res.destroy();
    } finally {
      inFlight--;
      if (metrics !== undefined) {
        const route = ROUTES.has(path) ? path : 'static';
        metrics.httpRequests.inc({ route, status: res.statusCode });
        metrics.httpDuration.observe({ route }, (performance.now() - started) / 1000);
        if (cacheNote !== undefined) metrics.cacheRequests.inc({ cache: 'response', result: cacheNote });
      }
      if (log.level === 'debug') {
        log.debug({
          msg: 'request',
          method: req.method,
          path,
          status: res.statusCode,
          ms: Math.round((performance.now() - started) * 100) / 100,
          ...(cacheNote ? { cache: cacheNote } : {}),
        });
      }
      if (inFlight === 0 && idle !== null) idle();
    }
  }

  const server = createServer({ keepAliveTimeout: 5000 }, (req, res) => void handle(req, res));
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => {
      server.off('error', fail);
      done();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;

  let closed: Promise<void> | null = null;
  async function close(): Promise<void> {
    closing = true;
    // stop accepting; idle keep-alive connections are closed now, busy ones once their response is sent
    const serverClosed = new Promise<void>((done) => server.close(() => done()));
    server.closeIdleConnections();
    if (inFlight > 0) {
      const grace = options.shutdownGraceMs ?? 10_000;
      await new Promise<void>((done) => {
        const timer = setTimeout(() => {
          log.warn({ msg: 'shutdown grace period over, cutting connections', inFlight });
          server.closeAllConnections();
          done();
        }, grace);
        timer.unref();
        idle = () => {
          clearTimeout(timer);
          done();
        };
      });
    }
    server.closeIdleConnections();
    log.debug({ msg: 'shutdown: waiting for connections' });
    await serverClosed;
    log.debug({ msg: 'shutdown: stopping apollo' });
    await apollo.stop();
    log.debug({ msg: 'shutdown: apollo stopped' });
  }

  return {
    url,
    responseCache: cache,
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}
