export { deserializeModel, MODEL_FORMAT_VERSION, serializeModel } from './artifact.ts';
export { CosineIndex, inverseRowNorms } from './cosine.ts';
export { Float64Arena } from './dense.ts';
export { ModelFormatError, UnknownItemError, UnknownUserError } from './errors.ts';
export {
  choleskyBackSolveInPlace,
  choleskyInPlace,
  choleskyInverse,
  choleskySolveInPlace,
  lowRankProduct,
  orthonormaliseColumns,
  solveBiasedRidge,
  symmetricEigen,
} from './linalg.ts';
export { LowRankProducts } from './lowrank.ts';
export { hasMetrics, METRIC_NAMES, type Metrics, readMetrics } from './metrics.ts';
export {
  type EpochRecord,
  type FoldInOptions,
  MFModel,
  type MFModelInit,
  type MFUserState,
  type TrainingLog,
} from './model.ts';
export {
  deserializeRankingModel,
  RANKING_MAGIC,
  type RankingModel,
  serializeRankingModel,
} from './models/codec.ts';
// all of models/common.ts is public: the CSR type and the history helpers (buildHistoryCsr, checkHistory, csrRow,
// HistoryWeighting, historyWeights, NO_WEIGHTING)
export * from './models/common.ts';
export {
  type Confidence,
  confidence,
  FactorModel,
  type FactorModelInit,
  type FactorUserState,
} from './models/factor.ts';
export {
  ItemItemModel,
  type ItemItemModelInit,
  type ItemItemUserState,
  type ItemWeights,
  UNSCORED,
} from './models/item-item.ts';
export {
  checkNcfParams,
  deserializeNcf,
  NCF_FORMAT,
  NCF_FORMAT_VERSION,
  type NcfFoldInOptions,
  type NcfKind,
  NcfModel,
  type NcfModelInit,
  type NcfParams,
  type NcfUserState,
  serializeNcf,
} from './models/ncf.ts';
export { allocParams, copyParams, type MFParams, type UserVector } from './params.ts';
export { PopularityModel, popularityFamily } from './popularity.ts';
export { buildRatedIndex, type RatedIndex, ratedItems } from './rated-index.ts';
export {
  canPredict,
  type ModelTask,
  type Recommender,
  type RecommendQuery,
  type TopItems,
  type UserHistory,
  type UserState,
} from './recommender.ts';
export {
  deserializeRecommender,
  loadRecommender,
  type ModelFamily,
  modelFamilies,
  modelFamily,
  registerModelClass,
  registerModelFamily,
  saveRecommender,
  serializeRecommender,
} from './registry.ts';
export { DotScorer } from './score.ts';
export {
  checkTemporal,
  clampTime,
  driftDeviation,
  type TemporalLayout,
  type TemporalParams,
  temporalLayout,
  temporalOffset,
  timeBin,
} from './temporal.ts';
export { ascending, TopK, topK } from './top-k.ts';
export { compileWasm, type Gemm, type GemmOperands, type WasmModule, wasm } from './wasm.ts';
