/**
 * The ranking models that train on worker threads (EASE's Gram and sweep, iALS's half-sweeps; issue 14) at 1 and 2
 * threads, alternated in the same run, through the CLI's precompiled bundle on the bundled data:
 *
 *   pnpm exec tsx bench/ranking-threads.ts [--presets ease,default,ials] [--runs 3]
 *
 * Each run is `node apps/cli/dist/main.mjs train --task ranking --preset <p> --validation 0 --threads <t> --out <tmp>
 * --json`; the wall clock spans the process, the fit time is the JSON's `seconds`. Prints every run with the 1-minute
 * load average read just before it and the cores this process could get then (two worker threads spinning for
 * 0.3 s: CPU time / wall time — on a shared machine whose scheduler splits the cores between sessions, 1.0 means a
 * second thread gains nothing), then per preset the medians and the 1 → 2 thread speed-up (median / median). The
 * weights do not depend on the thread count (test/rows-parallel.test.ts); read the ratio beside the load and cores.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const presets = (flag('--presets') ?? 'ease,default,ials').split(',');
const runs = Number(flag('--runs') ?? 3);
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(os.tmpdir(), 'movierec-ranking-threads-'));

// build the bundle (bin/movierec.mjs rebuilds it when a source changed) before any timing
spawnSync(process.execPath, [join(root, 'apps/cli/bin/movierec.mjs'), '--help'], { stdio: 'ignore' });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** The cores two busy threads of this process get now: their CPU time over 0.3 s of wall time. */
async function coresFree(): Promise<number> {
  const spin = `const t = Date.now(); let x = 0; while (Date.now() - t < 300) x += Math.sqrt(x + 1);
    require('node:worker_threads').parentPort.postMessage(x);`;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    [0, 1].map(() => new Promise((resolve) => new Worker(spin, { eval: true }).once('message', resolve))),
  );
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / (performance.now() - t0);
}

function once(preset: string, threads: number): { wall: number; fit: number; load: number } {
  const load = os.loadavg()[0]!;
  const out = join(dir, `${preset}-${threads}.mrm`);
  const t0 = performance.now();
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'apps/cli/dist/main.mjs'),
      'train',
      '--task',
      'ranking',
      '--preset',
      preset,
      '--validation',
      '0',
      '--threads',
      String(threads),
      '--out',
      out,
      '--json',
    ],
    { cwd: root, encoding: 'utf8' },
  );
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`train --preset ${preset} --threads ${threads} failed: ${r.stderr}`);
  const fit = (JSON.parse(r.stdout) as { seconds: number }).seconds;
  return { wall, fit, load };
}

console.log(
  `# ranking training at 1 vs 2 threads, bundled data, ${runs} alternated runs; ${os.cpus().length} cores`,
);
try {
  for (const preset of presets) {
    const seen: Record<number, { wall: number[]; fit: number[]; load: number[] }> = {
      1: { wall: [], fit: [], load: [] },
      2: { wall: [], fit: [], load: [] },
    };
    for (let run = 1; run <= runs; run++)
      for (const threads of [1, 2]) {
        const cores = await coresFree();
        const r = once(preset, threads);
        seen[threads]!.wall.push(r.wall);
        seen[threads]!.fit.push(r.fit);
        seen[threads]!.load.push(r.load);
        console.log(
          `${preset} run ${run} threads ${threads}: ${r.wall.toFixed(2)} s wall, fit ${r.fit.toFixed(3)} s, ` +
            `load ${r.load.toFixed(2)}, cores free ${cores.toFixed(2)}`,
        );
      }
    const [one, two] = [seen[1]!, seen[2]!];
    const loads = [...one.load, ...two.load];
    console.log(
      `${preset}: median wall ${median(one.wall).toFixed(2)} / ${median(two.wall).toFixed(2)} s, fit ` +
        `${median(one.fit).toFixed(3)} / ${median(two.fit).toFixed(3)} s at 1 / 2 threads; speed-up 1 → 2 threads ` +
        `×${(median(one.wall) / median(two.wall)).toFixed(2)} wall, ×${(median(one.fit) / median(two.fit)).toFixed(2)} fit; ` +
        `load average ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
