/**
 * One active model version held in memory with its catalogue, per-user state and cached top-N lists. A new
 * activation builds a new Snapshot and swaps it in whole, so every cache below is invalidated by construction.
 */
import { clampTime, temporalOffset, type UserVector } from '@movierec/core';
import type { ModelVersionInfo, ServableModel, UserRatings } from '../store.ts';
import type { Catalogue } from './catalogue.ts';
import {
  addRankBias,
  cosine,
  cosineToAll,
  normalizeRows,
  scoreAllItems,
  type TopList,
  topK,
} from './kernels.ts';

export type RecommendationSource = 'PERSONALIZED' | 'POPULARITY';

/** Longest list ever cached per (user, filters); `limit` is at most this. */
export const MAX_LIMIT = 100;

/** A user as the serving path sees them: their ratings mapped to model items and the vector that scores them. */
export class UserState {
  /** False once a rating change or eviction made this state stale (response-cache entries check it). */
  valid = true;
  /** Cached top-N lists by filter key. */
  readonly tops = new Map<string, TopList>();
  constructor(
    readonly userId: string,
    /** Whether the user exists in the database. */
    readonly exists: boolean,
    /** Number of stored ratings (including movies the model has no factors for). */
    readonly ratingCount: number,
    /** Rated model items, ascending, and the ratings given (aligned). */
    readonly ratedItems: Int32Array,
    readonly ratedValues: Float32Array,
    /** p_u and b_u: trained, folded in, or null for the popularity fallback. */
    readonly vector: UserVector | null,
    readonly source: RecommendationSource,
    /** How many ratings the fold-in used (0 when the trained vector or the fallback serves). */
    readonly foldedIn: number,
  ) {}
}

export class Snapshot {
  #unitItems: Float32Array | null = null;
  /** Scratch buffers reused by every scoring call (JS runs one call at a time, nothing awaits inside). */
  readonly #scores: Float32Array;
  /** r̂ + itemRankBias per item (the ranking key), only when the model has the ranking-only term. */
  readonly #rankScores: Float32Array | null;
  readonly #excluded: Uint8Array;
  readonly #popularity: Float32Array;
  readonly #popularTops = new Map<string, TopList>();
  readonly #similar = new Map<number, TopList>();
  readonly users = new Map<string, UserState>();
  readonly pending = new Map<string, Promise<UserState>>();
  /** Users whose stored ratings changed after the model was trained: served by fold-in, not their trained row. */
  readonly dirtyUsers = new Set<string>();

  constructor(
    readonly version: ModelVersionInfo | null,
    readonly model: ServableModel | null,
    readonly catalogue: Catalogue,
    readonly maxUsers: number,
  ) {
    const n = model?.params.numItems ?? 0;
    this.#scores = new Float32Array(n);
    this.#rankScores = model?.params.itemRankBias ? new Float32Array(n) : null;
    this.#excluded = new Uint8Array(n);
    this.#popularity = this.#buildPopularity();
  }

  /** Unit-length movie factor rows q̂_i = q_i/‖q_i‖, built on first use (cosine neighbours, `because`). */
  get unitItems(): Float32Array {
    if (this.#unitItems !== null) return this.#unitItems;
    const p = this.model!.params;
    this.#unitItems = normalizeRows(p.itemFactors, p.numItems, p.factors);
    return this.#unitItems;
  }

  /**
   * Popularity score per model item: μ + b_i (the item-bias baseline, Koren 2008 §2.1) for movies with enough
   * ratings to trust their bias (at least min(20, the count of the 100th most-rated movie)); −∞ otherwise.
   */
  #buildPopularity(): Float32Array {
    if (this.model === null) return new Float32Array(0);
    const p = this.model.params;
    const cat = this.catalogue;
    const counts = new Int32Array(p.numItems);
    for (let i = 0; i < p.numItems; i++) {
      const m = cat.movieOf[i]!;
      counts[i] = m >= 0 ? cat.rows.ratingCounts[m]! : 0;
    }
    const sorted = counts.slice().sort().reverse();
    const threshold = Math.max(1, Math.min(20, sorted[Math.min(99, sorted.length - 1)] ?? 1));
    const out = new Float32Array(p.numItems);
    for (let i = 0; i < p.numItems; i++) {
      out[i] = counts[i]! >= threshold ? p.globalMean + p.itemBias[i]! : Number.NEGATIVE_INFINITY;
    }
    return out;
  }

  /** The user's state from their stored ratings: trained vector, fold-in, or the popularity fallback. */
  buildUserState(userId: string, stored: UserRatings): UserState {
    const model = this.model;
    const pairs: [number, number][] = [];
    if (model !== null) {
      for (let j = 0; j < stored.movieIds.length; j++) {
        const item = model.items.indexOf(stored.movieIds[j]!);
        if (item >= 0) pairs.push([item, stored.ratings[j]!]);
      }
    }
    pairs.sort((a, b) => a[0] - b[0]);
    const ratedItems = Int32Array.from(pairs, (p) => p[0]);
    const ratedValues = Float32Array.from(pairs, (p) => p[1]);
    const state = (vector: UserVector | null, source: RecommendationSource, foldedIn: number) =>
      new UserState(
        userId,
        stored.exists,
        stored.movieIds.length,
        ratedItems,
        ratedValues,
        vector,
        source,
        foldedIn,
      );
    if (model === null) return state(null, 'POPULARITY', 0);
    const u = model.users.indexOf(userId);
    if (u >= 0 && !this.dirtyUsers.has(userId)) {
      const k = model.params.factors;
      const trained: UserVector = {
        bias: model.params.userBias[u]!,
        factors: model.params.userFactors.subarray(u * k, (u + 1) * k),
      };
      return state(trained, 'PERSONALIZED', 0);
    }
    if (ratedItems.length === 0) return state(null, 'POPULARITY', 0);
    // fold-in: (b_u, p_u) = argmin Σ_i (r_ui − μ − b_i − b_u − p_u·q_i)² + λ‖(b_u, p_u)‖² with Q fixed (the model's foldIn)
    return state(model.foldIn({ items: ratedItems, values: ratedValues }), 'PERSONALIZED', ratedItems.length);
  }

