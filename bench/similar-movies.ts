/**
 * Which active model gives `similarMovies` better neighbours (issue 15, serving): the rating model's cosine of movie
 * factors (biased MF, the `default` rating preset) or the recommendation model's own item-item neighbours (EASE, the
 * `default` ranking preset: row j of B, what having j in a history adds to each movie). Offline proxy, no labels of
 * "similar" exist: a good neighbour list for a movie someone liked holds movies that the same person goes on to like.
 *
 * Protocol (temporal, per user — the split of `evaluate --task ranking --protocol temporal`): each user's earlier 80%
 * of ratings trains both models, their latest 20% is held out. An anchor is a movie the user rated ≥ 4 in the
 * training part (the `--anchors` most recent of them per user); its neighbour list is the model's top-k similar
 * movies (k = 10) with the user's own training movies left out. For each (user, anchor):
 *   HR@k = 1 if the list holds any movie the user rated ≥ 4 in the held-out part, else 0;
 *   P@k  = |list ∩ liked later| / k.
 * Both are averaged over every (user, anchor) pair; an anchor a model cannot place (EASE prunes movies with few
 * ratings) counts as a miss for that model; the last row is what the API serves by default (the ranking model's
 * neighbours, the rating model's where it has none). Coverage = distinct movies in any list / catalogue. The
 * popularity baseline (the same most-rated movies for every anchor) is a strong floor on this proxy — popular movies
 * are often liked later by anyone — so read HR@k beside coverage: a "similar" list that is the chart is no answer.
 * The same pairs for every model.
 *
 *   pnpm exec tsx bench/similar-movies.ts                      # what decides the API's default (the lead runs it)
 *   pnpm exec tsx bench/similar-movies.ts --users 60 --rating-preset reference --epochs 2   # a smoke run
 *
 * Prints the table, the winner, and the load average at the time (the machine is shared; no time is a result here).
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Recommender } from '../packages/core/src/index.ts';
import { loadBundled, userHoldout } from '../packages/data/src/index.ts';
import {
  fitRanking,
  type PresetName,
  RANKING_PRESETS,
  type RankingConfig,
  train,
} from '../packages/trainer/src/index.ts';

const { values: args } = parseArgs({
  options: {
    k: { type: 'string', default: '10' },
    anchors: { type: 'string', default: '5' },
    users: { type: 'string' },
    'rating-preset': { type: 'string', default: 'default' },
    'ranking-preset': { type: 'string', default: 'default' },
    epochs: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const k = Number(args.k);
const anchorsPerUser = Number(args.anchors);
if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`--k must be an integer ≥ 1, got ${args.k}`);
if (!(Number.isInteger(anchorsPerUser) && anchorsPerUser >= 1))
  throw new RangeError(`--anchors must be an integer ≥ 1, got ${args.anchors}`);
const rankingPreset = args['ranking-preset'] as keyof typeof RANKING_PRESETS;
if (!(rankingPreset in RANKING_PRESETS))
  throw new RangeError(`--ranking-preset: one of ${Object.keys(RANKING_PRESETS).join(', ')}`);

const LIKED = 4;
const log = (line: string) => process.stderr.write(`${line}\n`);

const dataset = await loadBundled();
const numItems = dataset.items.size;
const split = userHoldout(dataset.ratings, { strategy: 'recent', fraction: 0.2 });
const trainSet = { ...dataset, ratings: split.train };

// each user's training movies (all, to leave out) and their liked ones, most recent first (the anchors)
const trained = new Map<number, { items: Set<number>; liked: { item: number; time: number }[] }>();
for (let r = 0; r < split.train.length; r++) {
  const u = split.train.users[r]!;
  let t = trained.get(u);
  if (t === undefined) trained.set(u, (t = { items: new Set(), liked: [] }));
  t.items.add(split.train.items[r]!);
  if (split.train.ratings[r]! >= LIKED)
    t.liked.push({ item: split.train.items[r]!, time: split.train.timestamps[r]! });
}
const likedLater = new Map<number, Set<number>>();
for (let r = 0; r < split.test.length; r++) {
  if (split.test.ratings[r]! < LIKED) continue;
  const u = split.test.users[r]!;
  let s = likedLater.get(u);
  if (s === undefined) likedLater.set(u, (s = new Set()));
  s.add(split.test.items[r]!);
}
let users = [...likedLater.keys()]
  .filter((u) => (trained.get(u)?.liked.length ?? 0) > 0)
  .sort((a, b) => a - b);
if (args.users !== undefined) users = users.slice(0, Number(args.users));
const pairs: { user: number; anchor: number }[] = [];
for (const u of users) {
  const liked = trained.get(u)!.liked.sort((a, b) => b.time - a.time || b.item - a.item);
  for (const { item } of liked.slice(0, anchorsPerUser)) pairs.push({ user: u, anchor: item });
}
log(
  `${dataset.name}: ${users.length} users with a liked movie on both sides of the split, ${pairs.length} (user, anchor) pairs`,
);

/** Neighbours of an item as one model lists them (dense indices of the dataset), longest list kept per anchor. */
type Neighbours = (item: number) => Int32Array;
// enough neighbours that k remain after leaving out the user's training movies
const depth = k + 200;

