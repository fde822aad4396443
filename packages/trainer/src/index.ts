export {
  type BaselineOptions,
  biasBaselineModel,
  globalMeanModel,
  popularityOrder,
  popularityRanker,
} from './baselines.ts';
export { blendParams, compressParams, PosteriorMean } from './blend.ts';
export {
  type CrossValidateOptions,
  type CrossValidation,
  crossValidate,
  flattenEvaluation,
} from './cross-validate.ts';
export type { BayesSettings, Engine, EpochStats, FitOptions, TrainConfig } from './engine.ts';
export { adamEngine, createAdamEngine } from './engines/adam.ts';
export { alsEngine } from './engines/als.ts';
export { bayesEngine, createBayesEngine, popularityRankBias } from './engines/bayes.ts';
export { movieFeatures } from './engines/bpmf/feature-prior.ts';
export {
  type BpmfConfig,
  type BpmfResult,
  type BpmfSample,
  bpmfToParams,
  fitBpmf,
} from './engines/bpmf/gibbs.ts';
export { BPR_DEFAULTS, type BprConfig, fitBpr } from './engines/bpr.ts';
export { DivergenceError, fillInitialFactors, TrainingInputError } from './engines/common.ts';
export {
  checkWeighting,
  EASE_DEFAULTS,
  type EaseConfig,
  easeWeights,
  easeWeightsReference,
  fitEase,
  type RankingFitOptions,
  trainEase,
} from './engines/ease.ts';
export { fitIals, IALS_DEFAULTS, type IalsConfig, trainIals } from './engines/ials.ts';
export { fitItemKnn, ITEM_KNN_DEFAULTS, type ItemKnnConfig } from './engines/item-knn.ts';
export {
  epochInstances,
  NCF_DEFAULTS,
  type NcfConfig,
  type NcfData,
  type NcfEpoch,
  type NcfLog,
  type NcfResult,
  type NcfTrainOptions,
  neumfFromPretrained,
  type Positives,
  positivesOf,
  resolveNcfConfig,
  trainNcf,
} from './engines/ncf.ts';
export { createSgdEngine, sgdEngine, sgdPass } from './engines/sgd.ts';
export {
  createParallelSgdEngine,
  defaultThreads,
  type ParallelSgdOptions,
  parallelSgdEngine,
} from './engines/sgd-parallel.ts';
export { createTfjsEngine, type TfjsEngine, type TfjsEngineOptions, tfjsEngine } from './engines/tfjs.ts';
export { type NativeEngineOptions, wasmAvailable } from './engines/wasm.ts';
export {
  type EvaluateOptions,
  type Evaluation,
  evaluate,
  evaluationMetrics,
  modelRanker,
  type RatingAccuracy,
  relevantItems,
} from './evaluate.ts';
export {
  mae,
  type Ranker,
  type RankingMetrics,
  rankingMetrics,
  rankUser,
  rmse,
  type UserRanking,
} from './metrics.ts';
export {
  DEFAULT_BAYES,
  ENGINES,
  type EngineName,
  engineDefaults,
  type PresetName,
  presets,
  TUNED_SGD,
} from './presets.ts';
export {
  evaluateRanking,
  heldOutRelevant,
  NoRelevantItemsError,
  RANKING_PROTOCOLS,
  type RankingEvalOptions,
  type RankingProtocol,
  type RankingReport,
  rankingSplit,
} from './ranking/evaluate.ts';
export {
  ALL_RANKING_FAMILIES,
  type AnyRankingConfig,
  type AnyRankingFamily,
  fitRanking,
  type NcfRankingConfig,
  RANKING_FAMILIES,
  type RankingConfig,
  type RankingFamily,
  type TrainedRankingModel,
  trainRanking,
} from './ranking/families.ts';
export {
  type InteractionData,
  popularityModel,
  relevantThresholdFor,
} from './ranking/interactions.ts';
export {
  parseRankingPreset,
  RANKING_DEFAULTS,
  RANKING_PRESETS,
  type RankingPresetName,
  rankingPreset,
} from './ranking/presets.ts';
export {
  checkSearchSpace,
  DEFAULT_SPACES,
  type ParamRange,
  parseSearchSpace,
  type SearchSpace,
  SearchSpaceError,
  type Trial,
  type TuneMetric,
  type TuneOptions,
  type TuneResult,
  tuneRanking,
} from './ranking/tune.ts';
export {
  type EpochProgress,
  nativeEngines,
  resolveConfig,
  type TrainOptions,
  type TrainResult,
  train,
} from './train.ts';
