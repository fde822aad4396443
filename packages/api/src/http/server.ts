/**
 * The HTTP server: node:http routing in front of Apollo Server 5 (`executeHTTPGraphQLRequest`), /health, /ready,
 * the static web page, one JSON log line per request (debug), and graceful shutdown.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin, HeaderMap } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { ExecutionResult } from 'graphql';
import { ANONYMOUS, AuthError, type Authenticator, type Identity } from '../auth/tokens.ts';
import {
  buildSchema,
  CompilingExecutor,
  type ExecutorStats,
  type PreparedOperation,
} from '../graphql/executor.ts';
import { Budget, guardResolvers } from '../graphql/guard.ts';
import { DEFAULT_LIMITS, type QueryLimits, queryLimitsRule, scanCostFor } from '../graphql/limits.ts';
import { type ApiContext, type CacheDeps, resolvers } from '../graphql/resolvers.ts';
import type { Logger } from '../logger.ts';
import type { RecommenderService } from '../serving/service.ts';
import type { Metrics } from './metrics.ts';
import { DEFAULT_RESPONSE_CACHE_BYTES, ResponseCache } from './response-cache.ts';
import { createRateLimiter, type RateLimitOptions, setSecurityHeaders } from './security.ts';
import { serveStatic } from './static.ts';

export const typeDefs = readFileSync(new URL('../schema.graphql', import.meta.url), 'utf8');

/** Largest request body accepted (bytes). */
const MAX_BODY = 1024 * 1024;
/** How much of an oversized body is read and discarded so the client sees the 413 before the connection closes. */
const MAX_DISCARD = 16 * MAX_BODY;
/** Most tokens a GraphQL document may have (graphql-js' parser limit): the page's largest query has ~150. */
const MAX_TOKENS = 5_000;

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
  /** Who may read whose data; without one, every request is anonymous (only public fields answer). */
  auth?: Authenticator;
  /** Production mode: introspection and "did you mean" field suggestions off (default: NODE_ENV === 'production'). */
  production?: boolean;
  rateLimit?: RateLimitOptions;
  /** Slow-client timeouts (ms): whole request 30 s, headers 10 s, idle keep-alive 5 s. */
  timeouts?: { requestMs?: number; headersMs?: number; keepAliveMs?: number };
  /** Prometheus metrics (counted always; exposed at /metrics on this port when metricsOnMainPort). */
  metrics?: Metrics;
  metricsOnMainPort?: boolean;
  /**
   * Compile repeated query documents with graphql-jit and answer validated queries without Apollo's pipeline
   * (default true; false: Apollo and graphql-js' execute only); `{ after: n }` compiles after n runs (default 40).
   */
  compile?: boolean | { after: number };
}

export interface RunningHttp {
  url: string;
  close(): Promise<void>;
  responseCache: ResponseCache;
  graphqlStats: ExecutorStats;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Reads the body up to MAX_BODY bytes. A larger one is refused with 413: the rest is read and thrown away (up to
 * MAX_DISCARD, then the connection is cut) so the client receives the answer instead of a reset connection.
 */
function readBody(req: IncomingMessage, res: ServerResponse): Promise<string> {
  return new Promise((done, fail) => {
    const tooLarge = () => {
      res.setHeader('connection', 'close');
      let discarded = 0;
      req.removeAllListeners('data');
      req.on('data', (c: Buffer) => {
        discarded += c.length;
        if (discarded > MAX_DISCARD) req.destroy();
      });
      fail(new HttpError(413, `request body larger than ${MAX_BODY} bytes`));
    };
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) {
      tooLarge();
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        chunks.length = 0;
        tooLarge();
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

/** Sets `cache-control: no-store` on every GraphQL response that has none (what Apollo's cache-control plugin did here). */
const noStorePlugin: ApolloServerPlugin = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        if (!response.http.headers.has('cache-control'))
          response.http.headers.set('cache-control', 'no-store');
      },
    };
  },
};

/** A GraphQL request's context: the resolvers' (service, deps), the guards' (identity, budget), and a result the fast
 * path computed for Apollo to format (see CompilingExecutor.gateway). */
