import {
  allocColumns,
  type Dataset,
  IdMap,
  type InteractionOptions,
  type MovieTable,
  type RatingColumns,
  toInteractions,
  viewValue,
} from '@movierec/data';
import type { Database } from './connection.ts';
import { BinaryRowDecoder } from './copy-binary.ts';

export interface ReadOptions {
  onProgress?: (progress: { phase: 'ratings' | 'views'; done: number; total: number }) => void;
  signal?: AbortSignal;
}

export interface ReadInteractionsOptions extends ReadOptions {
  /** How the ratings become interactions (@movierec/data toInteractions); views: viewValue(weight) (binary: 1). */
  interactions?: InteractionOptions;
}

/** Views of movies the user did not rate (a rated movie counts once, by its rating). */
const VIEWS_NOT_RATED =
  'FROM views v WHERE NOT EXISTS (SELECT 1 FROM ratings r WHERE r.user_id = v.user_id AND r.movie_id = v.movie_id)';

/**
 * Reads every rating into the columns the file readers produce, streaming binary COPY output straight into typed
 * arrays (no row objects). Dense indices follow database ids, i.e. import order: users and movies are numbered as
 * the imported dataset numbered them. Every user and movie is in the ID maps, rated or not.
 */
export async function readRatings(db: Database, options: ReadOptions = {}): Promise<Dataset> {
  return (await readTables(db, false, options)).dataset;
}

/**
 * What the ranking models train on from the database: every rating turned into an interaction as `interactions`
 * says (toInteractions: all or ≥ a threshold, weighted by rating or binary), then the views of movies the user did
 * not rate, each valued on the rating scale by @movierec/data's viewValue(weight) = clamp(4 + log10 w, 0.5, 5) (a
 * view is implicit positive feedback, Hu, Koren & Volinsky 2008: one view is worth a relevant rating, 4, more views
 * raise it logarithmically; 1 when binary) — the API values a user's views the same way when it folds them in.
 * Rows [0, ratings) are ratings, the rest views. `kind`: 'mixed' when both are there, 'views' with views only or
 * binary values, else the ratings' kind. Same snapshot, ID maps and movie table as readRatings.
 */
export async function readInteractions(
  db: Database,
  options: ReadInteractionsOptions = {},
): Promise<Interactions> {
  return interactionsOf(await readTables(db, true, options), options.interactions);
}

/**
 * readRatings and readInteractions in one read of one snapshot, for a job that trains a rating model and a ranking
 * model (the main job): the ratings are rows [0, ratings) of what readInteractions reads.
 */
export async function readRatingsAndInteractions(
  db: Database,
  options: ReadInteractionsOptions = {},
): Promise<{ ratings: Dataset; interactions: Interactions }> {
  const tables = await readTables(db, true, options);
  const { dataset, ratings: numRatings } = tables;
  return {
    ratings: {
      ...dataset,
      ratings: sliceRows(dataset.ratings, 0, numRatings),
      report: { ...dataset.report, rowsRead: numRatings },
    },
    interactions: interactionsOf(tables, options.interactions),
  };
}

type Interactions = Dataset & { counts: { ratings: number; views: number } };

/** readInteractions' dataset from the rows readTables read (ratings first, then views). */
function interactionsOf(
  { dataset, ratings: numRatings }: { dataset: Dataset; ratings: number },
  interactions: InteractionOptions | undefined,
): Interactions {
  const cols = dataset.ratings;
  const numViews = cols.length - numRatings;
  const binary = interactions?.weight === 'binary';
  const rated = toInteractions({ ...dataset, ratings: sliceRows(cols, 0, numRatings) }, interactions ?? {});
  const kept = rated.ratings.length;
  const n = kept + numViews;
  const out = allocColumns(n);
  out.users.set(rated.ratings.users.subarray(0, kept));
  out.items.set(rated.ratings.items.subarray(0, kept));
  out.ratings.set(rated.ratings.ratings.subarray(0, kept));
  out.timestamps.set(rated.ratings.timestamps.subarray(0, kept));
  out.users.set(cols.users.subarray(numRatings), kept);
  out.items.set(cols.items.subarray(numRatings), kept);
  out.ratings.set(
    binary ? new Float32Array(numViews).fill(1) : cols.ratings.subarray(numRatings).map(viewValue),
    kept,
  );
  out.timestamps.set(cols.timestamps.subarray(numRatings), kept);
  const kind = numViews === 0 ? (rated.kind ?? 'ratings') : numRatings === 0 || binary ? 'views' : 'mixed';
  return {
    ...dataset,
    kind,
    ratings: out,
    counts: { ratings: kept, views: numViews },
  };
}

