import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { DatabaseConnectionError } from './errors.ts';
import { PrismaClient } from './generated/prisma/client.ts';
import { defaultPgliteDir } from './paths.ts';
import { pgliteSession, pgSession, type SqlSession } from './sql.ts';

export interface OpenDatabaseOptions {
  /** postgres:// or postgresql:// URL; default: the DATABASE_URL environment variable; when neither, PGlite. */
  url?: string;
  /** PGlite data folder (created on first use); default <repo>/.data/pglite; 'memory://' for a throw-away one. */
  dataDir?: string;
  /** Environment to read DATABASE_URL from (default process.env); pass {} to force PGlite. */
  env?: Record<string, string | undefined>;
  /** An already-open PGlite instance to use (the caller keeps it: close() leaves it open). */
  pglite?: PGlite;
}

export interface TransactionOptions {
  /** Aborting cancels the running statement on the server (PostgreSQL) and rolls the transaction back. */
  signal?: AbortSignal;
}

/** An open database: Prisma for entities, a raw-SQL/COPY path for bulk work. Same code above either kind. */
export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly prisma: PrismaClient;
  /** Where it is, for messages: 'PostgreSQL 127.0.0.1:5432/movierec' or 'PGlite /…/.data/pglite'. */
  readonly location: string;
  /** The postgres:// URL it was opened with (PostgreSQL only): for a second, dedicated connection (LISTEN). */
  readonly url?: string;
  /** The data folder, absolute (PGlite on disk only; not for an in-memory PGlite). */
  readonly dataDir?: string;
  /** Connection pool counts (PostgreSQL only), for metrics. */
  poolStats?(): { total: number; idle: number; waiting: number };
  /** One statement outside any transaction (rows as objects). */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs `fn` on one connection (PostgreSQL: a pooled client held for the call; PGlite: the instance). */
  session<T>(fn: (sql: SqlSession) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. With `signal`, an abort
   * while a statement runs on PostgreSQL cancels that statement on the server (pg_cancel_backend), so a long INSERT
   * or index build stops at once instead of running on after the client gave up; `fn` then rejects and the
   * transaction rolls back. (PGlite runs in this thread: `fn` checks the signal between its statements.)
   */
  transaction<T>(fn: (sql: SqlSession) => Promise<T>, options?: TransactionOptions): Promise<T>;
  close(): Promise<void>;
}

/**
 * Opens PostgreSQL when a postgres:// URL is given (or DATABASE_URL is set), else the embedded PGlite database in a
 * project-local folder, created on first use. Checks the connection before returning: an unreachable or wrong URL
 * throws a one-line DatabaseConnectionError naming host and database.
 */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  const env = options.env ?? process.env;
  if (options.pglite)
    return wrapPglite(options.pglite, 'PGlite (instance given by the caller)', () => {}, false);
  const url = options.url ?? (env.DATABASE_URL || undefined);
  if (url !== undefined) return openPostgres(url);
  return openPglite(options.dataDir ?? defaultPgliteDir);
}

interface PgTarget {
  host: string;
  port: string;
  database: string;
}

