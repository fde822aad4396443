/**
 * Soak (issue 10): mixed traffic for --minutes (default 10) against one PostgreSQL-backed API process (apps/api
 * src/main.ts) serving a rating model and the main job's recommendation model (bench/lib/traffic.ts), through a TCP
 * proxy to the database that the bench cuts for 10 s at 60% of the run (a database outage), with a model activation
 * at 50%. Traffic: every query of the schema (recommendations with the user in variables, by genre, with `because`,
 * predictRating, similarMovies, movie, movies search, user { ratings }, modelVersions, activeModel, activeModels),
 * rateMovie for known and new users and recordView (1 request in 6 writes), from --clients concurrent clients, plus
 * one hostile document every second (a fragment bomb, an alias flood, an introspection flood) that must be refused.
 * Per minute: requests, throughput, p99, 5xx (inside / outside the outage window), the event loop's longest stall
 * (prom-client's nodejs_eventloop_lag_max_seconds, reset at every scrape), resident memory at the minute's end and the
 * mean and maximum of readings every 5 s through it, with the V8 heap in use, external memory and what the bounded
 * caches hold (movierec_cache_bytes) beside it. At the end: growth of resident memory from the first to the last
 * minute (end readings, and minute means: V8 lets garbage pile up between full collections, so one reading can sit
 * 50 MB above or below the next), and every acknowledged rating looked up in the database.
 *
 * --trace prints every 5-s reading: RSS split into anonymous and file-backed pages (/proc/PID/smaps_rollup), the V8
 * heap in use and committed (total and its new space), external memory — to tell garbage-collector slack from a leak.
 * It scrapes /metrics every 5 s, so the minute's event-loop figure is then the largest of those scrapes.
 * --node-args='<flags>' starts the server with those Node/V8 flags (e.g. '--trace-gc'); what the server prints on
 * stdout then goes to stderr, each line prefixed with `server:`.
 *
 *   pnpm exec tsx bench/soak.ts [--minutes 10] [--clients 16] [--outage-seconds 10] [--trace] [--node-args F] [--json]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { activateModelVersion } from '../packages/db/src/index.ts';
import { CuttableProxy } from '../packages/db/src/testing.ts';
import { startReplica } from './lib/replica.ts';
import { hostileDocuments, operations, postGraphql, servingDatabase } from './lib/traffic.ts';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    clients: { type: 'string', default: '16' },
    'outage-seconds': { type: 'string', default: '10' },
    trace: { type: 'boolean', default: false },
    'node-args': { type: 'string', default: '' },
    json: { type: 'boolean', default: false },
  },
});
const totalMs = Number(args.minutes) * 60_000;
const clients = Number(args.clients);
const outageMs = Number(args['outage-seconds']) * 1000;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const log = (line: string) => {
  if (!args.json) console.error(line);
};

const { db, nextVersion: next, users, movieIds } = await servingDatabase();
const target = new URL(db.url!);
const proxy = new CuttableProxy(target.hostname, Number(target.port || 5432));
await proxy.open();
const viaProxy = new URL(db.url!);
viaProxy.host = `127.0.0.1:${proxy.port}`;
const nodeArgs = args['node-args'].split(' ').filter(Boolean);
const server = await startReplica(viaProxy.toString(), { env: { MOVIEREC_POLL_MS: '1000' }, nodeArgs });
if (nodeArgs.length > 0) {
  createInterface({ input: server.child.stdout! }).on('line', (line) => console.error(`server: ${line}`));
}
const pid = server.child.pid!;
const rssMb = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
};
/** Resident memory by kind (MB): anonymous pages (the V8 heap, malloc) and file-backed ones (the binary, libraries). */
const residentParts = () => {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { anonMb: kb('Anonymous') / 1024, fileMb: (kb('Rss') - kb('Anonymous')) / 1024 };
};

const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
const acknowledged = new Map<string, number>(); // `${user}\t${movie}` → rating
const errorCodes = new Map<string, number>(); // `${operation}:${code}` of non-5xx errors outside the outage
const ops = operations(users, movieIds);
// weights: reads of recommendations dominate, as on a product page
const schedule = [
  'recommendations',
  'recommendations',
  'recommendations by genre',
  'because',
  'predictRating',
  'similarMovies',
  'movie',
  'movies',
  'user',
  'models',
  'rateMovie',
  'recordView',
].map((n) => ops.find((o) => o.name === n)!);
const hostile = hostileDocuments.map((h) => h.query);

