/**
 * The event loop's longest stall per kind of request (issue 10: no single request may hold the event loop for more
 * than 50 ms). One PostgreSQL-backed API process (apps/api src/main.ts) serving the rating model and the main job's
 * recommendation model (bench/lib/traffic.ts). For each kind — every operation of the soak's mix, each hostile
 * document, a model activation picked up while serving — the bench resets the server's stall gauge (prom-client's
 * nodejs_eventloop_lag_max_seconds, reset at every scrape of /metrics), sends the request(s) one at a time, and
 * scrapes again: the longest stall while that kind ran. "first" is the first request of its kind after start (cold
 * caches, a document compiled for the first time), "steady" the longest of the next --repeat (distinct arguments).
 * The gauge samples the loop every 10 ms, and a scrape itself takes a few: "idle" is the same reading with nothing
 * sent, the floor of what can be seen.
 *
 *   pnpm exec tsx bench/stalls.ts [--repeat 50] [--json]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { activateModelVersion } from '../packages/db/src/index.ts';
import { startReplica } from './lib/replica.ts';
import { hostileDocuments, operations, postGraphql, servingDatabase } from './lib/traffic.ts';

const { values: args } = parseArgs({
  options: { repeat: { type: 'string', default: '50' }, json: { type: 'boolean', default: false } },
});
const repeat = Number(args.repeat);
const log = (line: string) => {
  if (!args.json) console.error(line);
};
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

const served = await servingDatabase();
const { db, users, movieIds } = served;
const server = await startReplica(db.url!, { env: { MOVIEREC_POLL_MS: '1000' } });

/** The longest stall (ms) since the last scrape. */
async function stallMs(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = /^movierec_nodejs_eventloop_lag_max_seconds (\S+)/m.exec(text);
  return m ? Number(m[1]) * 1000 : Number.NaN;
}
const send = (body: unknown) => postGraphql(server.url, body);
/** Runs `work` between two scrapes (after a pause that lets the previous kind's timers settle). */
async function measure(work: () => Promise<unknown>): Promise<number> {
  await sleep(100);
  await stallMs();
  await work();
  await sleep(30); // the gauge's sampling interval, so a stall at the very end is seen
  return stallMs();
}

interface Row {
  kind: string;
  firstMs: number;
  steadyMs: number;
}
const rows: Row[] = [];
const print = (r: Row) =>
  log(
    `${r.kind.padEnd(26)} first ${r.firstMs.toFixed(1).padStart(6)} ms   steady ${r.steadyMs.toFixed(1).padStart(6)} ms`,
  );

try {
  const idle = await measure(async () => {});
  rows.push({ kind: 'idle', firstMs: idle, steadyMs: await measure(async () => {}) });
  print(rows[0]!);
  for (const op of operations(users, movieIds)) {
    const firstMs = await measure(() => send(op.body()));
    const steadyMs = await measure(async () => {
      for (let j = 0; j < repeat; j++) await send(op.body());
    });
    rows.push({ kind: op.name, firstMs, steadyMs });
    print(rows[rows.length - 1]!);
  }
  for (const h of hostileDocuments) {
    let status = 0;
    const firstMs = await measure(async () => {
      ({ status } = await send({ query: h.query }));
    });
    const steadyMs = await measure(async () => {
      for (let j = 0; j < 5; j++) await send({ query: h.query });
    });
    rows.push({ kind: `${h.kind} (${status})`, firstMs, steadyMs });
    print(rows[rows.length - 1]!);
  }
  // an activation: the served process notices it (LISTEN/NOTIFY, else its poll) and loads the models while serving
  const activation = async (version: number) => {
    const before = await activeIds();
    await activateModelVersion(db, version);
    for (let t = 0; t < 100 && (await activeIds()) === before; t++) await sleep(50);
  };
  const activeIds = async () => (await send({ query: '{ activeModels { id } }' })).text;
  const original = (
    await db.query<{ id: number }>("SELECT id FROM model_versions WHERE active AND task = 'rating'")
  )[0]!.id;
  const firstMs = await measure(() => activation(served.nextVersion));
  const steadyMs = await measure(() => activation(original));
  rows.push({ kind: 'activation (rating model)', firstMs, steadyMs });
  print(rows[rows.length - 1]!);
  const load = loadavg()[0]!;
  const worst = rows.filter((r) => r.kind !== 'idle').reduce((a, r) => Math.max(a, r.firstMs, r.steadyMs), 0);
  if (args.json) console.log(JSON.stringify({ rows, worstMs: worst, load }));
  else console.log(`longest stall of any kind: ${worst.toFixed(1)} ms (load average ${load.toFixed(1)})`);
} finally {
  await server.stop();
  await db.close();
}