type RequestContext = ApiContext & { identity: Identity; budget: Budget; precomputed?: ExecutionResult };

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
  return {
    url: await listen(server, port, host),
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** Listens on host:port (0: any free port) and resolves with the base URL; rejects on EADDRINUSE and the like. */
async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      done();
    });
  });
  const addr = server.address() as AddressInfo;
  const h = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${h}:${addr.port}`;
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
  const production = options.production ?? process.env.NODE_ENV === 'production';
  const limits = options.limits ?? DEFAULT_LIMITS;
  const metrics = options.metrics;
  const scanCost = () =>
    typeof limits.scanCost === 'number'
      ? limits.scanCost
      : typeof limits.scanCost === 'function'
        ? limits.scanCost()
        : scanCostFor(service.snapshot?.catalogue.size ?? 0);
  const compile = options.compile !== false;
  const executor = new CompilingExecutor(buildSchema(typeDefs, guardResolvers(resolvers, scanCost)), {
    compile,
    ...(typeof options.compile === 'object' ? { compileAfter: options.compile.after } : {}),
  });
  const apollo = new ApolloServer<RequestContext>({
    gateway: executor.gateway(scanCost),
    validationRules: [queryLimitsRule({ ...limits, scanCost })],
    introspection: !production,
    hideSchemaDetailsFromClientErrors: production,
    parseOptions: { maxTokens: MAX_TOKENS },
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // Apollo's cache-control plugin hooks every field resolver (willResolveField wraps the schema's resolvers,
      // compiled path included) to compute a policy that here is always "no-store" (no @cacheControl hints, default
      // max-age 0); the same header, without the per-field hook:
      ApolloServerPluginCacheControlDisabled(),
      noStorePlugin,
      ApolloServerPluginInlineTraceDisabled(),
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
  const cache = new ResponseCache(options.responseCacheBytes ?? DEFAULT_RESPONSE_CACHE_BYTES);
  options.metrics?.watchCache('response', () => ({ bytes: cache.bytes, entries: cache.size }));
  options.metrics?.watchCache('user', () => {
    const users = service.snapshot?.users;
    return { bytes: users?.bytes ?? 0, entries: users?.size ?? 0 };
  });
  options.metrics?.watchCache('lists', () => service.snapshot?.lists ?? { bytes: 0, entries: 0 });
  const rateLimiter = createRateLimiter(options.rateLimit);
  const auth = options.auth;
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
    const raw = method === 'POST' ? await readBody(req, res) : '';
    const identity = await identify(req);
    const contentType = req.headers['content-type'] ?? '';
    // the caller is part of the key: an answer computed for one user is never served to another
    const cacheKey =
      method === 'POST' && contentType.startsWith('application/json')
        ? identity === ANONYMOUS
          ? raw
          : `${identity.admin ? '*' : ''}${identity.sub ?? ''}\u0000${raw}`
        : null;
    if (cacheKey !== null) {
      const hit = cache.get(cacheKey, service.epoch, Date.now());
      if (hit !== null) {
        res.writeHead(200, {
          'cache-control': 'no-store',
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
    const deps: CacheDeps = { cacheable: cacheKey !== null, users: [], movieStats: [] };
    const epoch = service.epoch;
    const context: RequestContext = { service, deps, identity, budget: new Budget(limits.maxCost) };
    // The fast path: a query document Apollo has already parsed and validated, asked for again as plain JSON, runs
    // without Apollo's pipeline. A result with errors still goes through Apollo (below), which formats it exactly as
    // for any request (status, error codes, formatError) without running it again.
    const prepared = cacheKey !== null && compile ? preparedFor(body, req.headers.accept) : null;
    if (prepared !== null) {
      executor.stats.fastPath++;
      const started = performance.now();
      const request = body as { variables?: Record<string, unknown> | null };
      const result = await executor.run(
        prepared.document,
        prepared.operationName,
        request.variables ?? undefined,
        context,
      );
      if (result.errors === undefined || result.errors.length === 0) {
        // Apollo's own serialisation of a result without errors or extensions (runHttpQuery's prettyJSONStringify)
        const text = `${JSON.stringify({ data: result.data })}\n`;
        res.writeHead(200, {
          'cache-control': 'no-store',
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(text, 'utf8'),
        });
        // the string goes to the socket as it is; a Buffer copy is made only for an answer the cache will keep
        res.end(text, 'utf8');
        metrics?.graphqlDone(prepared.label, 'ok', (performance.now() - started) / 1000);
        if (
          cacheKey !== null &&
          deps.cacheable &&
          epoch === service.epoch &&
          cache.admits(cacheKey, Date.now())
        )
          remember(cacheKey, Buffer.from(text, 'utf8'), epoch, deps);
        return deps.cacheable ? 'miss' : undefined;
      }
      context.precomputed = result;
    }
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method, headers, search, body },
      context: async () => context,
    });
    for (const [k, v] of result.headers) res.setHeader(k, v);
    const status = result.status ?? 200;
    if (result.body.kind === 'complete') {
      const out = Buffer.from(result.body.string, 'utf8');
      res.setHeader('content-length', out.length);
      res.writeHead(status);
      res.end(out);
      if (cacheKey !== null && deps.cacheable && status === 200 && epoch === service.epoch) {
        if (!result.body.string.includes('"errors":') && cache.admits(cacheKey, Date.now()))
          remember(cacheKey, out, epoch, deps);
      }
      return deps.cacheable ? 'miss' : undefined;
    }
    res.writeHead(status);
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
    return undefined;
  }

  /** Stores an answer without errors in the whole-response cache, with what it read (callers ask `admits` first). */
  function remember(cacheKey: string, out: Buffer, epoch: number, deps: CacheDeps): void {
    const catalogue = service.snapshot?.catalogue ?? null;
    const users = [...new Set(deps.users)].map((state) => state.validity);
    cache.set(cacheKey, out, epoch, { users, catalogue, movieStats: deps.movieStats }, Date.now());
  }

  /**
   * The prepared query a JSON body asks for, when the request is one the fast path answers exactly as Apollo would:
   * a single operation (no batch) with only `query`, `variables` and `operationName`, a response type of plain
   * JSON (no Accept header, or one naming exactly application/json or any type), and a query text Apollo has
   * validated against the current limits. Anything else: null, and Apollo takes the request.
   */
  function preparedFor(body: unknown, accept: string | undefined): PreparedOperation | null {
    if (accept !== undefined && accept !== '*/*' && accept !== 'application/json') return null;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
    const request = body as Record<string, unknown>;
    for (const key in request)
      if (key !== 'query' && key !== 'variables' && key !== 'operationName') return null;
    const { query, variables, operationName } = request;
    if (typeof query !== 'string') return null;
    if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
    if (operationName != null && typeof operationName !== 'string') return null;
    return executor.prepared(query, (operationName as string | null | undefined) ?? null, scanCost());
  }

  async function identify(req: IncomingMessage): Promise<Identity> {
    if (auth === undefined) return ANONYMOUS;
    try {
      return await auth.identify(req.headers.authorization);
    } catch (err) {
      if (err instanceof AuthError)
        throw new HttpError(401, err.message, { 'www-authenticate': 'Bearer error="invalid_token"' });
      throw err;
    }
  }

  /**
   * /metrics on the main port when authentication is on: only for a token with the admin scope (401 without one, 403
   * for a user's token). Without authentication it is open, as on the separate metrics port (MOVIEREC_METRICS_PORT).
   */
  async function requireAdmin(req: IncomingMessage): Promise<void> {
    if (auth === undefined || auth.mode === 'off') return;
    if (req.headers.authorization === undefined)
      throw new HttpError(
        401,
        'GET /metrics needs a bearer token with the admin scope (or MOVIEREC_METRICS_PORT)',
        {
          'www-authenticate': 'Bearer',
        },
      );
    const who = await identify(req);
    if (!who.admin)
      throw new HttpError(
        403,
        `GET /metrics needs the admin scope; the token of user ${who.sub} does not have it`,
      );
  }

  /** POST /auth/demo {"userId": "…"} → a short-lived token for that user (demo mode, loopback only). */
  async function demoToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (auth?.mode !== 'demo')
      throw new HttpError(
        404,
        'no demo sign-in on this server (it runs with real tokens or without authentication)',
      );
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} not allowed on /auth/demo (use POST)`);
    const raw = await readBody(req, res);
    let userId: unknown;
    try {
      userId = (JSON.parse(raw) as { userId?: unknown }).userId;
    } catch (err) {
      throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
    }
    if (typeof userId !== 'string' || userId.length === 0 || userId.length > 128 || userId.trim() !== userId)
      throw new HttpError(
        400,
        'userId: must be a non-empty ID without surrounding spaces (≤ 128 characters)',
      );
    const token = await auth.mint(userId, { ttlSeconds: auth.demoTtlSeconds });
    sendJson(res, 200, { token, userId, expiresIn: auth.demoTtlSeconds, tokenType: 'Bearer' });
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    inFlight++;
    if (closing) res.setHeader('connection', 'close');
    let cacheNote: string | undefined;
    // path and query split by hand: `new URL` per request is measurable on the cached hot path
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    setSecurityHeaders(res, path);
    try {
      if (path === '/graphql') {
        if (await rateLimiter.admit(req, res))
          cacheNote = await graphql(req, res, q < 0 ? '' : target.slice(q));
      } else if (path === '/auth/demo') {
        if (await rateLimiter.admit(req, res)) await demoToken(req, res);
      } else if (path === '/health') sendJson(res, 200, { status: 'ok' });
      else if (path === '/ready') await ready(res);
      else if (path === '/metrics' && metrics !== undefined && options.metricsOnMainPort) {
        await requireAdmin(req);
        await sendMetrics(metrics, res);
      } else if (req.method === 'GET' || req.method === 'HEAD') {
        if (options.staticDir === undefined || !(await serveStatic(options.staticDir, path, req, res)))
          throw new HttpError(404, `no such page: ${path}`);
      } else throw new HttpError(405, `${req.method} not allowed on ${path}`);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) log.error({ msg: 'request failed', method: req.method, path, err: String(err) });
      if (!res.headersSent) {
        if (err instanceof HttpError) for (const [k, v] of Object.entries(err.headers)) res.setHeader(k, v);
        sendJson(res, status, { error: err instanceof HttpError ? err.message : 'internal error' });
      } else res.destroy();
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

  const t = options.timeouts ?? {};
  const server = createServer(
    {
      // against slow clients: the whole request, its headers, and an idle keep-alive connection each get a deadline,
      // checked every second (Node's default check interval is 30 s)
      requestTimeout: t.requestMs ?? 30_000,
      headersTimeout: t.headersMs ?? 10_000,
      keepAliveTimeout: t.keepAliveMs ?? 5_000,
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => void handle(req, res),
  );
  const url = await listen(server, options.port, options.host);

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
    graphqlStats: executor.stats,
    close: () => {
      closed ??= close();
      return closed;
    },
  };
}