interface Minute {
  requests: number;
  latencies: number[];
  status5xxInOutage: number;
  status5xxOutside: number;
  otherErrors: number;
  hostileRefused: number;
  hostileAccepted: number;
  eventLoopMaxMs: number;
  rssMb: number;
  /** RSS sampled every 5 s through the minute (V8 lets garbage pile up between full collections, so one reading
   * at the minute's end may fall before or after one: the mean says where the process really sits). */
  rssSamples: number[];
  /** V8 heap in use and memory outside it (Buffers, typed arrays), from the server's own /metrics. */
  heapUsedMb: number;
  externalMb: number;
  /** What the bounded caches hold by their own accounting (movierec_cache_bytes): user states, response bodies. */
  userCacheMb: number;
  responseCacheMb: number;
  /** The shared top-N lists (similar movies, popularity fallback: movierec_cache_bytes{cache="lists"}). */
  listCacheMb: number;
  /** Share of the minute's whole-response cache look-ups that hit (movierec_cache_requests_total). */
  responseHitRate: number;
  load: number;
}
const newMinute = (): Minute => ({
  requests: 0,
  latencies: [],
  status5xxInOutage: 0,
  status5xxOutside: 0,
  otherErrors: 0,
  hostileRefused: 0,
  hostileAccepted: 0,
  eventLoopMaxMs: 0,
  rssMb: 0,
  rssSamples: [],
  heapUsedMb: 0,
  externalMb: 0,
  userCacheMb: 0,
  responseCacheMb: 0,
  listCacheMb: 0,
  responseHitRate: 0,
  load: 0,
});
const minutes: Minute[] = [newMinute()];
const started = performance.now();
const elapsed = () => performance.now() - started;
const cutAt = totalMs * 0.6;
let outage: { from: number; to: number } | null = null;
// a response counts as in the outage from the cut until 5 s after the database is back (pool reconnect, readiness)
const inOutage = (t: number) =>
  outage !== null && t >= outage.from && t <= (outage.to || Number.POSITIVE_INFINITY) + 5000;

async function send(body: unknown): Promise<{ status: number; json: any }> {
  const { status, text } = await postGraphql(server.url, body);
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status, json };
}

async function client(): Promise<void> {
  while (elapsed() < totalMs) {
    const op = pick(schedule);
    const body = op.body();
    const t0 = performance.now();
    let status = 0;
    let json: any = null;
    try {
      ({ status, json } = await send(body));
    } catch {
      status = -1;
    }
    const t1 = performance.now();
    const m = minutes[minutes.length - 1]!;
    m.requests++;
    m.latencies.push(t1 - t0);
    if (status >= 500 || status < 0) {
      if (inOutage(t0 - started) || inOutage(t1 - started)) m.status5xxInOutage++;
      else m.status5xxOutside++;
    } else if (status !== 200 || json?.errors) {
      if (!(inOutage(t0 - started) || inOutage(t1 - started))) {
        m.otherErrors++;
        const code = `${op.name}:${json?.errors?.[0]?.extensions?.code ?? status}`;
        errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
      }
    } else if (op.rating) {
      const v = body.variables as { u: string; m: string; r: number };
      acknowledged.set(`${v.u}\t${v.m}`, v.r);
    }
  }
}

async function hostileStream(): Promise<void> {
  let j = 0;
  while (elapsed() < totalMs) {
    const { status, json } = await send({ query: hostile[j++ % hostile.length] }).catch(() => ({
      status: -1,
      json: null,
    }));
    const m = minutes[minutes.length - 1]!;
    if (status === 400 || (status === 200 && json?.errors && !json?.data)) m.hostileRefused++;
    else m.hostileAccepted++;
    await sleep(1000);
  }
}

/** The server's event-loop stall (ms; the scrape resets it), V8 heap in use and external memory (MB). */
async function scrape(): Promise<
  Pick<
    Minute,
    'eventLoopMaxMs' | 'heapUsedMb' | 'externalMb' | 'userCacheMb' | 'responseCacheMb' | 'listCacheMb'
  > & {
    heapTotalMb: number;
    newSpaceMb: number;
    oldSpaceMb: number;
    oldUsedMb: number;
    largeSpaceMb: number;
    codeSpaceMb: number;
    responseHits: number;
    responseMisses: number;
  }
