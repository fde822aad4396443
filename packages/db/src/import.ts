import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Dataset, DEFAULT_RATING_SCALE, describeScale, idProblem, onGrid } from '@movierec/data';
import type { Database } from './connection.ts';
import { type BinaryColumn, binaryHeader, binaryTrailer, encodeRows } from './copy-binary.ts';
import { ImportError } from './errors.ts';
import type { SqlSession } from './sql.ts';

export interface ImportProgress {
  /** 'users' | 'movies' | 'ratings' while streaming to the staging tables, then 'merge'. */
  phase: 'users' | 'movies' | 'ratings' | 'merge';
  done: number;
  total: number;
}

export interface ImportOptions {
  onProgress?: (progress: ImportProgress) => void;
  /** Aborting rolls everything back; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Rows per COPY chunk (default 65536). */
  chunkRows?: number;
  /** Ratings per COPY statement (default 1,048,576): bounds memory, as PGlite reads each COPY from one Blob. */
  statementRows?: number;
}

export interface ImportCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface ImportSummary {
  /** What the dataset held: ratings (into `ratings`) or watch history (into `views`). */
  kind: 'ratings' | 'views';
  users: ImportCounts;
  movies: ImportCounts;
  /** `unchanged` includes ratings older than the stored one for the same user and movie (the stored one wins). */
  ratings: ImportCounts;
  /** The same for the views of a watch-history dataset (all zero for ratings). */
  views: ImportCounts;
  /** Duplicate (user, movie) pairs within the dataset, collapsed to the latest before import. */
  duplicatesInDataset: number;
  seconds: number;
  ratingsPerSecond: number;
}

const DEFAULT_CHUNK_ROWS = 65_536;

/** Where a dataset's rows go: ratings, or views for watch history (same shape: user, movie, value, time). */
interface Target {
  table: 'ratings' | 'views';
  value: 'rating' | 'weight';
  time: 'rated_at' | 'viewed_at';
}
const RATINGS: Target = { table: 'ratings', value: 'rating', time: 'rated_at' };
const VIEWS: Target = { table: 'views', value: 'weight', time: 'viewed_at' };
const NO_ROWS: ImportCounts = { inserted: 0, updated: 0, unchanged: 0 };
const COPY_STATEMENT_ROWS = 1_048_576;

/**
 * Imports a dataset (users, movies with their metadata, ratings — or, for watch history (kind 'views'), views) by
 * COPY into staging tables, merged into the real tables in ONE transaction:
 * - idempotent: importing the same data again changes nothing (all counted as unchanged);
 * - a rating newer (by time) than the stored one for the same user and movie replaces it; an older one is ignored;
 * - all-or-nothing: bad input at row N, a failure or an abort leaves the database exactly as before.
 */
