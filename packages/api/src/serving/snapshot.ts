/**
 * The active model versions held in memory — at most one per task (rating, ranking) — with the catalogue, per-user
 * state and cached top-N lists. Every model is served through core's `Recommender` contract only (fold-in,
 * recommend, predict, similarItems, explain), so a new model family needs no code here. A new activation builds a
 * new Snapshot and swaps it in whole, so every cache below is invalidated by construction.
 */
import {
  canPredict,
  type UserState as ModelUserState,
  PopularityModel,
  type Recommender,
  type TopItems,
  type UserHistory,
} from '@movierec/core';
import { type ModelVersionInfo, type StoredHistory, storedHistory, type UserRatings } from '@movierec/db';
import { type Catalogue, ItemSpace } from './catalogue.ts';
import { DEFAULT_LIST_CACHE_BYTES, ListCache, packed } from './list-cache.ts';
import { UserStateCache } from './user-cache.ts';

export type RecommendationSource = 'PERSONALIZED' | 'POPULARITY';

/** Which active model answers `similarMovies`: the rating model (cosine of its movie factors) or the ranking model. */
export type SimilarModelTask = 'rating' | 'ranking';

/**
 * The default of `similarMovies`' model: the ranking model's own item-item neighbours (EASE: row j of B, what liking
 * j adds to each movie's score) over the rating model's factor cosine. How it was decided, and how to switch
 * (MOVIEREC_SIMILAR_MODEL, ServerOptions.similarModel): packages/api/README.md, "similarMovies"; the measurement is
 * bench/similar-movies.ts.
 */
export const DEFAULT_SIMILAR_MODEL: SimilarModelTask = 'ranking';

/** Reads MOVIEREC_SIMILAR_MODEL (unset: the default); anything but 'rating' or 'ranking' is an error naming it. */
export function similarModelFromEnv(env: Record<string, string | undefined>): SimilarModelTask {
  const v = env.MOVIEREC_SIMILAR_MODEL;
  if (v === undefined || v === '') return DEFAULT_SIMILAR_MODEL;
  if (v === 'rating' || v === 'ranking') return v;
  throw new RangeError(
    `MOVIEREC_SIMILAR_MODEL must be 'rating' (the rating model's factor cosine) or 'ranking' (the ranking model's own neighbours), got ${JSON.stringify(v)}`,
  );
}

/** Longest list ever cached per (user, filters); `limit` is at most this. */
export const MAX_LIMIT = 100;

/** One active model version as served: the version record, the model and its items against the catalogue. */
export interface Served {
  readonly version: ModelVersionInfo;
  readonly model: Recommender;
  readonly space: ItemSpace;
}

/** A user as one model sees them. */
export interface ModelUser {
  /** What the model reads of the user (@movierec/db storedHistory): their ratings — and, for a ranking model, views. */
  readonly history: UserHistory;
  /** Every movie of the model the user rated or viewed (ascending), left out of recommendations (excludeRated). */
  readonly exclude: Int32Array;
  /** The model's state for the user (trained or folded in); null: the popularity fallback. */
  readonly state: ModelUserState | null;
  readonly source: RecommendationSource;
  /** How many ratings the fold-in used (0 when the trained state or the fallback serves). */
  readonly foldedIn: number;
}

const EMPTY_HISTORY: UserHistory = { items: new Int32Array(0), values: new Float32Array(0) };
const NOTHING = new Int32Array(0);

/** A user as the serving path sees them: one ModelUser per active model. */
export class UserState {
  /**
   * What a cached response keeps of this state: its validity alone. An entry that held the state itself kept its
   * histories, exclusion lists, model state and top-N lists alive after the user cache had evicted it — outside both
   * caches' budgets: in the soak ~2,000 such states (~20 MB of typed arrays) per minute of responses' lifetime.
   */
  readonly validity: { valid: boolean } = { valid: true };
  /** False once a rating change or eviction made this state stale (response-cache entries check `validity`). */
  get valid(): boolean {
    return this.validity.valid;
  }
  set valid(value: boolean) {
    this.validity.valid = value;
  }
  /** Cached top-N lists by filter key. */
  readonly tops = new Map<string, TopItems>();
  constructor(
    readonly userId: string,
    /** Whether the user exists in the database. */
    readonly exists: boolean,
    /** Number of stored ratings (including movies no model knows). */
    readonly ratingCount: number,
    /** The user in the model that ranks recommendations (ranking model, else rating model). */
    readonly recommending: ModelUser | null,
    /** The user in the rating model (predictRating), the same object when one model serves both. */
    readonly rating: ModelUser | null,
  ) {}

