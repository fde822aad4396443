/**
 * Native engine speed on MovieLens-shaped synthetic data (@movierec/data's generateSynthetic: planted biased MF,
 * Zipf-like activity and popularity).
 *
 *   pnpm exec tsx bench/train-speed.ts [--epochs N] [--js] [--json]
 *     ML-1M shape (6,040 users, 3,706 movies, 1,000,209 ratings), 32 factors, batch 4096:
 *     native Adam (lr 0.005, no L2 — the reference preset's maths) and native SGD (γ 0.005, λ 0.02), seconds per epoch.
 *     --js also runs the plain typed-array kernels (the float64 reference) for comparison.
 *   pnpm exec tsx bench/train-speed.ts --scale [--engine adam|sgd|als|bpmf] [--factors K] [--threads N] [--js]
 *       [--sample-factors K] [--json]
 *     ML-25M shape (162,541 users, 59,047 movies, 25,000,095 ratings): ONE epoch of the default preset's engine
 *     (or --engine; the default preset's other settings, its factor count unless --factors) on --threads worker
 *     threads (default every core; engines without threads ignore it) and the process's peak resident memory.
 *     --js with bpmf: its scalar row loops (the reference) instead of the WebAssembly SIMD kernel (bpmf-rows.wat);
 *     --sample-factors K: bpmf's sampled factor count (default the preset's 10, rows of d = K + 1).
 *
 * How it is measured: wall seconds per epoch are the engine's own EpochStats.seconds (around its epoch loop, after
 * the data exists); CPU seconds are process.cpuUsage() (user + system) between epoch ends (the first epoch's also
 * holds the engine's setup: input checks, packing the rows, initial factors), which is less inflated
 * than wall time when other jobs share the cores; peak memory is process.resourceUsage().maxRSS. The 1-minute load
 * average and core count are printed alongside, because the machine is shared.
 */
import os from 'node:os';
import { generateSynthetic } from '../packages/data/src/index.ts';
import type { Engine, TrainConfig } from '../packages/trainer/src/engine.ts';
import { createAdamEngine } from '../packages/trainer/src/engines/adam.ts';
import { createBayesEngine } from '../packages/trainer/src/engines/bayes.ts';
import { createSgdEngine } from '../packages/trainer/src/engines/sgd.ts';
import { presets } from '../packages/trainer/src/presets.ts';
import { nativeEngines } from '../packages/trainer/src/train.ts';
import { args, flag } from './lib/args.ts';

const json = args.includes('--json');
const scale = args.includes('--scale');
const withJs = args.includes('--js');
const epochs = Number(flag('--epochs') ?? (scale ? 1 : 3));
if (!(Number.isInteger(epochs) && epochs >= 1))
  throw new Error(`--epochs must be a positive integer, got ${epochs}`);
const say = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

interface Run {
  name: string;
  kernels: string;
  factors: number;
  wallPerEpoch: number[];
  cpuPerEpoch: number[];
  finalLoss: number;
}

async function measure(
  name: string,
  kernels: string,
  engine: Engine,
  data: ReturnType<typeof generateSynthetic>,
  config: TrainConfig,
  threads?: number,
) {
  const wall: number[] = [];
  const cpu: number[] = [];
  let loss = Number.NaN;
  let last = process.cpuUsage();
  await engine.fit(data.ratings, { numUsers: data.users.size, numItems: data.items.size }, config, {
    ...(threads === undefined ? {} : { threads }),
    onEpoch: (s) => {
      const used = process.cpuUsage(last);
      last = process.cpuUsage();
      wall.push(s.seconds);
      cpu.push((used.user + used.system) / 1e6);
      loss = s.loss;
      say(
        `  ${name} (${kernels}) epoch ${s.epoch}: ${s.seconds.toFixed(3)} s wall, ${cpu.at(-1)!.toFixed(3)} s CPU, ` +
          `loss ${s.loss.toFixed(4)}, ${(s.ratingsPerSecond / 1e6).toFixed(2)} M ratings/s`,
      );
      return undefined;
    },
  });
  const run: Run = {
    name,
    kernels,
    factors: config.factors,
    wallPerEpoch: wall,
    cpuPerEpoch: cpu,
    finalLoss: loss,
  };
  return run;
}