export async function importDataset(
  db: Database,
  dataset: Dataset,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const started = performance.now();
  const { onProgress, signal } = options;
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  signal?.throwIfAborted();
  if (dataset.kind === 'mixed')
    throw new ImportError(
      `${dataset.name}: ratings mixed with views (as readInteractions returns them) cannot be imported; import the ratings and the views each from their own dataset`,
    );
  const target = dataset.kind === 'views' ? VIEWS : RATINGS;
  const { table } = target;
  const { rows: ratingRows, duplicates } = latestPerPair(dataset);
  const staged = ratingRows ? ratingRows.length : dataset.ratings.length;

  const run = db.transaction(
    async (sql) => {
      if (db.kind === 'postgres') {
        // A client that dies (kill -9) mid-statement: the server notices within a second and stops the statement,
        // instead of running a bulk INSERT on for a minute (PostgreSQL ≥ 14; the import's own transaction only).
        await sql.exec("SET LOCAL client_connection_check_interval = '1s'");
      }
      // Writers wait until the import commits; readers (the API) are not blocked, except during a bulk load below.
      await sql.exec(`LOCK TABLE users, movies, ${table} IN SHARE ROW EXCLUSIVE MODE`);
      await sql.exec(`
      CREATE TEMP TABLE stage_users (idx int4 NOT NULL, external_id text NOT NULL) ON COMMIT DROP;
      CREATE TEMP TABLE stage_movies (idx int4 NOT NULL, external_id text NOT NULL, title text, year int4, genres text) ON COMMIT DROP;`);
      await sql.copyFrom('stage_users (idx, external_id)', 'text', userLines(dataset, chunkRows, options));
      await checkpoint(signal);
      await sql.copyFrom(
        'stage_movies (idx, external_id, title, year, genres)',
        'text',
        movieLines(dataset, chunkRows, options),
      );
      await checkpoint(signal);
      const users = await mergeUsers(sql, dataset.users.size);
      const movies = await mergeMovies(sql, dataset);
      await checkpoint(signal);
      // Dense index → database id, so ratings go in with their final keys (no join over a million rows).
      const userIds = await idLookup(sql, 'stage_users', 'users', dataset.users.size);
      const movieIds = await idLookup(sql, 'stage_movies', 'movies', dataset.items.size);
      const columns: BinaryColumn[] = [
        { kind: 'int4', values: dataset.ratings.users, map: userIds },
        { kind: 'int4', values: dataset.ratings.items, map: movieIds },
        { kind: 'float4', values: dataset.ratings.ratings },
        { kind: 'timestamp', values: dataset.ratings.timestamps },
      ];
      const copyRatings = async (into: string) => {
        const statementRows = options.statementRows ?? COPY_STATEMENT_ROWS;
        for (let start = 0; start < Math.max(staged, 1); start += statementRows) {
          const end = Math.min(staged, start + statementRows);
          const chunks = ratingChunks(dataset, columns, ratingRows, start, end, chunkRows, options);
          await sql.copyFrom(
            `${into} (user_id, movie_id, ${target.value}, ${target.time})`,
            'binary',
            chunks,
          );
          await checkpoint(signal);
        }
      };
      const existing = await estimateRows(sql, table);
      let rows: ImportCounts;
      if (existing === 0) {
        // First load: COPY straight into the table with its indexes and foreign keys dropped, then rebuild them
        // (one sort per index instead of a million index insertions; same definitions, read from the catalog).
        rows = await withoutIndexes(sql, table, { keepPrimaryKey: false }, async () => {
          // The table is empty (and locked): TRUNCATE gives it a new file, so a rollback deletes every row written
          // with it at once instead of leaving them as dead tuples that keep the space.
          await sql.exec(`TRUNCATE ${table}`);
          await copyRatings(table);
          onProgress?.({ phase: 'merge', done: 0, total: 1 });
          return { inserted: staged, updated: 0, unchanged: 0 };
        });
      } else {
        await sql.exec(`CREATE TEMP TABLE stage_rows (user_id int4 NOT NULL, movie_id int4 NOT NULL,
        ${target.value} float4 NOT NULL, ${target.time} timestamp(3) NOT NULL) ON COMMIT DROP`);
        await copyRatings('stage_rows');
        await sql.exec('ANALYZE stage_rows'); // row count for the planner: hash join, not a nested loop
        onProgress?.({ phase: 'merge', done: 0, total: 1 });
        // Merging several times the rows the table holds: cheaper to rebuild the secondary indexes than to maintain
        // them row by row (the primary key stays: ON CONFLICT needs it). Not for re-imports, mostly unchanged rows.
        const bulk = staged >= 4 * existing;
        rows = bulk
          ? await withoutIndexes(sql, table, { keepPrimaryKey: true }, () => mergeRows(sql, target, staged))
          : await mergeRows(sql, target, staged);
      }
      onProgress?.({ phase: 'merge', done: 1, total: 1 });
      await checkpoint(signal);
      return {
        kind: table,
        users,
        movies,
        ratings: table === 'ratings' ? rows : NO_ROWS,
        views: table === 'views' ? rows : NO_ROWS,
      };
    },
    signal ? { signal } : {},
  );
  let summary: Omit<Awaited<typeof run>, 'kind'> & { kind: 'ratings' | 'views' };
  try {
    summary = await run;
  } catch (error) {
    if (db.kind === 'pglite') await reclaimSpace(db);
    throw error;
  }
  // Fresh planner statistics for the API's queries (PGlite runs no autovacuum).
  await db.query('ANALYZE users');
  await db.query('ANALYZE movies');
  await db.query(`ANALYZE ${table}`);
  const seconds = (performance.now() - started) / 1000;
  return {
    ...summary,
    duplicatesInDataset: duplicates,
    seconds,
    ratingsPerSecond: dataset.ratings.length / seconds,
  };
}

