import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AuthOptions, Logger, LogLevel, RunningServer } from '@movierec/api';
import type { Database } from '@movierec/db';
import { type Command, type Context, intFlag, stringFlag, type Values } from '../framework/command.ts';
import { CliError } from '../framework/errors.ts';
import { dataDir } from '../paths.ts';

/**
 * The web page the server shows at / : the files of apps/api/static, found by path (a folder, not an import: the CLI
 * does not depend on the api app). MOVIEREC_STATIC_DIR overrides it.
 */
const pageDir = fileURLToPath(new URL('../../../api/static', import.meta.url));

export const SERVE_OPTIONS = {
  port: {
    type: 'string' as const,
    valueName: 'n',
    description: 'TCP port (0: any free port)',
    defaultText: 'PORT or 4000',
  },
  host: {
    type: 'string' as const,
    valueName: 'addr',
    description: 'interface to listen on',
    defaultText: 'HOST or 127.0.0.1',
  },
  'insecure-no-auth': {
    type: 'boolean' as const,
    description:
      'serve without authentication on a non-loopback host (anyone may read every rating history and rate as any user)',
  },
};

/** The API's JSON-lines logs go to stderr, so stdout stays the command's own output. */
export async function stderrLogger(ctx: Context, fallback: LogLevel): Promise<Logger> {
  const { createLogger } = await import('@movierec/api');
  const env = ctx.env.LOG_LEVEL;
  const level = (['debug', 'info', 'warn', 'error', 'silent'] as const).find((l) => l === env) ?? fallback;
  return createLogger(level, (line) => ctx.stderr.write(`${line}\n`));
}