  get source(): RecommendationSource {
    return this.recommending?.source ?? 'POPULARITY';
  }
  /** How many ratings the recommending model's fold-in used. */
  get foldedIn(): number {
    return this.recommending?.foldedIn ?? 0;
  }
}

export class Snapshot {
  /** The model that ranks `recommendations` and explains them: the active ranking model, else the rating model. */
  readonly recommending: Served | null;
  /** The non-personalised fallback in the recommending model's item space (flagged POPULARITY). */
  readonly #popularity: PopularityModel | null;
  /** The popularity fallback's lists by filter key, and each movie's similar movies by the similarity model and by
   * the other active model (ListCache: least recently used out, within listCacheBytes each). */
  readonly #popularTops: ListCache<string>;
  #similar: ListCache<number>;
  #similarOther: ListCache<number>;
  readonly #emptyUsers = new Map<Recommender, ModelUserState>();
  /** The users' states, bounded by bytes and count (UserStateCache). */
  readonly users: UserStateCache<UserState>;
  readonly pending = new Map<string, Promise<UserState>>();
  /** Users whose stored ratings changed after the models were trained: served by fold-in, not their trained row. */
  readonly dirtyUsers = new Set<string>();

  constructor(
    /** The active rating model (task 'rating'): predictRating. */
    readonly rating: Served | null,
    /** The active ranking model (task 'ranking'): recommendations. */
    readonly ranking: Served | null,
    readonly catalogue: Catalogue,
    /** Where the users' states are held (a new, empty cache per snapshot). */
    users: UserStateCache<UserState> = new UserStateCache(),
    /** The model whose neighbours `similarMovies` lists, when it is active (else the other one). */
    readonly similarTask: SimilarModelTask = DEFAULT_SIMILAR_MODEL,
    /** Byte budget of each of the three list caches (ServiceOptions.listCacheBytes). */
    listCacheBytes = DEFAULT_LIST_CACHE_BYTES,
  ) {
    this.users = users;
    this.#popularTops = new ListCache(listCacheBytes);
    this.#similar = new ListCache(listCacheBytes);
    this.#similarOther = new ListCache(listCacheBytes);
    this.recommending = ranking ?? rating;
    this.#popularity = this.#buildPopularity();
  }

  /** Wraps a loaded version for serving (its items mapped onto the catalogue). */
  static serve(version: ModelVersionInfo, model: Recommender, catalogue: Catalogue): Served {
    return { version, model, space: new ItemSpace(catalogue, model.items) };
  }

  /** The version whose model ranks recommendations (what `activeModel` and `Recommendations.modelVersion` show). */
  get version(): ModelVersionInfo | null {
    return this.recommending?.version ?? null;
  }

  /** Every active version, rating first. */
  get versions(): ModelVersionInfo[] {
    return [this.rating, this.ranking].filter((s): s is Served => s !== null).map((s) => s.version);
  }

  /** Names the active versions ("rating:3 ranking:5"); a poll compares it with the database's. */
  get key(): string {
    return activeKey(this.versions);
  }

  /**
   * The model behind `similarMovies`: the one of `similarTask` when it is active (DEFAULT_SIMILAR_MODEL: the ranking
   * model's own neighbours), else the other active one.
   */
  get similarModel(): Served | null {
    return this.similarTask === 'ranking' ? (this.ranking ?? this.rating) : (this.rating ?? this.ranking);
  }

