import type { UserVector } from './params.ts';

/** A scored item (dense index) in a ranked list. */
export interface ScoredItem {
  item: number;
  score: number;
}

export interface RecommendOptions {
  /** How many items to return (top-k). */
  k: number;
  /** Leave out items the user rated in training (default true); an explicit list of item indices also works. */
  excludeRated?: boolean | Int32Array;
  /** Keep only items for which this returns true. */
  filter?: (item: number) => boolean;
}

/**
 * The interface every model honours (after implicit's `recommend`/`similar_items`/`partial_fit_users`).
 * Users and items are dense indices (map external IDs with the model's IdMaps); a user may also be given as a
 * UserVector from `foldIn`.
 */
export interface Recommender {
  readonly numUsers: number;
  readonly numItems: number;
  predict(user: number | UserVector, item: number): number;
  predictMany(users: Int32Array, items: Int32Array, out?: Float32Array): Float32Array;
  recommend(user: number | UserVector, options: RecommendOptions): ScoredItem[];
  similarItems(item: number, k: number): ScoredItem[];
  similarUsers(user: number, k: number): ScoredItem[];
  /**
   * Bias and factors for a user from their ratings, by regularised least squares against the fixed item factors;
   * `options.l2` is λ in (AᵀA + λI)x = Aᵀ(r − μ − b_i).
   */
  foldIn(items: Int32Array, ratings: Float32Array, options?: { l2?: number }): UserVector;
}