/**
 * After a rolled-back import on PGlite (no autovacuum): VACUUM truncates the dead rows the import appended to the
 * tables, REINDEX rebuilds their indexes into new files (a B-tree keeps the pages the rolled-back insertions split
 * off: the primary key of ratings grew 2 → 32 MB for a rolled-back 1M-row merge), and a CHECKPOINT lets the WAL it
 * wrote be recycled. PostgreSQL's autovacuum does the heap part on its own. The WAL is left: PostgreSQL keeps the
 * segments after the checkpoint as recycled ones for the next writes (up to about twice the last checkpoint distance,
 * at most max_wal_size; 225 MB after a rolled-back 1M-row merge), and PGlite 0.3 reads no configuration that could
 * lower that — so trimRecycledWal deletes them. Best effort: a failure here must not hide the import's error.
 */
async function reclaimSpace(db: Database): Promise<void> {
  try {
    for (const table of ['ratings', 'views', 'users', 'movies']) {
      await db.query(`VACUUM ${table}`);
      await db.query(`REINDEX TABLE ${table}`);
    }
    await db.query('CHECKPOINT');
    await trimRecycledWal(db);
  } catch {}
}

/**
 * Deletes an on-disk PGlite's recycled WAL segments: after a CHECKPOINT every segment named after the one being
 * written (pg_walfile_name(pg_current_wal_lsn())) is a renamed old segment kept for future writes, not WAL anyone
 * needs — PostgreSQL creates a missing next segment itself (XLogFileInit). The one right after the current is kept,
 * as a checkpoint may have preallocated it. PGlite runs in this thread, so no write comes between the query and the
 * deletion. Returns the bytes freed (0 for PostgreSQL or an in-memory PGlite).
 */
export async function trimRecycledWal(db: Database): Promise<number> {
  if (db.kind !== 'pglite' || db.dataDir === undefined) return 0;
  const [row] = await db.query<{ w: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS w');
  const current = row?.w;
  if (current === undefined || !/^[0-9A-F]{24}$/.test(current)) return 0;
  const dir = path.join(db.dataDir, 'pg_wal');
  const later = readdirSync(dir)
    .filter((name) => /^[0-9A-F]{24}$/.test(name) && name > current)
    .sort();
  let freed = 0;
  for (const name of later.slice(1)) {
    const file = path.join(dir, name);
    freed += statSync(file).size;
    rmSync(file);
  }
  return freed;
}

/**
 * Lets the event loop run, then honours an abort. PGlite runs in this thread and never yields on its own during an
 * import (its queries resolve as microtasks), so without this a SIGINT handler could not abort until the commit.
 */
async function checkpoint(signal: AbortSignal | undefined): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  signal?.throwIfAborted();
}

/** Rows in a table: the planner's estimate when it has one (free), else an exact count. 0 means empty. */
async function estimateRows(sql: SqlSession, table: string): Promise<number> {
  const [any] = await sql.query<{ some: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${table}) AS some`);
  if (!any?.some) return 0;
  const [estimate] = await sql.query<{ n: number }>(
    `SELECT reltuples::float8 AS n FROM pg_class WHERE oid = '${table}'::regclass`,
  );
  if (estimate && estimate.n > 0) return estimate.n;
  const [count] = await sql.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${table}`);
  return count?.n ?? 0;
}

/**
 * Runs `load` with the table's secondary indexes and foreign keys (and its primary key unless kept) dropped,
 * then recreates them from the definitions the catalog held, all inside the caller's transaction: a failure
 * rolls the drops back too. Takes an ACCESS EXCLUSIVE lock on the table until commit.
 */
