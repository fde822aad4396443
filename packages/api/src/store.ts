/**
 * Everything the API reads from and writes to the database, behind one small interface so the serving code does not
 * care whether it runs on PostgreSQL or the embedded PGlite. Only `rateMovie`, `recordView`, user pages, model lists and the
 * change feed touch the database on a request; recommendations are served from memory. The row types and the SQL
 * are @movierec/db's; this interface only names what the server needs of them.
 */
import type { Recommender } from '@movierec/core';
import type {
  EventHandlers,
  EventListener,
  ModelVersionInfo,
  MovieRows,
  RatingPage,
  StoredRating,
  StoredView,
  UserRatings,
} from '@movierec/db';

export type { ModelVersionInfo, RatingPage, StoredRating, StoredView, UserRatings };

/** An active model version loaded for serving: any Recommender family (the db package deserialises by family). */
export interface ActiveModel {
  version: ModelVersionInfo;
  model: Recommender;
}

export interface ApiStore {
  /**
   * Whether other processes may write to the same database (PostgreSQL: yes; the embedded PGlite: no, one process
   * owns it). Only then does every poll read the rating change feed.
   */
  readonly shared: boolean;
  /** Cheap: names the active versions ("rating:3 ranking:5", '' when none; see `activeKey`), polled every few seconds. */
  activeModelsKey(): Promise<string>;
  /**
   * The active version of each task (at most one rating and one ranking model), loaded as Recommenders; a version
   * in `loaded` (by id) is not read again but handed back as it is.
   */
  loadActiveModels(loaded?: ReadonlyMap<number, Recommender>): Promise<ActiveModel[]>;
  listModelVersions(): Promise<ModelVersionInfo[]>;
  /** Every movie with its rating statistics. */
  loadMovies(): Promise<MovieRows>;
  /**
   * A stamp of the movie metadata (equal stamps: the same movies in the same order) and the statistics alone, so an
   * activation with unchanged movies need not read every row again; a store without them reloads the movies.
   */
  movieStamp?(): Promise<string>;
  movieStats?(): Promise<Pick<MovieRows, 'ratingCounts' | 'ratingSums'>>;
  userRatings(userId: string): Promise<UserRatings>;
  /** A page of a user's ratings, newest first, after the (ratedAt, movieId) cursor; null when no such user. */
  ratingPage(
    userId: string,
    first: number,
    after: { ratedAt: Date; movieId: string } | null,
  ): Promise<RatingPage | null>;
  /** Stores or replaces a rating, creating the user on first rating. The movie must exist. */
  upsertRating(userId: string, movieId: string, rating: number): Promise<StoredRating>;
  /**
   * Records a view (watch history): adds `weight` to the user's views of the movie, creating the user on first
   * interaction, and marks the user changed for the change feed and the other replicas. The movie must exist.
   */
  upsertView(userId: string, movieId: string, weight: number): Promise<StoredView>;
  /**
   * Users whose ratings changed after `since` (a UTC timestamp as text, by the database's clock) and the watermark for the next call;
   * with since = null, no users, only the current watermark.
   */
  changedUsersSince(since: string | null): Promise<{ users: string[]; watermark: string }>;
  /** Throws when the database cannot be reached. */
  ping(): Promise<void>;
  /** Pushed events from other processes (LISTEN/NOTIFY on PostgreSQL); absent where only polling works. */
  listen?(handlers: EventHandlers): Promise<EventListener>;
  /** Database connection pool counts, where there is a pool (metrics). */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}
