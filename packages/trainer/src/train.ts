import {
  buildRatedIndex,
  clampTime,
  copyParams,
  type EpochRecord,
  MFModel,
  type MFParams,
  type TrainingLog,
  temporalOffset,
} from '@movierec/core';
import { type Dataset, IdMap, type RatingColumns, randomSplit } from '@movierec/data';
import type { Engine, TrainConfig } from './engine.ts';
import { adamEngine } from './engines/adam.ts';
import { alsEngine } from './engines/als.ts';
import { bayesEngine, createBayesEngine } from './engines/bayes.ts';
import { TrainingInputError } from './engines/common.ts';
import { parallelSgdEngine } from './engines/sgd-parallel.ts';
import { mae, rmse } from './metrics.ts';
import { type PresetName, presets } from './presets.ts';

/** Native engines by optimizer; train() picks one from config.optimizer unless given `engine`. */
export const nativeEngines: Record<TrainConfig['optimizer'], Engine> = {
  adam: adamEngine,
  sgd: parallelSgdEngine,
  als: alsEngine,
  bpmf: bayesEngine,
};

/** What train() reports after each epoch. */
export type EpochProgress = EpochRecord;

export interface TrainOptions {
  /** A named preset (default 'default'); `config` fields override it. */
  preset?: PresetName;
  config?: Partial<TrainConfig>;
  /** The engine to run; default the native engine for config.optimizer. */
  engine?: Engine;
  /**
   * Hold out this share of the ratings (seeded by config.seed) to report validation RMSE/MAE each epoch, or give the
   * validation ratings yourself (same dense indices as the input; they are not trained on).
   */
  validation?: { ratio: number } | { ratings: RatingColumns };
  /** Stop when validation RMSE has not improved for `patience` epochs, and restore the best epoch's weights. */
  earlyStopping?: { patience: number };
  /** Called after each epoch; return (or resolve to) 'stop' to end training. */
  onEpoch?: (progress: EpochProgress) => unknown;
  /** Progress within the run, `done` of `total` rating visits (engines that support it; for a progress bar). */
  onProgress?: (progress: { done: number; total: number }) => void;
  signal?: AbortSignal;
  /** One line per decision the engine made about the input (also kept in log.notes). */
  onNote?: (line: string) => void;
  /** Worker threads for the engines that use them (FitOptions.threads; default every core). */
  threads?: number;
  /** Shape when training from bare columns (default: largest index + 1). */
  shape?: { numUsers: number; numItems: number };
}

export interface TrainResult {
  model: MFModel;
  log: TrainingLog;
}

function isDataset(x: Dataset | RatingColumns): x is Dataset {
  return 'ratings' in x && 'users' in x && x.users instanceof IdMap;
}

/** Resolves preset + overrides into a full configuration. */
export function resolveConfig(options: Pick<TrainOptions, 'preset' | 'config'> = {}): TrainConfig {
  const name = options.preset ?? 'default';
  const base = presets[name];
  if (!base)
    throw new TrainingInputError(
      `unknown preset ${JSON.stringify(name)}; use one of ${Object.keys(presets).join(', ')}`,
    );
  return { ...base, ...options.config } as TrainConfig;
}

/**
 * Trains biased MF on a dataset (or bare rating columns): optional validation split with per-epoch validation
 * RMSE/MAE, early stopping that restores the best weights, cancellation through `signal` (rejects with the
 * signal's AbortError). Returns the model (with the dataset's ID maps and the training ratings' rated index) and
 * the training log.
 */