  /** What the three list caches hold together (movierec_cache_bytes{cache="lists"}). */
  get lists(): { bytes: number; entries: number } {
    const all = [this.#popularTops, this.#similar, this.#similarOther];
    return {
      bytes: all.reduce((n, c) => n + c.bytes, 0),
      entries: all.reduce((n, c) => n + c.size, 0),
    };
  }

  /**
   * Takes over the previous snapshot's similar-movie lists of each model that stays active with the same item space
   * (an activation of the rating model keeps the ranking model's lists), so they are neither computed nor allocated
   * again — a list cache's budget of lists of 100 per model, garbage that made the heap peak after each activation.
   */
  keepFrom(previous: Snapshot): void {
    const same = (a: Served | null, b: Served | null) =>
      a !== null && b !== null && a.model === b.model && a.space === b.space;
    const first = this.similarModel;
    const second = first === this.ranking ? this.rating : this.ranking;
    const prevFirst = previous.similarModel;
    const prevSecond = prevFirst === previous.ranking ? previous.rating : previous.ranking;
    if (same(first, prevFirst)) this.#similar = previous.#similar;
    else if (same(first, prevSecond)) this.#similar = previous.#similarOther;
    if (same(second, prevSecond)) this.#similarOther = previous.#similarOther;
    else if (same(second, prevFirst)) this.#similarOther = previous.#similar;
  }

  /** The state of a user with no history in `model` (its fold-in of nothing; for MF the baseline μ + b_i). */
  emptyUser(model: Recommender): ModelUserState {
    let state = this.#emptyUsers.get(model);
    if (state === undefined) this.#emptyUsers.set(model, (state = model.foldIn(EMPTY_HISTORY)));
    return state;
  }

  /**
   * Popularity score per item of the recommending model: the rating model's prediction for a user with no history
   * (for MF μ + b_i, the item-bias baseline, Koren 2008 §2.1), else the movie's damped mean rating
   * (Σr + 25·μ̄)/(n + 25) — for movies with enough ratings to trust it (at least min(20, the count of the 100th
   * most-rated movie)); −∞ otherwise, so they are never listed.
   */
  #buildPopularity(): PopularityModel | null {
    const served = this.recommending;
    if (served === null) return null;
    const { model, space } = served;
    const rows = this.catalogue.rows;
    const counts = new Int32Array(model.numItems);
    for (let i = 0; i < model.numItems; i++) {
      const m = space.movieOf[i]!;
      counts[i] = m >= 0 ? rows.ratingCounts[m]! : 0;
    }
    const sorted = counts.slice().sort().reverse();
    const threshold = Math.max(1, Math.min(20, sorted[Math.min(99, sorted.length - 1)] ?? 1));
    const rater = this.rating?.model;
    const predictor = rater !== undefined && canPredict(rater) ? rater : null;
    const empty = predictor ? this.emptyUser(predictor) : null;
    let total = 0;
    let n = 0;
    for (let m = 0; m < rows.ratingCounts.length; m++) {
      total += rows.ratingSums[m]!;
      n += rows.ratingCounts[m]!;
    }
    const mean = n > 0 ? total / n : 0;
    const scores = new Float32Array(model.numItems);
    for (let i = 0; i < model.numItems; i++) {
      scores[i] = Number.NEGATIVE_INFINITY;
      if (counts[i]! < threshold) continue;
      const m = space.movieOf[i]!;
      const j = predictor ? predictor.items.indexOf(model.items.externalId(i)) : -1;
      scores[i] =
        predictor && j >= 0
          ? predictor.predict(empty!, j)
          : (rows.ratingSums[m]! + 25 * mean) / (rows.ratingCounts[m]! + 25);
    }
    return new PopularityModel({ scores, items: model.items });
  }

