import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ImportError,
  type ImportProgress,
  importDataset,
  migrate,
  openDatabase,
  readRatings,
  trimRecycledWal,
} from '../src/index.ts';
import type { TestDatabase } from '../src/testing.ts';
import {
  emptiedBeforeEachTest,
  kinds,
  makeDataset,
  ratingSet,
  snapshot,
  syntheticDataset,
} from './helpers.ts';

const T0 = 1_100_000_000;
const movies = [
  { id: '1', title: 'Toy Story', year: 1995, genres: ['Adventure', 'Animation', 'Children'] },
  { id: '2', title: 'Jumanji', year: 1995, genres: ['Adventure'] },
  { id: '3', title: 'Tab\tand\\backslash "quoted"', genres: [] },
  { id: '4', title: 'Never rated', year: 2001, genres: ['Drama'] },
];
const first = makeDataset(
  [
    ['10', '1', 4, T0],
    ['10', '2', 3.5, T0 + 1],
    ['11', '1', 5, T0 + 2],
    ['12', '3', 0.5, T0 + 3],
  ],
  movies,
);

for (const kind of kinds) {
  describe(`importDataset / readRatings on ${kind}`, () => {
    let db: TestDatabase;
    emptiedBeforeEachTest(kind, (opened) => {
      db = opened;
    });

    it('imports users, movies with metadata and ratings, and reads the same columns back', async () => {
      const progress: ImportProgress[] = [];
      const summary = await importDataset(db, first, { onProgress: (p) => progress.push(p) });
      expect(summary.users).toEqual({ inserted: 3, updated: 0, unchanged: 0 });
      expect(summary.movies).toEqual({ inserted: 4, updated: 0, unchanged: 0 });
      expect(summary.ratings).toEqual({ inserted: 4, updated: 0, unchanged: 0 });
      expect(progress.some((p) => p.phase === 'ratings' && p.done === 4 && p.total === 4)).toBe(true);

      const back = await readRatings(db);
      expect(ratingSet(back)).toEqual(ratingSet(first));
      // Dense indices follow import order, so the ID maps come back identical.
      expect(back.users.ids()).toEqual(first.users.ids());
      expect(back.items.ids()).toEqual(first.items.ids());
      expect(back.movies?.titles).toEqual(movies.map((m) => m.title));
      expect(Array.from(back.movies?.years ?? [])).toEqual([1995, 1995, 0, 2001]);
      expect(back.movies?.genres).toEqual(movies.map((m) => m.genres));
      const toy = await db.prisma.movie.findUnique({ where: { externalId: '1' } });
      expect(toy).toMatchObject({
        title: 'Toy Story',
        year: 1995,
        genres: ['Adventure', 'Animation', 'Children'],
      });
      const rating = await db.prisma.rating.findFirst({ where: { user: { externalId: '12' } } });
      expect(rating?.ratedAt.toISOString()).toBe(new Date((T0 + 3) * 1000).toISOString());
    });

    it('is idempotent: importing the same data again changes nothing', async () => {
      await importDataset(db, first);
      const before = await snapshot(db);
      const again = await importDataset(db, first);
      expect(again.users).toEqual({ inserted: 0, updated: 0, unchanged: 3 });
      expect(again.movies).toEqual({ inserted: 0, updated: 0, unchanged: 4 });
      expect(again.ratings).toEqual({ inserted: 0, updated: 0, unchanged: 4 });
      expect(await snapshot(db)).toEqual(before);
    });

    it('a newer rating replaces the stored one, an older one is ignored, new pairs are added', async () => {
      await importDataset(db, first);
      const update = makeDataset([
        ['10', '1', 1, T0 + 100], // newer → replaces 4
        ['11', '1', 2, T0 - 100], // older → stored 5 stays
        ['13', '2', 4.5, T0 + 5], // new user, new pair
      ]);
      const summary = await importDataset(db, update);
      expect(summary.ratings).toEqual({ inserted: 1, updated: 1, unchanged: 1 });
      expect(summary.users).toEqual({ inserted: 1, updated: 0, unchanged: 2 });
      // No metadata in this dataset: the titles already stored are kept.
      expect(summary.movies).toEqual({ inserted: 0, updated: 0, unchanged: 2 });
      const back = ratingSet(await readRatings(db));
      expect(back).toContain(`10|1|1|${T0 + 100}`);
      expect(back).toContain(`11|1|5|${T0 + 2}`);
      expect(back).toContain(`13|2|4.5|${T0 + 5}`);
      expect(back).toHaveLength(5);
      expect((await db.prisma.movie.findUnique({ where: { externalId: '1' } }))?.title).toBe('Toy Story');
    });

    it('updates changed movie metadata and collapses duplicate pairs within a dataset to the latest', async () => {
      await importDataset(db, first);
      const renamed = makeDataset(
        [
          ['20', '1', 2, T0 + 10],
          ['20', '1', 3, T0 + 20],
          ['20', '1', 1, T0 + 15],
        ],
        [{ id: '1', title: 'Toy Story (restored)', year: 1995, genres: ['Animation'] }],
      );
      const summary = await importDataset(db, renamed);
      expect(summary.duplicatesInDataset).toBe(2);
      expect(summary.movies).toEqual({ inserted: 0, updated: 1, unchanged: 0 });
      expect(summary.ratings.inserted).toBe(1);
      expect(ratingSet(await readRatings(db))).toContain(`20|1|3|${T0 + 20}`);
      const toy = await db.prisma.movie.findUnique({ where: { externalId: '1' } });
      expect(toy).toMatchObject({ title: 'Toy Story (restored)', genres: ['Animation'] });
    });

    for (const start of ['empty', 'filled'] as const) {
      it(`a bad rating at row N (into an ${start} table) fails with its row number and writes nothing`, async () => {
        if (start === 'filled') await importDataset(db, first);
        const before = await snapshot(db);
        const bad = syntheticDataset(3000, 50, 100);
        (bad.ratings.ratings as Float32Array)[2500] = Number.NaN;
        const error = await importDataset(db, bad, { chunkRows: 1000 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ImportError);
        expect((error as Error).message).toMatch(
          /synthetic: rating row 2500 \(user u0\): rating NaN is not a finite/,
        );
        expect(await snapshot(db)).toEqual(before);
      });

      it(`an import aborted halfway (into an ${start} table) leaves the database exactly as before`, async () => {
        if (start === 'filled') await importDataset(db, first);
        const before = await snapshot(db);
        const controller = new AbortController();
        const big = syntheticDataset(5000, 60, 100);
        const error = await importDataset(db, big, {
          chunkRows: 1000,
          signal: controller.signal,
          onProgress: (p) => {
            if (p.phase === 'ratings' && p.done >= 3000) controller.abort();
          },
        }).catch((e: unknown) => e);
        expect((error as Error).name).toBe('AbortError');
        expect(await snapshot(db)).toEqual(before);
      });
    }

    for (const phase of ['ratings', 'merge'] as const) {
      it(`an abort from an event-loop callback (as Ctrl-C's handler) during ${phase} rolls the import back`, async () => {
        await importDataset(db, first);
        const before = await snapshot(db);
        const controller = new AbortController();
        let scheduled = false;
        const error = await importDataset(db, syntheticDataset(5000, 60, 100), {
          chunkRows: 1000,
          signal: controller.signal,
          onProgress: (p) => {
            // Not a direct abort: like a SIGINT handler, it runs only if the import lets the event loop turn.
            if (p.phase === phase && !scheduled) {
              scheduled = true;
              setImmediate(() => controller.abort());
            }
          },
        }).catch((e: unknown) => e);
        expect(scheduled).toBe(true);
        expect((error as Error).name).toBe('AbortError');
        expect(await snapshot(db)).toEqual(before);
      });
    }

    it('a rolled-back first load gives the space back: the ratings table is as small as before', async () => {
      const size = async () =>
        (await db.query<{ n: number }>("SELECT pg_table_size('ratings')::float8 AS n"))[0]!.n;
      const before = await size();
      const controller = new AbortController();
      const error = await importDataset(db, syntheticDataset(20_000, 200, 300), {
        chunkRows: 4096,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'merge') controller.abort();
        },
      }).catch((e: unknown) => e);
      expect((error as Error).name).toBe('AbortError');
      expect(await size()).toBe(before);
      // and a rolled-back merge into a filled table: VACUUM (PGlite) / autovacuum (PostgreSQL) truncates the tail
      await importDataset(db, first);
      const filled = await size();
      const filledIndexes = (
        await db.query<{ n: number }>("SELECT pg_indexes_size('ratings')::float8 AS n")
      )[0]!.n;
      const again = new AbortController();
      await importDataset(db, syntheticDataset(20_000, 200, 300, 7), {
        chunkRows: 4096,
        signal: again.signal,
        onProgress: (p) => {
          if (p.phase === 'merge' && p.done === 1) again.abort();
        },
      }).catch(() => {});
      if (kind === 'pglite') {
        expect(await size()).toBeLessThanOrEqual(filled + 8192 * 4);
        // and its indexes: the rolled-back insertions' B-tree pages are given back too (REINDEX)
        const indexes = async () =>
          (await db.query<{ n: number }>("SELECT pg_indexes_size('ratings')::float8 AS n"))[0]!.n;
        expect(await indexes()).toBeLessThanOrEqual(filledIndexes * 1.1 + 8192 * 4);
      }
    });

    it('refuses a rating off the dataset scale (3.3 on half stars; 3.5 on whole stars) and writes nothing', async () => {
      await importDataset(db, first);
      const before = await snapshot(db);
      const offGrid = makeDataset([
        ['10', '1', 4, T0 + 50],
        ['30', '2', 3.3, T0 + 51],
      ]);
      const error = await importDataset(db, offGrid).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ImportError);
      expect((error as Error).message).toMatch(
        /rating row 1 \(user 30\): rating 3\.\d+ is not on the scale 0\.5–5 in steps of 0\.5; nothing was imported/,
      );
      const whole = { ...makeDataset([['31', '2', 3.5, T0]]), scale: { min: 1, max: 5, step: 1 } };
      await expect(importDataset(db, whole)).rejects.toThrow(/not on the scale 1–5 in steps of 1/);
      const outside = makeDataset([['32', '2', 0, T0]]);
      await expect(importDataset(db, outside)).rejects.toThrow(/rating 0 is not on the scale/);
      expect(await snapshot(db)).toEqual(before);
    });

    it('refuses IDs that are not well-formed Unicode or hold control characters, naming them', async () => {
      await importDataset(db, first);
      const before = await snapshot(db);
      for (const [user, movie, problem] of [
        ['\ud800', '1', /user "\\ud800" \(user index 0\): an ID must be well-formed Unicode/],
        ['nul\u0000', '1', /user "nul\\u0000".*control characters, found U\+0000/],
        ['40', 'bell\u0007', /movie "bell\\u0007".*control characters/],
      ] as const) {
        const error = await importDataset(db, makeDataset([[user, movie, 4, T0]])).catch((e: unknown) => e);
        expect(error, user).toBeInstanceOf(ImportError);
        expect((error as Error).message).toMatch(problem);
      }
      expect(await snapshot(db)).toEqual(before);
    });

    it('a bulk first load keeps every index and foreign key, and later imports merge into it', async () => {
      const before = await snapshot(db);
      const big = syntheticDataset(20_000, 200, 300);
      const summary = await importDataset(db, big, { chunkRows: 4096, statementRows: 7000 });
      expect(summary.ratings.inserted).toBe(20_000);
      const after = await snapshot(db);
      expect(after.ratings_indexes).toBe(before.ratings_indexes);
      expect(after.ratings_constraints).toBe(before.ratings_constraints);
      expect(ratingSet(await readRatings(db))).toEqual(ratingSet(big));
      // 4× more rows than stored → the merge drops and rebuilds secondary indexes; they must survive too.
      const bigger = syntheticDataset(90_000, 300, 400, 3);
      const merged = await importDataset(db, bigger, { chunkRows: 16_384, statementRows: 50_000 });
      expect(merged.ratings.inserted + merged.ratings.updated + merged.ratings.unchanged).toBe(90_000);
      expect((await snapshot(db)).ratings_indexes).toBe(before.ratings_indexes);
      await expect(
        db.query(`INSERT INTO ratings (user_id, movie_id, rating, rated_at) VALUES (999999, 1, 1, now())`),
      ).rejects.toThrow(/foreign key/);
    });
  });
}

