/**
 * The serving benches' shared set-up and traffic (bench/soak.ts, bench/stalls.ts): a PostgreSQL test database with
 * the bundled dataset, a small rating model and the main job's recommendation model (trained by the CLI from the
 * database, as an operator does) both active, a second rating version to activate mid-run, and the request mix —
 * every query of the schema with the user in variables, rateMovie for known and new users, and the hostile
 * documents the API must refuse cheaply.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trainSmallModel } from '../../apps/api/test/web-fixture.ts';
import { type Dataset, loadBundled } from '../../packages/data/src/index.ts';
import { importDataset, saveModelVersion } from '../../packages/db/src/index.ts';
import { createTestDatabase, type TestDatabase } from '../../packages/db/src/testing.ts';

const cli = fileURLToPath(new URL('../../apps/cli/bin/movierec.mjs', import.meta.url));

export interface ServingDatabase {
  db: TestDatabase;
  dataset: Dataset;
  /** A rating-model version that is saved but not active (to activate during the run). */
  nextVersion: number;
  users: string[];
  /** Movies someone rated (a movie only listed in metadata is NOT_FOUND for a model trained on ratings). */
  movieIds: string[];
}

/** The database a served API starts from: data imported, a rating and (with `ranking`) a ranking model active. */
export async function servingDatabase(options: { ranking?: boolean } = {}): Promise<ServingDatabase> {
  const db = await createTestDatabase('postgres');
  const dataset = await loadBundled();
  await importDataset(db, dataset);
  const small = await trainSmallModel(dataset);
  await saveModelVersion(db, { ...small, activate: true });
  const nextVersion = await saveModelVersion(db, { ...small, datasetFingerprint: 'bench-next' });
  if (options.ranking !== false) {
    // the main job's recommendation model, trained from the database by the CLI in its own process
    const child = spawn(
      process.execPath,
      [cli, 'train', '--task', 'ranking', '--from-db', '--activate', '--validation', '0', '--json'],
      { env: { ...process.env, DATABASE_URL: db.url! }, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const code = await new Promise<number | null>((done) => child.once('exit', done));
    if (code !== 0) throw new Error(`train --task ranking exited ${code}`);
  }
  const users = Array.from({ length: dataset.users.size }, (_, j) => dataset.users.externalId(j));
  const movieIds = [
    ...new Set(
      Array.from(dataset.ratings.items.subarray(0, dataset.ratings.length), (i) =>
        dataset.items.externalId(i),
      ),
    ),
  ];
  return { db, dataset, nextVersion, users, movieIds };
}

/** POSTs one GraphQL body to `${url}/graphql`; the status and the raw response text. */
export async function postGraphql(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

export interface Operation {
  name: string;
  body: () => { query: string; variables?: Record<string, unknown> };
  /** A rateMovie: an acknowledged one must be in the database afterwards. */
  rating?: true;
}

/** Every query of the schema and rateMovie (half for known users, half for new ones), random arguments. */
export function operations(users: readonly string[], movieIds: readonly string[]): Operation[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  let newUsers = 0;
  const run = Date.now().toString(36);
  return [
    {
      name: 'recommendations',
      body: () => ({
        query:
          'query R($u: ID!, $n: Int) { recommendations(userId: $u, limit: $n) { source items { rank score movie { id title year genres } } } }',
        variables: { u: pick(users), n: 1 + Math.floor(Math.random() * 30) },
      }),
    },
    {
      name: 'recommendations by genre',
      body: () => ({
        query:
          'query G($u: ID!, $g: [String!]) { recommendations(userId: $u, limit: 10, genres: $g) { source items { movie { id title } } } }',
        variables: { u: pick(users), g: [pick(['Drama', 'Comedy', 'Action', 'Thriller', 'Romance'])] },
      }),
    },
    {
      name: 'because',
      body: () => ({
        query:
          'query B($u: ID!) { recommendations(userId: $u, limit: 5) { items { movie { id } because { title } } } }',
        variables: { u: pick(users) },
      }),
    },
    {
      name: 'predictRating',
      body: () => ({
        query: 'query P($u: ID!, $m: ID!) { predictRating(userId: $u, movieId: $m) { rating source } }',
        variables: { u: pick(users), m: pick(movieIds) },
      }),
    },
    {
      name: 'similarMovies',
      body: () => ({
        query: 'query S($m: ID!) { similarMovies(movieId: $m, limit: 10) { similarity movie { title } } }',
        variables: { m: pick(movieIds) },
      }),
    },
    {
      name: 'movie',
      body: () => ({
        query: 'query M($m: ID!) { movie(id: $m) { id title year genres averageRating } }',
        variables: { m: pick(movieIds) },
      }),
    },
    {
      name: 'movies',
      body: () => ({
        query:
          'query L($s: String) { movies(search: $s, first: 10) { totalCount edges { node { id title } } } }',
        variables: { s: pick(['star', 'love', 'the', 'man', 'war', 'toy', 'x']) },
      }),
    },
    {
      name: 'user',
      body: () => ({
        query:
          'query U($u: ID!) { user(id: $u) { ratingCount ratings(first: 20) { totalCount edges { node { rating movie { title } } } } } }',
        variables: { u: pick(users) },
      }),
    },
    {
      name: 'models',
      body: () => ({
        query: '{ modelVersions { id task active } activeModel { id } activeModels { id task } }',
      }),
    },
    {
      name: 'rateMovie',
      rating: true,
      body: () => {
        const u = Math.random() < 0.5 ? pick(users) : `bench-${run}-${++newUsers}`;
        const r = 0.5 * (1 + Math.floor(Math.random() * 10));
        return {
          query:
            'mutation W($u: ID!, $m: ID!, $r: Float!) { rateMovie(userId: $u, movieId: $m, rating: $r) { foldedInRatings } }',
          variables: { u, m: pick(movieIds), r },
        };
      },
    },
    {
      name: 'recordView',
      body: () => ({
        query:
          'mutation V($u: ID!, $m: ID!) { recordView(userId: $u, movieId: $m) { foldedInInteractions } }',
        variables: { u: pick(users), m: pick(movieIds) },
      }),
    },
  ];
}

/** Hostile documents: a fragment bomb (2²⁴ paths), 2,000 aliased recommendations, 2,000 aliased introspections. */
export const hostileDocuments: readonly { kind: string; query: string }[] = [
  {
    kind: 'fragment bomb',
    query: (() => {
      const parts = ['{ movie(id:"1"){...F24} } fragment F0 on Movie{id}'];
      for (let k = 1; k <= 24; k++) parts.push(`fragment F${k} on Movie{...F${k - 1} ...F${k - 1}}`);
      return parts.join(' ');
    })(),
  },
  {
    kind: 'alias flood',
    query: `{ ${Array.from({ length: 2000 }, (_, j) => `a${j}: recommendations(userId: "${j}", limit: 1, genres: ["Drama"]) { source }`).join(' ')} }`,
  },
  {
    kind: 'introspection flood',
    query: `{ ${Array.from({ length: 2000 }, (_, j) => `s${j}: __schema { types { name fields { name } } }`).join(' ')} }`,
  },
];
