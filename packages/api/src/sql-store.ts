/**
 * ApiStore over plain SQL against the schema in prisma/schema.prisma (tables users, movies, ratings), for any client
 * with `query(text, params) → rows` (@movierec/db's Database on PostgreSQL or PGlite). Model versions go through
 * @movierec/db, which owns their storage format.
 */
import type { MovieRows } from './serving/catalogue.ts';
import type {
  ApiStore,
  ModelVersionInfo,
  RatingPage,
  ServableModel,
  StoredRating,
  UserRatings,
} from './store.ts';

/** One statement with $1… parameters, rows as objects (the shape of @movierec/db's `Database.query`). */
export interface SqlClient {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<R[]>;
}

/** The model-version half of the store, provided by @movierec/db. */
export interface ModelSource {
  activeModelVersionId(): Promise<string | null>;
  loadActiveModel(): Promise<{ version: ModelVersionInfo; model: ServableModel } | null>;
  listModelVersions(): Promise<ModelVersionInfo[]>;
}

/** Seconds of overlap between change-feed polls, so a rating whose transaction started earlier is not missed. */
const FEED_OVERLAP_SECONDS = 5;

export class SqlStore implements ApiStore {
  readonly #sql: SqlClient;
  readonly #models: ModelSource;
  readonly #close: () => Promise<void>;

  readonly shared: boolean;
  /** Pushed events (set by storeOn for PostgreSQL). */
  listen?: ApiStore['listen'];
  /** Pool counts (set by storeOn for PostgreSQL). */
  poolStats?: ApiStore['poolStats'];

  constructor(sql: SqlClient, models: ModelSource, close: () => Promise<void>, shared = true) {
    this.shared = shared;
    this.#sql = sql;
    this.#models = models;
    this.#close = close;
  }

  activeModelVersionId(): Promise<string | null> {
    return this.#models.activeModelVersionId();
  }

  loadActiveModel(): Promise<{ version: ModelVersionInfo; model: ServableModel } | null> {
    return this.#models.loadActiveModel();
  }

  listModelVersions(): Promise<ModelVersionInfo[]> {
    return this.#models.listModelVersions();
  }

  async loadMovies(): Promise<MovieRows> {
    const rows = await this.#sql.query<{
      external_id: string;
      title: string;
      year: number | null;
      genres: string[] | null;
      n: number;
      total: number;
    }>(
      `SELECT m.external_id, m.title, m.year, m.genres, coalesce(s.n, 0)::int AS n, coalesce(s.total, 0)::float8 AS total
         FROM movies m
         LEFT JOIN (SELECT movie_id, count(*) AS n, sum(rating::float8) AS total FROM ratings GROUP BY movie_id) s
           ON s.movie_id = m.id
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

  async userRatings(userId: string): Promise<UserRatings> {
    const rows = await this.#sql.query<{ external_id: string | null; rating: number | null }>(
      `SELECT m.external_id, r.rating
         FROM users u
         LEFT JOIN ratings r ON r.user_id = u.id
         LEFT JOIN movies m ON m.id = r.movie_id
        WHERE u.external_id = $1`,
      [userId],
    );
    const movieIds: string[] = [];
    const ratings: number[] = [];
    for (const r of rows) {
      if (r.external_id === null || r.rating === null) continue;
      movieIds.push(r.external_id);
      ratings.push(Number(r.rating));
    }
    return { exists: rows.length > 0, movieIds, ratings: Float32Array.from(ratings) };
  }

  async ratingPage(
    userId: string,
    first: number,
    after: { ratedAt: Date; movieId: string } | null,
  ): Promise<RatingPage | null> {
    const user = await this.#sql.query<{ id: number; n: number }>(
      `SELECT u.id, (SELECT count(*) FROM ratings r WHERE r.user_id = u.id)::int AS n
         FROM users u WHERE u.external_id = $1`,
      [userId],
    );
    const head = user[0];
    if (head === undefined) return null;
    // keyset pagination on (rated_at DESC, movie external_id DESC); the cursor carries rated_at as epoch ms
    const rows = await this.#sql.query<{ external_id: string; rating: number; ms: string }>(
      `SELECT m.external_id, r.rating, (extract(epoch FROM r.rated_at) * 1000)::bigint::text AS ms
         FROM ratings r JOIN movies m ON m.id = r.movie_id
        WHERE r.user_id = $1
          AND ($2::bigint IS NULL
               OR (r.rated_at, m.external_id) < (to_timestamp($2::bigint / 1000.0)::timestamp, $3::text))
        ORDER BY r.rated_at DESC, m.external_id DESC
        LIMIT $4`,
      [head.id, after === null ? null : String(after.ratedAt.getTime()), after?.movieId ?? '', first + 1],
    );
    const hasNext = rows.length > first;
    return {
      rows: rows.slice(0, first).map((r) => ({
        movieId: r.external_id,
        rating: Number(r.rating),
        ratedAt: new Date(Number(r.ms)),
      })),
      total: Number(head.n),
      hasNext,
    };
  }

  async upsertRating(userId: string, movieId: string, rating: number): Promise<StoredRating> {
    // One statement, so it is atomic without a dedicated connection; every CTE sees the table as it was before it,
    // so `prev` is the rating being replaced. rated_at and the user's last_rated_at are the database's clock in UTC
    // (the same now(): the change feed compares last_rated_at against it).
    const rows = await this.#sql.query<{
      previous: number | null;
      created: boolean | null;
      ms: string | null;
    }>(
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

  async changedUsersSince(since: string | null): Promise<{ users: string[]; watermark: string }> {
    const mark = await this.#sql.query<{ w: string }>(
      `SELECT ((now() AT TIME ZONE 'UTC') - make_interval(secs => $1))::text AS w`,
      [FEED_OVERLAP_SECONDS],
    );
    const watermark = mark[0]!.w;
    if (since === null) return { users: [], watermark };
    // users_last_rated_at_idx: a range scan over the users who rated since, not a scan of every rating
    const rows = await this.#sql.query<{ external_id: string }>(
      `SELECT external_id FROM users WHERE last_rated_at > $1::timestamp`,
      [since],
    );
    return { users: rows.map((r) => r.external_id), watermark };
  }

  async ping(): Promise<void> {
    await this.#sql.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.#close();
  }
}
