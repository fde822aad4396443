import { createHash } from 'node:crypto';
import os from 'node:os';
import type { Dataset } from '@movierec/data';
import {
  ENGINES,
  type Engine,
  type EngineName,
  type Evaluation,
  engineDefaults,
  type PresetName,
  presets,
  resolveConfig,
  type TrainConfig,
  tfjsEngine,
} from '@movierec/trainer';
import { choiceFlag, intFlag, numberFlag, type OptionSpec, type Values } from './framework/command.ts';

/** Hyper-parameter flags shared by train, evaluate and main; each overrides the preset's value. */
export const TRAINING_OPTIONS: Record<string, OptionSpec> = {
  preset: {
    type: 'string',
    valueName: 'reference|default|temporal',
    description:
      "starting configuration: the reference notebook's, ours, or ours with the time-aware day bias (Koren 2009)",
    defaultText: 'default',
  },
  engine: {
    type: 'string',
    valueName: ENGINES.join('|'),
    description: 'training engine (bpmf: Bayesian MF by Gibbs sampling; tfjs: TensorFlow.js layers, Adam)',
    defaultText: 'the preset’s optimizer',
  },
  epochs: {
    type: 'string',
    valueName: 'n',
    description: 'passes over the training ratings',
    defaultText: 'the preset’s; an --engine other than the preset’s optimizer brings its own',
  },
  'batch-size': { type: 'string', valueName: 'n', description: 'ratings per minibatch (adam, tfjs)' },
  'learning-rate': { type: 'string', valueName: 'x', description: 'step size (adam, sgd, tfjs)' },
  factors: { type: 'string', valueName: 'n', description: 'latent factors per user and movie' },
  l2: { type: 'string', valueName: 'λ', description: 'L2 regularisation weight on the factors' },
  seed: { type: 'string', valueName: 'n', description: 'random seed (initialisation, shuffles, splits)' },
  threads: {
    type: 'string',
    valueName: 'n',
    description:
      'worker threads for training (sgd, als, bpmf; --task ranking: ials, ease); results are deterministic for a seed at a given count',
    defaultText: 'every core',
  },
};

export interface TrainingChoice {
  preset: PresetName;
  /** The engine's defaults (engineDefaults) and the flags (the preset supplies the rest). */
  overrides: Partial<TrainConfig>;
  /** The resolved configuration (preset + overrides). */
  config: TrainConfig;
  engineName: EngineName;
  /** Set for tfjs; native engines follow config.optimizer. */
  engine: Engine | undefined;
  /** --threads (≥ 1), default every core (os.availableParallelism()). */
  threads: number;
}

export function trainingChoice(values: Values, defaults: Partial<TrainConfig> = {}): TrainingChoice {
  const preset = choiceFlag(values, 'preset', Object.keys(presets) as PresetName[]) ?? 'default';
  const engineName = choiceFlag(values, 'engine', ENGINES);
  const overrides: Partial<TrainConfig> = {
    ...(engineName === undefined ? {} : engineDefaults(engineName, preset)),
    ...defaults,
  };
  const set = <K extends keyof TrainConfig>(key: K, value: TrainConfig[K] | undefined) => {
    if (value !== undefined) overrides[key] = value;
  };
  set('epochs', intFlag(values, 'epochs', 1));
  set('batchSize', intFlag(values, 'batch-size', 1));
  set('learningRate', numberFlag(values, 'learning-rate', { min: 0, exclusiveMin: true }));
  set('factors', intFlag(values, 'factors', 1));
  set('l2', numberFlag(values, 'l2', { min: 0 }));
  set('seed', intFlag(values, 'seed', 0));
  if (engineName === 'tfjs') overrides.optimizer = 'adam';
  else if (engineName !== undefined) overrides.optimizer = engineName;
  const config = resolveConfig({ preset, config: overrides });
  return {
    preset,
    overrides,
    config,
    engineName: engineName ?? config.optimizer,
    engine: engineName === 'tfjs' ? tfjsEngine : undefined,
    threads: intFlag(values, 'threads', 1) ?? os.availableParallelism(),
  };
}

/** The warning for more threads than cores (allowed: they share the cores), or undefined. */
export function threadsWarning(threads: number): string | undefined {
  const cores = os.availableParallelism();
  return threads > cores
    ? `warning: --threads ${threads} is more than the ${cores} cores available; the threads will share them`
    : undefined;
}

/** Identifies the training data: SHA-256 over the rating columns and the ID maps (first 16 hex digits). */
export function datasetFingerprint(dataset: Dataset): string {
  const hash = createHash('sha256');
  const { ratings: c } = dataset;
  const bytes = (a: Int32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, c.length * 4);
  hash.update(`${c.length}\n`);
  hash.update(bytes(c.users));
  hash.update(bytes(c.items));
  hash.update(bytes(c.ratings));
  hash.update(dataset.users.ids().join('\n'));
  hash.update('\n\n');
  hash.update(dataset.items.ids().join('\n'));
  return `sha256:${hash.digest('hex').slice(0, 16)}`;
}

/** Metric names as the JSON output and the model versions carry them: 'precision@10', … */
export function rankingKeys(k: number) {
  return { precision: `precision@${k}`, recall: `recall@${k}`, ndcg: `ndcg@${k}`, map: `map@${k}` } as const;
}

/** An Evaluation as flat named metrics: rmse, mae, precision@k, recall@k, ndcg@k, map@k, hitRate@k, coverage@k. */
export function namedMetrics(e: Evaluation): Record<string, number> {
  const out: Record<string, number> = { rmse: e.rmse, mae: e.mae };
  if (e.ranking) {
    const k = e.ranking.k;
    out[`precision@${k}`] = e.ranking.precision;
    out[`recall@${k}`] = e.ranking.recall;
    out[`ndcg@${k}`] = e.ranking.ndcg;
    out[`map@${k}`] = e.ranking.map;
    out[`hitRate@${k}`] = e.ranking.hitRate;
    out[`coverage@${k}`] = e.ranking.coverage;
  }
  return out;
}
