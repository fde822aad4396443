/**
 * The reads and writes the API and the CLI make outside model versions and bulk import, as plain SQL on either
 * database (`Database.query`: PostgreSQL or PGlite), with the row types this package owns. The API serves from
 * memory and reaches these only to load the catalogue and a user's ratings, to store a rating, and for the change
 * feed; the CLI for `db status`, titles and what a user rated.
 */
import type { Database } from './connection.ts';

/** Anything that runs one statement with $1… parameters and returns rows as objects (a Database, a session). */
export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

/** Every movie with its rating statistics, column by column (catalogue order = movies.id order). */
export interface MovieRows {
  readonly externalIds: string[];
  readonly titles: string[];
  /** Release year, 0 where unknown. */
  readonly years: Int16Array;
  readonly genres: string[][];
  /** Number of ratings per movie. */
  readonly ratingCounts: Int32Array;
  /** Sum of the ratings per movie (average = sum / count). */
  readonly ratingSums: Float64Array;
}

/** One user's stored ratings, by external movie ID, and their views of movies they did not rate. */
export interface UserRatings {
  /** Whether the user row exists at all. */
  exists: boolean;
  movieIds: string[];
  ratings: Float32Array;
  /** When each rating was given (Unix seconds, aligned with movieIds): the ranking models' recency weighting. */
  ratedAt?: Int32Array;
  /** Watch history: the movies the user viewed but did not rate (a rated movie counts by its rating). */
  viewedMovieIds?: string[];
  /** The total weight of each of those views (aligned with viewedMovieIds). */
  viewWeights?: Float32Array;
  /** The latest view of each of those movies (Unix seconds, aligned with viewedMovieIds). */
  viewedAt?: Int32Array;
}

export interface StoredView {
  viewedAt: Date;
  /** The pair's total weight after this view (the weights of all its views). */
  weight: number;
  createdUser: boolean;
}

export interface RatingRow {
  movieId: string;
  rating: number;
  ratedAt: Date;
}

export interface RatingPage {
  rows: RatingRow[];
  total: number;
  hasNext: boolean;
}

export interface StoredRating {
  ratedAt: Date;
  /** The rating it replaced, or null when the (user, movie) pair is new. */
  previous: number | null;
  createdUser: boolean;
}

export interface TableCounts {
  users: number;
  movies: number;
  ratings: number;
  /** Rows of watch history (one per user and movie viewed). */
  views: number;
  modelVersions: number;
}

/** Seconds of overlap between change-feed polls, so a rating whose transaction started earlier is not missed. */
const FEED_OVERLAP_SECONDS = 5;

/** Each movie's rating count n and sum total (alias s), joined onto movies m: loadMovieRows and loadMovieStats. */
const MOVIE_STATS_JOIN = `LEFT JOIN (SELECT movie_id, count(*) AS n, sum(rating::float8) AS total FROM ratings GROUP BY movie_id) s
         ON s.movie_id = m.id`;

/** Every movie with its rating count and sum, in one GROUP BY pass over ratings. */
export async function loadMovieRows(db: Queryable): Promise<MovieRows> {
  const rows = await db.query<{
    external_id: string;
    title: string;
    year: number | null;
    genres: string[] | null;
    n: number;
    total: number;
  }>(
    `SELECT m.external_id, m.title, m.year, m.genres, coalesce(s.n, 0)::int AS n, coalesce(s.total, 0)::float8 AS total
       FROM movies m
       ${MOVIE_STATS_JOIN}
      ORDER BY m.id`,
  );
  const size = rows.length;
  const out: MovieRows = {
    externalIds: new Array(size),
    titles: new Array(size),
    years: new Int16Array(size),
    genres: new Array(size),
    ratingCounts: new Int32Array(size),
    ratingSums: new Float64Array(size),
  };
  for (let j = 0; j < size; j++) {
    const r = rows[j]!;
    out.externalIds[j] = r.external_id;
    out.titles[j] = r.title;
    out.years[j] = r.year ?? 0;
    out.genres[j] = r.genres ?? [];
    out.ratingCounts[j] = Number(r.n);
    out.ratingSums[j] = Number(r.total);
  }
  return out;
}