/** The auth options of `serve`/`main`: --insecure-no-auth, else the environment's (MOVIEREC_AUTH, …). */
async function authOptions(ctx: Context, values: Values): Promise<AuthOptions> {
  const { authOptionsFromEnv } = await import('@movierec/api');
  try {
    return values['insecure-no-auth'] ? { mode: 'off', insecureNoAuth: true } : authOptionsFromEnv(ctx.env);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

export async function startApi(
  ctx: Context,
  values: Values,
  options: { db?: Database; logLevel: LogLevel; auth?: AuthOptions },
): Promise<RunningServer> {
  const port = intFlag(values, 'port', 0);
  const host = stringFlag(values, 'host');
  const dir = dataDir(ctx);
  // The API (Apollo, GraphQL) loads only when a server starts.
  const { startServer } = await import('@movierec/api');
  const auth = options.auth ?? (await authOptions(ctx, values));
  try {
    return await startServer({
      auth,
      ...(port !== undefined ? { port } : ctx.env.PORT ? { port: Number(ctx.env.PORT) } : {}),
      ...(host !== undefined ? { host } : ctx.env.HOST ? { host: ctx.env.HOST } : {}),
      ...(options.db ? { db: options.db } : {}),
      ...(!options.db && ctx.env.DATABASE_URL ? { databaseUrl: ctx.env.DATABASE_URL } : {}),
      ...(!options.db && dir !== undefined ? { dataDir: dir } : {}),
      staticDir: ctx.env.MOVIEREC_STATIC_DIR ?? pageDir,
      logger: await stderrLogger(ctx, options.logLevel),
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const where = `${host ?? ctx.env.HOST ?? '127.0.0.1'}:${port ?? ctx.env.PORT ?? 4000}`;
      throw new CliError(
        `cannot listen on ${where} (${code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}): ` +
          'pass --port <n> (0 for any free port) or set PORT',
      );
    }
    if (error instanceof Error && error.message.startsWith('refusing to start'))
      throw new CliError(error.message);
    throw error;
  }
}

/** Resolves when Ctrl-C (or SIGTERM) aborts the command. */
export function untilInterrupted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** A curl line asking for a user's recommendations, with a token for that user when the server can mint one. */
export async function sampleQuery(
  server: { url: string; auth: Pick<RunningServer['auth'], 'mode' | 'mint'> },
  userId: string,
): Promise<string> {
  const query = `{ recommendations(userId: \\"${userId}\\", limit: 5) { source items { rank score movie { id title } } } }`;
  let header = '';
  if (server.auth.mode !== 'off') {
    const token = await server.auth.mint(userId, { ttlSeconds: 3600 }).catch(() => null);
    header =
      token === null
        ? " -H 'authorization: Bearer <a token for this user>'"
        : ` -H 'authorization: Bearer ${token}'`;
  }
  return `curl -s ${server.url}/graphql -H 'content-type: application/json'${header} -d '{"query":"${query}"}'`;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'start the GraphQL API and the web page (until Ctrl-C)',
  options: {
    ...SERVE_OPTIONS,
    workers: {
      type: 'string' as const,
      valueName: 'n',
      description:
        'server processes on one port, each with its own serving state (more than 1 needs PostgreSQL: DATABASE_URL)',
      defaultText: '1',
    },
  },
  details:
    'Serves GraphQL at /graphql, the page at /, /health and /ready. API logs (JSON lines) go to stderr. ' +
    'Authentication: demo sign-in on loopback by default; MOVIEREC_JWT_SECRET (or MOVIEREC_JWKS_URL) for real ' +
    'tokens, required on any other host unless --insecure-no-auth (see packages/api/README.md, Security).',
  examples: ['movierec serve', 'MOVIEREC_JWT_SECRET=<32+ bytes> movierec serve --port 8080 --host 0.0.0.0'],
  async run(ctx, input) {
    const { isPoolWorker } = await import('@movierec/api');
    if (isPoolWorker()) return runPoolWorker(ctx, input.values);
    const workers = intFlag(input.values, 'workers', 1) ?? 1;
    if (workers > 1) return runPool(ctx, input.values, workers);
    const server = await startApi(ctx, input.values, { logLevel: 'info' });
    const result = { url: server.url, graphql: `${server.url}/graphql`, page: `${server.url}/` };
    ctx.print(`API   ${result.graphql}`);
    ctx.print(`page  ${result.page}`);
    ctx.print(
      `auth  ${server.auth.mode}${server.auth.mode === 'demo' ? ' (the page signs in at POST /auth/demo; loopback only)' : ''}`,
    );
    ctx.print(`try   ${await sampleQuery(server, '1')}`);
    ctx.print('Ctrl-C stops the server.');
    if (ctx.json) ctx.emit(result);
    await untilInterrupted(ctx.signal);
    await server.close();
    ctx.log('server stopped');
    return result;
  },
};

/**
 * `serve --workers n` (n > 1), the primary: n processes of this same command, each serving on the port (see
 * packages/api/src/cluster.ts); this one prints, waits for Ctrl-C or SIGTERM and stops them (within 10 s).
 */
async function runPool(ctx: Context, values: Values, workers: number): Promise<Record<string, unknown>> {
  if (!ctx.env.DATABASE_URL)
    throw new CliError(
      `--workers ${workers} needs PostgreSQL (set DATABASE_URL): the embedded PGlite database can be opened by one ` +
        'process only; use --workers 1 with it',
    );
  const { startWorkerPool, WorkerStartError, mintToken } = await import('@movierec/api');
  let auth = await authOptions(ctx, values);
  // one demo secret for every worker: a token handed out by one is valid on all
  const hasKey = auth.secret !== undefined || auth.jwksUrl !== undefined || auth.publicKey !== undefined;
  if (auth.mode === 'demo' || (auth.mode === undefined && !hasKey))
    auth = { ...auth, mode: 'demo', secret: auth.secret ?? randomBytes(32).toString('base64url') };
  const log = await stderrLogger(ctx, 'info');
  let pool: Awaited<ReturnType<typeof startWorkerPool>>;
  try {
    pool = await startWorkerPool({ workers, auth, log });
  } catch (error) {
    if (error instanceof WorkerStartError) throw new CliError(error.message);
    throw error;
  }
  const mode = auth.mode ?? (hasKey ? 'jwt' : 'demo');
  const secret = auth.secret;
  const result = {
    url: pool.url,
    graphql: `${pool.url}/graphql`,
    page: `${pool.url}/`,
    workers,
    pids: pool.pids(),
  };
  ctx.print(`API   ${result.graphql}  (${workers} worker processes: ${result.pids.join(', ')})`);
  ctx.print(`page  ${result.page}`);
  ctx.print(
    `auth  ${mode}${mode === 'demo' ? ' (the page signs in at POST /auth/demo; loopback only)' : ''}`,
  );
  const mint = async (userId: string) => {
    if (secret === undefined) throw new Error('no secret to sign with');
    return mintToken(secret, userId, { ttlSeconds: 3600 });
  };
  ctx.print(`try   ${await sampleQuery({ url: pool.url, auth: { mode, mint } }, '1')}`);
  ctx.print('Ctrl-C stops the server.');
  if (ctx.json) ctx.emit(result);
  await untilInterrupted(ctx.signal);
  await pool.close();
  ctx.log('server stopped');
  return result;
}

/**
 * `serve --workers n`, one worker: starts one server with the auth options its primary resolved, reports to the
 * primary (listening, or why not: the primary prints that one line), and stops on SIGTERM or when the primary is gone.
 * Prints nothing itself: its stdout is discarded, its logs go to stderr.
 */
async function runPoolWorker(ctx: Context, values: Values): Promise<Record<string, unknown>> {
  const { poolWorkerAuth, reportFailed, reportListening } = await import('@movierec/api');
  let server: RunningServer;
  try {
    server = await startApi(ctx, values, { logLevel: 'info', auth: poolWorkerAuth() });
  } catch (error) {
    reportFailed(error);
    return {};
  }
  reportListening(server.url, () => process.kill(process.pid, 'SIGTERM'));
  await untilInterrupted(ctx.signal);
  await server.close();
  return {};
}
