/**
 * Everything the API reads from and writes to the database, behind one small interface so the serving code does not
 * care whether it runs on PostgreSQL or the embedded PGlite. Only `rateMovie`, user pages, model lists and the
 * change feed touch the database on a request; recommendations are served from memory.
 */
import type { Metrics, MFParams, UserHistory, UserVector } from '@movierec/core';
import type { IdMap } from '@movierec/data';
import type { EventHandlers, EventListener } from '@movierec/db';
import type { MovieRows } from './serving/catalogue.ts';

/** What the API needs of a trained model: its parameters, ID maps and fold-in. */
export interface ServableModel {
  readonly params: MFParams;
  /** External user ID ↔ dense user index. */
  readonly users: IdMap;
  /** External movie ID ↔ dense item index. */
  readonly items: IdMap;
  /** Bias and factors for a user from their ratings by regularised least squares against the fixed item factors. */
  foldIn(history: UserHistory): UserVector;
}

export interface EpochInfo {
  epoch: number;
  loss: number;
  validationRmse: number | null;
  validationMae: number | null;
  seconds: number | null;
}

/** A stored model version as the GraphQL `ModelVersion` type shows it. */
export interface ModelVersionInfo {
  id: string;
  engine: string;
  active: boolean;
  createdAt: string;
  factors: number;
  numUsers: number;
  numMovies: number;
  /** Hyper-parameters as JSON text. */
  config: string;
  /** core's Metrics as stored (GraphQL ModelMetrics shows its fields; absent ones are null). */
  metrics: Metrics | null;
  trainingRun: { id: string; epochs: EpochInfo[] } | null;
}

/** One user's stored ratings, by external movie ID. */
export interface UserRatings {
  /** Whether the user row exists at all. */
  exists: boolean;
  movieIds: string[];
  ratings: Float32Array;
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

export interface ApiStore {
  /**
   * Whether other processes may write to the same database (PostgreSQL: yes; the embedded PGlite: no, one process
   * owns it). Only then does every poll read the rating change feed.
   */
  readonly shared: boolean;
  /** Cheap: the active version's ID, or null when none is active (polled every few seconds). */
  activeModelVersionId(): Promise<string | null>;
  /** The active model and its version, or null when none is active. */
  loadActiveModel(): Promise<{ version: ModelVersionInfo; model: ServableModel } | null>;
  listModelVersions(): Promise<ModelVersionInfo[]>;
  /** Every movie with its rating statistics. */
  loadMovies(): Promise<MovieRows>;
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
