/**
 * The recommender as the API serves it: the active model versions in memory (one per task, polled, swapped on
 * activation), per-user state loaded once from the database, fold-in into every active model on rating, and a
 * change feed so several API processes serving one database agree about who rated what.
 */
import type { Recommender } from '@movierec/core';
import type { EventListener, MovierecEvent } from '@movierec/db';
import { databaseUnavailable, modelNotReady } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ApiStore, StoredRating, StoredView } from '../store.ts';
import { Catalogue } from './catalogue.ts';
import { DEFAULT_LIST_CACHE_BYTES } from './list-cache.ts';
import {
  DEFAULT_SIMILAR_MODEL,
  type Served,
  type SimilarModelTask,
  Snapshot,
  type UserState,
} from './snapshot.ts';
import { DEFAULT_MAX_USERS, DEFAULT_USER_CACHE_BYTES, UserStateCache } from './user-cache.ts';

export interface ServiceOptions {
  /** How often to poll for a newly activated model version and for other processes' ratings (ms). */
  pollMs?: number;
  /** Most user states held in memory per model version (default DEFAULT_MAX_USERS, 200,000). */
  maxUsers?: number;
  /**
   * Byte budget of the user states held per model version (default DEFAULT_USER_CACHE_BYTES, 16 MiB): histories,
   * model states and cached top-N lists, least recently stored out first.
   */
  userCacheBytes?: number;
  /**
   * Byte budget of each of a snapshot's three caches of shared top-N lists — similar movies by each active model,
   * the popularity fallback's lists (default DEFAULT_LIST_CACHE_BYTES, 4 MiB), least recently used out first.
   */
  listCacheBytes?: number;
  /**
   * While pushed events arrive (LISTEN/NOTIFY on a shared PostgreSQL), the poll only runs as a safety net this often
   * (ms, default 30000); when the listening connection is lost it runs every pollMs again.
   */
  safetyPollMs?: number;
  /** Called with each pushed event's lag (ms from the database trigger to this process applying it). */
  onEventLag?: (kind: MovierecEvent['type'], ms: number) => void;
  /** Told what the service does (metrics). */
  observer?: ServiceObserver;
  /** Listen for pushed events where the store offers them (default true; false: poll only, as before). */
  pushedEvents?: boolean;
  /** Which active model answers similarMovies (default DEFAULT_SIMILAR_MODEL; the other one when it is not active). */
  similarModel?: SimilarModelTask;
}

/** What the service reports as it works (the HTTP layer's Prometheus metrics implement it). */
export interface ServiceObserver {
  foldIn(): void;
  modelLoaded(version: string | null, seconds: number): void;
  dbCall(seconds: number, ok: boolean): void;
  cache(cache: 'user', hit: boolean): void;
  eventLag(kind: MovierecEvent['type'], ms: number): void;
  listening(on: boolean): void;
}

export class RecommenderService {
  readonly store: ApiStore;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #maxUsers: number;
  readonly #userCacheBytes: number;
  readonly #listCacheBytes: number;
  #snapshot: Snapshot | null = null;
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #pollAgain = false;
  #lastPoll = 0;
  readonly #safetyPollMs: number;
  #events: EventListener | null = null;
  #invalidLogged = false;
  readonly #onEventLag: ServiceOptions['onEventLag'];
  readonly #observer: ServiceObserver | undefined;
  readonly #pushedEvents: boolean;
  readonly #similarModel: SimilarModelTask;
  #watermark: string | null = null;
  #dbReachable = false;
  /** Database calls failed since the last one that succeeded (the first is logged, the count when they recover). */
  #failedCalls = 0;
  #stopped = false;
  /** Bumped whenever anything cached may have changed (a new snapshot); response-cache entries compare it. */
  epoch = 0;

  constructor(store: ApiStore, log: Logger, options: ServiceOptions = {}) {
    this.store = store;
    this.#log = log;
    this.#pollMs = options.pollMs ?? 2000;
    this.#maxUsers = options.maxUsers ?? DEFAULT_MAX_USERS;
    this.#userCacheBytes = options.userCacheBytes ?? DEFAULT_USER_CACHE_BYTES;
    this.#listCacheBytes = options.listCacheBytes ?? DEFAULT_LIST_CACHE_BYTES;
    this.#safetyPollMs = options.safetyPollMs ?? 30_000;
    this.#onEventLag = options.onEventLag;
    this.#observer = options.observer;
    this.#pushedEvents = options.pushedEvents ?? true;
    this.#similarModel = options.similarModel ?? DEFAULT_SIMILAR_MODEL;
  }

