/**
 * Replica-to-replica lag on one PostgreSQL: two API processes (apps/api/src/main.ts), a rating written through one,
 * the time until the other's `recommendations` for that user change (POPULARITY → PERSONALIZED, the user having been
 * loaded there first); and an activation, the time until both replicas serve the new version (/ready). Once with
 * pushed events (LISTEN/NOTIFY, the default) and once polling only (MOVIEREC_PUSHED_EVENTS=0, every 2 s as before).
 *
 *   pnpm exec tsx bench/replica-lag.ts [--ratings 60] [--activations 3] [--json]
 *
 * The reading replica is queried every 2 ms; a figure therefore includes up to ~2 ms of that interval and the
 * query itself. The 1-minute load average is printed.
 */
import { loadavg } from 'node:os';
import { trainSmallModel } from '../apps/api/test/web-fixture.ts';
import { loadBundled } from '../packages/data/src/index.ts';
import { activateModelVersion, importDataset, saveModelVersion } from '../packages/db/src/index.ts';
import { createTestDatabase } from '../packages/db/src/testing.ts';
import { args, flag } from './lib/args.ts';
import { startReplica } from './lib/replica.ts';

const json = args.includes('--json');
const numRatings = Number(flag('--ratings') ?? 60);
const numActivations = Number(flag('--activations') ?? 3);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function gql(url: string, query: string): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as any;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

const db = await createTestDatabase('postgres');
const dataset = await loadBundled();
await importDataset(db, dataset);
const small = await trainSmallModel(dataset);
await saveModelVersion(db, { ...small, activate: true });
const results: Record<string, unknown>[] = [];
try {
  for (const pushed of [false, true]) {
    const env = { MOVIEREC_POLL_MS: '2000', MOVIEREC_PUSHED_EVENTS: pushed ? '1' : '0' };
    const [a, b] = await Promise.all([startReplica(db.url!, { env }), startReplica(db.url!, { env })]);
    await sleep(1500);
    const ratingLags: number[] = [];
    for (let j = 0; j < numRatings; j++) {
      const user = `lag-${pushed ? 'push' : 'poll'}-${j}-${Date.now()}`;
      const q = `{ recommendations(userId: "${user}", limit: 5) { source } }`;
      await gql(b.url, q); // b loads the user (no ratings: popularity) and keeps them
      const t0 = performance.now();
      await gql(
        a.url,
        `mutation { rateMovie(userId: "${user}", movieId: "1", rating: 5) { foldedInRatings } }`,
      );
      while ((await gql(b.url, q)).data.recommendations.source !== 'PERSONALIZED') await sleep(2);
      ratingLags.push(performance.now() - t0);
      await sleep(Math.random() * 50);
    }
    const activationLags: number[] = [];
    for (let j = 0; j < numActivations; j++) {
      const id = await saveModelVersion(db, { ...small, datasetFingerprint: `lag-${j}` });
      const t0 = performance.now();
      await activateModelVersion(db, id);
      for (const r of [a, b])
        while (
          ((await (await fetch(`${r.url}/ready`)).json()) as { modelVersion: string }).modelVersion !==
          String(id)
        )
          await sleep(5);
      activationLags.push(performance.now() - t0);
    }
    await Promise.all([a.stop(), b.stop()]);
    results.push({
      mode: pushed ? 'LISTEN/NOTIFY' : 'poll every 2 s',
      ratingLagMs: {
        p50: pct(ratingLags, 50),
        p99: pct(ratingLags, 99),
        max: Math.max(...ratingLags),
        n: ratingLags.length,
      },
      activationLagMs: {
        p50: pct(activationLags, 50),
        max: Math.max(...activationLags),
        n: activationLags.length,
      },
    });
  }
} finally {
  await db.close();
}
const load = loadavg()[0]!.toFixed(1);
if (json) console.log(JSON.stringify({ load, results }));
else {
  console.log(`replica-to-replica lag, 2 API processes on one PostgreSQL, load average ${load}`);
  for (const r of results) {
    const rl = r.ratingLagMs as Record<string, number>;
    const al = r.activationLagMs as Record<string, number>;
    console.log(
      `${String(r.mode).padEnd(16)} rating p50 ${rl.p50!.toFixed(1)} ms, p99 ${rl.p99!.toFixed(1)} ms (n ${rl.n}); ` +
        `activation on all replicas p50 ${al.p50!.toFixed(0)} ms, max ${al.max!.toFixed(0)} ms (n ${al.n})`,
    );
  }
}
