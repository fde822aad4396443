/**
 * Time to read the bundled MovieLens ml-latest-small (ratings.csv.gz + movies.csv.gz → Dataset) end to end.
 *
 *   pnpm exec tsx bench/data-bundled.ts [--runs 5] [--json]
 *
 * Method: in this process, time the dynamic import of @movierec/data, then the first loadBundled() (cold: includes
 * JIT warm-up, gunzip, parsing ratings and movies, ID maps), then `runs` more calls (warm) and report their median.
 * Wall-clock time from performance.now(); CPU time of the first call from process.cpuUsage().
 */
import { loadavg } from 'node:os';

const args = process.argv.slice(2);
const json = args.includes('--json');
const k = args.indexOf('--runs');
const runs = k >= 0 ? Number(args[k + 1]) : 5;

const t0 = performance.now();
const { loadBundled } = await import('../packages/data/src/index.ts');
const importMs = performance.now() - t0;

const cpu0 = process.cpuUsage();
const t1 = performance.now();
const first = await loadBundled();
const firstMs = performance.now() - t1;
const cpu = process.cpuUsage(cpu0);
const firstCpuMs = (cpu.user + cpu.system) / 1000;

const warm: number[] = [];
for (let r = 0; r < runs; r++) {
  const t = performance.now();
  await loadBundled();
  warm.push(performance.now() - t);
}
warm.sort((a, b) => a - b);
const median = warm[Math.floor(warm.length / 2)] ?? Number.NaN;

const result = {
  ratings: first.ratings.length,
  users: first.users.size,
  movies: first.items.size,
  importMs,
  firstLoadMs: firstMs,
  firstLoadCpuMs: firstCpuMs,
  warmMedianMs: median,
  warmRuns: runs,
  loadAverage: loadavg()[0] ?? 0,
};
if (json) console.log(JSON.stringify(result));
else {
  console.log('data-bundled: loadBundled() — ml-latest-small ratings.csv.gz + movies.csv.gz → Dataset');
  console.log(
    `  dataset         ${result.ratings.toLocaleString('en')} ratings, ${result.users} users, ${result.movies} movies`,
  );
  console.log(`  import          ${importMs.toFixed(0)} ms (tsx transform of the data package)`);
  console.log(
    `  first load      ${firstMs.toFixed(0)} ms wall, ${firstCpuMs.toFixed(0)} ms CPU (cold; target < 500 ms)`,
  );
  console.log(`  warm load       ${median.toFixed(0)} ms median of ${runs}`);
  console.log(`  load average    ${result.loadAverage.toFixed(2)} (2 cores, shared)`);
}
