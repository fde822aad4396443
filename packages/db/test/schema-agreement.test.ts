import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { diffMigrationsToSchema, schemaPath } from '../src/schema-engine.ts';

// Prisma's own schema engine (WASM) replays prisma/migrations on a shadow database and diffs it against
// prisma/schema.prisma: an empty diff means `prisma migrate dev` would create no migration.
describe('prisma/schema.prisma and prisma/migrations', () => {
  it('agree: the schema engine finds nothing to migrate', async () => {
    const diff = await diffMigrationsToSchema();
    expect(diff.sql).toMatch(/empty migration/);
    expect(diff.empty).toBe(true);
  });

  it('the check notices a schema change the migrations lack', async () => {
    const schema = readFileSync(schemaPath, 'utf8').replace(
      '  title      String\n',
      '  title      String\n  tagline    String?\n',
    );
    expect(schema).toContain('tagline');
    const diff = await diffMigrationsToSchema({ schema });
    expect(diff.empty).toBe(false);
    expect(diff.sql).toContain('ADD COLUMN     "tagline" TEXT');
  });
});
