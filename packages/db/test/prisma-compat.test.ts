import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { assertMigrated, migrate, openDatabase, readMigrations } from '../src/index.ts';
import { prismaMigrateDeploy } from '../src/schema-engine.ts';

// Prisma's own schema engine (what `prisma migrate deploy` runs, here as WASM on PGlite) and our offline
// migrate() must accept each other's `_prisma_migrations` history.
describe('migration history shared with prisma migrate deploy', () => {
  const names = readMigrations().map((m) => m.name);

  it('Prisma finds nothing to apply, nothing edited and nothing failed after our migrate()', async () => {
    const pglite = await PGlite.create();
    try {
      const db = await openDatabase({ pglite });
      expect((await migrate(db)).applied).toEqual(names);
      await db.close();
      const check = await prismaMigrateDeploy(pglite);
      expect(check).toEqual({
        applied: [],
        editedMigrationNames: [],
        failedMigrationNames: [],
        history: null,
      });
      // The check can fail: a checksum that is not sha-256 of the file's bytes reads to Prisma as an edit.
      await pglite.query(
        `UPDATE "_prisma_migrations" SET checksum = repeat('0', 64) WHERE migration_name = $1`,
        [names[0]],
      );
      expect((await prismaMigrateDeploy(pglite)).editedMigrationNames).toEqual([names[0]]);
    } finally {
      await pglite.close();
    }
  });

  it('our migrate() finds nothing to apply after Prisma applied the migrations', async () => {
    const pglite = await PGlite.create();
    try {
      expect((await prismaMigrateDeploy(pglite)).applied).toEqual(names);
      const db = await openDatabase({ pglite });
      expect(await migrate(db)).toEqual({ applied: [], alreadyApplied: names });
      await assertMigrated(db);
      await db.close();
    } finally {
      await pglite.close();
    }
  });
});
