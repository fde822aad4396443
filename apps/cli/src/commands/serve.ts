import { fileURLToPath } from 'node:url';
import type { Logger, LogLevel, RunningServer } from '@movierec/api';
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

export async function startApi(
  ctx: Context,
  values: Values,
  options: { db?: Database; logLevel: LogLevel },
): Promise<RunningServer> {
  const port = intFlag(values, 'port', 0);
  const host = stringFlag(values, 'host');
  const dir = dataDir(ctx);
  // The API (Apollo, GraphQL) loads only when a server starts.
  const { authOptionsFromEnv, startServer } = await import('@movierec/api');
  let auth: import('@movierec/api').AuthOptions;
  try {
    auth = values['insecure-no-auth'] ? { mode: 'off', insecureNoAuth: true } : authOptionsFromEnv(ctx.env);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
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
export async function sampleQuery(server: RunningServer, userId: string): Promise<string> {
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
  options: SERVE_OPTIONS,
  details:
    'Serves GraphQL at /graphql, the page at /, /health and /ready. API logs (JSON lines) go to stderr. ' +
    'Authentication: demo sign-in on loopback by default; MOVIEREC_JWT_SECRET (or MOVIEREC_JWKS_URL) for real ' +
    'tokens, required on any other host unless --insecure-no-auth (see packages/api/README.md, Security).',
  examples: ['movierec serve', 'MOVIEREC_JWT_SECRET=<32+ bytes> movierec serve --port 8080 --host 0.0.0.0'],
  async run(ctx, input) {
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
