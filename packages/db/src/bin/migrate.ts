// Applies prisma/migrations to the database (DATABASE_URL, else the embedded PGlite in <repo>/.data/pglite).
// Run: pnpm exec tsx packages/db/src/bin/migrate.ts [--json]

import { openDatabase } from '../connection.ts';
import { DatabaseError } from '../errors.ts';
import { migrate } from '../migrate.ts';

const json = process.argv.includes('--json');
try {
  const db = await openDatabase();
  try {
    const result = await migrate(db);
    if (json) process.stdout.write(`${JSON.stringify({ location: db.location, ...result })}\n`);
    else if (result.applied.length === 0)
      console.log(`${db.location}: up to date (${result.alreadyApplied.length} migrations)`);
    else console.log(`${db.location}: applied ${result.applied.join(', ')}`);
  } finally {
    await db.close();
  }
} catch (error) {
  console.error(error instanceof DatabaseError ? error.message : error);
  process.exitCode = 1;
}