/**
 * A digest of the movie metadata in loadMovieRows' order (IDs, titles, years, genres), computed by the database: the
 * API compares it on a model activation and, when the movies are unchanged, reads only their statistics
 * (loadMovieStats) instead of every row again — parsing ~10,000 rows with their genre arrays held its event loop
 * for ~60 ms.
 */
export async function movieCatalogueStamp(db: Queryable): Promise<string> {
  const [row] = await db.query<{ n: number; digest: string | null }>(
    `SELECT count(*)::int AS n,
            md5(string_agg(external_id || chr(9) || title || chr(9) || coalesce(year::text, '') || chr(9) ||
                           coalesce(array_to_string(genres, chr(31)), ''), chr(10) ORDER BY id)) AS digest
       FROM movies`,
  );
  return `${row?.n ?? 0}:${row?.digest ?? ''}`;
}

/**
 * Every movie's rating count and sum in loadMovieRows' order, as one text value split here rather than ~10,000
 * rows through the driver's row parser.
 */
export async function loadMovieStats(db: Queryable): Promise<Pick<MovieRows, 'ratingCounts' | 'ratingSums'>> {
  const [row] = await db.query<{ stats: string | null }>(
    `SELECT string_agg(coalesce(s.n, 0)::text || ':' || coalesce(s.total, 0)::text, ',' ORDER BY m.id) AS stats
       FROM movies m
       ${MOVIE_STATS_JOIN}`,
  );
  const pairs = row?.stats ? row.stats.split(',') : [];
  const ratingCounts = new Int32Array(pairs.length);
  const ratingSums = new Float64Array(pairs.length);
  for (let j = 0; j < pairs.length; j++) {
    const pair = pairs[j]!;
    const colon = pair.indexOf(':');
    ratingCounts[j] = Number(pair.slice(0, colon));
    ratingSums[j] = Number(pair.slice(colon + 1));
  }
  return { ratingCounts, ratingSums };
}

/** External movie ID → title, for every movie. */
export async function movieTitles(db: Queryable): Promise<Map<string, string>> {
  const rows = await db.query<{ external_id: string; title: string }>(
    'SELECT external_id, title FROM movies',
  );
  return new Map(rows.map((r) => [r.external_id, r.title]));
}

/**
 * A user's stored ratings (and whether the user exists), by external IDs, with their views of movies they did not
 * rate (watch history; a movie both rated and viewed counts once, by its rating).
 */
export async function userRatings(db: Queryable, userId: string): Promise<UserRatings> {
  // kind: 0 the user row, 1 a rating, 2 a view of an unrated movie (one round trip for all three)
  const rows = await db.query<{
    kind: number;
    external_id: string | null;
    value: number | null;
    at: number | null;
  }>(
    `WITH u AS (SELECT id FROM users WHERE external_id = $1)
     SELECT 0 AS kind, NULL::text AS external_id, NULL::real AS value, NULL::float8 AS at FROM u
     UNION ALL
     SELECT 1, m.external_id, r.rating, extract(epoch FROM r.rated_at)::float8
       FROM u JOIN ratings r ON r.user_id = u.id JOIN movies m ON m.id = r.movie_id
     UNION ALL
     SELECT 2, m.external_id, v.weight, extract(epoch FROM v.viewed_at)::float8
       FROM u JOIN views v ON v.user_id = u.id JOIN movies m ON m.id = v.movie_id
      WHERE NOT EXISTS (SELECT 1 FROM ratings r WHERE r.user_id = v.user_id AND r.movie_id = v.movie_id)`,
    [userId],
  );
  const movieIds: string[] = [];
  const ratings: number[] = [];
  const ratedAt: number[] = [];
  const viewedMovieIds: string[] = [];
  const weights: number[] = [];
  const viewedAt: number[] = [];
  let exists = false;
  for (const r of rows) {
    const kind = Number(r.kind);
    if (kind === 0) exists = true;
    else if (kind === 1) {
      movieIds.push(r.external_id!);
      ratings.push(Number(r.value));
      ratedAt.push(Math.floor(Number(r.at)));
    } else {
      viewedMovieIds.push(r.external_id!);
      weights.push(Number(r.value));
      viewedAt.push(Math.floor(Number(r.at)));
    }
  }
  return {
    exists,
    movieIds,
    ratings: Float32Array.from(ratings),
    ratedAt: Int32Array.from(ratedAt),
    viewedMovieIds,
    viewWeights: Float32Array.from(weights),
    viewedAt: Int32Array.from(viewedAt),
  };
}

