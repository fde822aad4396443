/**
 * Reading all ratings back into typed-array columns (readRatings: binary COPY TO STDOUT on PostgreSQL, COPY TO
 * '/dev/blob' on PGlite), after importing synthetic ratings (generateSynthetic, ML-1M sized by default).
 *
 *   pnpm exec tsx bench/db-read.ts [--ratings 1000000] [--only postgres|pglite] [--runs 3] [--json]
 *
 * Method: rate = ratings / wall time of readRatings (users and movies with titles, then every rating decoded
 * straight into Int32Array/Float32Array columns); best and median of --runs reads. The import is setup, not timed.
 * PostgreSQL: a new database on MOVIEREC_TEST_PG_URL, dropped afterwards; PGlite: in memory. The 1-minute load
 * average is printed: on a shared machine the figures move with it.
 */
import { loadavg } from 'node:os';
import { generateSynthetic } from '../packages/data/src/index.ts';
import { importDataset, readRatings } from '../packages/db/src/index.ts';
import { createTestDatabase } from '../packages/db/src/testing.ts';
import { args, flag } from './lib/args.ts';

const json = args.includes('--json');
const only = flag('--only');
const runs = Number(flag('--runs') ?? 3);
const ratings = Number(flag('--ratings') ?? 1_000_209);
const dataset = generateSynthetic({ preset: 'ml-1m', ratings, seed: 7 });

const results: Record<string, unknown>[] = [];
for (const kind of ['postgres', 'pglite'] as const) {
  if (only && only !== kind) continue;
  const db = await createTestDatabase(kind);
  try {
    await importDataset(db, dataset);
    const rates: number[] = [];
    const load = loadavg()[0]!;
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const back = await readRatings(db);
      const seconds = (performance.now() - started) / 1000;
      if (back.ratings.length !== dataset.ratings.length)
        throw new Error('read a different number of ratings');
      rates.push(back.ratings.length / seconds);
    }
    rates.sort((a, b) => b - a);
    const result = {
      kind,
      ratings: dataset.ratings.length,
      bestRatingsPerSecond: Math.round(rates[0]!),
      medianRatingsPerSecond: Math.round(rates[Math.floor(rates.length / 2)]!),
      runs,
      loadAverage: load,
    };
    results.push(result);
    if (!json) {
      console.log(
        `${kind.padEnd(8)} read ${dataset.ratings.length} ratings into typed arrays: best ${result.bestRatingsPerSecond.toLocaleString('en')} ratings/s, ` +
          `median ${result.medianRatingsPerSecond.toLocaleString('en')} ratings/s over ${runs} runs [load average ${load.toFixed(1)}]`,
      );
    }
  } finally {
    await db.close();
  }
}
if (json) console.log(JSON.stringify(results));
