/**
 * Replicas behind a real load balancer: two API processes (this app's src/main.ts) on one PostgreSQL behind HAProxy
 * (Debian's package) running the shipped deploy/haproxy.cfg with this test's ports. Under load from concurrent
 * clients (recommendation reads and rateMovie writes), one replica is killed with SIGKILL and later started again,
 * and a new model version is trained by the CLI in a separate process (`train --from-db --activate`) and picked up by
 * every replica without a restart. Asserts: failed requests only while the killed process had requests in flight
 * (counted), HAProxy routes around it by /ready and back once it is ready, no failed request during the model switch,
 * every acknowledged rating is in the database.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundled } from '@movierec/data';
import { importDataset, saveModelVersion } from '@movierec/db';
import { createTestDatabase, type TestDatabase } from '@movierec/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startReplica } from './replica-process.ts';
import { trainSmallModel } from './web-fixture.ts';

const HAPROXY = process.env.HAPROXY_PATH ?? '/usr/sbin/haproxy';
const root = fileURLToPath(new URL('../../../', import.meta.url));
const cliMain = join(root, 'apps/cli/src/main.ts');

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Replica {
  port: number;
  child: ChildProcess | null;
}

/** Starts (or restarts) a replica on its fixed port, polling every second as well as listening for pushed events. */
async function startOn(replica: Replica, databaseUrl: string): Promise<void> {
  await startReplica(databaseUrl, {
    port: replica.port,
    env: { MOVIEREC_POLL_MS: '1000' },
    onSpawn: (child) => {
      replica.child = child;
    },
  });
}

/** HAProxy's view of a server ('UP', 'DOWN', …) from its CSV stats. */
async function serverStatus(statsPort: number, name: string): Promise<string> {
  const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text();
  const row = csv.split('\n').find((l) => l.startsWith(`api,${name},`));
  return row?.split(',')[17] ?? 'missing';
}

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const started = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > ms) throw new Error(`${what} not within ${ms} ms`);
    await sleep(100);
  }
}