  /** Whether pushed events are arriving (the poll is then only a safety net). */
  get listening(): boolean {
    return this.#events?.listening ?? false;
  }

  get snapshot(): Snapshot | null {
    return this.#snapshot;
  }

  get ready(): { modelLoaded: boolean; databaseReachable: boolean; modelVersion: string | null } {
    const version = this.#snapshot?.version;
    return {
      modelLoaded: this.#snapshot?.recommending != null,
      databaseReachable: this.#dbReachable,
      modelVersion: version == null ? null : String(version.id),
    };
  }

  /** Loads the active model (if any) and starts polling; never throws for an unreachable database. */
  async start(): Promise<void> {
    await this.poll();
    this.#timer = setInterval(() => {
      // with events arriving, poll only as a safety net; without them (lost connection, PGlite) every pollMs
      if (this.listening && performance.now() - this.#lastPoll < this.#safetyPollMs) return;
      void this.poll();
    }, this.#pollMs);
    this.#timer.unref();
    if (this.#pushedEvents && this.store.listen !== undefined) {
      this.#events = await this.store.listen({
        onEvent: (event) => this.#onEvent(event),
        onState: (listening) => {
          this.#observer?.listening(listening);
          this.#log.info({ msg: listening ? 'listening for pushed events' : 'pushed events lost: polling' });
          // (re)connected: catch up on whatever happened while not listening
          if (listening) this.requestPoll();
        },
        onInvalid: (payload) => {
          if (this.#invalidLogged) return;
          this.#invalidLogged = true;
          this.#log.warn({
            msg: 'ignored a NOTIFY payload that is not ours (logged once)',
            payload: payload.slice(0, 200),
          });
        },
        onError: (err) => this.#log.debug({ msg: 'event connection', err: String(err.message ?? err) }),
      });
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#events?.close();
    this.#events = null;
    await this.#polling;
  }

  /** A pushed event: apply it through the same path as the poll (activation check, then the change feed). */
  #onEvent(event: MovierecEvent): void {
    const lag = this.#onEventLag;
    const observer = this.#observer;
    const applied = this.requestPoll();
    // lag: the database trigger's clock to now, after the poll that applies it (same host clock for a local DB)
    if (lag !== undefined || observer !== undefined)
      applied.then(
        () => {
          const ms = Math.max(0, Date.now() - event.at);
          lag?.(event.type, ms);
          observer?.eventLag(event.type, ms);
        },
        () => {},
      );
  }

  /** Polls now, or once more right after the poll in flight (an event may have committed after its queries). */
  requestPoll(): Promise<void> {
    if (this.#polling === null) return this.poll();
    this.#pollAgain = true;
    return this.#polling.then(() => this.#polling ?? undefined);
  }

  /** One poll: reload the model when another version became active, then apply the rating change feed. */
  poll(): Promise<void> {
    if (this.#polling !== null) return this.#polling;
    this.#lastPoll = performance.now();
    this.#polling = this.#pollOnce().finally(() => {
      this.#polling = null;
      if (this.#pollAgain && !this.#stopped) {
        this.#pollAgain = false;
        void this.poll();
      }
    });
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    if (this.#stopped) return;
    try {
      const activeKey = await this.store.activeModelsKey();
      const current = this.#snapshot;
      if (current === null || current.key !== activeKey) await this.#load();
      else if (this.store.shared) await this.#applyChangeFeed(current);
      if (!this.#dbReachable) this.#log.info({ msg: 'database reachable' });
      this.#dbReachable = true;
    } catch (err) {
      if (this.#dbReachable || this.#snapshot === null) {
        this.#log.error({ msg: 'poll failed: database unreachable?', err: String(err) });
      }
      this.#dbReachable = false;
    }
  }

  async #load(): Promise<void> {
    const started = performance.now();
    // how long each synchronous step held the event loop (ms), logged with 'model loaded'
    const steps: Record<string, number> = {};
    const step = <T>(name: string, work: () => T): T => {
      const t0 = performance.now();
      const out = work();
      steps[name] = Math.round((performance.now() - t0) * 10) / 10;
      return out;
    };
    // each step in its own turn of the event loop: requests keep being answered while a new version loads
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    // the change-feed watermark is taken before reading, so ratings written during the load are seen next poll
    const feedStart = await this.store.changedUsersSince(null);
    // the models of the current snapshot that stay active are reused, not read and built again
    const held = new Map<number, Recommender>();
    for (const s of [this.#snapshot?.rating, this.#snapshot?.ranking])
      if (s != null) held.set(s.version.id, s.model);
    const loaded = await this.store.loadActiveModels(held);
    // unchanged movies (the usual activation: the database's stamp of their metadata is the catalogue's) keep the
    // catalogue (movie views, genre masks) and the item spaces of the models that stay active, and only their
    // statistics are read again; otherwise every movie row is read and the catalogue built anew
    const previous = this.#snapshot;
    const stamp = (await this.store.movieStamp?.()) ?? null;
    let catalogue: Catalogue | null = null;
    if (previous !== null && stamp !== null && previous.catalogue.stamp === stamp && this.store.movieStats) {
      const stats = await this.store.movieStats();
      if (stats.ratingCounts.length === previous.catalogue.size) {
        catalogue = previous.catalogue;
        step('refresh stats', () => previous.catalogue.refreshStats(stats));
      }
    }
    const kept = catalogue !== null;
    if (catalogue === null) {
      const movies = await this.store.loadMovies();
      await turn();
      catalogue = step('catalogue', () => new Catalogue(movies, stamp));
    }
    const current = catalogue;
    const served: Partial<Record<'rating' | 'ranking', Served | null>> = {};
    for (const task of ['rating', 'ranking'] as const) {
      const found = loaded.find((l) => l.version.task === task);
      const same = kept
        ? [previous?.rating, previous?.ranking].find((s) => s?.model === found?.model)
        : undefined;
      if (found === undefined) served[task] = null;
      else if (same != null) served[task] = { version: found.version, model: found.model, space: same.space };
      else {
        await turn();
        served[task] = step(`${task} items`, () => Snapshot.serve(found.version, found.model, current));
      }
    }
    await turn();
    const snapshot = step(
      'snapshot',
      () =>
        new Snapshot(
          served.rating ?? null,
          served.ranking ?? null,
          current,
          new UserStateCache<UserState>(this.#userCacheBytes, this.#maxUsers),
          this.#similarModel,
          this.#listCacheBytes,
        ),
    );
    if (kept && previous !== null) snapshot.keepFrom(previous);
    if (loaded.length > 0) {
      // users who rated after the oldest active model was trained are served by fold-in from their stored ratings
      const oldest = loaded.reduce((a, b) => (a.version.createdAt <= b.version.createdAt ? a : b));
      const changed = await this.store.changedUsersSince(oldest.version.createdAt.toISOString());
      for (const u of changed.users) snapshot.dirtyUsers.add(u);
    }
    this.#watermark = feedStart.watermark;
    this.#snapshot = snapshot;
    this.epoch++;
    this.#log.info({
      msg: 'model loaded',
      modelVersion: snapshot.version?.id ?? null,
      models: loaded.map((l) => ({
        id: l.version.id,
        task: l.version.task,
        family: l.model.family,
        items: l.model.numItems,
      })),
      movies: catalogue.size,
      ms: Math.round(performance.now() - started),
      steps,
    });
    const servingId = snapshot.version?.id;
    this.#observer?.modelLoaded(
      servingId === undefined ? null : String(servingId),
      (performance.now() - started) / 1000,
    );
  }

  async #applyChangeFeed(snapshot: Snapshot): Promise<void> {
    const feed = await this.store.changedUsersSince(this.#watermark);
    this.#watermark = feed.watermark;
    for (const userId of feed.users) {
      snapshot.dirtyUsers.add(userId);
      snapshot.users.forget(userId);
    }
  }

  /** The current snapshot, or MODEL_NOT_READY when nothing is loaded (or with requireModel, no model is active). */
  current(requireModel = true): Snapshot {
    const s = this.#snapshot;
    if (s === null || (requireModel && s.recommending === null)) throw modelNotReady();
    return s;
  }

  /** A user's state, loading their ratings once per model version (concurrent requests share one load). */
  async userState(snapshot: Snapshot, userId: string): Promise<UserState> {
    const hit = snapshot.users.get(userId);
    this.#observer?.cache('user', hit !== undefined);
    if (hit !== undefined) return hit;
    let pending = snapshot.pending.get(userId);
    if (pending === undefined) {
      pending = this.#db(() => this.store.userRatings(userId))
        .then((stored) => {
          const state = snapshot.buildUserState(userId, stored);
          if (state.foldedIn > 0) this.#observer?.foldIn();
          // only keep it when no rating arrived while loading (the pending entry is dropped on rating)
          if (snapshot.pending.get(userId) === pending) snapshot.users.remember(state);
          return state;
        })
        .finally(() => {
          if (snapshot.pending.get(userId) === pending) snapshot.pending.delete(userId);
        });
      snapshot.pending.set(userId, pending);
    }
    return pending;
  }

  /** Stores a rating, updates the catalogue statistics and folds the user into every active model again. */
  async rate(
    userId: string,
    movieIndex: number,
    rating: number,
  ): Promise<{ stored: StoredRating; state: UserState; snapshot: Snapshot }> {
    const snapshot = this.current(false);
    const movieId = snapshot.catalogue.rows.externalIds[movieIndex]!;
    const stored = await this.#db(() => this.store.upsertRating(userId, movieId, rating));
    snapshot.catalogue.applyRating(movieIndex, rating, stored.previous);
    snapshot.dirtyUsers.add(userId);
    snapshot.users.forget(userId);
    snapshot.pending.delete(userId);
    const state = await this.userState(snapshot, userId);
    return { stored, state, snapshot };
  }

  /**
   * Stores a view (watch history) and folds the user into every active model again at once, as `rate` does: the
   * ranking model reads views beside ratings (the rating model predicts ratings and reads ratings only). The
   * database marks the user changed (last_rated_at), so the other replicas hear of it by NOTIFY or the poll.
   */
  async view(
    userId: string,
    movieIndex: number,
    weight: number,
  ): Promise<{ stored: StoredView; state: UserState; snapshot: Snapshot }> {
    const snapshot = this.current(false);
    const movieId = snapshot.catalogue.rows.externalIds[movieIndex]!;
    const stored = await this.#db(() => this.store.upsertView(userId, movieId, weight));
    snapshot.dirtyUsers.add(userId);
    snapshot.users.forget(userId);
    snapshot.pending.delete(userId);
    const state = await this.userState(snapshot, userId);
    return { stored, state, snapshot };
  }

  /** Runs a database call, turning a failure into DATABASE_UNAVAILABLE and tracking reachability. */
  async #db<T>(fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const out = await fn();
      this.#dbReachable = true;
      if (this.#failedCalls > 0) {
        this.#log.info({ msg: 'database calls succeed again', failedCalls: this.#failedCalls });
        this.#failedCalls = 0;
      }
      this.#observer?.dbCall((performance.now() - started) / 1000, true);
      return out;
    } catch (err) {
      if (isGraphQLError(err)) throw err;
      this.#observer?.dbCall((performance.now() - started) / 1000, false);
      this.#dbReachable = false;
      // one error line per outage, not one per request (a 10 s outage under load wrote 1,600 identical lines); the
      // count of failed calls is logged when calls succeed again, and every failure counts in
      // movierec_db_call_duration_seconds{outcome="error"}
      if (this.#failedCalls++ === 0) this.#log.error({ msg: 'database call failed', err: String(err) });
      throw databaseUnavailable(err);
    }
  }

  /** Public wrapper of #db for resolvers. */
  db<T>(fn: () => Promise<T>): Promise<T> {
    return this.#db(fn);
  }
}

function isGraphQLError(err: unknown): boolean {
  return err instanceof Error && err.name === 'GraphQLError';
}
