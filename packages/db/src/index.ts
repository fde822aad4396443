export {
  type Database,
  describePostgresUrl,
  type OpenDatabaseOptions,
  openDatabase,
  type TransactionOptions,
} from './connection.ts';
export {
  DatabaseConnectionError,
  DatabaseError,
  ImportError,
  MigrationError,
  ModelVersionNotFoundError,
  SchemaBehindError,
} from './errors.ts';
export {
  type ActivationEvent,
  EVENTS_CHANNEL,
  type EventHandlers,
  type EventListener,
  listenEvents,
  type MovierecEvent,
  parseEvent,
  type RatingEvent,
} from './events.ts';
export type { Prisma, PrismaClient } from './generated/prisma/client.ts';
export { type StoredHistory, storedHistory } from './history.ts';
export {
  type ImportCounts,
  type ImportOptions,
  type ImportProgress,
  type ImportSummary,
  importDataset,
  trimRecycledWal,
} from './import.ts';
export {
  assertMigrated,
  type MigrateResult,
  type MigrationFile,
  type MigrationStatus,
  migrate,
  migrationStatus,
  readMigrations,
} from './migrate.ts';
export {
  activateModelVersion,
  activeModelVersionId,
  activeModelVersionIds,
  failTrainingRun,
  type JsonObject,
  listModelVersions,
  loadActiveMFModel,
  loadActiveModel,
  loadActiveModels,
  loadModelVersion,
  MODEL_TASKS,
  type ModelVersionInfo,
  recordEpoch,
  type SaveModelVersionInput,
  type StoredModel,
  saveModel,
  saveModelVersion,
  startTrainingRun,
  type TrainingRunInfo,
  toMFModel,
  toRecommender,
} from './model-versions.ts';
export { defaultPgliteDir, migrationsDir } from './paths.ts';
export {
  changedUsersSince,
  loadMovieRows,
  loadMovieStats,
  type MovieRows,
  movieCatalogueStamp,
  movieTitles,
  ping,
  type Queryable,
  type RatingPage,
  type RatingRow,
  ratedMovieIds,
  ratingPage,
  type StoredRating,
  type StoredView,
  type TableCounts,
  tableCounts,
  type UserRatings,
  upsertRating,
  upsertView,
  userRatings,
} from './queries.ts';
export {
  type ReadInteractionsOptions,
  type ReadOptions,
  readInteractions,
  readRatings,
  readRatingsAndInteractions,
} from './read.ts';
export type { CopyChunks, SqlSession } from './sql.ts';
