/**
 * Ranking bench (issue 15): every ranking model beside popularity on the bundled ml-latest-small, through the shipped
 * code path (loadBundled → rankingSplit → trainRanking / train → evaluateRanking), three protocols — the NCF family
 * (GMF, MLP, NeuMF: TF.js layers, trainRanking → trainNcf) included, evaluated by the same evaluateRanking:
 * - temporal: each user's latest 20% held out, relevant = held-out rating ≥ 4, the whole catalogue ranked minus the
 *   user's training movies: NDCG@10, Recall@10, top-10 catalogue coverage, novelty (mean −log2(pop_i/|U|));
 * - loo-sampled: the NCF paper's leave-one-out (latest interaction vs 100 sampled negatives): HR@10, NDCG@10;
 * - loo-full: the same held-out item against the full catalogue.
 * Train seconds are wall and CPU time of the fit on the temporal training part; the load average is printed (the
 * machine is shared). Also the fold-in of a 20-interaction user and its top-10 for the default model (median ms).
 *
 *   pnpm exec tsx bench/accuracy-ranking.ts [--only default,ease,...] [--no-loo] [--json]
 *   pnpm exec tsx bench/accuracy-ranking.ts --sweep   # how w of the rating model's itemRankBias = w·ln(1 + n_i)
 *     was chosen: the default rating model trained on an INNER holdout (each user's latest 20% of the training
 *     part) for w ∈ grid, then the same grid on the real holdout for reference.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { buildRatedIndex, MFModel, type Recommender, ratedItems } from '../packages/core/src/index.ts';
import { type Dataset, loadBundled, userHoldout } from '../packages/data/src/index.ts';
import {
  type AnyRankingConfig,
  evaluateRanking,
  modelRanker,
  popularityModel,
  popularityOrder,
  popularityRanker,
  RANKING_PRESETS,
  type RankingReport,
  rankingMetrics,
  rankingSplit,
  relevantItems,
  train,
  trainRanking,
} from '../packages/trainer/src/index.ts';

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' },
    json: { type: 'boolean', default: false },
    sweep: { type: 'boolean', default: false },
    'no-loo': { type: 'boolean', default: false },
  },
});

const dataset = await loadBundled();
const split = userHoldout(dataset.ratings, { strategy: 'recent', fraction: 0.2 });

if (args.sweep) {
  const grid = [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5];
  const inner = userHoldout(split.train, { strategy: 'recent', fraction: 0.2 });
  for (const [label, s] of [
    ['inner', inner],
    ['holdout', split],
  ] as const) {
    const { model } = await train({ ...dataset, ratings: s.train }, { preset: 'default' });
    const counts = new Float64Array(dataset.items.size);
    for (let r = 0; r < s.train.length; r++) counts[s.train.items[r]!]!++;
    const rel = relevantItems(s.test, 4);
    const rated = buildRatedIndex(s.train, dataset.users.size);
    const trainItemsOf = (u: number) => ratedItems(rated, u);
    const pop = rankingMetrics(
      popularityRanker(popularityOrder(s.train, dataset.items.size)),
      rel,
      trainItemsOf,
      dataset.items.size,
      10,
    );
    console.log(
      `${label.padEnd(8)} popularity      Recall@10 ${pop.recall.toFixed(4)}  NDCG@10 ${pop.ndcg.toFixed(4)}`,
    );
    for (const w of grid) {
      const itemRankBias = Float32Array.from(counts, (n) => w * Math.log1p(n));
      const m = new MFModel({ params: { ...model.params, itemRankBias }, rated });
      const r = rankingMetrics(modelRanker(m), rel, trainItemsOf, dataset.items.size, 10);
      console.log(
        `${label.padEnd(8)} w = ${w.toFixed(2).padEnd(10)} Recall@10 ${r.recall.toFixed(4)}  NDCG@10 ${r.ndcg.toFixed(4)}  coverage ${r.coverage.toFixed(4)}`,
      );
    }
  }
  process.exit(0);
}

interface Run {
  name: string;
  what: string;
  fit: (data: Dataset) => Promise<Recommender> | Recommender;
}
const ranking = (config: AnyRankingConfig) => (data: Dataset) => trainRanking(data, config);
const runs: Run[] = [
  { name: 'popularity', what: 'most-interacted movies first', fit: (d) => popularityModel(d) },
  {
    name: 'default',
    what: "EASE, history weighted by recency and rating (RANKING_PRESETS.default, tuned by 'movierec tune')",
    fit: ranking(RANKING_PRESETS.default),
  },
  {
    name: 'ease',
    what: 'EASE as in Steck 2019 (λ 300, items with ≥ 10 interactions, binary history)',
    fit: ranking(RANKING_PRESETS.ease),
  },
  {
    name: 'item-knn',
    what: 'item-kNN, shrunk cosine, 100 neighbours, weighted history',
    fit: ranking(RANKING_PRESETS['item-knn']),
  },
  {
    name: 'ials',
    what: 'implicit ALS (Hu et al. 2008), 64 factors, c = 1 + 2r',
    fit: ranking(RANKING_PRESETS.ials),
  },
  {
    name: 'bpr',
    what: 'BPR-MF (Rendle et al. 2009), 64 factors, 60 epochs',
    fit: ranking(RANKING_PRESETS.bpr),
  },
  {
    name: 'neumf',
    what: 'NeuMF (He et al. 2017): GMF + MLP pre-trained 6 epochs each, then joined, 4 SGD epochs; log loss, 4 sampled negatives',
    fit: ranking(RANKING_PRESETS.neumf),
  },
  {
    name: 'mlp',
    what: 'MLP (He et al. 2017), layers 64-32-16-8, 4 Adam epochs',
    fit: ranking(RANKING_PRESETS.mlp),
  },
  {
    name: 'gmf',
    what: 'GMF (He et al. 2017), 8 factors, 4 Adam epochs',
    fit: ranking(RANKING_PRESETS.gmf),
  },
  {
    name: 'rating-model',
    what: 'the rating model (presets.default, BPMF) ranked by r̂ + 0.5·ln(1 + n_i), as served before this issue',
    fit: async (d) => (await train(d, { preset: 'default' })).model,
  },
];

const only = args.only?.split(',');
const selected = runs.filter((r) => !only || only.includes(r.name));
const temporal = rankingSplit(dataset.ratings, 'temporal');
const loo = rankingSplit(dataset.ratings, 'loo-full');
const load0 = loadavg()[0]!;
interface Row {
  name: string;
  what: string;
  temporal: RankingReport;
  seconds: number;
  cpuSeconds: number;
  looSampled?: RankingReport;
  looFull?: RankingReport;
}
const rows: Row[] = [];
if (!args.json)
  console.log(
    `# ${dataset.name}: temporal = each user's latest 20% (${temporal.test.length} held out, ${temporal.train.length} train); ` +
      `relevant = held-out rating ≥ 4; leave-one-out = each user's latest interaction (${loo.test.length}); k = 10`,
  );
let defaultModel: Recommender | undefined;
for (const run of selected) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const model = await run.fit({ ...dataset, ratings: temporal.train });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  if (run.name === 'default') defaultModel = model;
  const row: Row = {
    name: run.name,
    what: run.what,
    temporal: evaluateRanking(model, temporal.train, temporal.test, { protocol: 'temporal' }),
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
  if (!args['no-loo']) {
    const m = await run.fit({ ...dataset, ratings: loo.train });
    row.looSampled = evaluateRanking(m, loo.train, loo.test, { protocol: 'loo-sampled' });
    row.looFull = evaluateRanking(m, loo.train, loo.test, { protocol: 'loo-full' });
  }
  rows.push(row);
  if (!args.json) console.error(`${run.name}: done (${seconds.toFixed(1)} s)`);
}

// fold-in of a 20-interaction user into the default model, then its top-10 (median over users with ≥ 20)
let foldIn: { users: number; foldInMs: number; recommendMs: number } | undefined;
if (defaultModel) {
  const m = defaultModel;
  const times: number[] = [];
  const recs: number[] = [];
  const byUser = new Map<number, number[]>();
  for (let r = 0; r < temporal.train.length; r++) {
    const u = temporal.train.users[r]!;
    let list = byUser.get(u);
    if (!list) byUser.set(u, (list = []));
    list.push(r);
  }
  const cols = temporal.train;
  const scores = new Float32Array(m.numItems);
  for (const rowsOf of byUser.values()) {
    if (rowsOf.length < 20) continue;
    const last = rowsOf.sort((a, b) => cols.timestamps[a]! - cols.timestamps[b]! || a - b).slice(-20);
    last.sort((a, b) => cols.items[a]! - cols.items[b]!);
    const history = {
      items: Int32Array.from(last, (r) => cols.items[r]!),
      values: Float32Array.from(last, (r) => cols.ratings[r]!),
      times: Int32Array.from(last, (r) => cols.timestamps[r]!),
    };
    const t0 = performance.now();
    const state = m.foldIn(history);
    const t1 = performance.now();
    m.scoreAll(state, scores);
    m.recommend(state, { k: 10, exclude: history.items });
    const t2 = performance.now();
    times.push(t1 - t0);
    recs.push(t2 - t1);
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1] ?? Number.NaN;
  foldIn = { users: times.length, foldInMs: median(times), recommendMs: median(recs) };
}

const load1 = loadavg()[0]!;
if (args.json) {
  console.log(JSON.stringify({ rows, foldIn, loadAverage: [load0, load1] }));
  process.exit(0);
}
const pop = rows.find((r) => r.name === 'popularity');
const f = (v: number | undefined, d = 4) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
const header = [
  'model',
  'NDCG@10',
  'Recall@10',
  'coverage',
  'novelty',
  'train s (cpu)',
  'LOO-sampled HR@10',
  'NDCG@10',
  'LOO-full HR@10',
  'NDCG@10',
];
const table = rows.map((r) => [
  r.name,
  f(r.temporal.ndcg),
  f(r.temporal.recall),
  f(r.temporal.coverage),
  f(r.temporal.novelty, 2),
  `${r.seconds.toFixed(1)} (${r.cpuSeconds.toFixed(1)})`,
  f(r.looSampled?.hitRate),
  f(r.looSampled?.ndcg),
  f(r.looFull?.hitRate),
  f(r.looFull?.ndcg),
]);
table.push(['NeuMF, ML-1M (He et al. 2017, quoted)', '', '', '', '', '', '0.730', '0.447', '', '']);
const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c]!.length)));
const line = (cells: string[]) =>
  cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  ');
console.log(line(header));
for (const row of table) console.log(line(row));
if (pop) {
  console.log('');
  for (const r of rows) {
    if (r === pop) continue;
    console.log(
      `${r.name.padEnd(14)} vs popularity: NDCG@10 ×${(r.temporal.ndcg / pop.temporal.ndcg).toFixed(2)}, ` +
        `Recall@10 ×${(r.temporal.recall / pop.temporal.recall).toFixed(2)}, coverage ×${(r.temporal.coverage / pop.temporal.coverage).toFixed(2)} — ${r.what}`,
    );
  }
}
if (foldIn)
  console.log(
    `\ndefault model: fold-in of a 20-interaction user ${foldIn.foldInMs.toFixed(3)} ms, scoring + top-10 ` +
      `${foldIn.recommendMs.toFixed(3)} ms (medians over ${foldIn.users} users)`,
  );
console.log(`load average (1 min) at start / end: ${load0.toFixed(2)} / ${load1.toFixed(2)}`);
