import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  interruptImport,
  interruptWhen,
  parseJson,
  runCli,
  scratchPostgres,
  TINY_MOVIES,
  TINY_RATINGS,
  tempDir,
} from './helpers.ts';

// The database commands against a fresh database on the project's PostgreSQL (each CLI run connects in
// milliseconds; the embedded PGlite path is covered end to end by e2e.test.ts). The steps build on each other in
// order, as an operator would run them.
const dir = tempDir('db');
const { env, cli } = scratchPostgres(dir.path);

async function counts() {
  const r = await cli('db', 'status', '--json');
  expect(r.code, r.stderr).toBe(0);
  return parseJson(r).counts as { users: number; movies: number; ratings: number; modelVersions: number };
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
}

beforeAll(() => {
  mkdirSync(join(dir.path, 'tiny'));
  writeFileSync(join(dir.path, 'tiny', 'ratings.csv'), TINY_RATINGS);
  writeFileSync(join(dir.path, 'tiny', 'movies.csv'), TINY_MOVIES);
});
afterAll(() => dir.cleanup());

describe('database commands on a fresh PostgreSQL database', () => {
  it('db status before migrating shows the pending migration; model commands say to migrate', async () => {
    const r = await cli('db', 'status', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r) as { migrations: { pending: string[] }; counts?: unknown };
    expect(j.migrations.pending.length).toBeGreaterThan(0);
    expect(j.counts).toBeUndefined();
    const list = await cli('models', 'list');
    expect(list.code).toBe(1);
    expect(oneLine(list.stderr)).toContain('db:migrate');
  });

  it('db migrate applies the migrations once', async () => {
    const first = await cli('db', 'migrate', '--json');
    expect(first.code, first.stderr).toBe(0);
    expect((parseJson(first).applied as string[]).length).toBeGreaterThan(0);
    const again = await cli('db', 'migrate');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('is up to date');
  });

  it('import loads a dataset; importing it again changes nothing', async () => {
    const r = await cli('import', 'tiny', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r)).toMatchObject({
      ratings: { inserted: 12 },
      users: { inserted: 4 },
      movies: { inserted: 5 },
    });
    const again = await cli('import', 'tiny', '--json');
    expect(parseJson(again)).toMatchObject({ ratings: { inserted: 0, unchanged: 12 } });
    expect(await counts()).toEqual({ users: 4, movies: 5, ratings: 12, views: 0, modelVersions: 0 });
  });

  it('import of a missing file or an unknown dataset is one clear line, exit 1, nothing written', async () => {
    const missing = await cli('import', 'nope.csv');
    expect(missing.code).toBe(1);
    expect(oneLine(missing.stderr)).toContain(`no such file or dataset: 'nope.csv'`);
    const unknown = await cli('import', 'ml-1m');
    expect(unknown.code).toBe(1);
    expect(oneLine(unknown.stderr)).toContain("run 'movierec data fetch ml-1m'");
    expect((await counts()).ratings).toBe(12);
  });

  it('Ctrl-C during an import rolls it back: exit 130, the database as before', async () => {
    await interruptImport({ env, cwd: dir.path });
    expect(await counts()).toEqual({ users: 4, movies: 5, ratings: 12, views: 0, modelVersions: 0 });
  });

  it('train --from-db saves a model version, prints per-epoch loss and validation RMSE/MAE', async () => {
    const r = await cli(
      'train',
      '--from-db',
      '--engine',
      'sgd',
      '--epochs',
      '3',
      '--factors',
      '4',
      '--validation',
      '0.25',
      '--activate',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/epoch 1\/3 {2}loss \d\.\d{4} {2}val RMSE \d\.\d{4} {2}MAE \d\.\d{4}/);
    expect(r.stdout).toMatch(/epoch 3\/3/);
    expect(r.stdout).toContain('baseline: user+movie biases');
    expect(r.stdout).toContain('saved model version 1');
    const list = await cli('models', 'list', '--json');
    const versions = parseJson(list).versions as { id: number; active: boolean; factors: number }[];
    expect(versions).toEqual([expect.objectContaining({ id: 1, active: true, factors: 4 })]);
  });

  it('Ctrl-C during training saves no version (database) and writes no file (--out)', async () => {
    const longRun = ['train', '--engine', 'sgd', '--epochs', '100000', '--factors', '2', '--validation', '0'];
    const started = (out: string) => /epoch +2\//.test(out);
    const toDb = await interruptWhen(longRun, started, { env, cwd: dir.path });
    expect(toDb.interrupted, toDb.stderr).toBe(true);
    expect(toDb.code, toDb.stderr).toBe(130);
    expect((await counts()).modelVersions).toBe(1);
    const toFile = await interruptWhen([...longRun, '--out', 'stopped.mfm'], started, { env, cwd: dir.path });
    expect(toFile.interrupted, toFile.stderr).toBe(true);
    expect(toFile.code, toFile.stderr).toBe(130);
    expect(readdirSync(dir.path).filter((f) => f.startsWith('stopped'))).toEqual([]);
  });

  it('recommend, similar and predict use the active version, with titles from the database', async () => {
    const rec = await cli('recommend', '1', '--k', '2', '--json');
    expect(rec.code, rec.stderr).toBe(0);
    const items = parseJson(rec).items as { movieId: string; title: string }[];
    expect(items).toHaveLength(2);
    // user 1 rated 10, 20, 30 (stored ratings), so only 40 and 50 remain
    expect(items.map((i) => i.movieId).sort()).toEqual(['40', '50']);
    expect(items.map((i) => i.title).sort()).toEqual(['Alien', 'Amélie']);
    const sim = await cli('similar', '10', '--k', '3', '--json');
    expect(sim.code, sim.stderr).toBe(0);
    expect(parseJson(sim)).toMatchObject({ movieId: '10', title: 'Heat', model: { version: '1' } });
    const pred = await cli('predict', '2', '20', '--json');
    expect(pred.code, pred.stderr).toBe(0);
    const rating = parseJson(pred).rating as number;
    expect(rating).toBeGreaterThan(0);

    // export → the same prediction from the file
    const exp = await cli('models', 'export', '1', 'v1.mfm');
    expect(exp.code, exp.stderr).toBe(0);
    expect(existsSync(join(dir.path, 'v1.mfm'))).toBe(true);
    const fromFile = await cli('predict', '2', '20', '--model', 'v1.mfm', '--json');
    expect(parseJson(fromFile).rating).toBeCloseTo(rating, 5);
  });

  it('an unknown user or movie and a nonexistent model version are one clear line, exit 1', async () => {
    const user = await cli('recommend', '999');
    expect(user.code).toBe(1);
    expect(oneLine(user.stderr)).toContain('unknown user "999"');
    const movie = await cli('similar', '777');
    expect(movie.code).toBe(1);
    expect(oneLine(movie.stderr)).toContain('unknown item "777"');
    for (const args of [
      ['models', 'activate', '42'],
      ['models', 'export', '42', 'x.mfm'],
      ['predict', '1', '10', '--model', '42'],
    ]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(oneLine(r.stderr), args.join(' ')).toMatch(/[Mm]odel version 42 does not exist/);
    }
    expect(existsSync(join(dir.path, 'x.mfm'))).toBe(false);
    const list = await cli('models', 'list', '--json');
    expect((parseJson(list).versions as { active: boolean }[])[0]?.active).toBe(true);
  });

  it('models activate switches the active version', async () => {
    const train = await cli(
      'train',
      '--from-db',
      '--engine',
      'sgd',
      '--epochs',
      '1',
      '--factors',
      '3',
      '--validation',
      '0',
      '--json',
    );
    expect(train.code, train.stderr).toBe(0);
    expect(parseJson(train)).toMatchObject({ modelVersion: 2, active: false });
    const act = await cli('models', 'activate', '2');
    expect(act.code, act.stderr).toBe(0);
    const list = parseJson(await cli('models', 'list', '--json')).versions as {
      id: number;
      active: boolean;
    }[];
    expect(list.map((v) => [v.id, v.active])).toEqual([
      [2, true],
      [1, false],
    ]);
  });
  it('train --task ranking saves a ranking version with its metrics; --activate serves it beside the rating model', async () => {
    const train = await cli(
      'train',
      '--from-db',
      '--task',
      'ranking',
      '--preset',
      'item-knn',
      '--activate',
      '--json',
    );
    expect(train.code, train.stderr).toBe(0);
    const j = parseJson(train);
    expect(j).toMatchObject({ task: 'ranking', family: 'item-knn', modelVersion: 3, active: true });
    expect(typeof j['ndcg@10']).toBe('number');
    const list = parseJson(await cli('models', 'list', '--json')).versions as {
      id: number;
      active: boolean;
      task: string;
      family: string;
      metrics: Record<string, number>;
    }[];
    // one active version per task: the ranking model joins the active rating model (version 2)
    expect(list.map((v) => [v.id, v.task, v.active])).toEqual([
      [3, 'ranking', true],
      [2, 'rating', true],
      [1, 'rating', false],
    ]);
    expect(list[0]!.family).toBe('item-knn');
    expect(list[0]!.metrics.ndcgAt10).toBe(j['ndcg@10']);
    expect(list[0]!.metrics.popularityNdcgAt10).toBe(
      (j.baselines as { popularity: Record<string, number> }).popularity['ndcg@10'],
    );
    expect(list[0]!.metrics.heldOutInteractions).toBe(j.heldOut);
    const table = await cli('models', 'list');
    expect(table.stdout).toMatch(/popularity NDCG@10/);
    expect(table.stdout).toMatch(/^\s*3\s+\*\s+ranking\s/m);

    // recommend ranks with the active ranking model; a rating-only flag is a usage error before anything is read
    const rec = await cli('recommend', '1', '--k', '2', '--json');
    expect(rec.code, rec.stderr).toBe(0);
    const bad = await cli('train', '--from-db', '--task', 'ranking', '--epochs', '3');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      "--epochs applies to --task rating; a ranking model's settings come from --preset",
    );
    expect((parseJson(await cli('models', 'list', '--json')).versions as unknown[]).length).toBe(3);
  });

  it('serve starts the API on the database (one JSON object with --json) and stops on Ctrl-C', async () => {
    let health = 0;
    let predicted: unknown;
    let stdout = '';
    const done = await runCli(['serve', '--port', '0', '--json'], {
      env: { ...env, LOG_LEVEL: 'warn', MOVIEREC_AUTH: 'off' }, // loopback: allowed without authentication
      cwd: dir.path,
      onStdout: (chunk, child) => {
        stdout += chunk;
        if (!stdout.endsWith('\n')) return;
        const { url } = JSON.parse(stdout) as { url: string };
        void (async () => {
          try {
            health = (await fetch(`${url}/health`)).status;
            const res = await fetch(`${url}/graphql`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query: '{ predictRating(userId: "2", movieId: "20") { rating } }' }),
            });
            predicted = ((await res.json()) as { data: { predictRating: { rating: number } } }).data
              .predictRating.rating;
          } finally {
            child.kill('SIGINT');
          }
        })();
      },
    });
    expect(done.code, done.stderr).toBe(0);
    expect(done.stderr).toContain('server stopped');
    expect(done.stdout.trim().split('\n')).toHaveLength(1);
    expect(health).toBe(200);
    expect(typeof predicted).toBe('number');
  });
  it('serve on a port in use is one clear line, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await cli('serve', '--port', String(port));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(
        `movierec: cannot listen on 127.0.0.1:${port} (the port is in use): pass --port <n>`,
      );
    } finally {
      blocker.close();
    }
  });
  it('serve reads the cache budgets from the environment as apps/api does: a bad one is one line naming it, exit 1', async () => {
    const r = await runCli(['serve', '--port', '0'], {
      env: { ...env, MOVIEREC_LIST_CACHE_BYTES: '4MB' },
      cwd: dir.path,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(oneLine(r.stderr)).toBe(
      'movierec: MOVIEREC_LIST_CACHE_BYTES must be a whole number of bytes (0 turns the cache off), got "4MB"',
    );
  });

  it('serve --workers 2: two processes answer on one port, and SIGTERM stops them all within 10 s', async () => {
    let stdout = '';
    let answers: unknown[] = [];
    let pids: number[] = [];
    let signalled = 0;
    const done = await runCli(['serve', '--workers', '2', '--port', '0', '--json'], {
      env: { ...env, LOG_LEVEL: 'warn', MOVIEREC_AUTH: 'off' },
      cwd: dir.path,
      onStdout: (chunk, child) => {
        stdout += chunk;
        if (!stdout.endsWith('\n')) return;
        const out = JSON.parse(stdout) as { url: string; workers: number; pids: number[] };
        pids = out.pids;
        void (async () => {
          try {
            // more requests than workers, on fresh connections: the primary hands connections out in turn
            answers = await Promise.all(
              Array.from({ length: 6 }, () =>
                fetch(`${out.url}/graphql`, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json', connection: 'close' },
                  body: JSON.stringify({ query: '{ predictRating(userId: "2", movieId: "20") { rating } }' }),
                }).then(async (r) => ((await r.json()) as { data: unknown }).data),
              ),
            );
          } finally {
            signalled = Date.now();
            child.kill('SIGTERM');
          }
        })();
      },
    });
    const stoppedMs = Date.now() - signalled;
    expect(done.code, done.stderr).toBe(0);
    expect(stoppedMs).toBeLessThan(10_000);
    expect(pids).toHaveLength(2);
    expect(new Set(pids).size).toBe(2);
    expect(answers).toHaveLength(6);
    for (const a of answers) expect(a).toEqual(answers[0]);
    expect(answers[0]).toEqual({ predictRating: { rating: expect.any(Number) } });
    // every worker is gone with the primary
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
  it('serve --workers 2 on a port in use is one clear line, exit 1', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await runCli(['serve', '--workers', '2', '--port', String(port)], {
        env: { ...env, LOG_LEVEL: 'warn' },
        cwd: dir.path,
      });
      expect(r.code, r.stderr).toBe(1);
      expect(oneLine(r.stderr)).toBe(
        `movierec: cannot listen on 127.0.0.1:${port} (the port is in use): pass --port <n> (0 for any free port) or set PORT`,
      );
    } finally {
      blocker.close();
    }
  });
  it('serve --workers 0 is a usage error; --workers 2 on the embedded database is refused in one line', async () => {
    const zero = await cli('serve', '--workers', '0');
    expect(zero.code, zero.stderr).toBe(2);
    expect(zero.stderr).toContain("--workers: expected an integer ≥ 1, got '0'");
    const pglite = await runCli(['serve', '--workers', '2'], { env: { LOG_LEVEL: 'warn' }, cwd: dir.path });
    expect(pglite.code, pglite.stderr).toBe(1);
    expect(oneLine(pglite.stderr)).toMatch(
      /^movierec: --workers 2 needs PostgreSQL \(set DATABASE_URL\): the embedded PGlite database can be opened by one process only/,
    );
  });
});
