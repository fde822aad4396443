/**
 * Our SGD against LIBMF (the npm `libmf` package: LIBMF's prebuilt shared library called through koffi; a root
 * devDependency used by this bench only) on the SAME ratings in the same run, at 1 and 2 threads.
 *
 *   pnpm exec tsx bench/libmf-vs-ours.ts [--epochs 20] [--factors 32] [--l2 0.05] [--pairs 5] [--speed-epochs 60] [--ceiling-pairs 3] [--json]
 *
 * Data: ML-1M-shaped synthetic ratings (@movierec/data generateSynthetic, preset ml-1m, seed 1: 6,040 users, 3,706
 * movies, 1,000,209 ratings); 10% held out (seeded) for the holdout RMSE, both libraries train on the other 90%.
 * Both run k factors, the same number of epochs and the same L2 weight λ on the factors (per visited rating, in both:
 * p ← p + η(e·q − λ·p)), each with its own model (LIBMF: r̂ = p·q; ours adds μ and biases, λ_b 0.02) and its own
 * step size, chosen for each on an inner validation split (10% of the training part, never the holdout): LIBMF's
 * η (with its per-row adaptive steps, Chin et al. 2015b) from {0.05, 0.1, 0.2}, our γ from {0.005, 0.01, 0.02, 0.04}.
 *
 * How time per epoch is measured: LIBMF reports no per-epoch time, so its figure is the difference of two fits,
 * (t(epochs + 1 iterations) − t(1 iteration)) / epochs, which cancels the marshalling of the ratings through FFI and
 * its set-up (grid, shuffles). Ours is the median of the engine's own EpochStats.seconds. Wall-clock; the machine is
 * shared, so the 1-minute load average is printed, and the ratio of the two in the same run is the figure to trust.
 * At 1 thread the process CPU time per epoch (process.cpuUsage, differenced the same way for LIBMF, per epoch for
 * ours) is printed too: it is what the work costs when other jobs take the cores.
 * Our 1 → 2-thread speed-up is taken apart from those two runs, because one pair of ~10 ms epochs on a shared VM
 * moves by ±50% (and a 20-epoch median at 2 threads still holds the new workers' first, slower epochs):
 * `--pairs` fits of `--speed-epochs` epochs each at 1 and at 2 threads, interleaved (1, 2, 1, 2, …), each timed as
 * above (median of its EpochStats.seconds); each pair gives a ratio t₁/t₂, and the median ratio and its range are
 * printed, with libmf's speed-up and ours from the two runs above beside them.
 * The machine's ceiling for that speed-up is measured beside it (`--ceiling-pairs`): the same 1-thread fit in one
 * child process alone, then in two at once (started together once both have built their data); 2·t_alone/t_together
 * is what two cores give this kernel with nothing shared — a 2-vCPU VM whose vCPUs are one core's two hyper-threads,
 * or a busy host, gives well under 2, and no schedule can beat it.
 * Also printed: the final training loss at 2 threads against 1 (block scheduling gives the same result; also checked
 * on every speed pair), Hogwild at 2 threads and the single-threaded global-shuffle engine (loss and holdout RMSE
 * after the same epochs, seconds).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Matrix, Model } from 'libmf';
import type { MFParams } from '../packages/core/src/index.ts';
import { generateSynthetic, type RatingColumns, Rng, takeRows } from '../packages/data/src/index.ts';
import type { TrainConfig } from '../packages/trainer/src/engine.ts';
import { createParallelSgdEngine } from '../packages/trainer/src/engines/sgd-parallel.ts';

const args = process.argv.slice(2);
const json = args.includes('--json') || args.includes('--probe');
const flag = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  const v = at >= 0 ? Number(args[at + 1]) : fallback;
  if (!(Number.isFinite(v) && v >= 0))
    throw new Error(`${name} must be a non-negative number, got ${args[at + 1]}`);
  return v;
};
const epochs = flag('--epochs', 20);
const factors = flag('--factors', 32);
const lambda = flag('--l2', 0.05);
const pairs = flag('--pairs', 5);
const speedEpochs = flag('--speed-epochs', 60);
const ceilingPairs = flag('--ceiling-pairs', 3);
const say = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};
const load = () => os.loadavg()[0]!;

const data = generateSynthetic({ preset: 'ml-1m', seed: 1 });
const shape = { numUsers: data.users.size, numItems: data.items.size };
const n = data.ratings.length;
const perm = new Rng(7).permutation(n);
const holdout = takeRows(data.ratings, perm.subarray(0, Math.round(n / 10)));
const trainRows = takeRows(data.ratings, perm.subarray(Math.round(n / 10)).sort());
say(
  `data: ${n.toLocaleString()} ratings (${trainRows.length.toLocaleString()} train, ${holdout.length.toLocaleString()} holdout), ` +
    `${shape.numUsers} users, ${shape.numItems} movies; k ${factors}, ${epochs} epochs, λ ${lambda}; ` +
    `${os.availableParallelism()} cores, load average ${load().toFixed(2)}`,
);

function toMatrix(c: RatingColumns): Matrix {
  const m = new Matrix();
  for (let r = 0; r < c.length; r++) m.push(c.users[r]!, c.items[r]!, c.ratings[r]!);
  return m;
}
const trainMatrix = toMatrix(trainRows);
const holdoutMatrix = toMatrix(holdout);

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function libmfFit(threads: number, iterations: number, eta: number, on = trainMatrix) {
  const model = new Model({
    factors,
    iterations,
    threads,
    lambdaP2: lambda,
    lambdaQ2: lambda,
    learningRate: eta,
    quiet: true,
  });
  const t0 = performance.now();
  const c0 = cpuSeconds();
  model.fit(on);
  const seconds = (performance.now() - t0) / 1000;
  return { model, seconds, cpu: cpuSeconds() - c0 };
}

function libmf(threads: number) {
  const short = libmfFit(threads, 1, libmfEta);
  short.model.destroy();
  const long = libmfFit(threads, epochs + 1, libmfEta);
  const result = {
    threads,
    eta: libmfEta,
    secondsPerEpoch: (long.seconds - short.seconds) / epochs,
    cpuSecondsPerEpoch: (long.cpu - short.cpu) / epochs,
    holdoutRmse: long.model.rmse(holdoutMatrix),
    trainRmse: long.model.rmse(trainMatrix),
  };
  long.model.destroy();
  return result;
}

const sgdConfig: TrainConfig = {
  optimizer: 'sgd',
  factors,
  epochs,
  batchSize: 4096,
  learningRate: 0.01, // replaced by the inner-split choice below
  l2: lambda,
  l2Bias: 0.02,
  initStd: 0.1,
  init: 'normal',
  seed: 42,
};

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;

function rmseOf(p: MFParams, rows: RatingColumns) {
  let sse = 0;
  for (let r = 0; r < rows.length; r++) {
    const u = rows.users[r]!;
    const i = rows.items[r]!;
    let dot = 0;
    for (let f = 0; f < factors; f++)
      dot += p.userFactors[u * factors + f]! * p.itemFactors[i * factors + f]!;
    const e = rows.ratings[r]! - (p.globalMean + p.userBias[u]! + p.itemBias[i]! + dot);
    sse += e * e;
  }
  return Math.sqrt(sse / rows.length);
}

async function ours(
  threads: number,
  schedule: 'blocks' | 'hogwild' | 'shuffle' = 'blocks',
  config: TrainConfig = sgdConfig,
) {
  const seconds: number[] = [];
  const cpu: number[] = [];
  let loss = Number.NaN;
  const t0 = performance.now();
  let c0 = cpuSeconds();
  const p = await createParallelSgdEngine({ schedule }).fit(trainRows, shape, config, {
    threads,
    onEpoch: (s) => {
      seconds.push(s.seconds);
      cpu.push(cpuSeconds() - c0);
      loss = s.loss;
      c0 = cpuSeconds();
      return undefined;
    },
  });
  const total = (performance.now() - t0) / 1000;
  return {
    threads,
    schedule,
    learningRate: sgdConfig.learningRate,
    secondsPerEpoch: median(seconds),
    // per-epoch CPU between epoch ends (the first also holds the set-up): the median leaves that out
    cpuSecondsPerEpoch: median(cpu),
    totalSeconds: total,
    finalLoss: loss,
    holdoutRmse: rmseOf(p, holdout),
  };
}

// --probe γ: one 1-thread fit of --speed-epochs epochs with step size γ, its median seconds per epoch as JSON on stdout
// (the machine-ceiling measurement below runs one, then two at once, as child processes)
const probeAt = args.indexOf('--probe');
if (probeAt >= 0) {
  // ready once the data is built; the fit starts on the parent's line on stdin, so two probes fit at the same time
  process.stdout.write('ready\n');
  await new Promise((go) => process.stdin.once('data', go));
  const fit = await ours(1, 'blocks', {
    ...sgdConfig,
    learningRate: Number(args[probeAt + 1]),
    epochs: speedEpochs,
  });
  console.log(JSON.stringify({ secondsPerEpoch: fit.secondsPerEpoch }));
  process.exit(0);
}

// step sizes on an inner validation split of the training part (the holdout is not looked at)
const innerPerm = new Rng(8).permutation(trainRows.length);
const innerCut = Math.round(trainRows.length / 10);
const innerValid = takeRows(trainRows, innerPerm.subarray(0, innerCut));
const innerTrain = takeRows(trainRows, innerPerm.subarray(innerCut).sort());
let libmfEta = 0.1;
{
  const inner = toMatrix(innerTrain);
  const innerValidMatrix = toMatrix(innerValid);
  let best = Number.POSITIVE_INFINITY;
  for (const eta of [0.05, 0.1, 0.2]) {
    const { model } = libmfFit(2, epochs, eta, inner);
    const r = model.rmse(innerValidMatrix);
    model.destroy();
    say(`  tuning libmf η ${eta}: inner validation RMSE ${r.toFixed(4)}`);
    if (r < best) [best, libmfEta] = [r, eta];
  }
  best = Number.POSITIVE_INFINITY;
  let gamma = sgdConfig.learningRate;
  for (const g of [0.005, 0.01, 0.02, 0.04]) {
    const p = await createParallelSgdEngine().fit(
      innerTrain,
      shape,
      { ...sgdConfig, learningRate: g },
      { threads: 2 },
    );
    const r = rmseOf(p, innerValid);
    say(`  tuning our γ ${g}: inner validation RMSE ${r.toFixed(4)}`);
    if (r < best) [best, gamma] = [r, g];
  }
  sgdConfig.learningRate = gamma;
  say(`chosen on the inner split: libmf η ${libmfEta}, our γ ${gamma}`);
}

const rows = [];
for (const threads of [1, 2]) {
  const startLoad = load();
  const theirs = libmf(threads);
  const our = await ours(threads);
  rows.push({
    threads,
    libmf: theirs,
    ours: our,
    ratio: our.secondsPerEpoch / theirs.secondsPerEpoch,
    load: startLoad,
  });
  say(
    `${threads} thread${threads > 1 ? 's' : ''}: ours ${our.secondsPerEpoch.toFixed(4)} s/epoch, libmf ${theirs.secondsPerEpoch.toFixed(4)} s/epoch → ` +
      `ratio ${(our.secondsPerEpoch / theirs.secondsPerEpoch).toFixed(2)}` +
      (threads === 1
        ? ` (CPU s/epoch: ours ${our.cpuSecondsPerEpoch.toFixed(4)}, libmf ${theirs.cpuSecondsPerEpoch.toFixed(4)} → ` +
          `${(our.cpuSecondsPerEpoch / theirs.cpuSecondsPerEpoch).toFixed(2)})`
        : '') +
      `; holdout RMSE ours ${our.holdoutRmse.toFixed(4)}, ` +
      `libmf ${theirs.holdoutRmse.toFixed(4)}; final training loss (MSE) ours ${our.finalLoss.toFixed(5)} ` +
      `(load ${startLoad.toFixed(2)})`,
  );
}
const [one, two] = rows as [(typeof rows)[0], (typeof rows)[0]];
const lossChange = two.ours.finalLoss / one.ours.finalLoss - 1;
// the speed-up: interleaved pairs of longer fits (see the header)
const speedConfig = { ...sgdConfig, epochs: speedEpochs };
const speedRuns = [];
for (let i = 0; i < pairs; i++) {
  const startLoad = load();
  const a = await ours(1, 'blocks', speedConfig);
  const b = await ours(2, 'blocks', speedConfig);
  const run = {
    oneThread: a.secondsPerEpoch,
    twoThreads: b.secondsPerEpoch,
    ratio: a.secondsPerEpoch / b.secondsPerEpoch,
    sameLoss: a.finalLoss === b.finalLoss,
    load: startLoad,
  };
  speedRuns.push(run);
  say(
    `  pair ${i + 1}: ours ${run.oneThread.toFixed(4)} / ${run.twoThreads.toFixed(4)} s/epoch at 1 / 2 threads → ` +
      `×${run.ratio.toFixed(2)}; final training loss ${run.sameLoss ? 'identical' : `${a.finalLoss} vs ${b.finalLoss}`} (load ${startLoad.toFixed(2)})`,
  );
}
const ratios = speedRuns.map((r) => r.ratio);
const speedup = ratios.length > 0 ? median(ratios) : Number.NaN;
say(
  `ours 1→2 threads: ×${speedup.toFixed(2)} per epoch, median of ${ratios.length} interleaved pairs of ${speedEpochs}-epoch fits ` +
    `(range ×${Math.min(...ratios).toFixed(2)}–×${Math.max(...ratios).toFixed(2)}; libmf ×${(one.libmf.secondsPerEpoch / two.libmf.secondsPerEpoch).toFixed(2)}, ` +
    `ours ×${(one.ours.secondsPerEpoch / two.ours.secondsPerEpoch).toFixed(2)} in the two runs above); ` +
    `final training loss at 2 threads vs 1: ${(lossChange * 100).toFixed(3)}%`,
);
// The machine's own ceiling for this kernel: the same 1-thread fit alone, then two at once in two processes (no
// shared data, no synchronisation); 2·t_alone / t_together is the most any 2-thread schedule could gain on these
// cores — below 2 where the two vCPUs share a physical core's SIMD units or memory bandwidth, or the host is busy.
function probe(): Promise<{ child: ChildProcess; result: Promise<number> }> {
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      '--probe',
      String(sgdConfig.learningRate),
      '--speed-epochs',
      String(speedEpochs),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  const result = new Promise<number>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.slice(out.indexOf('\n') + 1)).secondsPerEpoch)
        : reject(new Error(`probe exited with ${code}`)),
    ),
  );
  return new Promise((ready) => {
    child.stdout.on('data', (d: string) => {
      const before = out;
      out += d;
      if (!before.includes('\n') && out.includes('\n')) ready({ child, result });
    });
  });
}
async function fitTogether(count: number): Promise<number[]> {
  const probes = await Promise.all(Array.from({ length: count }, probe));
  for (const p of probes) p.child.stdin!.end('go\n');
  return Promise.all(probes.map((p) => p.result));
}
const ceilings = [];
for (let i = 0; i < ceilingPairs; i++) {
  const startLoad = load();
  const [alone] = (await fitTogether(1)) as [number];
  const together = await fitTogether(2);
  const run = { alone, together, ceiling: (2 * alone) / mean(together), load: startLoad };
  ceilings.push(run);
  say(
    `  ceiling ${i + 1}: one 1-thread fit alone ${alone.toFixed(4)} s/epoch, two at once ${together.map((t) => t.toFixed(4)).join(' / ')} → ` +
      `×${run.ceiling.toFixed(2)} (load ${startLoad.toFixed(2)})`,
  );
}
const ceiling = ceilings.length > 0 ? median(ceilings.map((c) => c.ceiling)) : Number.NaN;
say(
  `machine ceiling for this kernel at 2 cores: ×${ceiling.toFixed(2)} (median of ${ceilings.length}); ours reaches ×${speedup.toFixed(2)}, ` +
    `${((100 * speedup) / ceiling).toFixed(0)}% of it`,
);
const others = [await ours(2, 'hogwild'), await ours(1, 'shuffle')];
for (const o of others)
  say(
    `  ${o.schedule} (${o.threads} thread${o.threads > 1 ? 's' : ''}): ${o.secondsPerEpoch.toFixed(4)} s/epoch, ` +
      `${o.totalSeconds.toFixed(2)} s in all, loss ${o.finalLoss.toFixed(5)}, holdout RMSE ${o.holdoutRmse.toFixed(4)} ` +
      `(blocks, 2 threads: ${two.ours.totalSeconds.toFixed(2)} s, ${two.ours.finalLoss.toFixed(5)}, ${two.ours.holdoutRmse.toFixed(4)})`,
  );
say(`load average at the end ${load().toFixed(2)}`);
if (json)
  console.log(
    JSON.stringify({
      bench: 'libmf-vs-ours',
      data: { shape: 'ml-1m', ratings: n, train: trainRows.length, holdout: holdout.length },
      factors,
      epochs,
      lambda,
      runs: rows,
      speedup,
      speedupRange: [Math.min(...ratios), Math.max(...ratios)],
      speedRuns,
      speedEpochs,
      ceiling,
      ceilings,
      finalLossChange: lossChange,
      otherSchedules: others,
      cores: os.availableParallelism(),
      loadAverage1m: load(),
      node: process.version,
    }),
  );