/** A page of a user's ratings, newest first, after the (ratedAt, movieId) cursor; null when no such user. */
export async function ratingPage(
  db: Queryable,
  userId: string,
  first: number,
  after: { ratedAt: Date; movieId: string } | null,
): Promise<RatingPage | null> {
  const user = await db.query<{ id: number; n: number }>(
    `SELECT u.id, (SELECT count(*) FROM ratings r WHERE r.user_id = u.id)::int AS n
       FROM users u WHERE u.external_id = $1`,
    [userId],
  );
  const head = user[0];
  if (head === undefined) return null;
  // keyset pagination on (rated_at DESC, movie external_id DESC); the cursor carries rated_at as epoch ms
  const rows = await db.query<{ external_id: string; rating: number; ms: string }>(
    `SELECT m.external_id, r.rating, (extract(epoch FROM r.rated_at) * 1000)::bigint::text AS ms
       FROM ratings r JOIN movies m ON m.id = r.movie_id
      WHERE r.user_id = $1
        AND ($2::bigint IS NULL
             OR (r.rated_at, m.external_id) < (to_timestamp($2::bigint / 1000.0)::timestamp, $3::text))
      ORDER BY r.rated_at DESC, m.external_id DESC
      LIMIT $4`,
    [head.id, after === null ? null : String(after.ratedAt.getTime()), after?.movieId ?? '', first + 1],
  );
  return {
    rows: rows.slice(0, first).map((r) => ({
      movieId: r.external_id,
      rating: Number(r.rating),
      ratedAt: new Date(Number(r.ms)),
    })),
    total: Number(head.n),
    hasNext: rows.length > first,
  };
}

/**
 * Stores or replaces a rating, creating the user on first rating, in one statement (atomic without a dedicated
 * connection); the movie must exist (else an Error naming it).
 */
export async function upsertRating(
  db: Queryable,
  userId: string,
  movieId: string,
  rating: number,
): Promise<StoredRating> {
  // Every CTE sees the table as it was before it, so `prev` is the rating being replaced. rated_at and the user's
  // last_rated_at are the database's clock in UTC (the same now(): the change feed compares last_rated_at to it).
  const rows = await db.query<{ previous: number | null; created: boolean | null; ms: string | null }>(
    `WITH m AS (SELECT id FROM movies WHERE external_id = $2),
          u AS (INSERT INTO users (external_id, last_rated_at) VALUES ($1, now() AT TIME ZONE 'UTC')
                ON CONFLICT (external_id) DO UPDATE SET last_rated_at = EXCLUDED.last_rated_at
                RETURNING id, (xmax = 0) AS created),
          prev AS (SELECT r.rating FROM ratings r, u, m WHERE r.user_id = u.id AND r.movie_id = m.id),
          ins AS (INSERT INTO ratings (user_id, movie_id, rating, rated_at)
                  SELECT u.id, m.id, $3, now() AT TIME ZONE 'UTC' FROM u, m
                  ON CONFLICT (user_id, movie_id) DO UPDATE SET rating = EXCLUDED.rating, rated_at = EXCLUDED.rated_at
                  RETURNING rated_at)
     SELECT (SELECT rating FROM prev) AS previous, (SELECT created FROM u) AS created,
            (SELECT (extract(epoch FROM rated_at) * 1000)::bigint::text FROM ins) AS ms`,
    [userId, movieId, rating],
  );
  const r = rows[0];
  if (r === undefined || r.ms === null)
    throw new Error(`movie ${JSON.stringify(movieId)} is not in the database`);
  return {
    ratedAt: new Date(Number(r.ms)),
    previous: r.previous === null ? null : Number(r.previous),
    createdUser: r.created === true,
  };
}