/** Host, port and database of a URL, for messages (never the password). */
export function describePostgresUrl(url: string): PgTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseConnectionError(
      `DATABASE_URL is not a valid URL: ${redact(url)} (expected postgres://user@host:5432/database)`,
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new DatabaseConnectionError(
      `DATABASE_URL must start with postgres:// or postgresql://, got ${parsed.protocol}// (${redact(url)})`,
    );
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || parsed.username || 'postgres';
  const host = parsed.hostname || parsed.searchParams.get('host') || 'localhost';
  return { host, port: parsed.port || '5432', database };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/** Turns a pg connection failure into one line naming host and database. */
function connectionError(target: PgTarget, error: unknown): DatabaseConnectionError {
  const e = error as { code?: string; message?: string };
  const where = `PostgreSQL at ${target.host}:${target.port}, database "${target.database}"`;
  let reason: string;
  switch (e.code) {
    case 'ECONNREFUSED':
      reason = 'connection refused (is the server running?)';
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      reason = `host "${target.host}" not found`;
      break;
    case '3D000':
      reason = 'the database does not exist (create it, or fix the name in DATABASE_URL)';
      break;
    case '28P01':
    case '28000':
      reason = 'authentication failed (check the user and password in DATABASE_URL)';
      break;
    default:
      reason = (e.message ?? String(error)).split('\n')[0] ?? 'unknown error';
  }
  return new DatabaseConnectionError(`Cannot connect to ${where}: ${reason}. Check DATABASE_URL.`, {
    cause: error,
  });
}

async function openPostgres(url: string): Promise<Database> {
  const target = describePostgresUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection must not crash the process; the next query reports the error.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    throw connectionError(target, error);
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  let closed = false;
  return {
    kind: 'postgres',
    prisma,
    location: `PostgreSQL ${target.host}:${target.port}/${target.database}`,
    url,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async query<R>(text: string, params: readonly unknown[] = []) {
      return (await pool.query(text, params as unknown[])).rows as R[];
    },
    async session(fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        return await fn(pgSession(client));
      } catch (error) {
        broken = error as Error;
        throw error;
      } finally {
        // A client whose session state is unknown after an error is discarded rather than returned to the pool.
        client.release(broken);
      }
    },
    async transaction(fn, options = {}) {
      const client = await pool.connect();
      const signal = options.signal;
      let broken: Error | undefined;
      let finished = false;
      let cancelled: Promise<unknown> | undefined;
      // The backend's pid, to cancel its running statement from another connection (the pool's).
      const pid = (client as unknown as { processID?: number }).processID;
      const onAbort = () => {
        if (finished || pid === undefined) return;
        cancelled = pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => {});
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        signal?.throwIfAborted();
        await client.query('BEGIN');
        const result = await fn(pgSession(client));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await cancelled; // a cancel still on its way must not hit the ROLLBACK
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        // A statement cancelled on our behalf reports 57014; the caller asked for the abort, so say that.
        if (signal?.aborted && (error as { code?: string }).code === '57014') throw signal.reason;
        throw error;
      } finally {
        finished = true;
        signal?.removeEventListener('abort', onAbort);
        // A connection a cancel may still reach is not handed to the next user of the pool.
        client.release(broken ?? (cancelled ? new Error('statement cancelled') : undefined));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

/**
 * PGlite is one process's private copy of the database: a second instance on the same folder (another process, or
 * this one opening it twice) would overwrite the first one's writes. A `<dataDir>.lock` file holding the owner's
 * pid refuses that with a clear error; a lock left by a process that no longer runs is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = `${path.resolve(dataDir)}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => {
        try {
          if (readFileSync(lockFile, 'utf8') === String(process.pid)) unlinkSync(lockFile);
        } catch {}
      };
      process.once('exit', release);
      return () => {
        process.removeListener('exit', release);
        release();
      };
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
        const who = owner === process.pid ? 'this process (opened twice)' : `process ${owner}`;
        throw new DatabaseConnectionError(
          `The embedded database in ${dataDir} is in use by ${who}; only one process may open it. Stop the other one, or set DATABASE_URL to share a PostgreSQL server (if no movierec process is running, delete ${lockFile}).`,
        );
      }
      unlinkSync(lockFile); // stale: its process is gone
    }
  }
  throw new DatabaseConnectionError(`Could not lock the embedded database in ${dataDir} (${lockFile})`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

async function openPglite(dataDir: string): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  const location = inMemory ? 'PGlite (in memory)' : `PGlite ${path.resolve(dataDir)}`;
  let db: PGlite;
  let unlock = () => {};
  try {
    if (!inMemory) {
      mkdirSync(dataDir, { recursive: true });
      unlock = lockDataDir(dataDir);
    }
    db = await PGlite.create(inMemory ? undefined : dataDir);
  } catch (error) {
    unlock();
    if (error instanceof DatabaseConnectionError) throw error;
    const reason = ((error as Error).message ?? String(error)).split('\n')[0];
    throw new DatabaseConnectionError(
      `Cannot open the embedded database in ${dataDir}: ${reason}. Is another process using it? (Set DATABASE_URL to use PostgreSQL.)`,
      { cause: error },
    );
  }
  return wrapPglite(db, location, unlock, true, inMemory ? undefined : path.resolve(dataDir));
}

function wrapPglite(
  db: PGlite,
  location: string,
  unlock: () => void,
  owned: boolean,
  dataDir?: string,
): Database {
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  const sql = pgliteSession(db);
  let closed = false;
  return {
    kind: 'pglite',
    prisma,
    location,
    ...(dataDir !== undefined ? { dataDir } : {}),
    query: (text, params) => sql.query(text, params),
    session: (fn) => fn(sql),
    transaction: (fn, options) => {
      options?.signal?.throwIfAborted();
      return db.transaction((tx) => fn(pgliteSession(tx)));
    },
    async close() {
      if (closed) return;
      closed = true;
      await prisma.$disconnect();
      if (owned) await db.close();
      unlock();
    },
  };
}
