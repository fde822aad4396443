import type { MFModel } from '@movierec/core';
import type { Dataset } from '@movierec/data';
// @movierec/db (Prisma, PGlite, pg) loads on first use, so commands without a database start fast.
import type * as Store from '@movierec/db';
import type { Context } from './framework/command.ts';
import { CliError } from './framework/errors.ts';
import { dataDir } from './paths.ts';

export interface DbStatus {
  migrations: Store.MigrationStatus;
  counts?: { users: number; movies: number; ratings: number; modelVersions: number };
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
  loadVersion(id: string): Promise<MFModel>;
  loadActive(): Promise<{ id: string; model: MFModel }>;
  /** Dense item indices of the movies a user rated (stored ratings), for leaving them out of recommendations. */
  ratedItems(model: MFModel, userId: string): Promise<Int32Array>;
  movieTitles(): Promise<Map<string, string>>;
  close(): Promise<void>;
}

/** Opens DATABASE_URL's PostgreSQL, else the embedded PGlite in MOVIEREC_DATA_DIR (or the default folder). */
export async function openCliDb(ctx: Context): Promise<CliDb> {
  const dir = dataDir(ctx);
  const store = await import('@movierec/db');
  const db = await store.openDatabase({ env: ctx.env, ...(dir === undefined ? {} : { dataDir: dir }) });
  return {
    location: db.location,
    raw: db,
    store,
    migrate: () => store.migrate(db),
    async status() {
      const migrations = await store.migrationStatus(db);
      if (migrations.applied.length === 0) return { migrations };
      const [row] = await db.query<{
        users: number;
        movies: number;
        ratings: number;
        model_versions: number;
      }>(
        `SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM movies) AS movies,
                (SELECT count(*)::int FROM ratings) AS ratings,
                (SELECT count(*)::int FROM model_versions) AS model_versions`,
      );
      return {
        migrations,
        counts: {
          users: row?.users ?? 0,
          movies: row?.movies ?? 0,
          ratings: row?.ratings ?? 0,
          modelVersions: row?.model_versions ?? 0,
        },
      };
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
      await store.assertMigrated(db);
      const bar = ctx.progress('read ratings from the database', 'ratings');
      try {
        const dataset = await store.readRatings(db, { onProgress: bar.onProgress, signal: ctx.signal });
        bar.finish();
        if (dataset.ratings.length === 0) {
          throw new CliError(`${db.location} holds no ratings: import some first ('movierec import')`);
        }
        return dataset;
      } catch (error) {
        bar.abort();
        throw error;
      }
    },
    async loadVersion(id) {
      await store.assertMigrated(db);
      return store.toMFModel(await store.loadModelVersion(db, id));
    },
    async loadActive() {
      await store.assertMigrated(db);
      const loaded = await store.loadActiveMFModel(db);
      if (!loaded) {
        throw new CliError(
          `${db.location} has no active model version: train one ('movierec train --activate'), activate one ` +
            `('movierec models activate <id>'), or pass --model <id|file>`,
        );
      }
      return { id: String(loaded.version.id), model: loaded.model };
    },
    async ratedItems(model, userId) {
      const rows = await db.query<{ external_id: string }>(
        'SELECT m.external_id FROM ratings r JOIN users u ON u.id = r.user_id JOIN movies m ON m.id = r.movie_id WHERE u.external_id = $1',
        [userId],
      );
      const items: number[] = [];
      for (const row of rows) {
        const i = model.items.indexOf(row.external_id);
        if (i >= 0) items.push(i);
      }
      return Int32Array.from(items);
    },
    async movieTitles() {
      const rows = await db.query<{ external_id: string; title: string }>(
        'SELECT external_id, title FROM movies',
      );
      return new Map(rows.map((r) => [r.external_id, r.title]));
    },
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
