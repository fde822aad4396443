/**
 * predictRating served from a time-aware model against the static one (issue 13, serving): the same bundled data,
 * the `default` and `temporal` presets (fewer sweeps than the presets' 120 — the served structure is the same), each
 * activated in turn on one API process (PostgreSQL), `wrk` from outside Node with every body distinct (the user and
 * the movie in variables, a nonce: the response cache cannot help), alternated A B A B so the ratio is taken pair by
 * pair. "now" is the default time, as a client asks.
 *
 *   pnpm exec tsx bench/predict-serving.ts [--seconds 10] [--rounds 2] [--sweeps 30]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadBundled } from '../packages/data/src/index.ts';
import { activateModelVersion, importDataset, saveModel } from '../packages/db/src/index.ts';
import { createTestDatabase } from '../packages/db/src/testing.ts';
import { train } from '../packages/trainer/src/index.ts';
import { startReplica } from './lib/replica.ts';
import { runWrk } from './lib/wrk.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    sweeps: { type: 'string', default: '30' },
  },
});
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const db = await createTestDatabase('postgres');
const dir = await mkdtemp(join(tmpdir(), 'movierec-predict-'));
try {
  const dataset = await loadBundled();
  await importDataset(db, dataset);
  const sweeps = Number(args.sweeps);
  const ids: Record<string, number> = {};
  for (const preset of ['default', 'temporal'] as const) {
    const { model } = await train(dataset, { preset, config: { epochs: sweeps } });
    ids[preset] = await saveModel(db, model, { datasetFingerprint: `predict-${preset}`, engine: 'bpmf' });
  }
  // movies someone rated, users 1..671: every pair is servable
  const movies = [
    ...new Set(
      Array.from(dataset.ratings.items.subarray(0, dataset.ratings.length), (i) =>
        dataset.items.externalId(i),
      ),
    ),
  ];
  const lua = join(dir, 'predict.lua');
  await writeFile(
    lua,
    `local movies = {${movies.map((m) => `"${m}"`).join(',')}}
math.randomseed(os.time())
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local u = math.random(1, 671)
  local m = movies[math.random(1, #movies)]
  local body = '{"query":"query P($u: ID!, $m: ID!) { predictRating(userId: $u, movieId: $m) { rating source } }","variables":{"u":"' .. u .. '","m":"' .. m .. '","nonce":' .. n .. '}}'
  return wrk.format(nil, "/graphql", nil, body)
end
`,
  );
  await activateModelVersion(db, ids.default!);
  const server = await startReplica(db.url!);
  const rps: Record<string, number[]> = { default: [], temporal: [] };
  try {
    for (let round = 0; round < Number(args.rounds); round++)
      for (const preset of ['default', 'temporal'] as const) {
        await activateModelVersion(db, ids[preset]!);
        while (
          ((await (await fetch(`${server.url}/ready`)).json()) as { modelVersion: string }).modelVersion !==
          String(ids[preset])
        )
          await sleep(50);
        const wrk = (seconds: number) =>
          runWrk(server.url, lua, { connections: 16, seconds, latency: false });
        wrk(2); // warm-up
        const { requestsPerSecond: r, non2xx } = wrk(Number(args.seconds));
        rps[preset]!.push(r);
        console.log(
          `round ${round + 1} ${preset.padEnd(8)} ${r.toFixed(0)} req/s  non-2xx ${non2xx}  load ${loadavg()[0]!.toFixed(1)}`,
        );
      }
  } finally {
    await server.stop();
  }
  const ratios = rps.temporal!.map((t, j) => t / rps.default![j]!);
  console.log(
    `predictRating, temporal / default req/s, pair by pair: ${ratios.map((r) => r.toFixed(3)).join(', ')}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
  await db.close();
}
