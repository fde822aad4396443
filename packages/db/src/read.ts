import { type Dataset, IdMap, type MovieTable, type RatingColumns } from '@movierec/data';
import type { Database } from './connection.ts';
import { BinaryRowDecoder } from './copy-binary.ts';

export interface ReadOptions {
  onProgress?: (progress: { phase: 'ratings'; done: number; total: number }) => void;
  signal?: AbortSignal;
}

/**
 * Reads every rating into the columns the file readers produce, streaming binary COPY output straight into typed
 * arrays (no row objects). Dense indices follow database ids, i.e. import order: users and movies are numbered as
 * the imported dataset numbered them. Every user and movie is in the ID maps, rated or not.
 */
export async function readRatings(db: Database, options: ReadOptions = {}): Promise<Dataset> {
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
    const total = countRow?.n ?? 0;

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

    const ratings = {
      length: total,
      users: new Int32Array(total),
      items: new Int32Array(total),
      ratings: new Float32Array(total),
      timestamps: new Int32Array(total),
    };
    const decoder = new BinaryRowDecoder(4);
    let n = 0;
    let lastReport = 0;
    // extract(epoch …) of a UTC timestamp = Unix seconds (the importer stored to_timestamp(ts) at UTC).
    const select = `SELECT user_id, movie_id, rating, extract(epoch FROM rated_at)::int4 FROM ratings`;
    for await (const chunk of sql.copyTo(select, 'binary')) {
      options.signal?.throwIfAborted();
      decoder.push(chunk, (view, offset) => {
        if (n >= total) throw new Error(`ratings grew while being read (more than ${total} rows)`);
        ratings.users[n] = userIndex[view.getInt32(offset)]!;
        ratings.items[n] = itemIndex[view.getInt32(offset + 8)]!;
        ratings.ratings[n] = view.getFloat32(offset + 16);
        ratings.timestamps[n] = view.getInt32(offset + 24);
        n++;
      });
      if (options.onProgress && (n - lastReport >= 65_536 || n === total)) {
        lastReport = n;
        options.onProgress({ phase: 'ratings', done: n, total });
      }
    }
    if (n !== total) throw new Error(`read ${n} ratings, expected ${total}`);
    const columns: RatingColumns = ratings;
    const movies: MovieTable = { titles, years, genres };
    return {
      name: db.location,
      ratings: columns,
      users,
      items,
      movies,
      report: { rowsRead: total, skipped: {}, duplicates: 0 },
    } satisfies Dataset;
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
