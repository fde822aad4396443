/**
 * Requests per second of 2 API replicas behind HAProxy (the shipped deploy/haproxy.cfg, Debian's haproxy) against 1
 * replica directly, on one PostgreSQL, with the load generator outside Node (wrk, Debian's package) and the load
 * scripts of ../shared/load: `recs_vars.lua` (every body distinct: the response cache cannot help — the figure that
 * counts) and `recs.lua` (671 cacheable bodies). Each target is warmed for 2 s first. The 1-minute load average is
 * printed with the figures; on a 2-core machine wrk, HAProxy and both replicas share the two cores.
 *
 *   pnpm exec tsx bench/replicas-rps.ts [--seconds 10] [--connections 50] [--json]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainSmallModel } from '../apps/api/test/web-fixture.ts';
import { loadBundled } from '../packages/data/src/index.ts';
import { importDataset, saveModelVersion } from '../packages/db/src/index.ts';
import { createTestDatabase } from '../packages/db/src/testing.ts';
import { args, flag } from './lib/args.ts';
import { freePort, startReplica } from './lib/replica.ts';
import { runWrk } from './lib/wrk.ts';

const seconds = Number(flag('--seconds') ?? 10);
const connections = Number(flag('--connections') ?? 50);
const json = args.includes('--json');
const HAPROXY = process.env.HAPROXY_PATH ?? '/usr/sbin/haproxy';
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  requests: number;
}

function wrk(url: string, script: string, secs: number): WrkResult {
  const r = runWrk(url, script, { connections, seconds: secs });
  return {
    rps: r.requestsPerSecond,
    p50ms: r.p50Ms ?? Number.NaN,
    p99ms: r.p99Ms ?? Number.NaN,
    errors: r.non2xx + r.socketErrors,
    requests: r.requests,
  };
}

const db = await createTestDatabase('postgres');
let haproxy: ChildProcess | null = null;
let dir: string | null = null;
const replicas: Awaited<ReturnType<typeof startReplica>>[] = [];
try {
  const dataset = await loadBundled();
  await importDataset(db, dataset);
  await saveModelVersion(db, { ...(await trainSmallModel(dataset)), activate: true });
  replicas.push(...(await Promise.all([startReplica(db.url!), startReplica(db.url!)])));
  const [front, stats] = [await freePort(), await freePort()];
  dir = await mkdtemp(join(tmpdir(), 'movierec-rps-'));
  const cfg = (await readFile('deploy/haproxy.cfg', 'utf8'))
    .replace('127.0.0.1:8080', `127.0.0.1:${front}`)
    .replace('127.0.0.1:8404', `127.0.0.1:${stats}`)
    .replace('127.0.0.1:4001', `127.0.0.1:${replicas[0]!.port}`)
    .replace('127.0.0.1:4002', `127.0.0.1:${replicas[1]!.port}`);
  await writeFile(join(dir, 'haproxy.cfg'), cfg);
  haproxy = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
  for (let t = 0; t < 100; t++) {
    const ok = await fetch(`http://127.0.0.1:${front}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
  await sleep(2500); // both servers through `rise 2`
  const targets = [
    { name: '1 replica, direct', url: replicas[0]!.url },
    { name: '2 replicas behind HAProxy', url: `http://127.0.0.1:${front}` },
  ];
  const scripts = [
    { name: 'distinct bodies (recs_vars.lua)', path: '../shared/load/recs_vars.lua' },
    { name: 'cacheable bodies (recs.lua)', path: '../shared/load/recs.lua' },
  ];
  const rows: { script: string; target: string; load: number; result: WrkResult }[] = [];
  for (const s of scripts)
    for (const t of targets) {
      wrk(t.url, s.path, 2); // warm-up: per-user state, JIT, connections
      const result = wrk(t.url, s.path, seconds);
      rows.push({ script: s.name, target: t.name, load: loadavg()[0]!, result });
    }
  const ratio = (script: string) => {
    const [one, two] = rows.filter((r) => r.script === script).map((r) => r.result.rps);
    return two! / one!;
  };
  if (json)
    console.log(JSON.stringify({ connections, seconds, rows, ratios: scripts.map((s) => ratio(s.name)) }));
  else {
    console.log(`wrk -t1 -c${connections} -d${seconds}s, bundled data, PostgreSQL; load average at each row`);
    for (const r of rows)
      console.log(
        `${r.script.padEnd(32)} ${r.target.padEnd(26)} ${r.result.rps.toFixed(0).padStart(7)} req/s  ` +
          `p50 ${r.result.p50ms.toFixed(2)} ms  p99 ${r.result.p99ms.toFixed(2)} ms  errors ${r.result.errors}  (load ${r.load.toFixed(1)})`,
      );
    for (const s of scripts) console.log(`${s.name}: 2 replicas / 1 replica = ${ratio(s.name).toFixed(2)}`);
  }
} finally {
  haproxy?.kill('SIGTERM');
  await Promise.all(replicas.map((r) => r.stop()));
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  await db.close();
}