function modelNeighbours(model: Recommender): Neighbours {
  const cache = new Map<number, Int32Array>();
  return (item) => {
    let hit = cache.get(item);
    if (hit === undefined) {
      // the model's items are the dataset's (both trained on the same Dataset and ID maps)
      hit = item < model.numItems ? model.similarItems(item, depth).items : new Int32Array(0);
      cache.set(item, hit);
    }
    return hit;
  };
}

const counts = new Int32Array(numItems);
for (let r = 0; r < split.train.length; r++) counts[split.train.items[r]!]!++;
const mostRated = Int32Array.from(
  Array.from({ length: numItems }, (_, i) => i)
    .sort((a, b) => counts[b]! - counts[a]! || a - b)
    .slice(0, depth),
);

log(`training the rating model (preset ${args['rating-preset']}) on the training part…`);
const { model: rating } = await train(trainSet, {
  preset: args['rating-preset'] as PresetName,
  ...(args.epochs !== undefined ? { config: { epochs: Number(args.epochs) } } : {}),
});
log(`fitting the recommendation model (ranking preset ${rankingPreset}) on the training part…`);
const ranking = fitRanking(trainSet, RANKING_PRESETS[rankingPreset] as RankingConfig);

const candidates: { name: string; neighbours: Neighbours }[] = [
  {
    name: `rating model: cosine of movie factors (${args['rating-preset']})`,
    neighbours: modelNeighbours(rating),
  },
  {
    name: `recommendation model: ${ranking.family} item-item neighbours (${rankingPreset})`,
    neighbours: modelNeighbours(ranking),
  },
  { name: 'baseline: most-rated movies', neighbours: () => mostRated },
];
// what the API serves by default: the ranking model's neighbours, the rating model's for a movie it cannot place
const [byRating, byRanking] = candidates;
candidates.push({
  name: 'as served (MOVIEREC_SIMILAR_MODEL=ranking): the ranking model, else the rating model',
  neighbours: (item) => {
    const own = byRanking!.neighbours(item);
    return own.length > 0 ? own : byRating!.neighbours(item);
  },
});

interface Row {
  name: string;
  hitRate: number;
  precision: number;
  placed: number;
  coverage: number;
}
const rows: Row[] = [];
for (const { name, neighbours } of candidates) {
  let hits = 0;
  let precision = 0;
  let placed = 0;
  const shown = new Uint8Array(numItems);
  for (const { user, anchor } of pairs) {
    const exclude = trained.get(user)!.items;
    const later = likedLater.get(user)!;
    const list: number[] = [];
    for (const i of neighbours(anchor)) {
      if (list.length === k) break;
      if (i !== anchor && !exclude.has(i)) list.push(i);
    }
    if (list.length > 0) placed++;
    let found = 0;
    for (const i of list) {
      shown[i] = 1;
      if (later.has(i)) found++;
    }
    if (found > 0) hits++;
    precision += found / k;
  }
  let distinct = 0;
  for (const s of shown) distinct += s;
  rows.push({
    name,
    hitRate: hits / pairs.length,
    precision: precision / pairs.length,
    placed: placed / pairs.length,
    coverage: distinct / numItems,
  });
}

const [load1, load5] = loadavg();
if (args.json) {
  console.log(
    JSON.stringify({
      k,
      anchorsPerUser,
      users: users.length,
      pairs: pairs.length,
      rows,
      load: [load1, load5],
    }),
  );
} else {
  console.log(
    `similarMovies proxy on ${dataset.name}, each user's latest 20% held out; anchors: up to ${anchorsPerUser} most ` +
      `recent movies rated ≥ ${LIKED} in training per user (${pairs.length} pairs, ${users.length} users)`,
  );
  console.log(`model | HR@${k} | P@${k} | anchors placed | coverage`);
  for (const r of rows)
    console.log(
      `${r.name} | ${r.hitRate.toFixed(4)} | ${r.precision.toFixed(4)} | ${r.placed.toFixed(3)} | ${r.coverage.toFixed(4)}`,
    );
  const [a, b] = rows;
  const better = a!.hitRate >= b!.hitRate ? 'rating' : 'ranking';
  console.log(
    `better neighbours by HR@${k}: the ${better} model → MOVIEREC_SIMILAR_MODEL=${better} ` +
      `(packages/api/README.md, "similarMovies")`,
  );
  console.log(`load average ${load1!.toFixed(2)} / ${load5!.toFixed(2)} (1 / 5 min)`);
}
