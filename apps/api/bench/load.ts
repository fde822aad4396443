/**
 * Load test of the GraphQL API: `recommendations(limit: 10)` for random users, driven by autocannon from THIS process
 * against the server running as a CHILD process (node + tsx, apps/api/src/main.ts) on loopback, on PostgreSQL.
 *
 *   pnpm exec tsx bench/api-load.ts [--seconds 10] [--json] [--only floor|bundled|synthetic]
 * (bench/api-load.ts runs this file, which lives in apps/api so it resolves the API's dependencies.)
 *
 * Scenarios: floor — a bare node:http child answering fixed bytes (what the machine allows under its current load);
 * then, each on a fresh database movierec_bench_api_<name> on DATABASE_URL's server, default
 * postgres://postgres@127.0.0.1:5432/postgres):
 *   bundled   — ml-latest-small imported, an ALS model (32 factors) trained by @movierec/trainer, active;
 *   synthetic — 62,000 movies, 64 factors: generateSynthetic's planted model served as the active model.
 * For each: warm-up (every user once, then `seconds`/2 of load), then capacity at 50 connections and latency at
 * 8 connections for `seconds` each; then the same with the whole-response cache off (the Apollo + top-N cache path).
 * Prints throughput, p50/p99 latency, errors/non-2xx and the server's RSS.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { MFModel } from '@movierec/core';
import { type Dataset, generateSynthetic, loadBundled } from '@movierec/data';
import { importDataset, migrate, openDatabase, saveModel } from '@movierec/db';
import { alsEngine } from '@movierec/trainer';
import autocannon from 'autocannon';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : fallback;
};
const SECONDS = Number(option('seconds', '10'));
const ONLY = option('only', '');
const JSON_OUT = flag('json');
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const QUERY = `query Rec($userId: ID!) { recommendations(userId: $userId, limit: 10) {
  source items { rank score movie { id title year genres } } } }`;

function say(line: string): void {
  if (!JSON_OUT) process.stderr.write(`${line}\n`);
}

function databaseUrl(name: string): string {
  const u = new URL(SERVER_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

async function freshDatabase(name: string): Promise<string> {
  const admin = await openDatabase({ url: SERVER_URL });
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.close();
  }
  return databaseUrl(name);
}

async function prepare(name: string, dataset: Dataset, model: MFModel): Promise<string> {
  const url = await freshDatabase(`movierec_bench_api_${name}`);
  const db = await openDatabase({ url });
  try {
    await migrate(db);
    await importDataset(db, dataset);
    await saveModel(db, model, {
      datasetFingerprint: `bench-${name}`,
      engine: model.log.engine,
      activate: true,
    });
  } finally {
    await db.close();
  }
  return url;
}

interface Server {
  child: ChildProcess;
  url: string;
}

async function spawnServer(databaseUrl: string, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/api/src/main.ts'], {
    // no authentication: the bench measures serving, from loopback (the server refuses this on another host)
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      LOG_LEVEL: 'warn',
      MOVIEREC_AUTH: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((done, fail) => {
    child.once('exit', (code) => fail(new Error(`server exited with ${code} before listening`)));
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { listening?: string };
        if (msg.listening) done(msg.listening);
      } catch {}
    });
  });
  return { child, url };
}

/** The floor: a bare node:http server answering every POST with fixed bytes of the same size, in a child process. */
async function spawnFloorServer(bytes: number): Promise<Server> {
  const script = `
    const body = Buffer.alloc(${bytes}, 32);
    const s = require('node:http').createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); });
    });
    s.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ listening: 'http://127.0.0.1:' + s.address().port })));
    process.on('SIGTERM', () => process.exit(0));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((done) => {
    lines.on('line', (line) => done((JSON.parse(line) as { listening: string }).listening));
  });
  return { child, url };
}

async function stopServer(s: Server): Promise<void> {
  const exited = new Promise((done) => s.child.once('exit', done));
  s.child.kill('SIGTERM');
  await exited;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

interface Figures {
  connections: number;
  seconds: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  mean: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  serverRssMiB: number;
}

async function load(
  server: Server,
  userIds: string[],
  connections: number,
  seconds: number,
): Promise<Figures> {
  let n = 0;
  const result = await autocannon({
    url: `${server.url}/graphql`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req: Record<string, unknown>) => {
          // a random user per request (deterministic LCG sequence)
          n = (n * 1103515245 + 12345) & 0x7fffffff;
          const userId = userIds[n % userIds.length]!;
          return { ...req, body: JSON.stringify({ query: QUERY, variables: { userId } }) };
        },
      },
    ],
  });
  return {
    connections,
    seconds,
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.average,
    errors: result.errors,
    non2xx: result.non2xx,
    timeouts: result.timeouts,
    serverRssMiB: rssMiB(server.child.pid!),
  };
}

async function warm(server: Server, userIds: string[]): Promise<void> {
  // every user once (fills the per-user state), then a short run
  for (let j = 0; j < userIds.length; j += 50) {
    await Promise.all(
      userIds.slice(j, j + 50).map((userId) =>
        fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: QUERY, variables: { userId } }),
        }).then((r) => r.text()),
      ),
    );
  }
  await load(server, userIds, 8, Math.max(2, Math.round(SECONDS / 2)));
}

interface ScenarioResult {
  scenario: string;
  movies: number;
  factors: number;
  users: number;
  responseCache: boolean;
  capacity: Figures;
  latency: Figures;
}

async function scenario(name: string, dataset: Dataset, model: MFModel): Promise<ScenarioResult[]> {
  say(`[${name}] preparing the database (${dataset.items.size} movies, ${dataset.ratings.length} ratings) …`);
  const url = await prepare(name, dataset, model);
  const userIds = dataset.users.ids();
  const out: ScenarioResult[] = [];
  for (const responseCache of [true, false]) {
    const server = await spawnServer(url, responseCache ? {} : { MOVIEREC_RESPONSE_CACHE_BYTES: '0' });
    try {
      say(`[${name}] response cache ${responseCache ? 'on' : 'off'}: warming up …`);
      await warm(server, userIds);
      const capacity = await load(server, userIds, 50, SECONDS);
      const latency = await load(server, userIds, 8, SECONDS);
      const r: ScenarioResult = {
        scenario: name,
        movies: dataset.items.size,
        factors: model.params.factors,
        users: userIds.length,
        responseCache,
        capacity,
        latency,
      };
      out.push(r);
      say(
        `[${name}] cache ${responseCache ? 'on ' : 'off'}: 50 conns ${capacity.requestsPerSecond} req/s ` +
          `(errors ${capacity.errors}, non-2xx ${capacity.non2xx}, timeouts ${capacity.timeouts}); ` +
          `8 conns p50 ${latency.p50} ms p99 ${latency.p99} ms (${latency.requestsPerSecond} req/s, errors ${latency.errors}, ` +
          `non-2xx ${latency.non2xx}); server RSS ${latency.serverRssMiB} MiB`,
      );
    } finally {
      await stopServer(server);
    }
  }
  return out;
}

const results: ScenarioResult[] = [];
const before = loadavg()[0]!;
if (ONLY === '' || ONLY === 'floor') {
  // what this machine allows right now: the same load against a server that does nothing
  const floor = await spawnFloorServer(1100);
  try {
    const capacity = await load(floor, ['1'], 50, SECONDS);
    const latency = await load(floor, ['1'], 8, SECONDS);
    results.push({
      scenario: 'floor',
      movies: 0,
      factors: 0,
      users: 0,
      responseCache: false,
      capacity,
      latency,
    });
    say(
      `[floor] bare node:http: 50 conns ${capacity.requestsPerSecond} req/s; 8 conns p50 ${latency.p50} ms p99 ${latency.p99} ms`,
    );
  } finally {
    await stopServer(floor);
  }
}
if (ONLY === '' || ONLY === 'bundled') {
  const dataset = await loadBundled();
  const config = {
    optimizer: 'als' as const,
    factors: 32,
    epochs: 5,
    batchSize: 1024,
    learningRate: 0,
    l2: 5,
    initStd: 0.1,
    seed: 1,
  };
  const params = await alsEngine.fit(
    dataset.ratings,
    { numUsers: dataset.users.size, numItems: dataset.items.size },
    config,
  );
  const model = new MFModel({
    params,
    users: dataset.users,
    items: dataset.items,
    config,
    log: { engine: 'als', epochs: [] },
  });
  results.push(...(await scenario('bundled', dataset, model)));
}
if (ONLY === '' || ONLY === 'synthetic') {
  const dataset = generateSynthetic({ users: 2000, items: 62_000, ratings: 300_000, factors: 64, seed: 3 });
  const p = dataset.planted;
  const model = new MFModel({
    params: {
      factors: p.factors,
      numUsers: dataset.users.size,
      numItems: dataset.items.size,
      globalMean: p.globalMean,
      userBias: p.userBias,
      itemBias: p.itemBias,
      userFactors: p.userFactors,
      itemFactors: p.itemFactors,
    },
    users: dataset.users,
    items: dataset.items,
    log: { engine: 'planted', epochs: [] },
  });
  results.push(...(await scenario('synthetic', dataset, model)));
}

const how = {
  method:
    'autocannon 8 in the bench process → server child process (node --import tsx apps/api/src/main.ts) on 127.0.0.1, ' +
    'POST /graphql recommendations(limit: 10) for a random user of the dataset per request; PostgreSQL; warm-up first',
  seconds: SECONDS,
  machine: `${cpus().length} cores shared with the load generator and other work; load average ${before.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`,
};
if (JSON_OUT) process.stdout.write(`${JSON.stringify({ how, results }, null, 2)}\n`);
else {
  console.log(`\n${how.method}\n${how.machine}; ${SECONDS} s per run\n`);
  console.log('scenario   movies  k  resp.cache | 50 conns req/s  errors | 8 conns p50  p99 (ms) | RSS MiB');
  for (const r of results) {
    console.log(
      `${r.scenario.padEnd(10)} ${String(r.movies).padStart(6)} ${String(r.factors).padStart(2)}  ${(r.responseCache ? 'on' : 'off').padEnd(10)} | ` +
        `${String(r.capacity.requestsPerSecond).padStart(14)}  ${String(r.capacity.errors + r.capacity.non2xx + r.capacity.timeouts).padStart(6)} | ` +
        `${String(r.latency.p50).padStart(11)} ${String(r.latency.p99).padStart(4)}      | ${r.latency.serverRssMiB}`,
      r.scenario === 'floor' ? '  (bare node:http, fixed bytes)' : '',
    );
  }
}
