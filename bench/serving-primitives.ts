/**
 * The API's serving path, through the Recommender contract as packages/api runs it, on a model shaped like ML-25M's
 * catalogue: 62,000 movies × 64 factors (factors and biases drawn N(0, 0.1²), seeded), 1,000 users with 50 rated
 * movies each.
 *
 *   pnpm exec tsx bench/serving-primitives.ts [--json]
 *
 * Figures (each the median and 95th percentile over many calls, after a warm-up; wall time by performance.now()
 * around single calls):
 *   - recommend top-10 for a trained user (core's one top-k over the SIMD scores, the 50 rated movies excluded)
 *   - fold-in of a new user with 10 ratings (Cholesky on the 65×65 system), then fold-in + top-10
 *   - similarItems top-10 (cosine over all movies)
 *   - the API's own path (packages/api Snapshot): a user's state in every active model from their stored ratings
 *     (fold-in), then `topFor` — MAX_LIMIT = 100 through `Recommender.recommend` with the exclusion list and the
 *     servable mask, exactly what a `recommendations` request computes on a cache miss
 */

import os from 'node:os';
import { Catalogue } from '../packages/api/src/serving/catalogue.ts';
import { Snapshot } from '../packages/api/src/serving/snapshot.ts';
import { UserStateCache } from '../packages/api/src/serving/user-cache.ts';
import type { Recommender } from '../packages/core/src/index.ts';
import { MFModel } from '../packages/core/src/model.ts';
import { allocParams } from '../packages/core/src/params.ts';
import { buildRatedIndex } from '../packages/core/src/rated-index.ts';
import { Rng } from '../packages/data/src/index.ts';

const json = process.argv.includes('--json');
const numItems = 62_000;
const numUsers = 1_000;
const factors = 64;
const random = new Rng(7);
const params = allocParams(numUsers, numItems, factors, 3.5);
for (const a of [params.userBias, params.itemBias, params.userFactors, params.itemFactors])
  for (let j = 0; j < a.length; j++) a[j] = random.normal() * 0.1;
const ratedPerUser = 50;
const n = numUsers * ratedPerUser;
const columns = {
  length: n,
  users: Int32Array.from({ length: n }, (_, j) => Math.floor(j / ratedPerUser)),
  items: Int32Array.from({ length: n }, () => random.int(numItems)),
  ratings: new Float32Array(n).fill(4),
  timestamps: new Int32Array(n),
};
const mf = new MFModel({ params, rated: buildRatedIndex(columns, numUsers) });
// everything below goes through the contract only, as the API does
const model: Recommender = mf;

function time(calls: number, fn: (j: number) => void) {
  for (let j = 0; j < Math.min(50, calls); j++) fn(j); // warm-up (JIT)
  const ms: number[] = [];
  for (let j = 0; j < calls; j++) {
    const t = performance.now();
    fn(j);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { calls, medianMs: ms[calls >> 1]!, p95Ms: ms[Math.floor(calls * 0.95)]! };
}

let sink = 0;
const topK = time(300, (j) => {
  const u = j % numUsers;
  sink += model.recommend(model.userState(u), { k: 10, exclude: model.trainedHistory(u)! }).items[0]!;
});
const foldItems = Array.from({ length: 300 }, () =>
  Int32Array.from({ length: 10 }, () => random.int(numItems)),
);
const foldRatings = Array.from({ length: 300 }, () =>
  Float32Array.from({ length: 10 }, () => 1 + random.int(9) / 2),
);
const foldIn = time(300, (j) => {
  sink += model.foldIn({ items: foldItems[j]!, values: foldRatings[j]! }).index;
});
const foldInTopK = time(300, (j) => {
  const v = model.foldIn({ items: foldItems[j]!, values: foldRatings[j]! });
  sink += model.recommend(v, { k: 10, exclude: foldItems[j]! }).items[0]!;
});
const similar = time(300, (j) => {
  sink += model.similarItems((j * 97) % numItems, 10).items[0]!;
});

// The API's Snapshot over the same model: a catalogue of every movie, the model active as the rating model.
const movieIds = model.items.ids();
const catalogue = new Catalogue({
  externalIds: movieIds,
  titles: movieIds.map((id) => `movie ${id}`),
  years: new Int16Array(numItems),
  genres: movieIds.map(() => ['Drama']),
  ratingCounts: new Int32Array(numItems).fill(50),
  ratingSums: new Float64Array(numItems).fill(175),
});
const version = {
  id: 1,
  engine: 'bench',
  task: 'rating' as const,
  family: 'mf',
  active: true,
  createdAt: new Date(),
  factors,
  numUsers,
  numMovies: numItems,
  config: {},
  metrics: {},
  datasetFingerprint: 'bench',
  trainingRun: null,
};
const snapshot = new Snapshot(
  Snapshot.serve(version, model, catalogue),
  null,
  catalogue,
  new UserStateCache(Number.POSITIVE_INFINITY, 1_000_000),
);
const stored = foldItems.map((items, j) => ({
  exists: true,
  movieIds: Array.from(items, (i) => movieIds[i]!),
  ratings: foldRatings[j]!,
}));
const apiFoldInTop = time(300, (j) => {
  const state = snapshot.buildUserState(`new-${j}-${sink}`, stored[j]!);
  sink += snapshot.topFor(state, true, null).items[0]!;
});

const result = {
  bench: 'serving-primitives',
  model: { movies: numItems, users: numUsers, factors },
  top10Recommend: topK,
  foldIn10Ratings: foldIn,
  foldInThenTop10: foldInTopK,
  similarItemsTop10: similar,
  apiFoldInThenTop100: apiFoldInTop,
  cores: os.cpus().length,
  loadAverage1m: os.loadavg()[0],
  node: process.version,
  sink,
};
if (json) console.log(JSON.stringify(result));
else {
  const line = (name: string, r: { medianMs: number; p95Ms: number; calls: number }) =>
    console.log(
      `${name}: median ${r.medianMs.toFixed(3)} ms, p95 ${r.p95Ms.toFixed(3)} ms (${r.calls} calls)`,
    );
  console.log(`model: ${numItems.toLocaleString()} movies × ${factors} factors, ${numUsers} users`);
  line('recommend top-10 for a trained user over all movies (50 rated excluded)', topK);
  line('fold-in of a 10-rating user', foldIn);
  line('fold-in + top-10 for the new user', foldInTopK);
  line('similarItems top-10 (cosine)', similar);
  line('API path: user state (fold-in of 10 ratings) + topFor (top-100, excluded, masked)', apiFoldInTop);
  console.log(
    `wall time per call by performance.now() after 50 warm-up calls; ${result.cores} shared cores, ` +
      `1-min load average ${result.loadAverage1m!.toFixed(2)}`,
  );
}