describe('a rolled-back import into an on-disk PGlite', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'movierec-wal-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const folderBytes = (at: string): number =>
    readdirSync(at, { withFileTypes: true }).reduce((sum, entry) => {
      const p = path.join(at, entry.name);
      return sum + (entry.isDirectory() ? folderBytes(p) : statSync(p).size);
    }, 0);

  it('gives the folder its size back: the WAL it wrote is not kept as recycled segments', async () => {
    const db = await openDatabase({ dataDir: dir, env: {} });
    try {
      await migrate(db);
      await importDataset(db, syntheticDataset(5000, 100, 100));
      await db.query('CHECKPOINT');
      await trimRecycledWal(db);
      const before = folderBytes(dir);
      const controller = new AbortController();
      const error = await importDataset(db, syntheticDataset(30_000, 300, 300, 7), {
        chunkRows: 4096,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'merge' && p.done === 1) controller.abort();
        },
      }).catch((e: unknown) => e);
      expect((error as Error).name).toBe('AbortError');
      const walFiles = readdirSync(path.join(dir, 'pg_wal')).filter((f) => /^[0-9A-F]{24}$/.test(f));
      // the current segment, the one after it, and those the last checkpoint still needs — not the recycled tail
      expect(walFiles.length).toBeLessThanOrEqual(4);
      expect(folderBytes(dir)).toBeLessThanOrEqual(before + 4 * 2 ** 20);
      // and the database still works: it reads what the first import stored and takes new writes
      expect((await readRatings(db)).ratings.length).toBe(5000);
      await importDataset(db, syntheticDataset(1000, 50, 50, 3));
    } finally {
      await db.close();
    }
    // reopened after the deletion, it starts and holds the same rows
    const again = await openDatabase({ dataDir: dir, env: {} });
    try {
      expect(
        (await again.query<{ n: number }>('SELECT count(*)::int AS n FROM ratings'))[0]!.n,
      ).toBeGreaterThan(0);
    } finally {
      await again.close();
    }
  });
});
