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
  kFoldAssignment,
} from './cross-validate.ts';
export type { BayesSettings, Engine, EpochStats, FitOptions, TrainConfig } from './engine.ts';
export {
  ADAM_BETA1,
  ADAM_BETA2,
  ADAM_EPSILON,
  accumulateBatchGradient,
  adamDenseStep,
  adamEngine,
  createAdamEngine,
} from './engines/adam.ts';
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
export { DivergenceError, TrainingInputError } from './engines/common.ts';
export { createSgdEngine, sgdEngine, sgdPass } from './engines/sgd.ts';
export { createTfjsEngine, type TfjsEngine, type TfjsEngineOptions, tfjsEngine } from './engines/tfjs.ts';
export { type NativeEngineOptions, wasmAvailable } from './engines/wasm.ts';
export {
  type EvaluateOptions,
  type Evaluation,
  evaluate,
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
} from './presets.ts';
export { fillInitialFactors, Random } from './random.ts';
export {
  type EpochProgress,
  nativeEngines,
  resolveConfig,
  type TrainOptions,
  type TrainResult,
  train,
} from './train.ts';
