import { describe, expect, it } from 'vitest';
import {
  ImportError,
  importDataset,
  readInteractions,
  readRatings,
  tableCounts,
  upsertRating,
  upsertView,
  userRatings,
} from '../src/index.ts';
import type { TestDatabase } from '../src/testing.ts';
import { emptiedBeforeEachTest, kinds, makeDataset } from './helpers.ts';

const T0 = 1_100_000_000;
const movies = [
  { id: '1', title: 'Toy Story', year: 1995, genres: ['Animation'] },
  { id: '2', title: 'Jumanji', year: 1995, genres: ['Adventure'] },
  { id: '3', title: 'Heat', year: 1995, genres: ['Action'] },
];
const ratings = makeDataset(
  [
    ['10', '1', 4, T0],
    ['10', '2', 2, T0 + 1],
    ['11', '1', 5, T0 + 2],
  ],
  movies,
  'ratings',
);
/** Watch history: user 10 viewed movie 1 (which they rated) and 3; user 12 (no ratings) viewed 2 with weight 3. */
const views = {
  ...makeDataset(
    [
      ['10', '1', 1, T0 + 10],
      ['10', '3', 2, T0 + 11],
      ['12', '2', 3, T0 + 12],
    ],
    movies,
    'views',
  ),
  kind: 'views' as const,
};

/** (user, movie) → value of a dataset's rows. */
/** x as float32 stores it (interaction values are Float32Array entries). */
const f32 = (x: number) => Math.fround(x);

function rows(d: Awaited<ReturnType<typeof readRatings>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (let r = 0; r < d.ratings.length; r++)
    out[`${d.users.externalId(d.ratings.users[r]!)}/${d.items.externalId(d.ratings.items[r]!)}`] =
      d.ratings.ratings[r]!;
  return out;
}

for (const kind of kinds) {
  describe(`watch history (views) on ${kind}`, () => {
    let db: TestDatabase;
    emptiedBeforeEachTest(kind, (opened) => {
      db = opened;
    });

    it('imports views into their own table, idempotently, leaving ratings alone', async () => {
      await importDataset(db, ratings);
      const summary = await importDataset(db, views);
      expect(summary.kind).toBe('views');
      expect(summary.views).toEqual({ inserted: 3, updated: 0, unchanged: 0 });
      expect(summary.ratings).toEqual({ inserted: 0, updated: 0, unchanged: 0 });
      expect(summary.users.inserted).toBe(1); // user 12
      const again = await importDataset(db, views);
      expect(again.views).toEqual({ inserted: 0, updated: 0, unchanged: 3 });
      expect(await tableCounts(db)).toMatchObject({ ratings: 3, views: 3, users: 3 });
      // readRatings is unchanged by views
      expect(rows(await readRatings(db))).toEqual({ '10/1': 4, '10/2': 2, '11/1': 5 });
    });

    it('imports views into an empty database (bulk first load) and into a non-empty views table (merge)', async () => {
      await importDataset(db, views);
      const newer = {
        ...makeDataset([['12', '2', 7, T0 + 99]], movies, 'views-2'),
        kind: 'views' as const,
      };
      const merged = await importDataset(db, newer);
      expect(merged.views).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
      const back = await readInteractions(db);
      expect(back.kind).toBe('views');
      // each view valued on the rating scale: viewValue(w) = 4 + log10 w (one view = 4, a relevant rating)
      expect(rows(back)).toEqual({
        '10/1': f32(4),
        '10/3': f32(4 + Math.log10(2)),
        '12/2': f32(4 + Math.log10(7)),
      });
    });

    it('readInteractions: ratings as interactions, then the views of unrated movies, as --interactions says', async () => {
      await importDataset(db, ratings);
      await importDataset(db, views);
      const all = await readInteractions(db);
      expect(all.kind).toBe('mixed');
      // 10/1 was rated and viewed: it counts by its rating; a view is valued as a rating of 4 + log10(weight), so
      // 10/3 (weight 2) weighs as a liked movie, above the rating of 2 the user gave movie 2
      expect(rows(all)).toEqual({
        '10/1': 4,
        '10/2': 2,
        '11/1': 5,
        '10/3': f32(4 + Math.log10(2)),
        '12/2': f32(4 + Math.log10(3)),
      });
      expect(all.counts).toEqual({ ratings: 3, views: 2 });
      const liked = await readInteractions(db, { interactions: { minRating: 4 } });
      expect(rows(liked)).toEqual({
        '10/1': 4,
        '11/1': 5,
        '10/3': f32(4 + Math.log10(2)),
        '12/2': f32(4 + Math.log10(3)),
      });
      const binary = await readInteractions(db, { interactions: { weight: 'binary' } });
      expect(binary.kind).toBe('views');
      expect(new Set(Object.values(rows(binary)))).toEqual(new Set([1]));
      // same ID maps as readRatings
      expect(all.users.ids()).toEqual((await readRatings(db)).users.ids());
    });

    it('upsertView adds to the pair, creates a new user, touches last_rated_at, and refuses an unknown movie', async () => {
      await importDataset(db, ratings);
      const first = await upsertView(db, 'new-user', '3', 1.5);
      expect(first).toMatchObject({ weight: 1.5, createdUser: true });
      const second = await upsertView(db, 'new-user', '3', 1);
      expect(second).toMatchObject({ weight: 2.5, createdUser: false });
      const [u] = await db.query<{ last: Date | null }>(
        `SELECT last_rated_at AS last FROM users WHERE external_id = 'new-user'`,
      );
      expect(u?.last).not.toBeNull();
      await expect(upsertView(db, 'other', 'nope', 1)).rejects.toThrow(/movie "nope" is not in the database/);
      // no user was created for a refused view
      expect(await userRatings(db, 'other')).toMatchObject({ exists: false });
      await expect(upsertView(db, 'new-user', '3', 0)).rejects.toThrow(/weight must be a finite number > 0/);
    });

    it("userRatings returns the user's views of movies they did not rate", async () => {
      await importDataset(db, ratings);
      await upsertView(db, '10', '1', 1); // rated: counts by its rating
      await upsertView(db, '10', '3', 2);
      const stored = await userRatings(db, '10');
      expect(stored.exists).toBe(true);
      expect(new Set(stored.movieIds)).toEqual(new Set(['1', '2']));
      expect(stored.viewedMovieIds).toEqual(['3']);
      expect(Array.from(stored.viewWeights ?? [])).toEqual([2]);
      await upsertRating(db, '10', '3', 4.5);
      const after = await userRatings(db, '10');
      expect(after.viewedMovieIds).toEqual([]);
      expect(new Set(after.movieIds)).toEqual(new Set(['1', '2', '3']));
    });

    it('refuses a view weight ≤ 0 in a dataset with its row and writes nothing', async () => {
      const bad = {
        ...makeDataset(
          [
            ['10', '1', 1, T0],
            ['10', '2', 0, T0],
          ],
          movies,
          'bad-views',
        ),
        kind: 'views' as const,
      };
      const err = await importDataset(db, bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ImportError);
      expect(String((err as Error).message)).toMatch(
        /bad-views: view row 1 \(user 10\): weight 0 is not a number > 0/,
      );
      expect(await tableCounts(db)).toMatchObject({ users: 0, views: 0 });
    });
  });
}
