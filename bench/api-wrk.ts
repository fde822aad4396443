/**
 * The GraphQL API under wrk (the Debian package), the way issue 14 measured it: `recommendations(limit: 10|100)` with
 * movie `id title year genres`, one document with the user in `variables` and a nonce so that every body is distinct
 * (../shared/load/recs_vars.lua: the whole-response cache cannot hit — "uncached"), and the same with the user in the
 * query text (recs.lua: 671 bodies, all cacheable — "cached"); 50 connections for capacity, 8 with --latency for
 * p50/p99; one server process and `serve --workers 2`; each beside the floor (../shared/load/floor.mjs, a bare
 * node:http server answering a fixed body of the same size) measured in the same run, with the load average.
 *
 *   pnpm exec tsx bench/api-wrk.ts [--seconds 10] [--workers 1,2] [--limits 10,100] [--json] [--reuse]
 *
 * The server is the CLI (`movierec serve`, as a user runs it) on a PostgreSQL database movierec_bench_wrk on
 * DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432/postgres), holding the bundled dataset and a
 * model trained by `movierec train --activate` with the default preset (what the main job serves); --reuse keeps
 * a database from an earlier run. Authentication off (loopback only). Warm-up per server and limit: max(5, seconds)
 * × workers of the cached load (every body seen three times or more: the response cache stores a body on its second
 * miss) and max(3, seconds) of the uncached load.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../packages/db/src/index.ts';
import { args, flag } from './lib/args.ts';
import { runWrk } from './lib/wrk.ts';

const SECONDS = Number(flag('--seconds') ?? '10');
const WORKERS = (flag('--workers') ?? '1,2').split(',').map(Number);
const LIMITS = (flag('--limits') ?? '10,100').split(',').map(Number);
const JSON_OUT = args.includes('--json');
const REUSE = args.includes('--reuse');
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB_NAME = 'movierec_bench_wrk';

const root = fileURLToPath(new URL('../', import.meta.url));
const loadDir = join(root, '..', 'shared', 'load');
const cliBin = join(root, 'apps', 'cli', 'bin', 'movierec.mjs');

function say(line: string): void {
  if (!JSON_OUT) process.stderr.write(`${line}\n`);
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** The Lua scripts, with `limit: 10` replaced by the limit asked for. */
function scripts(limit: number): { uncached: string; cached: string } {
  const dir = mkdtempSync(join(tmpdir(), 'movierec-wrk-'));
  const out = { uncached: join(dir, 'recs_vars.lua'), cached: join(dir, 'recs.lua') };
  for (const [kind, file] of Object.entries(out)) {
    const text = readFileSync(join(loadDir, `${kind === 'cached' ? 'recs' : 'recs_vars'}.lua`), 'utf8');
    if (!text.includes('limit: 10)')) throw new Error(`${file}: expected 'limit: 10)' in the load script`);
    writeFileSync(file, text.replace('limit: 10)', `limit: ${limit})`));
  }
  return out;
}

async function prepareDatabase(): Promise<string> {
  const url = new URL(SERVER_URL);
  url.pathname = `/${DB_NAME}`;
  const admin = await openDatabase({ url: SERVER_URL });
  try {
    const exists = await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_database WHERE datname = $1',
      [DB_NAME],
    );
    if (REUSE && exists[0]!.n > 0) return url.toString();
    await admin.query(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${DB_NAME}"`);
  } finally {
    await admin.close();
  }
  const env = { ...process.env, DATABASE_URL: url.toString() };
  for (const step of [['db', 'migrate'], ['import'], ['train', '--activate']]) {
    say(`[setup] movierec ${step.join(' ')} …`);
    execFileSync(process.execPath, [cliBin, ...step], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return url.toString();
}

interface Server {
  child: ChildProcess;
  url: string;
}

async function startServer(databaseUrl: string, workers: number): Promise<Server> {
  const child = spawn(
    process.execPath,
    [cliBin, 'serve', '--port', '0', '--workers', String(workers), '--json'],
    {
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', MOVIEREC_AUTH: 'off' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((done, fail) => {
    child.once('exit', (code) => fail(new Error(`server exited with ${code} before listening`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { url?: string };
        if (msg.url) done(msg.url);
      } catch {}
    });
  });
  return { child, url };
}

async function startFloor(): Promise<Server> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, [join(loadDir, 'floor.mjs'), String(port)], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url, { method: 'POST', body: '{}' });
      return { child, url };
    } catch {
      await new Promise((done) => setTimeout(done, 50));
    }
  }
  throw new Error('the floor server did not start');
}

