import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffMigrationsToSchema, schemaPath } from '../src/schema-engine.ts';

// Prisma's own schema engine (WASM) replays prisma/migrations on a shadow database and diffs it against
// prisma/schema.prisma: an empty diff means `prisma migrate dev` would create no migration.
describe('prisma/schema.prisma and prisma/migrations', () => {
  let pglite: PGlite;
  beforeAll(async () => {
    pglite = await PGlite.create();
  });
  afterAll(async () => {
    await pglite?.close();
  });

  it('agree: the schema engine finds nothing to migrate', async () => {
    const diff = await diffMigrationsToSchema({ pglite });
    expect(diff.sql).toMatch(/empty migration/);
    expect(diff.empty).toBe(true);
  });

  it('the check notices a schema change the migrations lack', async () => {
    const schema = readFileSync(schemaPath, 'utf8').replace(
      '  title      String\n',
      '  title      String\n  tagline    String?\n',
    );
    expect(schema).toContain('tagline');
    const diff = await diffMigrationsToSchema({ schema, pglite });
    expect(diff.empty).toBe(false);
    expect(diff.sql).toContain('ADD COLUMN     "tagline" TEXT');
  });
});
