import type { ModelTask, Recommender } from '@movierec/core';
import type { Dataset, InteractionOptions } from '@movierec/data';
// @movierec/db (Prisma, PGlite, pg) loads on first use, so commands without a database start fast.
import type * as Store from '@movierec/db';
import type { Context } from './framework/command.ts';
import { CliError } from './framework/errors.ts';
import { dataDir } from './paths.ts';

export interface DbStatus {
  migrations: Store.MigrationStatus;
  counts?: Store.TableCounts;
}

/** What the CLI needs from the database: @movierec/db calls with the CLI's progress bars and Ctrl-C signal. */
export interface CliDb {
  readonly location: string;
  readonly raw: Store.Database;
  /** The @movierec/db module (loaded with the connection). */
  readonly store: typeof Store;
  migrate(): Promise<Store.MigrateResult>;
  status(): Promise<DbStatus>;
  importDataset(dataset: Dataset): Promise<Store.ImportSummary>;
  readRatings(): Promise<Dataset>;
  /** What the ranking models train on: ratings as `interactions` says, plus the views of unrated movies. */
  readInteractions(interactions?: InteractionOptions): Promise<Dataset>;
  /** readRatings and readInteractions() in one read (one snapshot): for the main job, which trains on both. */
  readRatingsAndInteractions(): Promise<{ ratings: Dataset; interactions: Dataset }>;
  /** A stored version as the Recommender of its family. */
  loadVersion(id: string): Promise<Recommender>;
  /** The active version of the first task in `prefer` that has one (default: the rating model, else the ranking one). */
  loadActive(prefer?: readonly ModelTask[]): Promise<{ id: string; model: Recommender }>;
  /**
   * What `model` reads of a user's stored ratings and views, and the movies they rated or viewed (left out of
   * recommendations): @movierec/db's storedHistory, the rule the API folds users in by.
   */
  storedHistory(model: Recommender, userId: string): Promise<Store.StoredHistory & { exists: boolean }>;
  movieTitles(): Promise<Map<string, string>>;
  close(): Promise<void>;
}

/** Opens DATABASE_URL's PostgreSQL, else the embedded PGlite in MOVIEREC_DATA_DIR (or the default folder). */
export async function openCliDb(ctx: Context): Promise<CliDb> {
  const dir = dataDir(ctx);
  const store = await import('@movierec/db');
  const db = await store.openDatabase({ env: ctx.env, ...(dir === undefined ? {} : { dataDir: dir }) });
  /** A read of the whole database behind a progress bar (`summary`: its closing words), stopped by Ctrl-C. */
  const read = async <T>(
    label: string,
    unit: string,
    run: (options: Store.ReadOptions) => Promise<T>,
    summary: (result: T) => string | undefined = () => undefined,
  ): Promise<T> => {
    await store.assertMigrated(db);
    const bar = ctx.progress(label, unit);
    try {
      const result = await run({ onProgress: bar.onProgress, signal: ctx.signal });
      bar.finish(summary(result));
      return result;
    } catch (error) {
      bar.abort();
      throw error;
    }
  };
  const noRatings = () =>
    new CliError(`${db.location} holds no ratings: import some first ('movierec import')`);
  return {
    location: db.location,
    raw: db,
    store,
    migrate: () => store.migrate(db),
    async status() {
      const migrations = await store.migrationStatus(db);
      if (migrations.applied.length === 0) return { migrations };
      return { migrations, counts: await store.tableCounts(db) };
    },
    async importDataset(dataset) {
      await store.assertMigrated(db);
      const bars = new Map<string, ReturnType<Context['progress']>>();
      try {
        const summary = await store.importDataset(db, dataset, {
          signal: ctx.signal,
          onProgress: ({ phase, done, total }) => {
            let bar = bars.get(phase);
            if (!bar) {
              for (const other of bars.values()) other.finish();
              bar = ctx.progress(`import ${phase}`, phase === 'merge' ? 'steps' : 'rows');
              bars.set(phase, bar);
            }
            bar.update({ done, total });
          },
        });
        for (const bar of bars.values()) bar.finish();
        return summary;
      } catch (error) {
        for (const bar of bars.values()) bar.abort();
        throw error;
      }
    },
    async readRatings() {
      const dataset = await read('read ratings from the database', 'ratings', (options) =>
        store.readRatings(db, options),
      );
      if (dataset.ratings.length === 0) throw noRatings();
      return dataset;
    },
    async readInteractions(interactions) {
      const dataset = await read(
        'read ratings and views from the database',
        'rows',
        (options) =>
          store.readInteractions(db, { ...options, ...(interactions === undefined ? {} : { interactions }) }),
        (d) => `${d.counts.ratings} ratings, ${d.counts.views} views`,
      );
      if (dataset.counts.ratings + dataset.counts.views === 0 && interactions === undefined) {
        throw new CliError(`${db.location} holds no ratings or views: import some first ('movierec import')`);
      }
      return dataset;
    },
    async readRatingsAndInteractions() {
      const both = await read(
        'read ratings and views from the database',
        'rows',
        (options) => store.readRatingsAndInteractions(db, options),
        ({ interactions: { counts } }) => `${counts.ratings} ratings, ${counts.views} views`,
      );
      if (both.ratings.ratings.length === 0) throw noRatings();
      return both;
    },
    async loadVersion(id) {
      await store.assertMigrated(db);
      return store.toRecommender(await store.loadModelVersion(db, id));
    },
    async loadActive(prefer = ['rating', 'ranking']) {
      await store.assertMigrated(db);
      const ids = await store.activeModelVersionIds(db);
      const task = prefer.find((t) => ids[t] !== undefined);
      if (task === undefined) {
        throw new CliError(
          `${db.location} has no active ${prefer.join(' or ')} model version: train one ('movierec train --activate'), ` +
            `activate one ('movierec models activate <id>'), or pass --model <id|file>`,
        );
      }
      const stored = await store.loadModelVersion(db, ids[task]!);
      return { id: String(stored.version.id), model: store.toRecommender(stored) };
    },
    async storedHistory(model, userId) {
      const stored = await store.userRatings(db, userId);
      return { ...store.storedHistory(model, stored), exists: stored.exists };
    },
    movieTitles: () => store.movieTitles(db),
    close: () => db.close(),
  };
}

/** Opens the database for one call and closes it afterwards. */
export async function withDb<T>(ctx: Context, fn: (db: CliDb) => Promise<T>): Promise<T> {
  const db = await openCliDb(ctx);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}