async function stop(s: Server): Promise<void> {
  const exited = new Promise((done) => s.child.once('exit', done));
  s.child.kill('SIGTERM');
  await exited;
}

interface Figures {
  requestsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  errors: number;
  non2xx: number;
  loadAverage: string;
}

/** One wrk run; the load average is read at its end. */
function wrk(url: string, script: string, connections: number, seconds: number): Figures {
  const r = runWrk(url, script, { connections, seconds });
  return {
    requestsPerSecond: Math.round(r.requestsPerSecond),
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    errors: r.socketErrors,
    non2xx: r.non2xx,
    loadAverage: load(),
  };
}

interface Row {
  server: string;
  workers: number;
  limit: number;
  body: 'uncached' | 'cached' | 'floor';
  connections: number;
  figures: Figures;
  /** req/s as a share of the floor's at the same connection count, measured just before. */
  ofFloor: number | null;
}

function show(r: Row): void {
  const f = r.figures;
  say(
    `${r.server.padEnd(10)} limit ${String(r.limit).padStart(3)} ${r.body.padEnd(8)} c${String(r.connections).padEnd(2)} ` +
      `${String(f.requestsPerSecond).padStart(6)} req/s  p50 ${f.p50Ms ?? '–'} ms  p99 ${f.p99Ms ?? '–'} ms` +
      `${r.ofFloor !== null ? `  ${(100 * r.ofFloor).toFixed(1)}% of floor` : ''}` +
      `${f.errors + f.non2xx > 0 ? `  errors ${f.errors} non-2xx ${f.non2xx}` : ''}  (load ${f.loadAverage})`,
  );
}

const rows: Row[] = [];
const started = load();
const databaseUrl = await prepareDatabase();
for (const workers of WORKERS) {
  // the floor, measured right before this server configuration
  const floor = await startFloor();
  const floorRps = new Map<number, number>();
  try {
    const probe = join(loadDir, 'recs_vars.lua');
    for (const c of [50, 8]) {
      const figures = wrk(floor.url, probe, c, SECONDS);
      floorRps.set(c, figures.requestsPerSecond);
      const row: Row = {
        server: 'floor',
        workers: 1,
        limit: 10,
        body: 'floor',
        connections: c,
        figures,
        ofFloor: null,
      };
      rows.push(row);
      show(row);
    }
  } finally {
    await stop(floor);
  }
  const server = await startServer(databaseUrl, workers);
  const name = workers === 1 ? 'api' : `api ×${workers}`;
  try {
    for (const limit of LIMITS) {
      const s = scripts(limit);
      // warm-up: every cached body at least three times in every worker (the response cache stores a body on its
      // second miss; drawing 671 users at random takes ~7 × 671 requests to see each once), then the uncached load
      wrk(server.url, s.cached, 50, Math.max(5, SECONDS) * workers);
      wrk(server.url, s.uncached, 50, Math.max(3, SECONDS));
      for (const body of ['uncached', 'cached'] as const) {
        for (const c of [50, 8]) {
          const figures = wrk(server.url, s[body], c, SECONDS);
          const f = floorRps.get(c) ?? 0;
          const row: Row = {
            server: name,
            workers,
            limit,
            body,
            connections: c,
            figures,
            ofFloor: f > 0 ? figures.requestsPerSecond / f : null,
          };
          rows.push(row);
          show(row);
        }
      }
    }
  } finally {
    await stop(server);
  }
}

const how = {
  method:
    'wrk -t1 -cN -dSs --latency with ../shared/load/recs_vars.lua (uncached: distinct bodies) and recs.lua (cached), ' +
    '`limit: 10` replaced by the limit; `movierec serve --port 0 [--workers n]` on PostgreSQL, auth off, bundled ' +
    'dataset, default preset; floor: ../shared/load/floor.mjs, measured before each server configuration',
  seconds: SECONDS,
  machine: `${cpus().length} cores shared with wrk and other work; load average ${started} before, ${load()} after`,
};
say(how.machine);
if (JSON_OUT) process.stdout.write(`${JSON.stringify({ how, rows }, null, 2)}\n`);