/**
 * Records a view (watch history), creating the user on first interaction, in one statement: a first view of the
 * movie inserts (user, movie, weight, now), a later one adds its weight to the pair's total and moves viewed_at to
 * now. It also sets the user's last_rated_at, so the change feed and the pushed-events trigger (a 'rating' event:
 * the user's history changed) tell the other API processes, exactly as for a rating. The movie must exist (else an
 * Error naming it); `weight` must be a finite number > 0 (the caller checks; the database stores a real).
 */
export async function upsertView(
  db: Queryable,
  userId: string,
  movieId: string,
  weight: number,
): Promise<StoredView> {
  if (!(Number.isFinite(weight) && weight > 0))
    throw new RangeError(`a view's weight must be a finite number > 0, got ${weight}`);
  const rows = await db.query<{ created: boolean | null; weight: number | null; ms: string | null }>(
    `WITH m AS (SELECT id FROM movies WHERE external_id = $2),
          u AS (INSERT INTO users (external_id, last_rated_at)
                SELECT $1, now() AT TIME ZONE 'UTC' WHERE EXISTS (SELECT 1 FROM m)
                ON CONFLICT (external_id) DO UPDATE SET last_rated_at = EXCLUDED.last_rated_at
                RETURNING id, (xmax = 0) AS created),
          ins AS (INSERT INTO views (user_id, movie_id, weight, viewed_at)
                  SELECT u.id, m.id, $3, now() AT TIME ZONE 'UTC' FROM u, m
                  ON CONFLICT (user_id, movie_id)
                  DO UPDATE SET weight = views.weight + EXCLUDED.weight, viewed_at = EXCLUDED.viewed_at
                  RETURNING weight, viewed_at)
     SELECT (SELECT created FROM u) AS created, (SELECT weight FROM ins) AS weight,
            (SELECT (extract(epoch FROM viewed_at) * 1000)::bigint::text FROM ins) AS ms`,
    [userId, movieId, weight],
  );
  const r = rows[0];
  if (r === undefined || r.ms === null || r.weight === null)
    throw new Error(`movie ${JSON.stringify(movieId)} is not in the database`);
  return { viewedAt: new Date(Number(r.ms)), weight: Number(r.weight), createdUser: r.created === true };
}

/**
 * Users whose ratings changed after `since` (a UTC timestamp as text, by the database's clock) and the watermark
 * for the next call; with since = null, no users, only the current watermark.
 */
export async function changedUsersSince(
  db: Queryable,
  since: string | null,
): Promise<{ users: string[]; watermark: string }> {
  const mark = await db.query<{ w: string }>(
    `SELECT ((now() AT TIME ZONE 'UTC') - make_interval(secs => $1))::text AS w`,
    [FEED_OVERLAP_SECONDS],
  );
  const watermark = mark[0]!.w;
  if (since === null) return { users: [], watermark };
  // users_last_rated_at_idx: a range scan over the users who rated since, not a scan of every rating
  const rows = await db.query<{ external_id: string }>(
    `SELECT external_id FROM users WHERE last_rated_at > $1::timestamp`,
    [since],
  );
  return { users: rows.map((r) => r.external_id), watermark };
}

/** The external IDs of the movies a user rated (empty for an unknown user). */
export async function ratedMovieIds(db: Queryable, userId: string): Promise<string[]> {
  const rows = await db.query<{ external_id: string }>(
    'SELECT m.external_id FROM ratings r JOIN users u ON u.id = r.user_id JOIN movies m ON m.id = r.movie_id WHERE u.external_id = $1',
    [userId],
  );
  return rows.map((r) => r.external_id);
}

/** Row counts of the main tables (a migrated database). */
export async function tableCounts(db: Database | Queryable): Promise<TableCounts> {
  const [row] = await db.query<{
    users: number;
    movies: number;
    ratings: number;
    views: number;
    model_versions: number;
  }>(
    `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM movies) AS movies,
            (SELECT count(*)::int FROM ratings) AS ratings, (SELECT count(*)::int FROM views) AS views,
            (SELECT count(*)::int FROM model_versions) AS model_versions`,
  );
  return {
    users: row?.users ?? 0,
    movies: row?.movies ?? 0,
    ratings: row?.ratings ?? 0,
    views: row?.views ?? 0,
    modelVersions: row?.model_versions ?? 0,
  };
}

/** Throws when the database cannot be reached (one trivial round trip). */
export async function ping(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}