async function withoutIndexes<T>(
  sql: SqlSession,
  table: string,
  options: { keepPrimaryKey: boolean },
  load: () => Promise<T>,
): Promise<T> {
  const constraints = await sql.query<{ name: string; type: string; def: string }>(
    `SELECT conname AS name, contype::text AS type, pg_get_constraintdef(oid) AS def
     FROM pg_constraint WHERE conrelid = '${table}'::regclass AND contype IN ('p', 'f', 'u')
     ORDER BY contype DESC`,
  );
  const dropped = constraints.filter((c) => c.type === 'f' || (c.type === 'p' && !options.keepPrimaryKey));
  const indexes = await sql.query<{ name: string; def: string }>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS def
     FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
     WHERE x.indrelid = '${table}'::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)`,
  );
  const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
  // Index builds and foreign-key checks sort and hash the whole table: in memory rather than in temp files
  // (the defaults, 64 MB and 4 MB, spill for a million ratings). Reverts at commit or rollback.
  await sql.exec("SET LOCAL maintenance_work_mem = '256MB'; SET LOCAL work_mem = '64MB'");
  if (dropped.length > 0) {
    await sql.exec(
      `ALTER TABLE ${table} ${dropped.map((c) => `DROP CONSTRAINT ${quote(c.name)}`).join(', ')}`,
    );
  }
  for (const index of indexes) await sql.exec(`DROP INDEX ${quote(index.name)}`);
  const result = await load();
  // Primary key first (foreign keys elsewhere may depend on it), then indexes, then this table's foreign keys.
  for (const c of dropped.filter((c) => c.type === 'p')) {
    await sql.exec(`ALTER TABLE ${table} ADD CONSTRAINT ${quote(c.name)} ${c.def}`);
  }
  for (const index of indexes) await sql.exec(index.def);
  for (const c of dropped.filter((c) => c.type === 'f')) {
    await sql.exec(`ALTER TABLE ${table} ADD CONSTRAINT ${quote(c.name)} ${c.def}`);
  }
  return result;
}

/** Dense index → database id for a staged table (users or movies) after its merge. */
async function idLookup(sql: SqlSession, stage: string, table: string, size: number): Promise<Int32Array> {
  const rows = await sql.query<{ idx: number; id: number }>(
    `SELECT s.idx, t.id FROM ${stage} s JOIN ${table} t ON t.external_id = s.external_id`,
  );
  if (rows.length !== size)
    throw new Error(`${table}: ${rows.length} of ${size} staged rows found after merge`);
  const ids = new Int32Array(size);
  for (const row of rows) ids[row.idx] = row.id;
  return ids;
}

async function mergeUsers(sql: SqlSession, staged: number): Promise<ImportCounts> {
  const [row] = await sql.query<{ inserted: number }>(`
    WITH ins AS (
      INSERT INTO users (external_id)
      SELECT external_id FROM stage_users ORDER BY idx
      ON CONFLICT (external_id) DO NOTHING
      RETURNING 1)
    SELECT count(*)::int AS inserted FROM ins`);
  const inserted = row?.inserted ?? 0;
  return { inserted, updated: 0, unchanged: staged - inserted };
}

async function mergeMovies(sql: SqlSession, dataset: Dataset): Promise<ImportCounts> {
  const staged = dataset.items.size;
  // Without metadata in the dataset, existing titles/years/genres are kept and new movies get an empty title.
  const upsert = dataset.movies
    ? `ON CONFLICT (external_id) DO UPDATE SET title = EXCLUDED.title, year = EXCLUDED.year, genres = EXCLUDED.genres
       WHERE (movies.title, movies.year, movies.genres) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.year, EXCLUDED.genres)`
    : 'ON CONFLICT (external_id) DO NOTHING';
  return countedUpsert(
    sql,
    `INSERT INTO movies (external_id, title, year, genres)
      SELECT external_id, coalesce(title, ''), year, string_to_array(coalesce(genres, ''), '|')
      FROM stage_movies ORDER BY idx
      ${upsert}`,
    staged,
  );
}

/**
 * Upsert from stage_rows into ratings (or views): new pairs inserted; a newer row (or same time, other value)
 * replaces the stored one. For views too: a watch-history file states each pair's total weight and latest time.
 */
async function mergeRows(sql: SqlSession, target: Target, staged: number): Promise<ImportCounts> {
  const { table: t, value: v, time } = target;
  return countedUpsert(
    sql,
    `INSERT INTO ${t} (user_id, movie_id, ${v}, ${time})
      SELECT s.user_id, s.movie_id, s.${v}, s.${time}
      FROM stage_rows s LEFT JOIN ${t} r ON r.user_id = s.user_id AND r.movie_id = s.movie_id
      -- Only rows that change something reach the upsert: one hash join instead of a probe per unchanged row.
      WHERE r.user_id IS NULL OR r.${time} < s.${time} OR (r.${time} = s.${time} AND r.${v} <> s.${v})
      ON CONFLICT (user_id, movie_id) DO UPDATE SET ${v} = EXCLUDED.${v}, ${time} = EXCLUDED.${time}
      WHERE ${t}.${time} < EXCLUDED.${time}
         OR (${t}.${time} = EXCLUDED.${time} AND ${t}.${v} <> EXCLUDED.${v})`,
    staged,
  );
}

/**
 * Runs an INSERT … ON CONFLICT … DO UPDATE of `staged` rows and counts what it did: a returned row with xmax = 0 was
 * inserted, any other returned row updated (the conflict's WHERE let it through), the rest of the staged rows were
 * unchanged.
 */
async function countedUpsert(sql: SqlSession, upsert: string, staged: number): Promise<ImportCounts> {
  const [row] = await sql.query<{ inserted: number; updated: number }>(`
    WITH up AS (
      ${upsert}
      RETURNING (xmax = 0) AS inserted)
    SELECT count(*) FILTER (WHERE inserted)::int AS inserted, count(*) FILTER (WHERE NOT inserted)::int AS updated
    FROM up`);
  const inserted = row?.inserted ?? 0;
  const updated = row?.updated ?? 0;
  return { inserted, updated, unchanged: staged - inserted - updated };
}

/** An external ID checked by the shared rule (@movierec/data idProblem) before it reaches the database. */
function checkedId(dataset: Dataset, kind: 'user' | 'movie', id: string, index: number): string {
  const problem = idProblem(id);
  if (problem !== undefined) {
    throw new ImportError(
      `${dataset.name}: ${kind} ${JSON.stringify(id)} (${kind === 'user' ? 'user' : 'item'} index ${index}): ${problem}; nothing was imported`,
    );
  }
  return id;
}

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : value;
}

async function* userLines(
  dataset: Dataset,
  chunkRows: number,
  options: ImportOptions,
): AsyncGenerator<string> {
  const ids = dataset.users.ids();
  for (let start = 0; start < ids.length; start += chunkRows) {
    await checkpoint(options.signal);
    const end = Math.min(ids.length, start + chunkRows);
    let text = '';
    for (let u = start; u < end; u++) text += `${u}\t${copyText(checkedId(dataset, 'user', ids[u]!, u))}\n`;
    yield text;
    options.onProgress?.({ phase: 'users', done: end, total: ids.length });
  }
}

async function* movieLines(
  dataset: Dataset,
  chunkRows: number,
  options: ImportOptions,
): AsyncGenerator<string> {
  const ids = dataset.items.ids();
  const movies = dataset.movies;
  for (let start = 0; start < ids.length; start += chunkRows) {
    await checkpoint(options.signal);
    const end = Math.min(ids.length, start + chunkRows);
    let text = '';
    for (let i = start; i < end; i++) {
      const title = movies?.titles[i];
      const year = movies?.years[i] ?? 0;
      const genres = movies?.genres[i] ?? [];
      for (const genre of genres) {
        if (genre.includes('|')) {
          throw new ImportError(
            `${dataset.name}: movie ${ids[i]} (item ${i}): genre ${JSON.stringify(genre)} contains '|', which the importer uses as separator`,
          );
        }
      }
      const titleField = title === undefined ? '\\N' : copyText(title);
      const yearField = year > 0 ? String(year) : '\\N';
      const genresField = movies ? copyText(genres.join('|')) : '\\N';
      text += `${i}\t${copyText(checkedId(dataset, 'movie', ids[i]!, i))}\t${titleField}\t${yearField}\t${genresField}\n`;
    }
    yield text;
    options.onProgress?.({ phase: 'movies', done: end, total: ids.length });
  }
}

/** Validates each rating as it is encoded: a bad row stops the COPY (and so the whole import) with its row number. */
async function* ratingChunks(
  dataset: Dataset,
  columns: BinaryColumn[],
  rowIndex: Int32Array | undefined,
  from: number,
  to: number,
  chunkRows: number,
  options: ImportOptions,
): AsyncGenerator<Uint8Array> {
  const { users, items, ratings } = dataset.ratings;
  const total = rowIndex ? rowIndex.length : dataset.ratings.length;
  const numUsers = dataset.users.size;
  const numItems = dataset.items.size;
  // The dataset's own scale (the API's when it has none): the same rule the readers and rateMovie apply; a view's
  // weight is any finite number > 0 (the readers' and recordView's rule).
  const views = dataset.kind === 'views';
  const scale = dataset.scale ?? DEFAULT_RATING_SCALE;
  const { min, max, step } = views ? { min: Number.MIN_VALUE, max: 3.4e38, step: 0 } : scale;
  yield binaryHeader();
  for (let start = from; start < to; start += chunkRows) {
    await checkpoint(options.signal);
    const end = Math.min(to, start + chunkRows);
    for (let j = start; j < end; j++) {
      const r = rowIndex ? rowIndex[j]! : j;
      const u = users[r]!;
      const i = items[r]!;
      const value = ratings[r]!;
      const onScale = value >= min && value <= max && (step === 0 || onGrid(value, min, step));
      if (u < 0 || u >= numUsers || i < 0 || i >= numItems || !onScale) {
        const what =
          u < 0 || u >= numUsers
            ? `user index ${u} is outside 0…${numUsers - 1}`
            : i < 0 || i >= numItems
              ? `item index ${i} is outside 0…${numItems - 1}`
              : views
                ? `weight ${value} is not a number > 0`
                : Number.isFinite(value)
                  ? `rating ${value} is not on the scale ${describeScale(scale)}`
                  : `rating ${value} is not a finite number`;
        throw new ImportError(
          `${dataset.name}: ${views ? 'view' : 'rating'} row ${r}${u >= 0 && u < numUsers ? ` (user ${dataset.users.externalId(u)})` : ''}: ${what}; nothing was imported`,
        );
      }
    }
    yield encodeRows(columns, start, end, rowIndex);
    options.onProgress?.({ phase: 'ratings', done: end, total });
  }
  yield binaryTrailer();
}

/**
 * Rows to import: all of them (undefined) unless a (user, movie) pair occurs twice, then the latest by time
 * (the later row on a tie). A sorted key column finds duplicates in O(n log n) without row objects.
 */
function latestPerPair(dataset: Dataset): { rows: Int32Array | undefined; duplicates: number } {
  const { length, users, items, timestamps } = dataset.ratings;
  const numItems = dataset.items.size;
  const keys = new Float64Array(length);
  for (let r = 0; r < length; r++) keys[r] = users[r]! * numItems + items[r]!;
  keys.sort();
  let duplicates = 0;
  for (let r = 1; r < length; r++) if (keys[r] === keys[r - 1]) duplicates++;
  if (duplicates === 0) return { rows: undefined, duplicates: 0 };
  const order = new Int32Array(length);
  for (let r = 0; r < length; r++) order[r] = r;
  const key = (r: number) => users[r]! * numItems + items[r]!;
  order.sort((a, b) => key(a) - key(b) || timestamps[a]! - timestamps[b]! || a - b);
  const kept = new Int32Array(length - duplicates);
  let n = 0;
  for (let j = 0; j < length; j++) {
    const r = order[j]!;
    const next = order[j + 1];
    if (next === undefined || key(next) !== key(r)) kept[n++] = r;
  }
  kept.sort();
  return { rows: kept, duplicates };
}
