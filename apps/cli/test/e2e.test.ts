import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cliDir, tempDir } from './helpers.ts';

// The main job (what `pnpm start` runs) on a fresh embedded PGlite database in a temporary folder, with fewer
// epochs: migrate, import the bundled MovieLens data, train and evaluate the rating model and the recommendation
// model, save+activate both, serve — then the started API is queried over HTTP (recommendations from the ranking
// model, predictRating from the rating model), and Ctrl-C stops it cleanly.
const dir = tempDir('e2e');
afterAll(() => dir.cleanup());

const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));

async function graphql(url: string, query: string, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data!;
}

describe('main job', () => {
  it('migrates, imports, trains, evaluates, activates and serves GraphQL on a fresh embedded database', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MOVIEREC_DATA_DIR: join(dir.path, 'pglite'),
      INIT_CWD: cliDir,
    };
    delete env.DATABASE_URL;
    delete env.PORT;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', mainTs, 'main', '--engine', 'sgd', '--epochs', '2', '--port', '0', '--json'],
      { cwd: cliDir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // With --json the one JSON object arrives once the API is up.
    const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (s: string) => {
        stdout += s;
        if (stdout.endsWith('\n')) {
          try {
            resolve(JSON.parse(stdout) as Record<string, unknown>);
          } catch (error) {
            reject(error);
          }
        }
      });
      child.on('close', (code) => reject(new Error(`main exited with ${code} before serving:\n${stderr}`)));
    });
    try {
      expect(started.modelVersion, JSON.stringify(started).slice(0, 400)).toBe(1);
      // the recommendation model: the default ranking preset (EASE), evaluated beside popularity, saved as version 2
      const ranking = started.ranking as Record<string, unknown> & {
        baselines: { popularity: Record<string, number> };
      };
      expect(ranking).toMatchObject({ task: 'ranking', family: 'ease', preset: 'default', modelVersion: 2 });
      expect(ranking['ndcg@10']).toBeGreaterThan(ranking.baselines.popularity['ndcg@10']!);
      expect(started).toMatchObject({
        migrations: { alreadyApplied: [] },
        import: { ratings: { inserted: 100_004 }, users: { inserted: 671 } },
        training: { engine: 'sgd', heldOut: 10_000 },
      });
      const training = started.training as { epochs: unknown[]; rmse: number; mae: number };
      expect(training.epochs).toHaveLength(2);
      expect(training.rmse).toBeGreaterThan(0.7);
      expect(training.rmse).toBeLessThan(1.1);
      const url = started.url as string;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // the progress and logs went to stderr
      expect(stderr).toContain('training sgd (preset default)');
      expect(stderr).toContain('ranking model ease');

      // the main job serves in demo mode (loopback): sign in as user 1 the way the page does
      const signIn = await fetch(`${url}/auth/demo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: '1' }),
      });
      expect(signIn.status).toBe(200);
      const { token } = (await signIn.json()) as { token: string };
      const data = await graphql(
        url,
        `{ recommendations(userId: "1", limit: 5) {
             source modelVersion { id task family } items { rank score movie { id title } because(limit: 2) { id } } }
           activeModel { id active }
           activeModels { id task metrics { rmse ndcgAt10 popularityNdcgAt10 coverageAt10 } } }`,
        token,
      );
      const recs = data.recommendations as {
        source: string;
        modelVersion: unknown;
        items: { rank: number; movie: { title: string }; because: unknown[] }[];
      };
      expect(recs.source).toBe('PERSONALIZED');
      // ranked by the recommendation model, explained by its own reasons (EASE: the rated movies adding most)
      expect(recs.modelVersion).toEqual({ id: '2', task: 'RANKING', family: 'ease' });
      expect(recs.items.map((i) => i.rank)).toEqual([1, 2, 3, 4, 5]);
      expect(recs.items.every((i) => i.movie.title.length > 0)).toBe(true);
      expect(recs.items.some((i) => i.because.length > 0)).toBe(true);
      expect(data.activeModel).toEqual({ id: '2', active: true });
      const active = data.activeModels as {
        id: string;
        task: string;
        metrics: Record<string, number | null>;
      }[];
      expect(active.map((v) => [v.id, v.task])).toEqual([
        ['1', 'RATING'],
        ['2', 'RANKING'],
      ]);
      expect(active[0]!.metrics.rmse).toBe(training.rmse);
      expect(active[1]!.metrics.ndcgAt10).toBe(ranking['ndcg@10']);
      expect(active[1]!.metrics.popularityNdcgAt10).toBe(ranking.baselines.popularity['ndcg@10']);
      const prediction = await graphql(
        url,
        '{ predictRating(userId: "1", movieId: "31") { rating } }',
        token,
      );
      const rating = (prediction.predictRating as { rating: number }).rating;
      expect(rating).toBeGreaterThan(0.5);
      expect(rating).toBeLessThan(5.5);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('server stopped');
    // exactly one JSON object on stdout, nothing after it
    expect(stdout.trim().split('\n')).toHaveLength(1);
  });
});
