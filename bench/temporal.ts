/**
 * Temporal-dynamics bench (issue 13): which time-aware terms (Koren, KDD 2009 §4) help the default Bayesian
 * engine, on three protocols, each through train() → evaluate() with predictions clipped to [0.5, 5]:
 *
 *   --protocol inner     hyper-parameter choice: fold 0's TRAINING part (5-fold, seed 42 as bench/accuracy.ts)
 *                        split again 90/10 (seed 7); scores on that inner 10% only — the test fold is never read
 *   --protocol cv        5-fold random CV, the same folds and seed as bench/accuracy.ts (--folds-run 0 for one fold)
 *   --protocol temporal  per-user temporal holdout: each user's latest 20% of ratings is the test set; scored at
 *                        each test rating's own time and at "now" (the newest training time)
 *   --protocol serve     MFModel.predict speed, static vs time-aware (day bias for every user rating day of the
 *                        bundled data, 30 movie bins, drift), same random parameters and pairs, same run
 *
 *   pnpm exec tsx bench/temporal.ts --protocol cv --only default,temporal
 *   pnpm exec tsx bench/temporal.ts --protocol inner --only default,bins30,drift,day,all [--sweeps 60]
 */
import { parseArgs } from 'node:util';
import {
  type Dataset,
  kFold,
  loadBundled,
  type RatingColumns,
  userHoldout,
} from '../packages/data/src/index.ts';
import type { TemporalSettings } from '../packages/trainer/src/engines/bpmf/temporal.ts';
import { evaluate, presets, type TrainConfig, train } from '../packages/trainer/src/index.ts';

const { values: args } = parseArgs({
  options: {
    protocol: { type: 'string', default: 'cv' },
    only: { type: 'string' },
    folds: { type: 'string', default: '5' },
    'folds-run': { type: 'string' },
    seed: { type: 'string', default: '42' },
    sweeps: { type: 'string' },
  },
});

const dataset = await loadBundled();
const T = (t: Partial<TemporalSettings>): TemporalSettings => ({
  itemBins: 0,
  userDrift: false,
  userDay: false,
  ...t,
});
/** Named configurations: the default preset with `bayes.temporal` (and other bayes fields) overridden. */
const configs: Record<string, { what: string; bayes: Record<string, unknown> }> = {
  default: { what: 'presets.default (no time terms)', bayes: {} },
  bins30: { what: 'b_i + b_{i,Bin(t)}, 30 bins', bayes: { temporal: T({ itemBins: 30 }) } },
  bins10: { what: 'b_i + b_{i,Bin(t)}, 10 bins', bayes: { temporal: T({ itemBins: 10 }) } },
  drift: { what: 'b_u + α_u dev_u(t), β 0.4', bayes: { temporal: T({ userDrift: true }) } },
  day: { what: 'b_u + b_{u,day}', bayes: { temporal: T({ userDay: true }) } },
  'bins-drift': {
    what: 'bins30 + drift',
    bayes: { temporal: T({ itemBins: 30, userDrift: true }) },
  },
  all: {
    what: 'bins30 + drift + day',
    bayes: { temporal: T({ itemBins: 30, userDrift: true, userDay: true }) },
  },
  day2: {
    what: 'b_u + b_{u,day}, users with ≥ 2 days only',
    bayes: { temporal: T({ userDay: true, userDayMinDays: 2 }) },
  },
  all2: {
    what: 'bins30 + drift + day (users with ≥ 2 days)',
    bayes: { temporal: T({ itemBins: 30, userDrift: true, userDay: true, userDayMinDays: 2 }) },
  },
  'drift-day2': {
    what: 'drift + day (users with ≥ 2 days)',
    bayes: { temporal: T({ userDrift: true, userDay: true, userDayMinDays: 2 }) },
  },
  'drift-day2-bins10': {
    what: 'drift + day (users with ≥ 2 days) + 10 bins',
    bayes: { temporal: T({ itemBins: 10, userDrift: true, userDay: true, userDayMinDays: 2 }) },
  },
  'day2-b01': {
    what: 'day (users with ≥ 2 days), hyper-prior rate b0 0.1',
    bayes: { temporal: T({ userDay: true, userDayMinDays: 2, priorRate: 0.1 }) },
  },
  'drift-day2-b01': {
    what: 'drift + day (users with ≥ 2 days), hyper-prior rate b0 0.1',
    bayes: { temporal: T({ userDrift: true, userDay: true, userDayMinDays: 2, priorRate: 0.1 }) },
  },
  'drift-day': { what: 'drift + day', bayes: { temporal: T({ userDrift: true, userDay: true }) } },
  'all-b01': {
    what: 'all, hyper-prior rate b0 0.1',
    bayes: { temporal: T({ itemBins: 30, userDrift: true, userDay: true, priorRate: 0.1 }) },
  },
  'all-b001': {
    what: 'all, hyper-prior rate b0 0.01',
    bayes: { temporal: T({ itemBins: 30, userDrift: true, userDay: true, priorRate: 0.01 }) },
  },
  'all-svdpp': {
    what: 'all + Bayesian SVD++ implicit block',
    bayes: { temporal: T({ itemBins: 30, userDrift: true, userDay: true }), implicit: true },
  },
  'day2-svdpp': {
    what: 'day (users with ≥ 2 days) + Bayesian SVD++ implicit block',
    bayes: { temporal: T({ userDay: true, userDayMinDays: 2 }), implicit: true },
  },
  'day-svdpp': {
    what: 'day + Bayesian SVD++ implicit block',
    bayes: { temporal: T({ userDay: true }), implicit: true },
  },
};