> {
  const text = await (await fetch(`${server.url}/metrics`)).text().catch(() => '');
  const read = (series: string, scale: number) => {
    const escaped = series.replace(/[{}"]/g, (c) => `\\${c}`);
    const m = new RegExp(`^movierec_${escaped} (\\S+)`, 'm').exec(text);
    return m ? Number(m[1]) * scale : Number.NaN;
  };
  return {
    eventLoopMaxMs: read('nodejs_eventloop_lag_max_seconds', 1000),
    heapUsedMb: read('nodejs_heap_size_used_bytes', 1 / 2 ** 20),
    externalMb: read('nodejs_external_memory_bytes', 1 / 2 ** 20),
    userCacheMb: read('cache_bytes{cache="user"}', 1 / 2 ** 20),
    responseCacheMb: read('cache_bytes{cache="response"}', 1 / 2 ** 20),
    listCacheMb: read('cache_bytes{cache="lists"}', 1 / 2 ** 20),
    heapTotalMb: read('nodejs_heap_size_total_bytes', 1 / 2 ** 20),
    newSpaceMb: read('nodejs_heap_space_size_total_bytes{space="new"}', 1 / 2 ** 20),
    oldSpaceMb: read('nodejs_heap_space_size_total_bytes{space="old"}', 1 / 2 ** 20),
    oldUsedMb: read('nodejs_heap_space_size_used_bytes{space="old"}', 1 / 2 ** 20),
    largeSpaceMb: read('nodejs_heap_space_size_total_bytes{space="large_object"}', 1 / 2 ** 20),
    codeSpaceMb: read('nodejs_heap_space_size_total_bytes{space="code"}', 1 / 2 ** 20),
    responseHits: read('cache_requests_total{cache="response",result="hit"}', 1),
    responseMisses: read('cache_requests_total{cache="response",result="miss"}', 1),
  };
}

/** The response cache's counters at the last minute's end. */
const counted = { hits: 0, misses: 0 };

async function timeline(): Promise<void> {
  await scrape(); // resets the event-loop histogram
  let activated = false;
  let sampled = 0;
  while (elapsed() < totalMs) {
    await sleep(250);
    const t = elapsed();
    if (t - sampled >= 5000) {
      sampled = t;
      const m = minutes[minutes.length - 1]!;
      const rss = rssMb();
      m.rssSamples.push(rss);
      if (args.trace) {
        const x = await scrape();
        m.eventLoopMaxMs = Math.max(m.eventLoopMaxMs, x.eventLoopMaxMs);
        const { anonMb, fileMb } = residentParts();
        // on stderr with --json too: the trace was asked for
        console.error(
          `  ${(t / 1000).toFixed(0).padStart(4)} s  RSS ${rss.toFixed(0)} MB (anon ${anonMb.toFixed(0)}, file ${fileMb.toFixed(0)})  ` +
            `heap used ${x.heapUsedMb.toFixed(0)} / committed ${x.heapTotalMb.toFixed(0)} (new ${x.newSpaceMb.toFixed(0)}, old ${x.oldUsedMb.toFixed(0)} / ${x.oldSpaceMb.toFixed(0)}, large ${x.largeSpaceMb.toFixed(0)}, code ${x.codeSpaceMb.toFixed(0)})  ` +
            `external ${x.externalMb.toFixed(0)}  non-heap anon ${(anonMb - x.heapTotalMb).toFixed(0)} MB`,
        );
      }
    }
    if (!activated && t >= totalMs * 0.5) {
      activated = true;
      await activateModelVersion(db, next);
      log(`${(t / 1000).toFixed(0)} s: activated version ${next}`);
    }
    if (outage === null && t >= cutAt) {
      outage = { from: t, to: 0 };
      await proxy.cut();
      log(`${(t / 1000).toFixed(0)} s: database cut`);
    }
    if (outage !== null && outage.to === 0 && t >= outage.from + outageMs) {
      await proxy.open();
      outage.to = elapsed();
      log(`${(outage.to / 1000).toFixed(0)} s: database back`);
    }
    if (t >= minutes.length * 60_000) {
      const m = minutes[minutes.length - 1]!;
      const stallSoFar = m.eventLoopMaxMs;
      const { responseHits, responseMisses, ...x } = await scrape();
      Object.assign(m, x);
      m.responseHitRate =
        (responseHits - counted.hits) / (responseHits + responseMisses - counted.hits - counted.misses);
      Object.assign(counted, { hits: responseHits, misses: responseMisses });
      m.eventLoopMaxMs = Math.max(m.eventLoopMaxMs, stallSoFar);
      m.rssMb = rssMb();
      m.load = loadavg()[0]!;
      log(summary(m, minutes.length));
      minutes.push(newMinute());
    }
  }
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(0.99 * s.length))] ?? Number.NaN;
}
function summary(m: Minute, k: number): string {
  return (
    `minute ${String(k).padStart(2)}: ${(m.requests / 60).toFixed(0).padStart(5)} req/s  p99 ${p99(m.latencies).toFixed(1).padStart(6)} ms  ` +
    `5xx ${m.status5xxOutside} (+${m.status5xxInOutage} in outage)  other errors ${m.otherErrors}  hostile refused ${m.hostileRefused}/${m.hostileRefused + m.hostileAccepted}  ` +
    `event loop max ${m.eventLoopMaxMs.toFixed(1)} ms  RSS ${m.rssMb.toFixed(0)} MB, minute mean ${mean(m.rssSamples).toFixed(0)} max ${Math.max(...m.rssSamples).toFixed(0)} (heap ${m.heapUsedMb.toFixed(0)}, external ${m.externalMb.toFixed(0)}; caches: users ${m.userCacheMb.toFixed(1)}, responses ${m.responseCacheMb.toFixed(1)}, hit rate ${(100 * m.responseHitRate).toFixed(0)}%, lists ${m.listCacheMb.toFixed(1)})  load ${m.load.toFixed(1)}`
  );
}

