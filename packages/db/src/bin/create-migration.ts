// Writes a new Prisma migration folder with the SQL that brings prisma/migrations up to prisma/schema.prisma
// (what `prisma migrate dev --create-only` does, offline). Run: pnpm --filter @movierec/db migration:create <name>
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { migrationsDir } from '../paths.ts';
import { diffMigrationsToSchema } from '../schema-engine.ts';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error(
    'usage: create-migration <name>   (name: lower-case letters, digits and _, e.g. add_movie_tags)',
  );
  process.exit(2);
}
const diff = await diffMigrationsToSchema();
if (diff.empty) {
  console.log('prisma/schema.prisma and prisma/migrations agree: no migration needed.');
} else {
  // Prisma's folder name: UTC timestamp yyyyMMddHHmmss, underscore, name.
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = path.join(migrationsDir, `${stamp}_${name}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'migration.sql'), diff.sql);
  console.log(
    `wrote ${path.relative(process.cwd(), path.join(dir, 'migration.sql'))}; apply it with pnpm db:migrate`,
  );
}