const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const runs: Run[] = [];
const t0 = performance.now();
const data = generateSynthetic({ preset: scale ? 'ml-25m' : 'ml-1m', seed: 1 });
say(
  `data: ${data.ratings.length.toLocaleString()} ratings, ${data.users.size} users, ${data.items.size} movies ` +
    `(generated in ${((performance.now() - t0) / 1000).toFixed(1)} s); ${os.cpus().length} cores, ` +
    `load average ${os.loadavg()[0]!.toFixed(2)}`,
);

if (scale) {
  const which = (flag('--engine') ?? presets.default.optimizer) as TrainConfig['optimizer'];
  const factors = Number(flag('--factors') ?? presets.default.factors);
  const config: TrainConfig = { ...(presets.default as TrainConfig), optimizer: which, epochs, factors };
  // the Bayesian engine needs epochs (Gibbs sweeps) > burn-in: time the sweeps asked for with the burn-in cut short
  if (which === 'bpmf') {
    config.bayes = { ...config.bayes, burnIn: Math.min(config.bayes?.burnIn ?? 0, epochs - 1) };
    // --sample-factors K: the sampler's own factor count (the default preset's 10; d = K + 1 per row)
    const sampled = flag('--sample-factors');
    if (sampled !== undefined) {
      const count = Number(sampled);
      if (!(Number.isInteger(count) && count >= 1))
        throw new Error(`--sample-factors must be a positive integer, got ${sampled}`);
      config.bayes = { ...config.bayes, sampleFactors: count };
    }
  }
  // --js: the Bayesian engine's scalar row loops (the reference) instead of its SIMD kernel
  const engine = which === 'bpmf' && withJs ? createBayesEngine({ kernels: 'js' }) : nativeEngines[which];
  if (!engine)
    throw new Error(`--engine must be one of ${Object.keys(nativeEngines).join(', ')}, got ${which}`);
  const threads = flag('--threads') === undefined ? undefined : Number(flag('--threads'));
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1))
    throw new Error(`--threads must be a positive integer, got ${flag('--threads')}`);
  runs.push(
    await measure(
      which,
      which === 'adam' || which === 'sgd' || (which === 'bpmf' && !withJs) ? 'auto' : 'js',
      engine,
      data,
      config,
      threads,
    ),
  );
} else {
  const base = { factors: 32, epochs, batchSize: 4096, initStd: 0.05, seed: 42 };
  const adam: TrainConfig = { ...base, optimizer: 'adam', learningRate: 0.005, l2: 0 };
  const sgd: TrainConfig = { ...base, optimizer: 'sgd', learningRate: 0.005, l2: 0.02, initStd: 0.1 };
  for (const kernels of withJs ? (['wasm', 'js'] as const) : (['wasm'] as const)) {
    runs.push(await measure('adam', kernels, createAdamEngine({ kernels }), data, adam));
    runs.push(await measure('sgd', kernels, createSgdEngine({ kernels }), data, sgd));
  }
}
const peakRssMB = process.resourceUsage().maxRSS / 1024;

const summary = runs.map((r) => ({
  engine: r.name,
  kernels: r.kernels,
  factors: r.factors,
  medianWallSecondsPerEpoch: median(r.wallPerEpoch),
  medianCpuSecondsPerEpoch: median(r.cpuPerEpoch),
  wallPerEpoch: r.wallPerEpoch,
  cpuPerEpoch: r.cpuPerEpoch,
  finalLoss: r.finalLoss,
}));
const result = {
  bench: 'train-speed',
  data: {
    shape: scale ? 'ml-25m' : 'ml-1m',
    ratings: data.ratings.length,
    users: data.users.size,
    movies: data.items.size,
  },
  batchSize: scale ? presets.default.batchSize : 4096,
  runs: summary,
  peakRssMB: Math.round(peakRssMB),
  cores: os.cpus().length,
  loadAverage1m: os.loadavg()[0],
  node: process.version,
};
if (json) console.log(JSON.stringify(result));
else {
  for (const s of summary)
    console.log(
      `${s.engine} (${s.kernels} kernels, ${s.factors} factors): ${s.medianWallSecondsPerEpoch.toFixed(3)} s/epoch wall, ` +
        `${s.medianCpuSecondsPerEpoch.toFixed(3)} s/epoch CPU (median of ${s.wallPerEpoch.length} epochs on ` +
        `${result.data.ratings.toLocaleString()} ratings)`,
    );
  console.log(`peak resident memory ${result.peakRssMB} MB (process maxRSS, data generation included)`);
  console.log(
    `measured on ${result.cores} shared cores, 1-min load average ${result.loadAverage1m!.toFixed(2)}`,
  );
}