export async function train(
  input: Dataset | RatingColumns,
  options: TrainOptions = {},
): Promise<TrainResult> {
  const config = resolveConfig(options);
  const columns = isDataset(input) ? input.ratings : input;
  if (columns.length === 0) throw new TrainingInputError('train: there are no ratings to train on');
  let users: IdMap;
  let items: IdMap;
  if (isDataset(input)) {
    users = input.users;
    items = input.items;
  } else {
    let mu = 0;
    let mi = 0;
    for (let r = 0; r < columns.length; r++) {
      mu = Math.max(mu, columns.users[r]! + 1);
      mi = Math.max(mi, columns.items[r]! + 1);
    }
    users = IdMap.identity(options.shape?.numUsers ?? mu);
    items = IdMap.identity(options.shape?.numItems ?? mi);
  }
  const shape = { numUsers: users.size, numItems: items.size };
  // The Bayesian engine reads the dataset's movie table (genre/decade prior) when there is one.
  const engine =
    options.engine ??
    (config.optimizer === 'bpmf' && isDataset(input)
      ? createBayesEngine({ movies: input.movies })
      : nativeEngines[config.optimizer]);
  if (!engine) throw new TrainingInputError(`train: unknown optimizer ${JSON.stringify(config.optimizer)}`);

  // validation split: a seeded random share of the rows
  let trainRows = columns;
  let validRows: RatingColumns | undefined;
  const ratio = options.validation && 'ratio' in options.validation ? options.validation.ratio : undefined;
  if (options.validation && 'ratings' in options.validation) {
    if (options.validation.ratings.length === 0)
      throw new TrainingInputError('train: validation.ratings is empty');
    validRows = options.validation.ratings;
  } else if (ratio !== undefined) {
    if (!(ratio > 0 && ratio < 1))
      throw new TrainingInputError(`train: validation.ratio must be in (0, 1), got ${ratio}`);
    const nValid = Math.round(columns.length * ratio);
    if (nValid === 0 || nValid === columns.length)
      throw new TrainingInputError(
        `train: validation.ratio ${ratio} leaves no rows on one side of ${columns.length}`,
      );
    // data's random holdout, seeded apart from the engine's own stream
    const split = randomSplit(columns, { testRatio: ratio, seed: config.seed ^ 0x5eed });
    validRows = split.test;
    trainRows = split.train;
  }
  const patience = options.earlyStopping?.patience;
  if (patience !== undefined) {
    if (!validRows)
      throw new TrainingInputError('train: earlyStopping needs a validation split (validation: { ratio })');
    if (!(Number.isInteger(patience) && patience >= 1))
      throw new TrainingInputError(
        `train: earlyStopping.patience must be a positive integer, got ${patience}`,
      );
  }

  const epochs: EpochRecord[] = [];
  let best: { rmse: number; epoch: number; params: MFParams } | undefined;
  let stoppedEarly = false;
  const predictions = validRows ? new Float32Array(validRows.length) : undefined;
  const notes: string[] = [];
  const params = await engine.fit(trainRows, shape, config, {
    onNote: (line) => {
      notes.push(line);
      options.onNote?.(line);
    },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    onEpoch: async (stats, current) => {
      const record: EpochRecord = { ...stats };
      if (validRows && predictions) {
        predictValidation(current, validRows, predictions);
        const actual = validRows.ratings.subarray(0, validRows.length);
        record.validationRmse = rmse(predictions, actual);
        record.validationMae = mae(predictions, actual);
      }
      epochs.push(record);
      let verdict: undefined | 'stop';
      if (patience !== undefined && record.validationRmse !== undefined) {
        if (!best || record.validationRmse < best.rmse) {
          best = { rmse: record.validationRmse, epoch: stats.epoch, params: copyParams(current) };
        } else if (stats.epoch - best.epoch >= patience) {
          stoppedEarly = true;
          verdict = 'stop';
        }
      }
      const user = await options.onEpoch?.(record);
      return user === 'stop' ? 'stop' : verdict;
    },
  });
  const finalParams = best && best.epoch !== epochs.length ? best.params : copyParams(params);
  const log: TrainingLog = {
    engine: engine.name,
    epochs,
    numRatings: trainRows.length,
    ...(validRows ? { numValidation: validRows.length } : {}),
    ...(best ? { bestEpoch: best.epoch } : {}),
    stoppedEarly,
    ...(notes.length > 0 ? { notes } : {}),
  };
  const model = new MFModel({
    params: finalParams,
    users,
    items,
    config: {
      ...config,
      ...(ratio !== undefined ? { validationRatio: ratio } : {}),
      ...(patience !== undefined ? { earlyStoppingPatience: patience } : {}),
    },
    log,
    rated: buildRatedIndex(columns, shape.numUsers),
  });
  return { model, log };
}

/** r̂ for every validation row from the current parameters (rows outside the shape cannot occur: same IdMaps). */
function predictValidation(p: MFParams, valid: RatingColumns, out: Float32Array): void {
  const { factors: k, userFactors: P, itemFactors: Q, userBias: bu, itemBias: bi, globalMean: mu } = p;
  for (let r = 0; r < valid.length; r++) {
    const u = valid.users[r]!;
    const i = valid.items[r]!;
    let dot = 0;
    for (let f = 0; f < k; f++) dot += P[u * k + f]! * Q[i * k + f]!;
    // time-aware terms at the validation rating's time (Koren 2009), when the engine fitted them
    const tp = p.temporal;
    const t = valid.timestamps[r]!;
    if (tp) dot += temporalOffset(tp, u, i, t > 0 ? clampTime(tp, t) : tp.trainEnd);
    out[r] = mu + bu[u]! + bi[i]! + dot;
  }
}