const sweeps = args.sweeps ? Number(args.sweeps) : undefined;
function configOf(name: string): Partial<TrainConfig> {
  const c = configs[name];
  if (!c) throw new Error(`unknown configuration ${name}; one of ${Object.keys(configs).join(', ')}`);
  const base = presets.default;
  return {
    ...(sweeps ? { epochs: sweeps } : {}),
    bayes: { ...base.bayes, ...(sweeps ? { burnIn: Math.min(20, Math.floor(sweeps / 4)) } : {}), ...c.bayes },
  } as Partial<TrainConfig>;
}

const withRatings = (cols: RatingColumns): Dataset => ({ ...dataset, ratings: cols });

async function score(
  name: string,
  trainCols: RatingColumns,
  test: RatingColumns,
  at: 'rating' | 'now' = 'rating',
) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { model, log } = await train(withRatings(trainCols), { config: configOf(name) });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const e = evaluate(model, test, trainCols, { clip: true, skipRanking: true, at });
  const now =
    at === 'rating' ? evaluate(model, test, trainCols, { clip: true, skipRanking: true, at: 'now' }) : e;
  return {
    rmse: e.rmse,
    mae: e.mae,
    nowRmse: now.rmse,
    nowMae: now.mae,
    seconds,
    cpu: (cpu.user + cpu.system) / 1e6,
    notes: log.notes,
  };
}

const names = (args.only ?? 'default,all').split(',');
const folds = Number(args.folds);
const seed = Number(args.seed);
const os = await import('node:os');
const fmt = (x: number) => x.toFixed(4);
console.log(
  `# ${dataset.name}: ${dataset.ratings.length} ratings; protocol ${args.protocol}; sweeps ${sweeps ?? presets.default.epochs}; ${new Date().toISOString()}`,
);
// the folds of bench/accuracy.ts and crossValidate(): kFold from @movierec/data, one seeded permutation
const outerFolds = kFold(dataset.ratings, { k: folds, seed });
const foldSplit = (f: number) => outerFolds[f]!;

