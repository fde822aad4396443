/**
 * What a model activation reads when the movies did not change: a stamp of their metadata computed by the database
 * (equal stamps, the same movies in the same order) and their rating statistics as one value, equal to what
 * loadMovieRows reads row by row.
 */
import { describe, expect, it } from 'vitest';
import {
  importDataset,
  loadMovieRows,
  loadMovieStats,
  movieCatalogueStamp,
  upsertRating,
} from '../src/index.ts';
import type { TestDatabase } from '../src/testing.ts';
import { emptiedBeforeEachTest, kinds, makeDataset } from './helpers.ts';

const T0 = 1_100_000_000;
const movies = [
  { id: '1', title: 'Toy Story', year: 1995, genres: ['Animation', 'Comedy'] },
  { id: '2', title: 'Jumanji', year: 1995, genres: ['Adventure'] },
  { id: '3', title: 'Heat', genres: [] },
];
const dataset = makeDataset(
  [
    ['10', '1', 4, T0],
    ['10', '2', 2.5, T0 + 1],
    ['11', '1', 5, T0 + 2],
  ],
  movies,
  'ratings',
);

for (const kind of kinds) {
  describe(`movie stamp and statistics on ${kind}`, () => {
    let db: TestDatabase;
    emptiedBeforeEachTest(kind, (opened) => {
      db = opened;
    });

    it('reads the statistics loadMovieRows reads, and follows new ratings', async () => {
      await importDataset(db, dataset);
      const rows = await loadMovieRows(db);
      const stats = await loadMovieStats(db);
      expect(Array.from(stats.ratingCounts)).toEqual(Array.from(rows.ratingCounts));
      expect(Array.from(stats.ratingSums)).toEqual(Array.from(rows.ratingSums));
      expect(Array.from(stats.ratingCounts)).toEqual([2, 1, 0]);
      await upsertRating(db, '12', '3', 3.5);
      const after = await loadMovieStats(db);
      expect(Array.from(after.ratingCounts)).toEqual([2, 1, 1]);
      expect(Array.from(after.ratingSums)).toEqual([9, 2.5, 3.5]);
    });

    it('keeps its stamp while only ratings change, and changes it with any movie metadata', async () => {
      expect(await movieCatalogueStamp(db)).toBe('0:');
      await importDataset(db, dataset);
      const stamp = await movieCatalogueStamp(db);
      await upsertRating(db, '12', '3', 3.5);
      expect(await movieCatalogueStamp(db)).toBe(stamp);
      for (const change of [
        "UPDATE movies SET title = 'Heat (1995)' WHERE external_id = '3'",
        "UPDATE movies SET year = 1996 WHERE external_id = '3'",
        "UPDATE movies SET genres = ARRAY['Action'] WHERE external_id = '3'",
        "UPDATE movies SET genres = ARRAY['Comedy', 'Animation'] WHERE external_id = '1'",
      ]) {
        const before = await movieCatalogueStamp(db);
        await db.query(change);
        expect(await movieCatalogueStamp(db), change).not.toBe(before);
      }
    });
  });
}
