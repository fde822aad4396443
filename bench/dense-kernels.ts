/**
 * The dense linear algebra of training (issue 14), each on the WebAssembly SIMD GEMM (core's wasm/gemm.wat) beside
 * its scalar reference in the same run, on the bundled data's shapes:
 *   - a posterior-mean merge of the default preset: compressParams of a 548-factor sum (48 kept + 50 samples × 10)
 *     over 671 users × 9,066 movies to rank 48, one subspace iteration (random factors N(0, 1), seeded);
 *   - EASE's weights B from G = XᵀX + λI of the bundled ratings (binary X over movies with ≥ 10 ratings, λ 300):
 *     the blocked sweep (easeWeights) against the Cholesky reference (easeWeightsReference).
 * Each figure is the median over `--repeats` (default 3) of wall and CPU milliseconds; the ratio is reference / SIMD.
 * The results agree (max |Δ| printed).
 *
 *   pnpm exec tsx bench/dense-kernels.ts [--repeats n] [--json]
 */

import os from 'node:os';
import { allocParams } from '../packages/core/src/index.ts';
import { loadBundled, Rng } from '../packages/data/src/index.ts';
import { compressParams, easeWeights, easeWeightsReference } from '../packages/trainer/src/index.ts';

const json = process.argv.includes('--json');
const at = process.argv.indexOf('--repeats');
const repeats = at > 0 ? Number(process.argv[at + 1]) : 3;
if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error(`--repeats must be a positive integer`);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
function time<T>(f: () => T): { wall: number; cpu: number; value: T } {
  const runs: { wall: number; cpu: number; value: T }[] = [];
  for (let r = 0; r < repeats; r++) {
    const c = cpuMs();
    const t = performance.now();
    const value = f();
    runs.push({ wall: performance.now() - t, cpu: cpuMs() - c, value });
  }
  runs.sort((a, b) => a.wall - b.wall);
  return runs[Math.floor(runs.length / 2)]!;
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
};

const dataset = await loadBundled();
const { ratings } = dataset;
const numUsers = dataset.users.size;
const numItems = dataset.items.size;
const loadStart = os.loadavg();

// 1. a merge: 548 factors → 48
const K = 48 + 50 * 10;
const rng = new Rng(42);
const wide = allocParams(numUsers, numItems, K, 0);
for (const a of [wide.userFactors, wide.itemFactors]) for (let j = 0; j < a.length; j++) a[j] = rng.normal();
const opts = { seed: 1, powerIterations: 1 };
const mergeSimd = time(() => compressParams(wide, 48, opts));
const mergeScalar = time(() => compressParams(wide, 48, { ...opts, simd: false }));
const mergeDiff = maxAbsDiff(
  Float64Array.from({ length: 1000 }, (_, j) => predictInteraction(mergeSimd.value, j)),
  Float64Array.from({ length: 1000 }, (_, j) => predictInteraction(mergeScalar.value, j)),
);
function predictInteraction(p: typeof wide, j: number): number {
  const u = j % numUsers;
  const i = (j * 7919) % numItems;
  let s = 0;
  for (let a = 0; a < p.factors; a++)
    s += p.userFactors[u * p.factors + a]! * p.itemFactors[i * p.factors + a]!;
  return s;
}

// 2. EASE's inversion on the bundled data's Gram matrix
const seen = new Map<number, Set<number>>();
for (let r = 0; r < ratings.length; r++) {
  const i = ratings.items[r]!;
  let s = seen.get(i);
  if (!s) seen.set(i, (s = new Set()));
  s.add(ratings.users[r]!);
}
const kept = [...seen.entries()].filter(([, s]) => s.size >= 10).map(([i]) => i);
kept.sort((a, b) => a - b);
const m = kept.length;
const position = new Map(kept.map((i, a) => [i, a]));
const byUser: number[][] = Array.from({ length: numUsers }, () => []);
for (const [i, s] of seen) {
  const a = position.get(i);
  if (a !== undefined) for (const u of s) byUser[u]!.push(a);
}
const g = new Float64Array(m * m);
for (const list of byUser) for (const a of list) for (const b of list) if (b <= a) g[a * m + b]! += 1;
for (let a = 0; a < m; a++) g[a * m + a]! += 300;
const easeSimd = time(() => easeWeights(g, m));
const easeRef = time(() => easeWeightsReference(g.slice(), m));
const easeDiff = maxAbsDiff(easeSimd.value, easeRef.value);
const loadEnd = os.loadavg();

const result = {
  repeats,
  merge: {
    shape: `${numUsers} × ${numItems}, ${K} → 48 factors`,
    simd: { wallMs: mergeSimd.wall, cpuMs: mergeSimd.cpu },
    scalar: { wallMs: mergeScalar.wall, cpuMs: mergeScalar.cpu },
    ratio: mergeScalar.wall / mergeSimd.wall,
    maxAbsDiff: mergeDiff,
  },
  ease: {
    items: m,
    simd: { wallMs: easeSimd.wall, cpuMs: easeSimd.cpu },
    reference: { wallMs: easeRef.wall, cpuMs: easeRef.cpu },
    ratio: easeRef.wall / easeSimd.wall,
    maxAbsDiff: easeDiff,
  },
  loadAverage: { start: loadStart, end: loadEnd },
  cores: os.availableParallelism(),
};
if (json) console.log(JSON.stringify(result));
else {
  const f = (x: { wallMs: number; cpuMs: number }) =>
    `${x.wallMs.toFixed(0)} ms (${x.cpuMs.toFixed(0)} ms CPU)`;
  console.log(
    `# median of ${repeats}; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')} on ${result.cores} cores`,
  );
  console.log(
    `merge ${result.merge.shape}: SIMD ${f(result.merge.simd)}, scalar ${f(result.merge.scalar)}, ×${result.merge.ratio.toFixed(2)}; max |Δ p·q| ${mergeDiff.toExponential(1)}`,
  );
  console.log(
    `EASE weights, ${m} items: SIMD sweep ${f(result.ease.simd)}, Cholesky reference ${f(result.ease.reference)}, ×${result.ease.ratio.toFixed(2)}; max |Δ B| ${easeDiff.toExponential(1)}`,
  );
  console.log(`# load average at end: ${loadEnd.map((x) => x.toFixed(2)).join(' ')}`);
}
