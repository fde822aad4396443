/** Opens the API's store on @movierec/db (PostgreSQL or the embedded PGlite). */
import { hasMetrics } from '@movierec/core';
import {
  activeModelVersionId,
  type Database,
  type ModelVersionInfo as DbModelVersion,
  listenEvents,
  listModelVersions,
  loadActiveMFModel,
  openDatabase,
} from '@movierec/db';
import { type SqlClient, SqlStore } from './sql-store.ts';
import type { ApiStore, ModelVersionInfo } from './store.ts';

/** The part of @movierec/db's Database the API uses. */
export type DatabaseLike = Database;

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** @movierec/db's version record → the shape of the GraphQL ModelVersion type. */
export function toVersionInfo(v: DbModelVersion): ModelVersionInfo {
  return {
    id: String(v.id),
    engine: v.engine,
    active: v.active,
    createdAt: v.createdAt.toISOString(),
    factors: v.factors,
    numUsers: v.numUsers,
    numMovies: v.numMovies,
    config: JSON.stringify(v.config ?? {}),
    metrics: hasMetrics(v.metrics) ? v.metrics : null,
    trainingRun:
      v.trainingRun === null
        ? null
        : {
            id: String(v.trainingRun.id),
            epochs: (v.trainingRun.epochs ?? []).map((e) => ({
              epoch: e.epoch,
              loss: e.loss,
              validationRmse: num(e.validationRmse),
              validationMae: num(e.validationMae),
              seconds: num(e.seconds),
            })),
          },
  };
}

/** A store on an open Database; `owned` decides whether close() closes it. */
export function storeOn(db: Database, owned: boolean): ApiStore {
  const sql: SqlClient = db;
  const store = new SqlStore(
    sql,
    {
      async activeModelVersionId() {
        const id = await activeModelVersionId(db);
        return id === null ? null : String(id);
      },
      async loadActiveModel() {
        const loaded = await loadActiveMFModel(db);
        return loaded === null ? null : { model: loaded.model, version: toVersionInfo(loaded.version) };
      },
      async listModelVersions() {
        return (await listModelVersions(db)).map(toVersionInfo);
      },
    },
    owned ? () => db.close() : async () => {},
    db.kind === 'postgres',
  );
  // several processes share a PostgreSQL: changes are pushed to each by LISTEN/NOTIFY (the poll stays the fallback)
  const url = db.url;
  if (db.kind === 'postgres' && url !== undefined) store.listen = (handlers) => listenEvents(url, handlers);
  const poolStats = db.poolStats;
  if (poolStats !== undefined) store.poolStats = () => poolStats();
  return store;
}

export async function openStore(options: {
  db?: Database;
  url?: string;
  dataDir?: string;
}): Promise<ApiStore> {
  if (options.db !== undefined) return storeOn(options.db, false);
  const db = await openDatabase({
    ...(options.url !== undefined ? { url: options.url } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
  });
  return storeOn(db, true);
}
