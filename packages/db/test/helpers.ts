import { allocColumns, type Dataset, IdMap } from '@movierec/data';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { Database } from '../src/connection.ts';
import {
  createTestDatabase,
  resetTestDatabase,
  type TestDatabase,
  type TestDatabaseKind,
} from '../src/testing.ts';

export const kinds = ['postgres', 'pglite'] as const;

/**
 * One migrated test database of `kind` for the tests of the enclosing describe: opened before them (and handed to
 * `use`), emptied before each test, dropped after them.
 */
export function emptiedBeforeEachTest(kind: TestDatabaseKind, use: (db: TestDatabase) => void): void {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    use(db);
  });
  afterAll(async () => {
    await db?.close();
  });
  beforeEach(async () => {
    await resetTestDatabase(db!);
  });
}

export interface MovieRow {
  id: string;
  title: string;
  year?: number;
  genres?: string[];
}

/** A small dataset from readable rows: [userId, movieId, rating, unixSeconds]. */
export function makeDataset(
  ratings: [string, string, number, number][],
  movies?: MovieRow[],
  name = 'test-dataset',
): Dataset {
  const users = new IdMap();
  const items = new IdMap();
  for (const movie of movies ?? []) items.add(movie.id);
  const n = ratings.length;
  const cols = allocColumns(n);
  ratings.forEach(([u, m, r, t], row) => {
    cols.users[row] = users.add(u);
    cols.items[row] = items.add(m);
    cols.ratings[row] = r;
    cols.timestamps[row] = t;
  });
  const table = movies
    ? {
        titles: items.ids().map((id) => movies.find((m) => m.id === id)?.title ?? ''),
        years: Int16Array.from(items.ids().map((id) => movies.find((m) => m.id === id)?.year ?? 0)),
        genres: items.ids().map((id) => movies.find((m) => m.id === id)?.genres ?? []),
      }
    : undefined;
  return {
    name,
    ratings: cols,
    users,
    items,
    ...(table ? { movies: table } : {}),
    report: { rowsRead: n, skipped: {}, duplicates: 0 },
  };
}

/** A synthetic dataset of `n` distinct (user, movie) pairs, deterministic. */
export function syntheticDataset(n: number, numUsers: number, numItems: number, seed = 1): Dataset {
  const users = new IdMap();
  const items = new IdMap();
  for (let u = 0; u < numUsers; u++) users.add(`u${u}`);
  for (let i = 0; i < numItems; i++) items.add(`m${i}`);
  if (n > numUsers * numItems) throw new RangeError('more ratings than pairs');
  const cols = allocColumns(n);
  for (let r = 0; r < n; r++) {
    cols.users[r] = r % numUsers;
    cols.items[r] = (Math.floor(r / numUsers) + seed * (r % numUsers)) % numItems;
    cols.ratings[r] = 0.5 * (1 + ((r * 7 + seed) % 10));
    cols.timestamps[r] = 1_000_000_000 + r;
  }
  return {
    name: 'synthetic',
    ratings: cols,
    users,
    items,
    report: { rowsRead: n, skipped: {}, duplicates: 0 },
  };
}

/** Every rating as 'user|movie|rating|unixSeconds', sorted: compares datasets regardless of row order. */
export function ratingSet(dataset: Dataset): string[] {
  const { length, users, items, ratings, timestamps } = dataset.ratings;
  const out: string[] = [];
  for (let r = 0; r < length; r++) {
    out.push(
      `${dataset.users.externalId(users[r]!)}|${dataset.items.externalId(items[r]!)}|${ratings[r]}|${timestamps[r]}`,
    );
  }
  return out.sort();
}

/** A fingerprint of everything an import touches: rows of users, movies, ratings, and the ratings indexes. */
export async function snapshot(db: Database): Promise<Record<string, unknown>> {
  const [row] = await db.query(`
    SELECT
      (SELECT count(*)::int FROM users) AS users,
      (SELECT count(*)::int FROM movies) AS movies,
      (SELECT count(*)::int FROM ratings) AS ratings,
      (SELECT coalesce(md5(string_agg(external_id, ',' ORDER BY id)), '') FROM users) AS users_hash,
      (SELECT coalesce(md5(string_agg(external_id || title || coalesce(year::text, '') || array_to_string(genres, '|'), ',' ORDER BY id)), '') FROM movies) AS movies_hash,
      (SELECT coalesce(md5(string_agg(user_id || ':' || movie_id || ':' || rating || ':' || rated_at, ',' ORDER BY user_id, movie_id)), '') FROM ratings) AS ratings_hash,
      (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'ratings') AS ratings_indexes,
      (SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = 'ratings'::regclass) AS ratings_constraints`);
  return row ?? {};
}