if (args.protocol === 'serve') {
  const { MFModel, allocParams } = await import('../packages/core/src/index.ts');
  const { Rng } = await import('../packages/data/src/index.ts');
  const nu = dataset.users.size;
  const ni = dataset.items.size;
  const k = 32;
  const rng = new Rng(1);
  const p = allocParams(nu, ni, k, 3.5);
  for (const a of [p.userBias, p.itemBias, p.userFactors, p.itemFactors])
    for (let j = 0; j < a.length; j++) a[j] = 0.1 * rng.normal();
  const staticModel = new MFModel({ params: p });
  // the time-aware layout of the whole bundled data, through the engine's own block (no sampling)
  const { TemporalBlock } = await import('../packages/trainer/src/engines/bpmf/temporal.ts');
  const block = TemporalBlock.create(
    dataset.ratings,
    { numUsers: nu, numItems: ni },
    { itemBins: 30, userDrift: true, userDay: true },
    [],
  )!;
  const tp = {
    ...block.layout,
    itemBinBias: Float32Array.from({ length: ni * 30 }, () => 0.01 * rng.normal()),
    userDrift: Float32Array.from({ length: nu }, () => 0.01 * rng.normal()),
    dayBias: Float32Array.from({ length: block.layout.days!.length }, () => 0.1 * rng.normal()),
  };
  const timed = new MFModel({ params: { ...p, temporal: tp } });
  // the `temporal` preset's terms only: the day bias (and the per-user last time)
  const { itemBinBias: _b, userDrift: _d, userMeanDay: _m, ...dayOnly } = tp;
  const dayModel = new MFModel({ params: { ...p, temporal: dayOnly } });
  const n = 200_000;
  const us = Int32Array.from({ length: n }, () => rng.int(nu));
  const is = Int32Array.from({ length: n }, () => rng.int(ni));
  const ts = Int32Array.from(
    { length: n },
    (_, j) => dataset.ratings.timestamps[j % dataset.ratings.length]!,
  );
  const time = (f: (j: number) => number) => {
    let best = Number.POSITIVE_INFINITY;
    let sink = 0;
    for (let rep = 0; rep < 7; rep++) {
      // CPU time of this process (less disturbed than wall time on a shared machine), ms
      const t0 = process.cpuUsage();
      for (let j = 0; j < n; j++) sink += f(j);
      const used = process.cpuUsage(t0);
      best = Math.min(best, (used.user + used.system) / 1000);
    }
    if (Number.isNaN(sink)) throw new Error('NaN');
    return (best * 1e6) / n;
  };
  const a = time((j) => staticModel.predict(us[j]!, is[j]!));
  const b = time((j) => timed.predict(us[j]!, is[j]!));
  const c = time((j) => timed.predict(us[j]!, is[j]!, ts[j]!));
  const d = time((j) => dayModel.predict(us[j]!, is[j]!, ts[j]!));
  const a2 = time((j) => staticModel.predict(us[j]!, is[j]!));
  const base = Math.min(a, a2);
  console.log(
    `predict (k ${k}, ${n} random pairs, best of 7, CPU time): static ${base.toFixed(0)} ns; all three terms at now ${b.toFixed(0)} ns (×${(b / base).toFixed(2)}), at a rating's time ${c.toFixed(0)} ns (×${(c / base).toFixed(2)}); the temporal preset's day term at a rating's time ${d.toFixed(0)} ns (×${(d / base).toFixed(2)})`,
  );
}

for (const name of args.protocol === 'serve' ? [] : names) {
  if (args.protocol === 'inner') {
    const { train: outer } = foldSplit(0);
    const inner = kFold(outer, { k: 10, seed: 7 })[0]!;
    const s = await score(name, inner.train, inner.test);
    console.log(
      `${name.padEnd(12)} inner-valid RMSE ${fmt(s.rmse)} MAE ${fmt(s.mae)}  (at now: ${fmt(s.nowRmse)}/${fmt(s.nowMae)})  train ${s.seconds.toFixed(1)} s (${s.cpu.toFixed(1)} s CPU)  — ${configs[name]!.what}${s.notes ? ` [${s.notes.join('; ')}]` : ''}`,
    );
  } else if (args.protocol === 'cv') {
    const run = args['folds-run'] ? args['folds-run'].split(',').map(Number) : [...Array(folds).keys()];
    const rows: Awaited<ReturnType<typeof score>>[] = [];
    for (const f of run) {
      const { train: tr, test } = foldSplit(f);
      const s = await score(name, tr, test);
      rows.push(s);
      console.log(
        `  ${name} fold ${f}: RMSE ${fmt(s.rmse)} MAE ${fmt(s.mae)} train ${s.seconds.toFixed(1)} s`,
      );
    }
    const stat = (k: 'rmse' | 'mae' | 'seconds' | 'cpu') => {
      const v = rows.map((r) => r[k]);
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      return { m, s: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) };
    };
    const r = stat('rmse');
    const m = stat('mae');
    console.log(
      `${name.padEnd(12)} CV(${run.length} of ${folds} folds) RMSE ${fmt(r.m)} ± ${fmt(r.s)}  MAE ${fmt(m.m)} ± ${fmt(m.s)}  train ${stat('seconds').m.toFixed(1)} s/fold (${stat('cpu').m.toFixed(1)} s CPU)  — ${configs[name]!.what}`,
    );
  } else if (args.protocol === 'temporal') {
    const split = userHoldout(dataset.ratings, { strategy: 'recent', fraction: 0.2 });
    const s = await score(name, split.train, split.test);
    console.log(
      `${name.padEnd(12)} temporal holdout (latest 20%/user) at rating time RMSE ${fmt(s.rmse)} MAE ${fmt(s.mae)}; at now ${fmt(s.nowRmse)}/${fmt(s.nowMae)}  train ${s.seconds.toFixed(1)} s  — ${configs[name]!.what}`,
    );
  } else throw new Error(`--protocol must be inner, cv or temporal, got ${args.protocol}`);
}
console.log(
  `# load average at end: ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} on ${os.cpus().length} cores`,
);
