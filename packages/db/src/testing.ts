import { randomBytes } from 'node:crypto';
import { createServer, type Server, Socket } from 'node:net';
import pg from 'pg';
import { type Database, openDatabase } from './connection.ts';
import { migrate } from './migrate.ts';

/** The server the database tests use; override with MOVIEREC_TEST_PG_URL. */
export const testServerUrl: string =
  process.env.MOVIEREC_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export type TestDatabaseKind = 'postgres' | 'pglite';

export interface TestDatabase extends Database {
  /** For PostgreSQL, the URL of the fresh database (to open a second connection, e.g. a server under test). */
  readonly url: string | undefined;
  /** Closes the connection and drops the database (PostgreSQL) / discards it (PGlite, in memory). */
  close(): Promise<void>;
}

function urlWithDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A fresh, migrated database for one test (file): on PostgreSQL a new database `movierec_test_<random>` on the test
 * server, dropped by close(); on PGlite an in-memory instance. Use both kinds so code is tested on each:
 *   for (const kind of ['postgres', 'pglite'] as const) describe(kind, () => { … createTestDatabase(kind) … })
 */
export async function createTestDatabase(
  kind: TestDatabaseKind,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const db = await openDatabase({ dataDir: 'memory://', env: {} });
    if (options.migrate !== false) await migrate(db);
    return Object.assign(db, { url: undefined });
  }
  const scratch = await createScratchDatabase();
  const db = await openDatabase({ url: scratch.url });
  if (options.migrate !== false) await migrate(db);
  const closeDb = db.close.bind(db);
  return Object.assign(db, {
    url: scratch.url,
    async close() {
      await closeDb();
      await scratch.drop();
    },
  });
}

/** An empty database on the test server that this process holds no connection to (see createScratchDatabase). */
export interface ScratchDatabase {
  /** Its URL, e.g. DATABASE_URL for a CLI under test. */
  readonly url: string;
  /** Drops it (WITH (FORCE): connections still open are ended). */
  drop(): Promise<void>;
}

/**
 * A new, empty, unmigrated PostgreSQL database `movierec_test_<time>_<random>` on the test server, for a process
 * under test (the CLI, a server) to migrate and use by its URL; drop() removes it, and a run that died before
 * drop() leaves it for the next createScratchDatabase to drop after 6 hours.
 */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `movierec_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await onTestServer(async (admin) => {
    await dropStaleTestDatabases(admin);
    await admin.query(`CREATE DATABASE "${name}"`);
  });
  return {
    url: urlWithDatabase(testServerUrl, name),
    drop: () =>
      onTestServer(
        async (admin) => void (await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
      ),
  };
}

/** Runs `work` on a connection to the test server's maintenance database, closed afterwards. */
async function onTestServer<T>(work: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: testServerUrl });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/** Test databases of runs that died before close() (older than 6 hours by the time in their name) are dropped. */
async function dropStaleTestDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname LIKE 'movierec\\_test\\_%'",
  );
  for (const { datname } of rows) {
    const created = Number.parseInt(datname.split('_')[2] ?? '', 36);
    if (Number.isFinite(created) && Date.now() - created > 6 * 3600_000) {
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => {});
    }
  }
}

/** Empties every table of the schema (and restarts ids), for tests sharing one database. */
export async function resetTestDatabase(db: Database): Promise<void> {
  await db.query(
    'TRUNCATE users, movies, ratings, views, model_versions, model_parameters, training_runs RESTART IDENTITY CASCADE',
  );
}

/** A TCP proxy to PostgreSQL that can be cut (all connections dropped, new ones refused) and restored. */
export class CuttableProxy {
  #server: Server | null = null;
  readonly #sockets = new Set<Socket>();
  port = 0;
  constructor(
    readonly targetHost: string,
    readonly targetPort: number,
  ) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = new Socket();
      this.#track(client);
      this.#track(upstream);
      upstream.connect(this.targetPort, this.targetHost);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((done) => server.listen(this.port, '127.0.0.1', () => done()));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((done) => server.close(() => done()));
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
  }
}
