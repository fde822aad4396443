import type { IdMap } from '@movierec/data';

/**
 * The serving contract every model honours — a factor model (biased MF, iALS, BPR), an item-item model (EASE,
 * item-kNN) or a neural one (NCF) — after implicit's `recommend`/`similar_items`/`explain`/`recalculate_user` and
 * gorse's "one small contract, so adding a model adds no code to the server". The API and the CLI serve only through
 * it; the hot loops (scoring, the one top-k heap, cosine) live in core beside it.
 *
 * Users and items are dense indices (map external IDs with `users`/`items`). A user is scored through a
 * `UserState`: the trained user's (`userState(u)`) or one folded in from a history (`foldIn`), opaque to callers.
 */

/** What a model is for: predicting a rating (the rating model) or ranking a catalogue (the top-N model). */
export type ModelTask = 'rating' | 'ranking';

/** A ranked list, columnar: dense item indices and their scores, best first (ties: lower index first). */
export interface TopItems {
  readonly items: Int32Array;
  readonly scores: Float32Array;
}

/**
 * What a user did: the items (dense indices, ascending, no duplicates) and one value per item — the rating for
 * explicit data, the interaction weight (views, plays; 1 when unweighted) for watch history.
 */
export interface UserHistory {
  readonly items: Int32Array;
  readonly values: Float32Array;
  /**
   * When each item was rated or viewed (Unix seconds, one per item), if known: models that weight recent
   * interactions more (the item-item models' recency weighting) read it; without it every item counts as recent.
   */
  readonly times?: Int32Array;
}

/** A user as a model scores them (model-specific and opaque: factors, a history, an embedding). */
export interface UserState {
  /** The dense user index when this is a trained user's state, −1 for a folded-in one. */
  readonly index: number;
  /**
   * Set when the model cannot personalise for this user (no interactions it knows) and `scoreAll` ranks by its
   * training popularity instead: callers flag such lists (source POPULARITY).
   */
  readonly fallback?: 'popularity';
}

export interface RecommendQuery {
  /** How many items to return. */
  k: number;
  /** Items never to return (dense indices, ascending; e.g. the user's history). */
  exclude?: Int32Array;
  /** When given, only items with allowed[i] !== 0 are returned (a genre filter, the servable catalogue). */
  allowed?: Uint8Array;
}

export interface Recommender {
  /** The model family ('mf', 'ease', 'item-knn', 'ials', 'bpr', 'ncf', …). */
  readonly family: string;
  readonly task: ModelTask;
  readonly numUsers: number;
  readonly numItems: number;
  /** External user ID ↔ dense index. */
  readonly users: IdMap;
  /** External movie ID ↔ dense index. */
  readonly items: IdMap;
  /** The trained user u's state; throws UnknownUserError for an index outside the model. */
  userState(user: number): UserState;
  /** The items user u interacted with in training (ascending), when the model keeps them. */
  trainedHistory(user: number): Int32Array | undefined;
  /**
   * A user outside the model (or whose history changed) from their history, without retraining: least squares
   * against fixed item factors for a factor model, the history itself for an item-item model.
   */
  foldIn(history: UserHistory): UserState;
  /** The ranking score of every item for a user, into `out` (length numItems); higher is better. */
  scoreAll(user: UserState, out: Float32Array): Float32Array;
  /**
   * Top-k items by `scoreAll`, honouring `exclude` and `allowed`, through core's one top-k (`topK`, top-k.ts).
   * `scores` are what the model reports for each item: r̂ for a rating model (which may rank by r̂ plus a
   * ranking-only term, e.g. MF's itemRankBias), the ranking score otherwise. Nothing is excluded unless asked
   * (pass `trainedHistory(u)` or the user's history as `exclude`).
   */
  recommend(user: UserState, query: RecommendQuery): TopItems;
  /**
   * Predicted rating r̂(u,i) for models that predict ratings (task 'rating'); a ranking model leaves it out and
   * callers say so (`canPredict`). `at` (Unix seconds, default now) is read by time-aware models (MFModel with
   * params.temporal, Koren 2009) and ignored by the others.
   */
  predict?(user: UserState, item: number, at?: number): number;
  /**
   * The k items most similar to `item` (itself excluded), by the model's own notion of similarity (cosine of
   * factors, item-item weights); scores are the similarities.
   */
  similarItems(item: number, k: number, allowed?: Uint8Array): TopItems;
  /**
   * Why `item` is recommended to a user: the items of their history that contributed most to its score, best
   * first (for an item-item model its weights; for a factor model the most similar rated items).
   */
  explain(user: UserState, history: UserHistory, item: number, k: number): TopItems;
}

/** Whether a model predicts ratings (has `predict`). */
export function canPredict(
  model: Recommender,
): model is Recommender & { predict(user: UserState, item: number, at?: number): number } {
  return typeof model.predict === 'function';
}
