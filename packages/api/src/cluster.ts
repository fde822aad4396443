/**
 * Several server processes on one port (`movierec serve --workers n`), for the machines that have the cores: one
 * Node process runs JavaScript on one core, and the API's work per request is JavaScript.
 *
 * How: node:cluster. The primary forks n workers running the same program (the CLI re-runs itself); each worker
 * starts its own server — its own serving state (models, user states, caches), its own database pool — on the
 * same port, which the primary owns and hands connections to in turn (cluster's round-robin; a keep-alive
 * connection stays with one worker). SO_REUSEPORT (`listen({ reusePort })`) would spare the primary that step but
 * arrives in Node 22.12 / 23.1; this project runs on Node ≥ 20.19. The workers share the database as separate
 * replicas do: on PostgreSQL the change feed and pushed events keep them in step (a rating through one worker
 * reaches the others); the embedded PGlite database can be opened by one process only, so a pool needs PostgreSQL.
 *
 * Per process, as with replicas: the response cache, the rate limiter's counters (n workers allow n times the
 * per-client budget) and the metrics at /metrics (each scrape reads the worker that answered).
 *
 * Protocol: a worker reports `{ type: 'movierec:listening', url }` or `{ type: 'movierec:failed', message, code }`
 * over the cluster's IPC channel; the primary resolves once all listen, or fails with the first worker's message
 * (and stops the others). SIGTERM to a worker stops it gracefully (the server's own shutdown); the pool's `close`
 * signals every worker and kills what is left after `stopMs`. A worker whose primary is gone stops itself.
 */
import cluster, { type Worker } from 'node:cluster';
import type { AuthOptions } from './auth/tokens.ts';
import type { Logger } from './logger.ts';

/** The environment variable carrying the primary's resolved auth options (JSON) to its workers. */
export const POOL_AUTH_ENV = 'MOVIEREC_POOL_AUTH';

export interface WorkerPool {
  /** The URL the workers listen on (one port for all). */
  readonly url: string;
  /** The workers' process IDs (replacements included). */
  pids(): number[];
  /** Signals every worker (SIGTERM), waits up to `stopMs` for them to exit, then kills the rest. */
  close(): Promise<void>;
}

export interface WorkerPoolOptions {
  workers: number;
  /** The auth options every worker uses (a demo secret is shared: a token from one worker is valid on all). */
  auth: AuthOptions;
  log: Logger;
  /** How long workers may take to stop on close before they are killed (ms, default 9500). */
  stopMs?: number;
}

type WorkerMessage =
  | { type: 'movierec:listening'; url: string }
  | { type: 'movierec:failed'; message: string; code?: string };

/** An error from a worker that could not start (its message, and its code such as EADDRINUSE). */
export class WorkerStartError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'WorkerStartError';
  }
}

/** True in a process forked by `startWorkerPool` (it should start one server and report to its primary). */
export function isPoolWorker(): boolean {
  return cluster.isWorker && process.env[POOL_AUTH_ENV] !== undefined;
}

/** In a pool worker: the auth options its primary resolved. */
export function poolWorkerAuth(): AuthOptions {
  return JSON.parse(process.env[POOL_AUTH_ENV] ?? '{}') as AuthOptions;
}

/** In a pool worker: tells the primary the server listens at `url`; `onPrimaryGone` runs if the primary goes away. */
export function reportListening(url: string, onPrimaryGone: () => void): void {
  process.send?.({ type: 'movierec:listening', url } satisfies WorkerMessage);
  process.once('disconnect', onPrimaryGone);
}

/** In a pool worker: tells the primary why the server could not start. */
export function reportFailed(error: unknown): void {
  const code = (error as { code?: unknown }).code;
  process.send?.({
    type: 'movierec:failed',
    message: error instanceof Error ? error.message : String(error),
    ...(typeof code === 'string' ? { code } : {}),
  } satisfies WorkerMessage);
}

/**
 * In the primary: forks `workers` processes running this program (with POOL_AUTH_ENV set, so they know to start one
 * server each) and resolves once every one listens. A worker that dies after starting is replaced (at most one
 * replacement a second). Rejects with the first worker's failure (`WorkerStartError`), after stopping the others.
 */
export async function startWorkerPool(options: WorkerPoolOptions): Promise<WorkerPool> {
  const { workers: n, log } = options;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`workers must be an integer ≥ 1, got ${n}`);
  if (!cluster.isPrimary) throw new Error('startWorkerPool runs in the primary process only');
  const stopMs = options.stopMs ?? 9_500;
  // the workers' stdout is the primary's business (it prints the command's output once); their logs go to stderr
  cluster.setupPrimary({ stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const env = { [POOL_AUTH_ENV]: JSON.stringify(options.auth) };
  const live = new Set<Worker>();
  let started = false;
  let closing = false;
  let lastReplacement = 0;

  const fork = (): Worker => {
    const worker = cluster.fork(env);
    live.add(worker);
    worker.once('exit', (code, signal) => {
      live.delete(worker);
      if (closing || !started) return;
      log.error({ msg: 'worker exited', pid: worker.process.pid, code, signal });
      const wait = Math.max(0, lastReplacement + 1000 - Date.now());
      lastReplacement = Date.now() + wait;
      setTimeout(() => {
        if (!closing)
          fork().once('message', (m: WorkerMessage) => log.info({ msg: 'worker replaced', ...m }));
      }, wait).unref();
    });
    return worker;
  };

  const stopAll = async (): Promise<void> => {
    closing = true;
    const exits = [...live].map(
      (w) => new Promise<void>((done) => (w.isDead() ? done() : w.once('exit', () => done()))),
    );
    for (const w of live) if (!w.isDead()) w.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((done) => {
      timer = setTimeout(() => done('late'), stopMs);
    });
    if ((await Promise.race([Promise.all(exits), deadline])) === 'late') {
      log.warn({ msg: 'workers did not stop in time; killing them', stopMs });
      for (const w of live) if (!w.isDead()) w.process.kill('SIGKILL');
      await Promise.all(exits);
    }
    clearTimeout(timer);
  };

  const urls = await Promise.all(
    Array.from({ length: n }, () => {
      const worker = fork();
      return new Promise<string>((done, fail) => {
        worker.on('message', (m: WorkerMessage) => {
          if (m?.type === 'movierec:listening') done(m.url);
          else if (m?.type === 'movierec:failed') fail(new WorkerStartError(m.message, m.code));
        });
        worker.once('exit', (code, signal) =>
          fail(
            new WorkerStartError(
              `a worker exited before listening (code ${code}, signal ${signal})`,
              undefined,
            ),
          ),
        );
      });
    }),
  ).catch(async (error: unknown) => {
    await stopAll();
    throw error;
  });
  started = true;
  let closed: Promise<void> | null = null;
  return {
    url: urls[0]!,
    pids: () => [...live].map((w) => w.process.pid!).filter((pid) => pid !== undefined),
    close: () => {
      closed ??= stopAll();
      return closed;
    },
  };
}
