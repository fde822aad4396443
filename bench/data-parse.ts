/**
 * Parse speed and memory of the GroupLens ratings.csv reader on a synthetic 25M-row file (ML-25M sized).
 *
 *   pnpm exec tsx bench/data-parse.ts [--rows 25000000] [--file path] [--json]
 *
 * Method: the file is generated once (generateSynthetic + writeRatingsCsv) into the OS temp folder and reused.
 * Parsing runs in a fresh child process so the baseline is clean: baseline = RSS after the modules load; the
 * kernel's peak-RSS counter (VmHWM) is reset (/proc/self/clear_refs) and read after loadDataset returns;
 * bytes/rating = (peak RSS − baseline RSS) / ratings. Rate = ratings / wall time of loadDataset (file → Dataset,
 * including ID maps and duplicate check); CPU time of the process is printed beside it. The parse child runs with
 * --max-old-space-size=128: the rows never touch the JS heap.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSynthetic, loadDataset, writeRatingsCsv } from '../packages/data/src/index.ts';
import { args, flag } from './lib/args.ts';

const json = args.includes('--json') || args.includes('--child-quiet');
const rows = Number(flag('--rows') ?? 25_000_000);

function status(key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

async function childParse(file: string): Promise<void> {
  const baseline = process.memoryUsage();
  try {
    writeFileSync('/proc/self/clear_refs', '5'); // reset VmHWM to the current RSS
  } catch {}
  let peakExternal = 0;
  let peakHeap = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const d = await loadDataset(file, {
    format: 'grouplens-csv',
    movies: false,
    onProgress: () => {
      const m = process.memoryUsage();
      peakExternal = Math.max(peakExternal, m.external);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const end = process.memoryUsage();
  const result = {
    ratings: d.ratings.length,
    users: d.users.size,
    items: d.items.size,
    duplicates: d.report.duplicates,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    baselineRss: baseline.rss,
    peakRss: status('VmHWM'),
    endRss: end.rss,
    peakExternal,
    peakHeapUsed: peakHeap,
    baselineExternal: baseline.external,
    baselineHeapUsed: baseline.heapUsed,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function childGenerate(file: string, n: number): Promise<void> {
  const tty = process.stderr.isTTY && !json;
  const bar = (what: string) => (p: { done: number; total: number }) => {
    if (tty) process.stderr.write(`\r  ${what} ${((100 * p.done) / p.total).toFixed(0).padStart(3)}%`);
  };
  const d = generateSynthetic({ preset: 'ml-25m', ratings: n, seed: 25, onProgress: bar('generating') });
  writeRatingsCsv(d, file, { onProgress: bar('writing   ') });
  if (tty) process.stderr.write('\n');
}

function runChild(mode: string, ...rest: string[]): string {
  const script = fileURLToPath(import.meta.url);
  // the parse child runs with a small JS heap: the columns live outside it, so 25M ratings must fit regardless
  const heap = mode === '--child-parse' ? [`--max-old-space-size=${HEAP_MB}`] : [];
  const r = spawnSync(process.execPath, [...heap, ...process.execArgv, script, mode, ...rest], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${mode} child failed with status ${r.status}`);
  return r.stdout;
}

const HEAP_MB = 128;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;

if (args[0] === '--child-parse') await childParse(args[1]!);
else if (args[0] === '--child-generate') await childGenerate(args[1]!, Number(args[2]));
else {
  const file = flag('--file') ?? join(tmpdir(), 'movierec-bench', `synthetic-${rows}-ratings.csv`);
  if (!existsSync(file)) {
    await mkdir(join(file, '..'), { recursive: true });
    if (!json) console.log(`generating ${rows.toLocaleString('en')} synthetic ratings into ${file} …`);
    const t = performance.now();
    runChild('--child-generate', file, String(rows), ...(json ? ['--child-quiet'] : []));
    if (!json) console.log(`  generated and written in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const r = JSON.parse(runChild('--child-parse', file));
  const rate = r.ratings / r.seconds;
  const perRating = (r.peakRss - r.baselineRss) / r.ratings;
  const out = {
    file,
    fileBytes: statSync(file).size,
    ...r,
    ratingsPerSecond: rate,
    ratingsPerCpuSecond: r.ratings / r.cpuSeconds,
    peakBytesPerRatingAboveBaseline: perRating,
    loadAverage: (await import('node:os')).loadavg()[0] ?? 0,
  };
  if (json) console.log(JSON.stringify(out));
  else {
    console.log(`data-parse: GroupLens ratings.csv → Dataset (loadDataset, format grouplens-csv, no movies)`);
    console.log(`  file            ${file} (${mb(out.fileBytes)})`);
    console.log(`  ratings         ${r.ratings.toLocaleString('en')} (${r.users} users × ${r.items} movies)`);
    console.log(`  time            ${r.seconds.toFixed(2)} s wall, ${r.cpuSeconds.toFixed(2)} s CPU`);
    console.log(
      `  rate            ${(rate / 1e6).toFixed(2)} M ratings/s wall (${(out.ratingsPerCpuSecond / 1e6).toFixed(2)} M/s per CPU-second)`,
    );
    console.log(
      `  memory          baseline RSS ${mb(r.baselineRss)}, peak RSS ${mb(r.peakRss)} (VmHWM), after ${mb(r.endRss)}`,
    );
    console.log(`  peak above base ${perRating.toFixed(1)} bytes/rating (target ≤ 24; columns alone are 16)`);
    console.log(
      `  V8              peak external ${mb(r.peakExternal)} (reserved, not all resident), peak heap used ${mb(r.peakHeapUsed)} (limit ${HEAP_MB} MB)`,
    );
    console.log(`  load average    ${out.loadAverage.toFixed(2)} (2 cores, shared)`);
  }
}
