/**
 * The ranking models that train on worker threads (EASE's Gram and sweep, iALS's half-sweeps; issue 14) at 1 and 2
 * threads, alternated in the same run, through the CLI's precompiled bundle on the bundled data:
 *
 *   pnpm exec tsx bench/ranking-threads.ts [--presets ease,default,ials] [--runs 3]
 *
 * Each run is `node apps/cli/dist/main.mjs train --task ranking --preset <p> --validation 0 --threads <t> --out <tmp>
 * --json`; the wall clock spans the process, the fit time is the JSON's `seconds`. Prints every run with the 1-minute
 * load average read just before it, then per preset the medians and the 1 → 2 thread speed-up (median / median).
 * The weights do not depend on the thread count (test/rows-parallel.test.ts); the machine is shared, so read the
 * ratio beside the load.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
        const r = once(preset, threads);
        seen[threads]!.wall.push(r.wall);
        seen[threads]!.fit.push(r.fit);
        seen[threads]!.load.push(r.load);
        console.log(
          `${preset} run ${run} threads ${threads}: ${r.wall.toFixed(2)} s wall, fit ${r.fit.toFixed(3)} s, load ${r.load.toFixed(2)}`,
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
