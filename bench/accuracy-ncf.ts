/**
 * NCF bench: GMF, MLP and NeuMF (He et al. 2017) trained by trainNcf (TF.js layers, wasm backend here) on the
 * bundled ml-latest-small with the temporal protocol — each user's latest 20% of ratings held out, relevant =
 * held-out rating ≥ 4, the whole catalogue ranked minus the user's training movies — NDCG@10 and Recall@10 beside
 * popularity, train seconds (wall and CPU), and fold-in: time for a 20-interaction user and the accuracy of
 * every test user folded in from their training history instead of their trained embedding.
 *
 *   pnpm exec tsx bench/accuracy-ncf.ts [--only gmf,mlp,neumf] [--inner] [--epochs n] [--pretrain-epochs n]
 *        [--batch n] [--lr x] [--sgd-lr x] [--layers 64,32,16,8] [--factors n] [--threshold x] [--no-pretrain]
 *
 * --inner evaluates on an INNER holdout (each user's latest 20% of the training part), which is what the defaults
 * were chosen on; without it, the real holdout.
 */
import { parseArgs } from 'node:util';
import { buildRatedIndex, type NcfKind, type Recommender, ratedItems } from '../packages/core/src/index.ts';
import { loadBundled, userHoldout } from '../packages/data/src/index.ts';
import {
  type NcfConfig,
  popularityOrder,
  popularityRanker,
  type Ranker,
  rankingMetrics,
  relevantItems,
  trainNcf,
} from '../packages/trainer/src/index.ts';

const { values: a } = parseArgs({
  options: {
    only: { type: 'string', default: 'neumf' },
    inner: { type: 'boolean', default: false },
    epochs: { type: 'string' },
    'pretrain-epochs': { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    'sgd-lr': { type: 'string' },
    layers: { type: 'string' },
    factors: { type: 'string' },
    threshold: { type: 'string' },
    negatives: { type: 'string' },
    'no-pretrain': { type: 'boolean', default: false },
    'skip-fold-in': { type: 'boolean', default: false },
    'per-epoch': { type: 'boolean', default: false },
    seed: { type: 'string' },
    l2: { type: 'string' },
  },
});

const config: Partial<NcfConfig> = {};
if (a.epochs) config.epochs = Number(a.epochs);
if (a['pretrain-epochs']) config.pretrainEpochs = Number(a['pretrain-epochs']);
if (a.batch) config.batchSize = Number(a.batch);
if (a.lr) config.learningRate = Number(a.lr);
if (a['sgd-lr']) config.sgdLearningRate = Number(a['sgd-lr']);
if (a.layers) config.layers = a.layers.split(',').map(Number);
if (a.factors) config.gmfFactors = Number(a.factors);
if (a.threshold) config.positiveThreshold = Number(a.threshold);
if (a.negatives) config.negatives = Number(a.negatives);
if (a.seed) config.seed = Number(a.seed);
if (a.l2) config.l2 = Number(a.l2);
if (a['no-pretrain']) config.pretrain = false;

/** A Ranker over any Recommender's top-k with the user's training movies excluded. */
function recommenderRanker(model: Recommender): Ranker {
  return (user, exclude, k) => model.recommend(model.userState(user), { k, exclude }).items;
}

const dataset = await loadBundled();
const outer = userHoldout(dataset.ratings, { strategy: 'recent', fraction: 0.2 });
const split = a.inner ? userHoldout(outer.train, { strategy: 'recent', fraction: 0.2 }) : outer;
const numItems = dataset.items.size;
const relevant = relevantItems(split.test, 4);
const rated = buildRatedIndex(split.train, dataset.users.size);
const trainItemsOf = (u: number) => ratedItems(rated, u);
const fmt = (r: { ndcg: number; recall: number; coverage: number }) =>
  `NDCG@10 ${r.ndcg.toFixed(4)}  Recall@10 ${r.recall.toFixed(4)}  coverage ${r.coverage.toFixed(4)}`;
const pop = rankingMetrics(
  popularityRanker(popularityOrder(split.train, numItems)),
  relevant,
  trainItemsOf,
  numItems,
  10,
);
console.log(
  `# ${dataset.name}, ${a.inner ? 'INNER holdout (latest 20% of the training part)' : 'temporal holdout (latest 20% per user)'}: ` +
    `${split.train.length} train, ${split.test.length} test ratings, ${relevant.size} users with a relevant item; k = 10`,
);
console.log(`${'popularity'.padEnd(10)} ${fmt(pop)}`);

for (const kind of (a.only ?? 'neumf').split(',') as NcfKind[]) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const { model, log } = await trainNcf(
    { ...dataset, ratings: split.train },
    { ...config, kind },
    {
      onEpoch: (e, current) => {
        if (!a['per-epoch']) return;
        const m = rankingMetrics(recommenderRanker(current()), relevant, trainItemsOf, numItems, 10);
        console.log(`  ${e.stage} ${e.epoch} loss ${e.loss.toFixed(4)} ${fmt(m)}`);
      },
    },
  );
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(cpu0);
  const r = rankingMetrics(recommenderRanker(model), relevant, trainItemsOf, numItems, 10);
  const losses = log.epochs.map((e) => `${e.stage[0]}${e.epoch}:${e.loss.toFixed(3)}`).join(' ');
  console.log(
    `${kind.padEnd(10)} ${fmt(r)}  ×pop NDCG ${(r.ndcg / pop.ndcg).toFixed(2)} Recall ${(r.recall / pop.recall).toFixed(2)}  ` +
      `train ${wall.toFixed(1)} s wall, ${((c.user + c.system) / 1e6).toFixed(1)} s CPU (${log.backend})  [${losses}]`,
  );
  if (!a['skip-fold-in']) {
    // every evaluated user folded in from their training history (item side frozen) instead of their trained row
    const foldRanker: Ranker = (user, exclude, k) => {
      const items = trainItemsOf(user);
      const state = model.foldIn({ items, values: new Float32Array(items.length).fill(1) });
      return model.recommend(state, { k, exclude }).items;
    };
    const f = rankingMetrics(foldRanker, relevant, trainItemsOf, numItems, 10);
    // fold-in time of a user with 20 interactions: the median over 200 users' first 20 training items
    const times: number[] = [];
    let u = 0;
    for (let n = 0; n < 200; u = (u + 1) % dataset.users.size) {
      const items = trainItemsOf(u);
      if (items.length < 20) continue;
      const h = { items: items.slice(0, 20), values: new Float32Array(20).fill(1) };
      const t = performance.now();
      model.foldIn(h);
      times.push(performance.now() - t);
      n++;
    }
    times.sort((x, y) => x - y);
    const pct = (q: number) => times[Math.floor(q * (times.length - 1))]!.toFixed(2);
    console.log(
      `${''.padEnd(10)} folded-in users: ${fmt(f)}; fold-in of 20 interactions: median ${pct(0.5)} ms, p90 ${pct(0.9)} ms`,
    );
  }
}
