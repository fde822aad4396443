export {
  type Authenticator,
  type AuthMode,
  type AuthOptions,
  authOptionsFromEnv,
  createAuthenticator,
  type Identity,
  isLoopbackHost,
  mintToken,
} from './auth/tokens.ts';
export {
  isPoolWorker,
  POOL_AUTH_ENV,
  poolWorkerAuth,
  reportFailed,
  reportListening,
  startWorkerPool,
  type WorkerPool,
  WorkerStartError,
} from './cluster.ts';
export { createLogger, type Logger, type LogLevel } from './logger.ts';
export { runFromEnv } from './run.ts';
export {
  DEFAULT_SIMILAR_MODEL,
  type SimilarModelTask,
  similarModelFromEnv,
} from './serving/snapshot.ts';
export { type RunningServer, type ServerOptions, startServer } from './start.ts';
export type { ActiveModel, ApiStore, ModelVersionInfo } from './store.ts';