  /** The user in one model from their stored interactions: trained state, fold-in, or (no history) the fallback. */
  #modelUser(served: Served, userId: string, stored: StoredHistory): ModelUser {
    const { model } = served;
    // the same rule as the CLI's `recommend` (storedHistory): ratings, plus views valued by viewValue for a ranking
    // model, with their times, so a model that weights recent interactions more (the item-item models) does so for
    // a changed user as it did in training; every rated or viewed movie excluded
    const { history, exclude } = stored;
    const u = model.users.indexOf(userId);
    if (u >= 0 && !this.dirtyUsers.has(userId)) {
      const state = model.userState(u);
      return { history, exclude, state, source: sourceOf(state), foldedIn: 0 };
    }
    if (history.items.length === 0)
      return { history, exclude, state: null, source: 'POPULARITY', foldedIn: 0 };
    // fold-in from the stored interactions, by the model's own method (for MF a ridge solve against fixed Q)
    const state = model.foldIn(history);
    return { history, exclude, state, source: sourceOf(state), foldedIn: history.items.length };
  }

  /**
   * The user's state in every active model at once, from their stored ratings and views (storedHistory): the
   * ranking model reads both (a view valued by viewValue(weight), as in training: readInteractions); the rating
   * model only the ratings — a view is not a rating. Either way a viewed movie, like a rated one, is not
   * recommended back.
   */
  buildUserState(userId: string, stored: UserRatings): UserState {
    const rating = this.rating
      ? this.#modelUser(this.rating, userId, storedHistory(this.rating.model, stored))
      : null;
    const recommending =
      this.ranking !== null
        ? this.#modelUser(this.ranking, userId, storedHistory(this.ranking.model, stored))
        : rating;
    return new UserState(userId, stored.exists, stored.movieIds.length, recommending, rating);
  }

  /**
   * The best MAX_LIMIT movies (items of the recommending model) for a user under the filters: the model's own
   * `recommend`, or the popularity fallback when the model has no state for the user; computed once and cached.
   */
  topFor(state: UserState, excludeRated: boolean, genres: readonly string[] | null): TopItems {
    const served = this.recommending!;
    const user = state.recommending;
    const exclude = user?.exclude ?? NOTHING;
    const key = `${excludeRated ? 1 : 0}|${
      genres === null
        ? ''
        : [...genres]
            .map((g) => g.toLowerCase())
            .sort()
            .join('\u0000')
    }`;
    const fallback = user?.state == null;
    const cacheKey = fallback ? `${key}|${exclude.length > 0 && excludeRated ? state.userId : ''}` : key;
    const hit = fallback ? this.#popularTops.get(cacheKey) : state.tops.get(cacheKey);
    if (hit !== undefined) return hit;
    const query = {
      k: MAX_LIMIT,
      allowed: served.space.itemMask(genres),
      ...(excludeRated && exclude.length > 0 ? { exclude } : {}),
    };
    const top = fallback
      ? this.#popularity!.recommend(this.emptyUser(this.#popularity!), query)
      : served.model.recommend(user!.state!, query);
    if (fallback) return this.#popularTops.set(cacheKey, top);
    if (state.tops.size >= 4096) return top;
    // a user's own lists count against the user cache's budget, with the state they belong to
    const held = packed(top);
    state.tops.set(cacheKey, held);
    this.users.charge(state, cacheKey, held);
    return held;
  }

  /**
   * r̂(u,i) by the rating model for a catalogue movie: the user's state (trained or folded in), else the model's
   * empty user (for MF the baseline μ + b_i). A movie the model does not know gets the user baseline: the mean of
   * the user's ratings on the model's movies, else the mean of every stored rating.
   */
  predict(
    state: UserState,
    movie: number,
    /** Unix seconds for a time-aware model (MFParams.temporal, Koren 2009); default now. */
    at = Date.now() / 1000,
  ): { rating: number; source: RecommendationSource } {
    const served = this.rating!;
    const model = served.model;
    const user = state.rating?.state ?? null;
    const source: RecommendationSource = user === null ? 'POPULARITY' : 'PERSONALIZED';
    const item = served.space.itemOf[movie]!;
    if (item >= 0 && canPredict(model))
      return { rating: model.predict(user ?? this.emptyUser(model), item, at), source };
    const values = state.rating?.history.values ?? new Float32Array(0);
    let sum = 0;
    for (const v of values) sum += v;
    if (values.length > 0) return { rating: sum / values.length, source };
    const rows = this.catalogue.rows;
    let total = 0;
    let n = 0;
    for (let m = 0; m < rows.ratingCounts.length; m++) {
      total += rows.ratingSums[m]!;
      n += rows.ratingCounts[m]!;
    }
    return { rating: n > 0 ? total / n : 0, source };
  }

  /**
   * The MAX_LIMIT movies closest to a catalogue movie by the similarity model, cached per movie. A movie that model
   * cannot place (EASE keeps only movies with enough ratings; a popularity model has no neighbours) is answered by
   * the other active model instead, so a movie one model knows never gets an empty list.
   */
  similar(movie: number): { served: Served; top: TopItems } | null {
    const first = this.similarModel;
    if (first === null) return null;
    const second = first === this.ranking ? this.rating : this.ranking;
    let found: { served: Served; top: TopItems } | null = null;
    for (const served of second === null ? [first] : [first, second]) {
      const item = served.space.itemOf[movie]!;
      if (item < 0) continue;
      const cache = served === first ? this.#similar : this.#similarOther;
      let top = cache.get(item);
      if (top === undefined) {
        top = cache.set(item, served.model.similarItems(item, MAX_LIMIT, served.space.servable));
      }
      found = { served, top };
      if (top.items.length > 0) break;
    }
    return found;
  }

  /** Why an item of the recommending model is recommended: the model's `explain` over the user's history. */
  because(state: UserState, item: number, limit: number): number[] {
    const user = state.recommending;
    if (user === null || user.state === null || user.history.items.length === 0 || limit === 0) return [];
    const why = this.recommending!.model.explain(user.state, user.history, item, limit);
    return Array.from(why.items);
  }
}

/**
 * A model state the model cannot personalise (`fallback: 'popularity'`: none of the user's movies is one it knows,
 * e.g. only movies EASE pruned for having too few ratings) ranks by the model's training popularity: flagged so.
 */
function sourceOf(state: ModelUserState): RecommendationSource {
  return state.fallback === 'popularity' ? 'POPULARITY' : 'PERSONALIZED';
}

/** "rating:3 ranking:5" for the given active versions ('' when none). */
export function activeKey(versions: readonly { id: number; task: string }[]): string {
  return versions
    .map((v) => `${v.task}:${v.id}`)
    .sort()
    .join(' ');
}
