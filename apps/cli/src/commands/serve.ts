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
  const { startServer } = await import('@movierec/api');
  try {
    return await startServer({
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

export function sampleQuery(url: string, userId: string): string {
  const query = `{ recommendations(userId: \\"${userId}\\", limit: 5) { source items { rank score movie { id title } } } }`;
  return `curl -s ${url}/graphql -H 'content-type: application/json' -d '{"query":"${query}"}'`;
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'start the GraphQL API and the web page (until Ctrl-C)',
  details:
    'Serves GraphQL at /graphql, the page at /, /health and /ready. API logs (JSON lines) go to stderr.',
  options: SERVE_OPTIONS,
  examples: ['movierec serve', 'movierec serve --port 8080 --host 0.0.0.0'],
  async run(ctx, input) {
    const server = await startApi(ctx, input.values, { logLevel: 'info' });
    const result = { url: server.url, graphql: `${server.url}/graphql`, page: `${server.url}/` };
    ctx.print(`API   ${result.graphql}`);
    ctx.print(`page  ${result.page}`);
    ctx.print(`try   ${sampleQuery(server.url, '1')}`);
    ctx.print('Ctrl-C stops the server.');
    if (ctx.json) ctx.emit(result);
    await untilInterrupted(ctx.signal);
    await server.close();
    ctx.log('server stopped');
    return result;
  },
};
