/**
 * The main job's time from start to the first answered query, through the `movierec` binary
 * (apps/cli/bin/movierec.mjs) on its precompiled bundle and, with MOVIEREC_NO_DIST=1, on the TypeScript source
 * through tsx (what every run cost before the bundle), one after the other in the same run.
 *
 *   pnpm exec tsx bench/main-job-start.ts [--runs 2] [-- <extra main flags, e.g. --engine sgd --epochs 5>]
 *
 * Each run is `movierec main --port 0 --json <extra flags>` on an embedded database in a temporary folder that an
 * untimed first run migrated and imported into (so every timed run does the same work: migrations and import find
 * everything in place, then train, save, serve). The clock starts before the process is spawned and stops when the
 * answer to the sample query (`recommendations(userId: "1", limit: 10)` over HTTP) has arrived; the JSON line the
 * job prints when its server is up gives the URL. The bundle is built before timing. Prints the median of the runs
 * per path and the 1-minute load average.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const extra = dash >= 0 ? args.slice(dash + 1) : [];
const own = dash >= 0 ? args.slice(0, dash) : args;
const runsAt = own.indexOf('--runs');
const runs = runsAt >= 0 ? Number(own[runsAt + 1]) : 2;
const bin = fileURLToPath(new URL('../apps/cli/bin/movierec.mjs', import.meta.url));
const dataDir = mkdtempSync(join(os.tmpdir(), 'movierec-main-start-'));

function once(env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [bin, 'main', '--port', '0', '--json', ...extra], {
      env: { ...process.env, MOVIEREC_AUTH: 'off', MOVIEREC_DATA_DIR: join(dataDir, 'pglite'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
    });
    child.stdout.setEncoding('utf8').on('data', async (s: string) => {
      out += s;
      if (!out.includes('\n')) return;
      const { graphql } = JSON.parse(out.slice(0, out.indexOf('\n'))) as { graphql: string };
      out = '';
      try {
        const res = await fetch(graphql, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            query: '{ recommendations(userId: "1", limit: 10) { items { movie { id } } } }',
          }),
        });
        const body = (await res.json()) as { data?: unknown };
        if (!body.data) throw new Error(`no data in ${JSON.stringify(body)}`);
        resolve((performance.now() - t0) / 1000);
      } catch (error) {
        reject(error);
      } finally {
        child.kill('SIGINT');
      }
    });
    child.on('close', (code) => {
      if (code !== 0 && code !== 130) reject(new Error(`main exited ${code}: ${err.slice(-2000)}`));
    });
  });
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!;
try {
  process.stderr.write(`preparing the database and the bundle (untimed)…\n`);
  await once({});
  const times: Record<string, number[]> = { bundle: [], tsx: [] };
  const loads: number[] = [];
  for (let r = 0; r < runs; r++) {
    for (const [name, env] of [
      ['bundle', {}],
      ['tsx', { MOVIEREC_NO_DIST: '1' }],
    ] as const) {
      loads.push(os.loadavg()[0]!);
      const s = await once(env);
      times[name]!.push(s);
      process.stderr.write(`  ${name}: ${s.toFixed(2)} s to the first answered query\n`);
    }
  }
  const result = {
    bench: 'main-job-start',
    flags: extra,
    runs,
    medianSeconds: { bundle: median(times.bundle!), tsx: median(times.tsx!) },
    seconds: times,
    loadAverage1m: loads,
    cores: os.availableParallelism(),
  };
  console.log(JSON.stringify(result));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
