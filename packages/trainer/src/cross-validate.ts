import { type Dataset, IdMap, kFold, type RatingColumns } from '@movierec/data';
import type { Engine, TrainConfig } from './engine.ts';
import { type EvaluateOptions, type Evaluation, evaluate } from './evaluate.ts';
import type { PresetName } from './presets.ts';
import { train } from './train.ts';

export interface CrossValidateOptions extends EvaluateOptions {
  /** Number of folds, default 5. */
  folds?: number;
  /** Seed of the fold assignment, default 42. */
  seed?: number;
  preset?: PresetName;
  config?: Partial<TrainConfig>;
  engine?: Engine;
  /** Called after each fold with its flattened metrics. */
  onFold?: (fold: number, metrics: Record<string, number>) => void;
  signal?: AbortSignal;
}

export interface CrossValidation {
  folds: number;
  /** Flattened metrics per fold, e.g. { rmse, mae, 'ranking.ndcg', 'baselines.biases.rmse', … }. */
  perFold: Record<string, number>[];
  mean: Record<string, number>;
  /** Population standard deviation over folds (as Surprise's cross_validate reports). */
  std: Record<string, number>;
}

/** Nested evaluation → flat `{ 'a.b': number }`. */
export function flattenEvaluation(e: Evaluation): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (prefix: string, value: unknown) => {
    if (typeof value === 'number') out[prefix] = value;
    else if (value && typeof value === 'object')
      for (const [key, v] of Object.entries(value)) walk(prefix ? `${prefix}.${key}` : key, v);
  };
  walk('', e);
  return out;
}

/**
 * k-fold cross-validation (random, seeded): for each fold, train on the other folds with the given preset/config
 * and evaluate on it (rating accuracy, ranking, baselines); returns mean ± std per metric and the per-fold values.
 */
export async function crossValidate(
  input: Dataset | RatingColumns,
  options: CrossValidateOptions = {},
): Promise<CrossValidation> {
  const { folds = 5, seed = 42 } = options;
  const columns =
    'users' in input && input.users instanceof IdMap ? (input as Dataset).ratings : (input as RatingColumns);
  if (!(Number.isInteger(folds) && folds >= 2))
    throw new RangeError(`crossValidate: folds must be an integer ≥ 2, got ${folds}`);
  if (columns.length < folds)
    throw new RangeError(`crossValidate: ${columns.length} ratings cannot be split into ${folds} folds`);
  const splits = kFold(columns, { k: folds, seed });
  const perFold: Record<string, number>[] = [];
  for (let f = 0; f < folds; f++) {
    options.signal?.throwIfAborted();
    const { train: trainCols, test } = splits[f]!;
    const trainInput: Dataset | RatingColumns =
      input === columns ? trainCols : { ...(input as Dataset), ratings: trainCols };
    const { model } = await train(trainInput, {
      ...(options.preset ? { preset: options.preset } : {}),
      ...(options.config ? { config: options.config } : {}),
      ...(options.engine ? { engine: options.engine } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(input === columns ? { shape: shapeOf(columns) } : {}),
    });
    const metrics = flattenEvaluation(evaluate(model, test, trainCols, options));
    perFold.push(metrics);
    options.onFold?.(f, metrics);
  }
  const mean: Record<string, number> = {};
  const std: Record<string, number> = {};
  for (const key of Object.keys(perFold[0]!)) {
    const values = perFold.map((m) => m[key] ?? Number.NaN);
    const m = values.reduce((a, b) => a + b, 0) / values.length;
    mean[key] = m;
    std[key] = Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
  }
  return { folds, perFold, mean, std };
}

function shapeOf(columns: RatingColumns): { numUsers: number; numItems: number } {
  let numUsers = 0;
  let numItems = 0;
  for (let r = 0; r < columns.length; r++) {
    numUsers = Math.max(numUsers, columns.users[r]! + 1);
    numItems = Math.max(numItems, columns.items[r]! + 1);
  }
  return { numUsers, numItems };
}
