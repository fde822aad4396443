/**
 * Bulk import speed: synthetic ratings (generateSynthetic, ML-1M sized by default: 6040 users × 3706 movies,
 * 1,000,209 ratings) imported with importDataset into a fresh PostgreSQL database and a fresh on-disk PGlite.
 *
 *   pnpm exec tsx bench/db-import.ts [--ratings 1000000] [--only postgres|pglite] [--json]
 *
 * Method: rate = ratings / wall time of importDataset (users, movies and ratings by COPY, merge, commit, ANALYZE),
 * first import into empty tables; then the same dataset again (idempotent re-import: everything unchanged).
 * PostgreSQL: a new database on MOVIEREC_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres), dropped
 * afterwards. PGlite: a new data folder in the OS temp dir (open time printed separately, not in the rate).
 * The 1-minute load average is printed: on a shared machine the figures move with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { generateSynthetic } from '../packages/data/src/index.ts';
import { type Database, importDataset, migrate, openDatabase } from '../packages/db/src/index.ts';
import { createTestDatabase } from '../packages/db/src/testing.ts';
import { args, flag } from './lib/args.ts';

const json = args.includes('--json');
const only = flag('--only');
const ratings = Number(flag('--ratings') ?? 1_000_209);
const log = (line: string) => {
  if (!json) console.log(line);
};

const t0 = performance.now();
const dataset = generateSynthetic({ preset: 'ml-1m', ratings, seed: 7 });
log(
  `generated ${dataset.ratings.length} ratings (${dataset.users.size} users, ${dataset.items.size} movies) in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);

const results: Record<string, unknown>[] = [];
async function run(kind: 'postgres' | 'pglite', open: () => Promise<Database>, cleanup: () => void) {
  const opened = performance.now();
  const db = await open();
  const openSeconds = (performance.now() - opened) / 1000;
  try {
    const load = loadavg()[0]!;
    const first = await importDataset(db, dataset);
    const again = await importDataset(db, dataset);
    const result = {
      kind,
      ratings: dataset.ratings.length,
      openSeconds,
      firstSeconds: first.seconds,
      firstRatingsPerSecond: Math.round(first.ratingsPerSecond),
      reimportSeconds: again.seconds,
      reimportRatingsPerSecond: Math.round(again.ratingsPerSecond),
      reimportUnchanged: again.ratings.unchanged,
      loadAverage: load,
    };
    results.push(result);
    log(
      `${kind.padEnd(8)} import ${first.ratings.inserted} ratings: ${first.seconds.toFixed(2)} s = ${result.firstRatingsPerSecond.toLocaleString('en')} ratings/s; ` +
        `re-import (${again.ratings.unchanged} unchanged): ${again.seconds.toFixed(2)} s = ${result.reimportRatingsPerSecond.toLocaleString('en')} ratings/s ` +
        `[open ${openSeconds.toFixed(1)} s, load average ${load.toFixed(1)}]`,
    );
  } finally {
    await db.close();
    cleanup();
  }
}

// createTestDatabase's close() also drops the database.
if (only !== 'pglite')
  await run(
    'postgres',
    () => createTestDatabase('postgres'),
    () => {},
  );
if (only !== 'postgres') {
  const dir = mkdtempSync(path.join(tmpdir(), 'movierec-bench-pglite-'));
  await run(
    'pglite',
    async () => {
      const db = await openDatabase({ dataDir: path.join(dir, 'pglite'), env: {} });
      await migrate(db);
      return db;
    },
    () => rmSync(dir, { recursive: true, force: true }),
  );
}
if (json) console.log(JSON.stringify(results));