  /** Keeps at most maxUsers user states (oldest first out); evicted states are marked stale. */
  remember(state: UserState): void {
    const old = this.users.get(state.userId);
    if (old !== undefined) old.valid = false;
    this.users.delete(state.userId);
    this.users.set(state.userId, state);
    while (this.users.size > this.maxUsers) {
      const first = this.users.keys().next().value as string;
      this.users.get(first)!.valid = false;
      this.users.delete(first);
    }
  }

  forget(userId: string): void {
    const s = this.users.get(userId);
    if (s !== undefined) s.valid = false;
    this.users.delete(userId);
  }

  /** The best MAX_LIMIT movies for a user under the filters, computed once and cached on the user state. */
  topFor(state: UserState, excludeRated: boolean, genres: readonly string[] | null): TopList {
    const key = `${excludeRated ? 1 : 0}|${
      genres === null
        ? ''
        : [...genres]
            .map((g) => g.toLowerCase())
            .sort()
            .join('\u0000')
    }`;
    const cache = state.vector === null ? this.#popularTops : state.tops;
    const popularKey =
      state.vector === null
        ? `${key}|${state.ratedItems.length > 0 && excludeRated ? state.userId : ''}`
        : key;
    const hit = cache.get(popularKey);
    if (hit !== undefined) return hit;
    const allowed = this.catalogue.itemMask(genres);
    const excluded = excludeRated && state.ratedItems.length > 0 ? this.#excluded : null;
    if (excluded !== null) for (const i of state.ratedItems) excluded[i] = 1;
    let top: TopList;
    if (state.vector === null) {
      top = topK(this.#popularity, MAX_LIMIT, allowed, excluded);
      // movies below the popularity threshold score −∞: drop them
      let n = 0;
      while (n < top.items.length && Number.isFinite(top.scores[n]!)) n++;
      top = { items: top.items.subarray(0, n), scores: top.scores.subarray(0, n) };
    } else {
      const p = this.model!.params;
      const predicted = scoreAllItems(p, state.vector.bias, state.vector.factors, this.#scores);
      const rankBias = p.itemRankBias;
      if (rankBias === undefined || this.#rankScores === null) {
        top = topK(predicted, MAX_LIMIT, allowed, excluded);
      } else {
        // Ranking-only term (MFParams.itemRankBias, as MFModel.recommend): rank by r̂(u,i) + itemRankBias_i,
        // report r̂(u,i) itself as the score.
        const key = addRankBias(predicted, rankBias, this.#rankScores);
        const ranked = topK(key, MAX_LIMIT, allowed, excluded);
        const scores = new Float32Array(ranked.items.length);
        for (let j = 0; j < scores.length; j++) scores[j] = predicted[ranked.items[j]!]!;
        top = { items: ranked.items, scores };
      }
    }
    if (excluded !== null) for (const i of state.ratedItems) excluded[i] = 0;
    if (cache.size < 4096) cache.set(popularKey, top);
    return top;
  }

  /**
   * r̂(u,i) = μ + b_u + b_i + p_u·q_i; without a user vector the baseline μ + b_i. A time-aware model
   * (params.temporal, Koren 2009) adds its terms at Unix time `at` (default now): the movie's bin bias always, the
   * user's drift and day bias only for a trained user served by their trained vector (a folded-in user has no
   * drift history).
   */
  predict(state: UserState, item: number, at = Date.now() / 1000): number {
    const model = this.model!;
    const p = model.params;
    let base = p.globalMean + p.itemBias[item]!;
    const tp = p.temporal;
    if (tp) {
      const u = state.vector !== null && state.foldedIn === 0 ? model.users.indexOf(state.userId) : -1;
      base += temporalOffset(tp, u, item, clampTime(tp, at));
    }
    if (state.vector === null) return base;
    const k = p.factors;
    const q = p.itemFactors;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += state.vector.factors[f]! * q[item * k + f]!;
    return base + state.vector.bias + dot;
  }

  /** The MAX_LIMIT movies whose factors are closest to `item` by cosine, cached per item. */
  similar(item: number): TopList {
    const hit = this.#similar.get(item);
    if (hit !== undefined) return hit;
    const p = this.model!.params;
    cosineToAll(this.unitItems, p.numItems, p.factors, item, this.#scores);
    this.#excluded[item] = 1;
    const top = topK(this.#scores, MAX_LIMIT, this.catalogue.servable, this.#excluded);
    this.#excluded[item] = 0;
    if (this.#similar.size < 20_000) this.#similar.set(item, top);
    return top;
  }

  /** The user's rated items closest to `item` by cosine of movie factors, best first. */
  because(state: UserState, item: number, limit: number): number[] {
    const rated = state.ratedItems;
    if (rated.length === 0 || limit === 0) return [];
    const unit = this.unitItems;
    const k = this.model!.params.factors;
    const sims = new Float32Array(rated.length);
    for (let j = 0; j < rated.length; j++)
      sims[j] = rated[j] === item ? -2 : cosine(unit, k, item, rated[j]!);
    const top = topK(sims, Math.min(limit, rated.length), null, null);
    const out: number[] = [];
    for (let j = 0; j < top.items.length; j++) if (top.scores[j]! > -2) out.push(rated[top.items[j]!]!);
    return out;
  }
}
