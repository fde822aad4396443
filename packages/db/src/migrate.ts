import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Database } from './connection.ts';
import { MigrationError, SchemaBehindError } from './errors.ts';
import { migrationsDir as defaultMigrationsDir } from './paths.ts';

/** One folder of prisma/migrations. */
export interface MigrationFile {
  /** Folder name, e.g. '20261128170000_init' (Prisma's migration_name). */
  name: string;
  sql: string;
  /** SHA-256 hex of the migration.sql bytes, as Prisma records it. */
  checksum: string;
}

export interface MigrateResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations that were already applied. */
  alreadyApplied: string[];
}

/** The advisory-lock key Prisma's schema engine takes while migrating, so it and we exclude each other. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

/** The history table exactly as Prisma's schema engine creates it (PostgreSQL connector). */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** Reads prisma/migrations (or `dir`) in Prisma's order: folder names sorted, each with its migration.sql. */
export function readMigrations(dir: string = defaultMigrationsDir): MigrationFile[] {
  if (!existsSync(dir)) throw new MigrationError(`No migrations folder at ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .flatMap((name) => {
      const file = path.join(dir, name, 'migration.sql');
      if (!existsSync(file)) return [];
      const bytes = readFileSync(file);
      return [
        { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') },
      ];
    });
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies the pending migrations of prisma/migrations, each in its own transaction, and records them in
 * `_prisma_migrations` the way `prisma migrate deploy` does (same table, ids, checksums, timestamps, step counts),
 * so either tool can continue the other's history. Holds Prisma's advisory lock meanwhile. Works offline, on
 * PostgreSQL and PGlite alike.
 */
export async function migrate(db: Database, options: { dir?: string } = {}): Promise<MigrateResult> {
  const migrations = readMigrations(options.dir);
  return db.session(async (sql) => {
    await sql.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    try {
      await sql.exec(CREATE_MIGRATIONS_TABLE);
      const history = await sql.query<HistoryRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
      );
      checkHistory(db, migrations, history);
      const done = new Set(history.filter(isApplied).map((row) => row.migration_name));
      const result: MigrateResult = { applied: [], alreadyApplied: [] };
      for (const migration of migrations) {
        if (done.has(migration.name)) {
          result.alreadyApplied.push(migration.name);
          continue;
        }
        const id = randomUUID();
        await sql.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
           VALUES ($1, $2, $3, now(), 0)`,
          [id, migration.checksum, migration.name],
        );
        try {
          await sql.exec(`BEGIN;\n${migration.sql}\n;COMMIT;`);
        } catch (error) {
          await sql.exec('ROLLBACK').catch(() => {});
          const message = (error as Error).message;
          await sql.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, message]);
          throw new MigrationError(
            `Migration ${migration.name} failed on ${db.location}: ${message.split('\n')[0]}. Nothing of it was applied; fix it, then mark it rolled back (prisma migrate resolve --rolled-back ${migration.name}) or delete its row in _prisma_migrations.`,
            { cause: error },
          );
        }
        await sql.query(
          'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
          [id],
        );
        result.applied.push(migration.name);
      }
      return result;
    } finally {
      await sql.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK_KEY]);
    }
  });
}

function isApplied(row: HistoryRow): boolean {
  return row.finished_at !== null && row.rolled_back_at === null;
}

/** Refuses a history Prisma would refuse: a failed migration, or an applied one edited since. */
function checkHistory(db: Database, migrations: MigrationFile[], history: HistoryRow[]): void {
  const local = new Map(migrations.map((m) => [m.name, m]));
  for (const row of history) {
    if (row.rolled_back_at !== null) continue;
    if (row.finished_at === null) {
      throw new MigrationError(
        `Migration ${row.migration_name} failed earlier on ${db.location} and is still marked as started. Fix it, then run: prisma migrate resolve --rolled-back ${row.migration_name} (or delete its row in _prisma_migrations).`,
      );
    }
    const file = local.get(row.migration_name);
    if (file && file.checksum !== row.checksum) {
      throw new MigrationError(
        `Migration ${row.migration_name} was edited after it was applied to ${db.location} (checksum ${row.checksum.slice(0, 12)}… in the database, ${file.checksum.slice(0, 12)}… in prisma/migrations). Restore the applied version and add a new migration instead.`,
      );
    }
  }
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Applied in the database but absent from prisma/migrations (a newer checkout migrated it). */
  unknown: string[];
}

export async function migrationStatus(
  db: Database,
  options: { dir?: string } = {},
): Promise<MigrationStatus> {
  const migrations = readMigrations(options.dir);
  const [exists] = await db.query<{ exists: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS exists`,
  );
  const history = exists?.exists
    ? await db.query<HistoryRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"',
      )
    : [];
  const applied = new Set(history.filter(isApplied).map((row) => row.migration_name));
  const local = new Set(migrations.map((m) => m.name));
  return {
    applied: migrations.filter((m) => applied.has(m.name)).map((m) => m.name),
    pending: migrations.filter((m) => !applied.has(m.name)).map((m) => m.name),
    unknown: [...applied].filter((name) => !local.has(name)).sort(),
  };
}

/** Throws SchemaBehindError ("run pnpm db:migrate") unless every migration of prisma/migrations is applied. */
export async function assertMigrated(db: Database, options: { dir?: string } = {}): Promise<void> {
  const status = await migrationStatus(db, options);
  if (status.pending.length > 0) {
    const list = status.pending.join(', ');
    throw new SchemaBehindError(
      `The database schema of ${db.location} is behind the migrations (${status.pending.length} pending: ${list}). Run pnpm db:migrate.`,
    );
  }
}