function sliceRows(cols: RatingColumns, from: number, to: number): RatingColumns {
  return {
    length: to - from,
    users: cols.users.subarray(from, to),
    items: cols.items.subarray(from, to),
    ratings: cols.ratings.subarray(from, to),
    timestamps: cols.timestamps.subarray(from, to),
  };
}

/** Ratings (and, with `views`, the views of unrated movies after them) in one REPEATABLE READ snapshot. */
async function readTables(
  db: Database,
  views: boolean,
  options: ReadOptions,
): Promise<{ dataset: Dataset; ratings: number }> {
  return db.transaction(async (sql) => {
    // One snapshot for the three reads (REPEATABLE READ), so counts and rows agree under concurrent writes.
    await sql.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const userRows = await sql.query<{ id: number; external_id: string }>(
      'SELECT id, external_id FROM users ORDER BY id',
    );
    const movieRows = await sql.query<{
      id: number;
      external_id: string;
      title: string;
      year: number | null;
      genres: string[] | null;
    }>('SELECT id, external_id, title, year, genres FROM movies ORDER BY id');
    const [countRow] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM ratings');
    const numRatings = countRow?.n ?? 0;
    const [viewRow] = views
      ? await sql.query<{ n: number }>(`SELECT count(*)::int AS n ${VIEWS_NOT_RATED}`)
      : [];
    const total = numRatings + (viewRow?.n ?? 0);

    const users = new IdMap();
    const userIndex = denseIndex(userRows, (row) => users.add(row.external_id));
    const items = new IdMap();
    const titles: string[] = [];
    const years = new Int16Array(movieRows.length);
    const genres: string[][] = [];
    const itemIndex = denseIndex(movieRows, (row) => {
      const i = items.add(row.external_id);
      titles.push(row.title);
      years[i] = row.year ?? 0;
      genres.push(row.genres ?? []);
      return i;
    });

    const ratings = allocColumns(total);
    let n = 0;
    let lastReport = 0;
    // extract(epoch …) of a UTC timestamp = Unix seconds (the importer stored to_timestamp(ts) at UTC).
    const selects = [
      {
        phase: 'ratings' as const,
        end: numRatings,
        sql: 'SELECT user_id, movie_id, rating, extract(epoch FROM rated_at)::int4 FROM ratings',
      },
      ...(views
        ? [
            {
              phase: 'views' as const,
              end: total,
              sql: `SELECT v.user_id, v.movie_id, v.weight, extract(epoch FROM v.viewed_at)::int4 ${VIEWS_NOT_RATED}`,
            },
          ]
        : []),
    ];
    for (const select of selects) {
      const decoder = new BinaryRowDecoder(4);
      for await (const chunk of sql.copyTo(select.sql, 'binary')) {
        options.signal?.throwIfAborted();
        decoder.push(chunk, (view, offset) => {
          if (n >= select.end)
            throw new Error(`${select.phase} grew while being read (more than ${select.end} rows)`);
          ratings.users[n] = userIndex[view.getInt32(offset)]!;
          ratings.items[n] = itemIndex[view.getInt32(offset + 8)]!;
          ratings.ratings[n] = view.getFloat32(offset + 16);
          ratings.timestamps[n] = view.getInt32(offset + 24);
          n++;
        });
        if (options.onProgress && (n - lastReport >= 65_536 || n === select.end)) {
          lastReport = n;
          options.onProgress({ phase: select.phase, done: n, total });
        }
      }
      if (n !== select.end) throw new Error(`read ${n} rows, expected ${select.end}`);
    }
    const movies: MovieTable = { titles, years, genres };
    return {
      dataset: {
        name: db.location,
        ratings,
        users,
        items,
        movies,
        report: { rowsRead: total, skipped: {}, duplicates: 0 },
      } satisfies Dataset,
      ratings: numRatings,
    };
  });
}

/** Database id → dense index lookup (ids are serial, so a flat Int32Array indexed by id). */
function denseIndex<R extends { id: number }>(rows: R[], assign: (row: R) => number): Int32Array {
  let maxId = 0;
  for (const row of rows) if (row.id > maxId) maxId = row.id;
  const index = new Int32Array(maxId + 1).fill(-1);
  for (const row of rows) index[row.id] = assign(row);
  return index;
}
