import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseConnectionError, describePostgresUrl, migrate, openDatabase } from '../src/index.ts';
import { createTestDatabase, testServerUrl } from '../src/testing.ts';

async function connectionError(url: string): Promise<DatabaseConnectionError> {
  const error = await openDatabase({ url }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatabaseConnectionError);
  return error as DatabaseConnectionError;
}

describe('openDatabase errors (PostgreSQL)', () => {
  it('an unreachable server: one line naming host and database, no stack trace', async () => {
    const error = await connectionError('postgres://postgres@127.0.0.1:1/movies_db');
    expect(error.message).toContain('127.0.0.1:1');
    expect(error.message).toContain('"movies_db"');
    expect(error.message).toContain('connection refused');
    expect(error.message).not.toContain('\n');
    expect(error.stack).toBe(`DatabaseConnectionError: ${error.message}`);
  });

  it('a database that does not exist on a reachable server', async () => {
    const error = await connectionError('postgres://postgres@127.0.0.1:5432/no_such_db_movierec');
    expect(error.message).toMatch(
      /127\.0\.0\.1:5432, database "no_such_db_movierec": the database does not exist/,
    );
    expect(error.message).not.toContain('\n');
  });

  it('an unknown host', async () => {
    const error = await connectionError('postgres://postgres@no-such-host.invalid:5432/movies');
    expect(error.message).toContain('no-such-host.invalid');
    expect(error.message).toContain('"movies"');
  });

  it('a URL that is not postgres://, without echoing the password', async () => {
    const error = await connectionError('mysql://admin:s3cret@db.example:3306/movies');
    expect(error.message).toContain('postgres://');
    expect(error.message).not.toContain('s3cret');
    expect(() => describePostgresUrl('not a url')).toThrow(DatabaseConnectionError);
  });
});

describe('openDatabase kinds', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('uses PostgreSQL when DATABASE_URL is set in the environment', async () => {
    const test = await createTestDatabase('postgres', { migrate: false });
    try {
      const db = await openDatabase({ env: { DATABASE_URL: test.url } });
      expect(db.kind).toBe('postgres');
      expect(db.location).toContain(new URL(test.url!).pathname.slice(1));
      await db.close();
    } finally {
      await test.close();
    }
  });

  it('createTestDatabase drops test databases left behind by runs that died (older than 6 hours)', async () => {
    const stale = `movierec_test_${(Date.now() - 7 * 3600_000).toString(36)}_deadbeef`;
    const admin = new pg.Client({ connectionString: testServerUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${stale}"`);
      const test = await createTestDatabase('postgres', { migrate: false });
      await test.close();
      const { rows } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1 OR datname = $2', [
        stale,
        new URL(test.url!).pathname.slice(1),
      ]);
      expect(rows).toHaveLength(0);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${stale}"`);
      await admin.end();
    }
  });

  it('creates the embedded database folder on first use and keeps data across reopening', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'movierec-pglite-'));
    dirs.push(root);
    const dataDir = path.join(root, 'nested', 'pglite');
    const first = await openDatabase({ dataDir, env: {} });
    expect(first.kind).toBe('pglite');
    await migrate(first);
    await first.prisma.user.create({ data: { externalId: 'kept' } });
    await first.close();
    expect(readdirSync(dataDir)).toContain('PG_VERSION');
    const again = await openDatabase({ dataDir, env: {} });
    expect((await again.prisma.user.findMany()).map((u) => u.externalId)).toEqual(['kept']);
    // A second instance on the same folder would overwrite the first one's writes: refused while it is open.
    const twice = await openDatabase({ dataDir, env: {} }).catch((e: unknown) => e);
    expect(twice).toBeInstanceOf(DatabaseConnectionError);
    expect((twice as Error).message).toMatch(/in use by this process .*set DATABASE_URL/);
    await again.close();
    // A lock left by a process that is gone is taken over.
    writeFileSync(`${dataDir}.lock`, '999999999');
    const afterCrash = await openDatabase({ dataDir, env: {} });
    expect(await afterCrash.prisma.user.count()).toBe(1);
    await afterCrash.close();
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });
});
