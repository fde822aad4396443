import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertMigrated,
  MigrationError,
  migrate,
  migrationStatus,
  migrationsDir,
  readMigrations,
  SchemaBehindError,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { kinds } from './helpers.ts';

describe('migration folders', () => {
  it('are Prisma standard: <timestamp>_<name>/migration.sql plus migration_lock.toml for postgresql', () => {
    const migrations = readMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    for (const m of migrations) expect(m.name).toMatch(/^\d{14}_[a-z0-9_]+$/);
    expect(readFileSync(path.join(migrationsDir, 'migration_lock.toml'), 'utf8')).toMatch(
      /provider = "postgresql"/,
    );
  });
});

for (const kind of kinds) {
  describe(`migrate on ${kind}`, () => {
    let db: TestDatabase;
    const tempDirs: string[] = [];
    beforeAll(async () => {
      db = await createTestDatabase(kind, { migrate: false });
    });
    afterAll(async () => {
      await db?.close();
      for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    });

    it('an unmigrated database: assertMigrated says to run pnpm db:migrate', async () => {
      const error = await assertMigrated(db).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SchemaBehindError);
      expect((error as Error).message).toContain('Run pnpm db:migrate');
      expect((error as Error).message).toContain(readMigrations()[0]!.name);
    });

    it('applies every migration once and records it the way prisma migrate deploy does', async () => {
      const first = await migrate(db);
      const names = readMigrations().map((m) => m.name);
      expect(first.applied).toEqual(names);
      const second = await migrate(db);
      expect(second).toEqual({ applied: [], alreadyApplied: names });
      await assertMigrated(db);

      const rows = await db.query<{
        id: string;
        checksum: string;
        finished_at: Date | null;
        migration_name: string;
        logs: string | null;
        rolled_back_at: Date | null;
        started_at: Date;
        applied_steps_count: number;
      }>('SELECT * FROM "_prisma_migrations" ORDER BY started_at');
      expect(rows.map((r) => r.migration_name)).toEqual(names);
      for (const row of rows) {
        const bytes = readFileSync(path.join(migrationsDir, row.migration_name, 'migration.sql'));
        expect(row.checksum).toBe(createHash('sha256').update(bytes).digest('hex'));
        expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.rolled_back_at).toBeNull();
        expect(row.logs).toBeNull();
        expect(row.applied_steps_count).toBe(1);
      }
      const columns = await db.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '_prisma_migrations'
         ORDER BY ordinal_position`,
      );
      expect(columns.map((c) => `${c.column_name}:${c.data_type}`)).toEqual([
        'id:character varying',
        'checksum:character varying',
        'finished_at:timestamp with time zone',
        'migration_name:character varying',
        'logs:text',
        'rolled_back_at:timestamp with time zone',
        'started_at:timestamp with time zone',
        'applied_steps_count:integer',
      ]);
    });

    it('a newer migration folder: the database is behind until migrate applies it', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'movierec-migrations-'));
      tempDirs.push(dir);
      cpSync(migrationsDir, dir, { recursive: true });
      const extra = path.join(dir, '29990101000000_add_note');
      cpSync(path.join(dir, readMigrations()[0]!.name), extra, { recursive: true });
      writeFileSync(path.join(extra, 'migration.sql'), 'ALTER TABLE "users" ADD COLUMN "note" TEXT;\n');
      expect((await migrationStatus(db, { dir })).pending).toEqual(['29990101000000_add_note']);
      await expect(assertMigrated(db, { dir })).rejects.toThrow(/Run pnpm db:migrate/);
      expect((await migrate(db, { dir })).applied).toEqual(['29990101000000_add_note']);
      await assertMigrated(db, { dir });
    });

    it('a failing migration is recorded as failed, rolled back, and blocks later runs with a clear error', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'movierec-migrations-'));
      tempDirs.push(dir);
      cpSync(migrationsDir, dir, { recursive: true });
      const bad = path.join(dir, '29990202000000_broken');
      cpSync(path.join(dir, readMigrations()[0]!.name), bad, { recursive: true });
      writeFileSync(
        path.join(bad, 'migration.sql'),
        'CREATE TABLE "half_done" (id INT);\nALTER TABLE "no_such_table" ADD COLUMN x INT;\n',
      );
      await expect(migrate(db, { dir })).rejects.toThrow(MigrationError);
      const [exists] = await db.query<{ t: string | null }>(`SELECT to_regclass('half_done')::text AS t`);
      expect(exists?.t).toBeNull();
      const [row] = await db.query<{ finished_at: Date | null; logs: string | null }>(
        `SELECT finished_at, logs FROM "_prisma_migrations" WHERE migration_name = '29990202000000_broken'`,
      );
      expect(row?.finished_at).toBeNull();
      expect(row?.logs).toContain('no_such_table');
      await expect(migrate(db, { dir })).rejects.toThrow(/failed earlier.*migrate resolve --rolled-back/);
    });

    it('refuses an applied migration whose file was edited afterwards', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'movierec-migrations-'));
      tempDirs.push(dir);
      cpSync(migrationsDir, dir, { recursive: true });
      const first = readMigrations()[0]!.name;
      writeFileSync(path.join(dir, first, 'migration.sql'), `${readMigrations()[0]!.sql}\n-- edited\n`);
      await db.query(`DELETE FROM "_prisma_migrations" WHERE migration_name = '29990202000000_broken'`);
      await expect(migrate(db, { dir })).rejects.toThrow(/was edited after it was applied/);
    });
  });
}