describe.skipIf(process.env.MOVIEREC_SKIP_HAPROXY === '1')(
  'replicas behind HAProxy (deploy/haproxy.cfg)',
  () => {
    let db: TestDatabase;
    let dir: string;
    let haproxy: ChildProcess | null = null;
    let frontPort: number;
    let statsPort: number;
    const replicas: Replica[] = [];
    // a "replica" that never becomes ready (/ready is always 503): the balancer must never send it a request
    let neverReady: Server;
    let neverReadyPort: number;
    let neverReadyHits = 0;

    beforeAll(async () => {
      if (!existsSync(HAPROXY))
        throw new Error(
          `${HAPROXY} not found: install Debian's haproxy (apt-get install haproxy) or set HAPROXY_PATH`,
        );
      db = await createTestDatabase('postgres');
      const dataset = await loadBundled();
      await importDataset(db, dataset);
      await saveModelVersion(db, { ...(await trainSmallModel(dataset)), activate: true });
      for (let j = 0; j < 2; j++) replicas.push({ port: await freePort(), child: null });
      await Promise.all(replicas.map((r) => startOn(r, db.url!)));
      neverReady = createHttpServer((req, res) => {
        if (req.url !== '/ready') neverReadyHits++;
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"status":"not ready"}');
      });
      await new Promise<void>((done) => neverReady.listen(0, '127.0.0.1', () => done()));
      neverReadyPort = (neverReady.address() as { port: number }).port;
      frontPort = await freePort();
      statsPort = await freePort();
      dir = await mkdtemp(join(tmpdir(), 'movierec-haproxy-'));
      const cfg = readFileSync(join(root, 'deploy/haproxy.cfg'), 'utf8')
        .replace('127.0.0.1:8080', `127.0.0.1:${frontPort}`)
        .replace('127.0.0.1:8404', `127.0.0.1:${statsPort}`)
        .replace('127.0.0.1:4001', `127.0.0.1:${replicas[0]!.port}`)
        .replace('127.0.0.1:4002', `127.0.0.1:${replicas[1]!.port}`)
        .replace(/(\n\s*server api2 [^\n]*)/, `$1\n    server api3 127.0.0.1:${neverReadyPort}`);
      await writeFile(join(dir, 'haproxy.cfg'), cfg);
      execFileSync(HAPROXY, ['-c', '-q', '-f', join(dir, 'haproxy.cfg')]);
      haproxy = spawn(HAPROXY, ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
      await waitFor(
        async () =>
          (await serverStatus(statsPort, 'api1')) === 'UP' &&
          (await serverStatus(statsPort, 'api2')) === 'UP',
        20_000,
        'both replicas UP in HAProxy',
      );
      // HAProxy 2.6 starts every server as UP until its checks fail: the never-ready one is out of rotation from then
      // on, which is what this test checks (before that, requests sent to it are retried elsewhere by retry-on 503)
      await waitFor(
        async () => (await serverStatus(statsPort, 'api3')) === 'DOWN',
        20_000,
        'api3 marked DOWN',
      );
      neverReadyHits = 0;
    }, 180_000);

    afterAll(async () => {
      haproxy?.kill('SIGTERM');
      neverReady?.close();
      for (const r of replicas) r.child?.kill('SIGTERM');
      await sleep(200);
      await db?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('survives a killed replica and a model switch under load; nothing acknowledged is lost', async () => {
      const url = `http://127.0.0.1:${frontPort}/graphql`;
      const users = [...new Set(Array.from({ length: 50 }, (_, j) => String(j + 1)))];
      const movies = [
        '1',
        '2',
        '3',
        '6',
        '10',
        '32',
        '47',
        '50',
        '110',
        '260',
        '296',
        '318',
        '356',
        '480',
        '527',
        '589',
      ];
      type Phase = 'steady' | 'killed' | 'switch';
      let phase: Phase = 'steady';
      const failures: Record<Phase, number> = { steady: 0, killed: 0, switch: 0 };
      const served: Record<Phase, number> = { steady: 0, killed: 0, switch: 0 };
      const acknowledged: { user: string; movie: string; rating: number }[] = [];
      const errors: string[] = [];
      let stop = false;
      let seq = 0;
      const client = async (id: number) => {
        while (!stop) {
          const n = seq++;
          const write = n % 5 === 0;
          const user = write ? `lb-${id}-${n}` : users[n % users.length]!;
          const movie = movies[n % movies.length]!;
          const rating = 0.5 + (n % 10) * 0.5;
          const body = write
            ? {
                query:
                  'mutation R($u: ID!, $m: ID!, $r: Float!) { rateMovie(userId: $u, movieId: $m, rating: $r) { foldedInRatings } }',
                variables: { u: user, m: movie, r: rating },
              }
            : {
                query:
                  'query Q($u: ID!) { recommendations(userId: $u, limit: 10) { source items { movie { id title } } } }',
                variables: { u: user },
              };
          const at = phase;
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            });
            const text = await res.text();
            const json = (res.headers.get('content-type') ?? '').includes('json')
              ? (JSON.parse(text) as { data?: unknown; errors?: unknown[] })
              : {};
            if (res.status !== 200 || json.errors !== undefined || json.data == null)
              throw new Error(`${at}: status ${res.status} ${text.slice(0, 200)}`);
            served[at]++;
            if (write) acknowledged.push({ user, movie, rating });
          } catch (err) {
            failures[at]++;
            if (errors.filter((e) => e.startsWith(at)).length < 3)
              errors.push(
                `${at}: ${String((err as Error).message ?? err)} ${String((err as { cause?: unknown }).cause ?? '')}`,
              );
          }
        }
      };
      const clients = Array.from({ length: 8 }, (_, id) => client(id));

      await sleep(2000);
      // kill replica 1 mid-load: HAProxy must route around it (retrying what it can), then take it back once ready
      phase = 'killed';
      replicas[0]!.child!.kill('SIGKILL');
      await waitFor(async () => (await serverStatus(statsPort, 'api1')) !== 'UP', 10_000, 'api1 marked down');
      await sleep(1000);
      await startOn(replicas[0]!, db.url!);
      await waitFor(async () => (await serverStatus(statsPort, 'api1')) === 'UP', 20_000, 'api1 back UP');
      phase = 'steady';
      await sleep(1000);

      // training beside serving: the CLI trains on the database in its own process and activates the new version;
      // every replica switches without a restart and without a failed request
      phase = 'switch';
      const before = await db.query<{ id: number }>('SELECT id FROM model_versions WHERE active');
      // asynchronously: a synchronous child would stall this process's clients (their sockets would time out)
      const trainer = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          cliMain,
          'train',
          '--from-db',
          '--engine',
          'als',
          '--epochs',
          '2',
          '--factors',
          '8',
          '--activate',
          '--json',
        ],
        { env: { ...process.env, DATABASE_URL: db.url! }, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      const code = await new Promise<number | null>((done) => trainer.once('exit', done));
      expect(code).toBe(0);
      const after = await db.query<{ id: number }>('SELECT id FROM model_versions WHERE active');
      expect(after[0]!.id).not.toBe(before[0]!.id);
      for (const r of replicas)
        await waitFor(
          async () => {
            const ready = (await (await fetch(`http://127.0.0.1:${r.port}/ready`)).json()) as {
              modelVersion: string;
            };
            return ready.modelVersion === String(after[0]!.id);
          },
          10_000,
          `replica ${r.port} serving version ${after[0]!.id}`,
        );
      await sleep(500);
      stop = true;
      await Promise.all(clients);

      // report (vitest prints console output of the test)
      console.log(
        `replicas under load: served ${JSON.stringify(served)}, failed ${JSON.stringify(failures)}, ` +
          `${acknowledged.length} ratings acknowledged; first errors: ${JSON.stringify(errors)}`,
      );
      expect(served.steady).toBeGreaterThan(0);
      expect(served.killed).toBeGreaterThan(0);
      expect(failures.steady).toBe(0);
      expect(failures.switch).toBe(0);
      // only requests in flight on the killed process can fail: at most one per client
      expect(failures.killed).toBeLessThanOrEqual(8);

      // every acknowledged rating is stored
      const stored = await db.query<{ user: string; movie: string; rating: number }>(
        `SELECT u.external_id AS "user", m.external_id AS movie, r.rating::float8 AS rating
         FROM ratings r JOIN users u ON u.id = r.user_id JOIN movies m ON m.id = r.movie_id
        WHERE u.external_id LIKE 'lb-%'`,
      );
      const key = (x: { user: string; movie: string; rating: number }) => `${x.user}|${x.movie}|${x.rating}`;
      const have = new Set(stored.map(key));
      const lost = acknowledged.filter((a) => !have.has(key(a)));
      expect(lost).toEqual([]);
      // the replica that never became ready never got a request, and HAProxy never took it for UP
      expect(neverReadyHits).toBe(0);
      expect(await serverStatus(statsPort, 'api3')).not.toBe('UP');
    }, 300_000);
  },
);
