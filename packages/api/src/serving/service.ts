/**
 * The recommender as the API serves it: the active model versions in memory (one per task, polled, swapped on
 * activation), per-user state loaded once from the database, fold-in into every active model on rating, and a
 * change feed so several API processes serving one database agree about who rated what.
 */
import { databaseUnavailable, modelNotReady } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { ApiStore, StoredRating } from '../store.ts';
import { Catalogue } from './catalogue.ts';
import { type Served, Snapshot, type UserState } from './snapshot.ts';

export interface ServiceOptions {
  /** How often to poll for a newly activated model version and for other processes' ratings (ms). */
  pollMs?: number;
  /** Most user states held in memory per model version. */
  maxUsers?: number;
}

export class RecommenderService {
  readonly store: ApiStore;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #maxUsers: number;
  #snapshot: Snapshot | null = null;
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;
  #watermark: string | null = null;
  #dbReachable = false;
  #stopped = false;
  /** Bumped whenever anything cached may have changed (a new snapshot); response-cache entries compare it. */
  epoch = 0;

  constructor(store: ApiStore, log: Logger, options: ServiceOptions = {}) {
    this.store = store;
    this.#log = log;
    this.#pollMs = options.pollMs ?? 2000;
    this.#maxUsers = options.maxUsers ?? 200_000;
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
    this.#timer = setInterval(() => void this.poll(), this.#pollMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    await this.#polling;
  }

  /** One poll: reload the model when another version became active, then apply the rating change feed. */
  poll(): Promise<void> {
    if (this.#polling !== null) return this.#polling;
    this.#polling = this.#pollOnce().finally(() => {
      this.#polling = null;
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
    // the change-feed watermark is taken before reading, so ratings written during the load are seen next poll
    const feedStart = await this.store.changedUsersSince(null);
    const loaded = await this.store.loadActiveModels();
    const movies = await this.store.loadMovies();
    const catalogue = new Catalogue(movies);
    const served = (task: string): Served | null => {
      const found = loaded.find((l) => l.version.task === task);
      return found ? Snapshot.serve(found.version, found.model, catalogue) : null;
    };
    const snapshot = new Snapshot(served('rating'), served('ranking'), catalogue, this.#maxUsers);
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
    });
  }

  async #applyChangeFeed(snapshot: Snapshot): Promise<void> {
    const feed = await this.store.changedUsersSince(this.#watermark);
    this.#watermark = feed.watermark;
    for (const userId of feed.users) {
      snapshot.dirtyUsers.add(userId);
      snapshot.forget(userId);
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
    if (hit !== undefined) return hit;
    let pending = snapshot.pending.get(userId);
    if (pending === undefined) {
      pending = this.#db(() => this.store.userRatings(userId))
        .then((stored) => {
          const state = snapshot.buildUserState(userId, stored);
          // only keep it when no rating arrived while loading (the pending entry is dropped on rating)
          if (snapshot.pending.get(userId) === pending) snapshot.remember(state);
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
    snapshot.forget(userId);
    snapshot.pending.delete(userId);
    const state = await this.userState(snapshot, userId);
    return { stored, state, snapshot };
  }

  /** Runs a database call, turning a failure into DATABASE_UNAVAILABLE and tracking reachability. */
  async #db<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const out = await fn();
      this.#dbReachable = true;
      return out;
    } catch (err) {
      if (isGraphQLError(err)) throw err;
      this.#dbReachable = false;
      this.#log.error({ msg: 'database call failed', err: String(err) });
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