const rssStart = rssMb();
log(
  `soak: ${args.minutes} min, ${clients} clients, outage ${outageMs / 1000} s at 60%, activation at 50%; RSS at start ${rssStart.toFixed(0)} MB`,
);
try {
  await Promise.all([...Array.from({ length: clients }, client), hostileStream(), timeline()]);
  const done = minutes.filter((m) => m.rssMb > 0);
  const rssFirst = done[0]?.rssMb ?? rssStart;
  const rssEnd = rssMb();
  const meanFirst = mean(done[0]?.rssSamples ?? [rssStart]);
  const meanLast = mean(done[done.length - 1]?.rssSamples ?? [rssEnd]);
  // every acknowledged rating, as the database holds it now (the last acknowledged value per user and movie)
  let missing = 0;
  const rows = await db.query<{ u: string; m: string; r: number }>(
    `SELECT u.external_id AS u, m.external_id AS m, r.rating AS r FROM ratings r
       JOIN users u ON u.id = r.user_id JOIN movies m ON m.id = r.movie_id
      WHERE u.external_id = ANY($1)`,
    [[...new Set([...acknowledged.keys()].map((k) => k.split('\t')[0]!))]],
  );
  const stored = new Map(rows.map((r) => [`${r.u}\t${r.m}`, Number(r.r)]));
  for (const [k] of acknowledged) if (!stored.has(k)) missing++;
  const result = {
    minutes: done.map((m, j) => ({
      minute: j + 1,
      rps: m.requests / 60,
      p99ms: p99(m.latencies),
      status5xxOutside: m.status5xxOutside,
      status5xxInOutage: m.status5xxInOutage,
      otherErrors: m.otherErrors,
      hostileRefused: m.hostileRefused,
      hostileAccepted: m.hostileAccepted,
      eventLoopMaxMs: m.eventLoopMaxMs,
      rssMb: m.rssMb,
      rssMeanMb: mean(m.rssSamples),
      rssMaxMb: Math.max(...m.rssSamples),
      heapUsedMb: m.heapUsedMb,
      externalMb: m.externalMb,
      userCacheMb: m.userCacheMb,
      responseCacheMb: m.responseCacheMb,
      responseHitRate: m.responseHitRate,
      listCacheMb: m.listCacheMb,
      load: m.load,
    })),
    rssStartMb: rssStart,
    rssFirstMinuteMb: rssFirst,
    rssEndMb: rssEnd,
    rssGrowthPct: (100 * (rssEnd - rssFirst)) / rssFirst,
    rssMinuteMeanFirstMb: meanFirst,
    rssMinuteMeanLastMb: meanLast,
    rssMeanGrowthPct: (100 * (meanLast - meanFirst)) / meanFirst,
    acknowledgedRatings: acknowledged.size,
    missingRatings: missing,
    status5xxOutside: done.reduce((a, m) => a + m.status5xxOutside, 0),
    errorsOutsideOutageByCode: Object.fromEntries(errorCodes),
  };
  if (args.json) console.log(JSON.stringify(result));
  else
    console.log(
      `RSS ${rssStart.toFixed(0)} MB at start, ${rssFirst.toFixed(0)} MB after minute 1, ${rssEnd.toFixed(0)} MB at the end ` +
        `(growth ${result.rssGrowthPct.toFixed(1)}% from minute 1); mean of the 5-s samples ${meanFirst.toFixed(0)} MB in minute 1, ` +
        `${meanLast.toFixed(0)} MB in the last (growth ${result.rssMeanGrowthPct.toFixed(1)}%); acknowledged ratings ${acknowledged.size}, missing ${missing}; ` +
        `5xx outside the outage ${result.status5xxOutside}; other errors outside it by operation:code ${JSON.stringify(result.errorsOutsideOutageByCode)}`,
    );
} finally {
  await server.stop();
  await proxy.cut();
  await db.close();
}
