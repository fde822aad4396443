/** The API's store on @movierec/db (PostgreSQL or the embedded PGlite): every query is the db package's. */
import {
  activeModelVersionIds,
  changedUsersSince,
  type Database,
  listenEvents,
  listModelVersions,
  loadActiveModels,
  loadMovieRows,
  loadMovieStats,
  movieCatalogueStamp,
  openDatabase,
  ping,
  ratingPage,
  upsertRating,
  upsertView,
  userRatings,
} from '@movierec/db';
import { activeKey } from './serving/snapshot.ts';
import type { ApiStore } from './store.ts';

/** The part of @movierec/db's Database the API uses. */
export type DatabaseLike = Database;

/** A store on an open Database; `owned` decides whether close() closes it. */
export function storeOn(db: Database, owned: boolean): ApiStore {
  const store: ApiStore = {
    shared: db.kind === 'postgres',
    async activeModelsKey() {
      const ids = await activeModelVersionIds(db);
      return activeKey(Object.entries(ids).map(([task, id]) => ({ task, id: id! })));
    },
    loadActiveModels: (loaded) => loadActiveModels(db, loaded),
    listModelVersions: () => listModelVersions(db),
    loadMovies: () => loadMovieRows(db),
    movieStamp: () => movieCatalogueStamp(db),
    movieStats: () => loadMovieStats(db),
    userRatings: (userId) => userRatings(db, userId),
    ratingPage: (userId, first, after) => ratingPage(db, userId, first, after),
    upsertRating: (userId, movieId, rating) => upsertRating(db, userId, movieId, rating),
    upsertView: (userId, movieId, weight) => upsertView(db, userId, movieId, weight),
    changedUsersSince: (since) => changedUsersSince(db, since),
    ping: () => ping(db),
    close: owned ? () => db.close() : async () => {},
  };
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
