import { Rng } from '@movierec/data';
import { evaluateRanking, type RankingEvalOptions, type RankingReport, rankingSplit } from './evaluate.ts';
import { fitRanking, RANKING_FAMILIES, type RankingConfig, type RankingFamily } from './families.ts';
import { type InteractionData, relevantThresholdFor } from './interactions.ts';
import { RANKING_DEFAULTS } from './presets.ts';

/**
 * Random search over a ranking model's hyper-parameters (Bergstra & Bengio, "Random search for hyper-parameter
 * optimization", JMLR 2012) on a validation split carved from the data it is given — callers pass the TRAINING part
 * only: each user's latest 20% of it (the temporal protocol) is the validation set, the rest fits every trial.
 */
export type ParamRange =
  | { min: number; max: number; scale?: 'linear' | 'log'; integer?: boolean }
  | { values: readonly (number | string)[] };

/** Keys are config paths ('lambda', 'weighting.recencyTau'). */
export type SearchSpace = Record<string, ParamRange>;

/** Each family's default search space (what `movierec tune` searches without --space). */
export const DEFAULT_SPACES: Record<RankingFamily, SearchSpace> = {
  ease: {
    lambda: { min: 50, max: 2000, scale: 'log' },
    'weighting.recencyTau': { min: 5, max: 200, scale: 'log' },
    'weighting.lowWeight': { min: 0, max: 1 },
  },
  'item-knn': {
    neighbours: { min: 10, max: 400, scale: 'log', integer: true },
    shrinkage: { min: 0, max: 100 },
    'weighting.recencyTau': { min: 5, max: 200, scale: 'log' },
    'weighting.lowWeight': { min: 0, max: 1 },
  },
  ials: {
    factors: { values: [32, 64, 128] },
    l2: { min: 0.1, max: 100, scale: 'log' },
    'confidence.alpha': { min: 0.1, max: 40, scale: 'log' },
  },
  bpr: {
    factors: { values: [32, 64, 128] },
    learningRate: { min: 0.005, max: 0.2, scale: 'log' },
    l2: { min: 0.0001, max: 0.05, scale: 'log' },
    epochs: { min: 10, max: 150, scale: 'log', integer: true },
  },
};

export type TuneMetric = 'ndcg' | 'recall' | 'precision' | 'map' | 'hitRate';

export interface TuneOptions {
  family: RankingFamily;
  /** Fields every trial starts from (default: the family's defaults). */
  base?: Partial<RankingConfig>;
  space?: SearchSpace;
  trials?: number;
  seed?: number;
  metric?: TuneMetric;
  k?: number;
  onTrial?: (trial: Trial, done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface Trial {
  index: number;
  params: Record<string, number | string>;
  config: RankingConfig;
  score: number;
  metrics: RankingReport;
  seconds: number;
}

export interface TuneResult {
  family: RankingFamily;
  metric: TuneMetric;
  /** Trials best first (the leaderboard). */
  leaderboard: Trial[];
  best: Trial;
  validation: { train: number; heldOut: number; users: number };
}

/** A clear error for a search space that cannot be searched. */
export class SearchSpaceError extends RangeError {
  override readonly name = 'SearchSpaceError';
}

/** Checks a space against a family: non-empty, every range ordered and known to the family. */
export function checkSearchSpace(family: RankingFamily, space: SearchSpace): void {
  const entries = Object.entries(space);
  if (entries.length === 0)
    throw new SearchSpaceError(
      `tune: the search space for ${family} is empty; give at least one range, e.g. --space lambda=100:1000:log`,
    );
  const defaults = RANKING_DEFAULTS[family];
  for (const [path, range] of entries) {
    let ref: unknown = defaults;
    for (const part of path.split('.')) ref = (ref as Record<string, unknown> | undefined)?.[part];
    if (ref === undefined || (typeof ref === 'object' && ref !== null))
      throw new SearchSpaceError(`tune: ${family} has no hyper-parameter ${JSON.stringify(path)}`);
    if ('values' in range) {
      if (range.values.length === 0) throw new SearchSpaceError(`tune: ${path} has an empty list of values`);
      continue;
    }
    const { min, max } = range;
    if (!(Number.isFinite(min) && Number.isFinite(max)))
      throw new SearchSpaceError(`tune: ${path}'s range ${min}:${max} is not two finite numbers`);
    if (min > max)
      throw new SearchSpaceError(
        `tune: ${path}'s range ${min}:${max} is inverted (min > max); write it as ${max}:${min}`,
      );
    if (range.scale === 'log' && !(min > 0))
      throw new SearchSpaceError(`tune: ${path}'s log-scale range needs min > 0, got ${min}`);
    if (range.integer && Math.ceil(min) > Math.floor(max))
      throw new SearchSpaceError(`tune: ${path}'s integer range ${min}:${max} holds no integer`);
  }
}

/** Parses "lambda=100:1000:log,weighting.lowWeight=0:1,factors=32|64|128" into a SearchSpace. */
export function parseSearchSpace(text: string): SearchSpace {
  const space: SearchSpace = {};
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new SearchSpaceError(`tune: --space entry ${JSON.stringify(part)} is not name=min:max`);
    const name = part.slice(0, eq).trim();
    const spec = part.slice(eq + 1).trim();
    if (spec.includes('|')) {
      space[name] = {
        values: spec
          .split('|')
          .filter(Boolean)
          .map((v) => (Number.isFinite(Number(v)) ? Number(v) : v)),
      };
      continue;
    }
    const [lo, hi, ...flags] = spec.split(':');
    const min = Number(lo);
    const max = Number(hi);
    if (
      lo === undefined ||
      hi === undefined ||
      lo === '' ||
      hi === '' ||
      Number.isNaN(min) ||
      Number.isNaN(max)
    )
      throw new SearchSpaceError(`tune: --space ${name}=${spec}: expected min:max[:log][:int]`);
    const unknown = flags.filter((f) => f !== 'log' && f !== 'int');
    if (unknown.length > 0) throw new SearchSpaceError(`tune: --space ${name}: unknown flag ${unknown[0]}`);
    space[name] = {
      min,
      max,
      scale: flags.includes('log') ? 'log' : 'linear',
      integer: flags.includes('int'),
    };
  }
  return space;
}

function sample(range: ParamRange, rng: Rng): number | string {
  if ('values' in range) return range.values[rng.int(range.values.length)]!;
  const u = rng.uniform();
  let v =
    range.scale === 'log'
      ? Math.exp(Math.log(range.min) + u * (Math.log(range.max) - Math.log(range.min)))
      : range.min + u * (range.max - range.min);
  if (range.integer) v = Math.min(Math.floor(range.max), Math.max(Math.ceil(range.min), Math.round(v)));
  else v = Number(v.toPrecision(4));
  return v;
}

function withParam(config: Record<string, unknown>, path: string, value: number | string): void {
  const parts = path.split('.');
  let obj = config;
  for (const p of parts.slice(0, -1)) {
    obj[p] = { ...((obj[p] as Record<string, unknown>) ?? {}) };
    obj = obj[p] as Record<string, unknown>;
  }
  obj[parts.at(-1)!] = value;
}

/** Random search: `trials` configurations (the first is `base` itself), each fitted and scored on validation. */
export async function tuneRanking(data: InteractionData, options: TuneOptions): Promise<TuneResult> {
  const { family } = options;
  if (!(RANKING_FAMILIES as readonly string[]).includes(family))
    throw new RangeError(
      `tune: unknown model family ${JSON.stringify(family)}; one of ${RANKING_FAMILIES.join(', ')}`,
    );
  const space = options.space ?? DEFAULT_SPACES[family];
  checkSearchSpace(family, space);
  const trials = options.trials ?? 20;
  if (!(Number.isInteger(trials) && trials >= 1))
    throw new RangeError(`tune: trials must be an integer ≥ 1, got ${trials}`);
  const metric = options.metric ?? 'ndcg';
  const k = options.k ?? 10;
  const split = rankingSplit(data.ratings, 'temporal');
  const inner = { ...data, ratings: split.train };
  const evalOptions: RankingEvalOptions = {
    protocol: 'temporal',
    k,
    dataName: 'the validation split',
    relevantThreshold: relevantThresholdFor(data),
  };
  const rng = new Rng(options.seed ?? 42);
  const leaderboard: Trial[] = [];
  let users = 0;
  for (let t = 0; t < trials; t++) {
    const config: Record<string, unknown> = structuredClone({ ...(options.base ?? {}), family });
    const params: Record<string, number | string> = {};
    // trial 0 is the base configuration itself, so tuning never reports worse than where it started
    for (const [path, range] of Object.entries(space)) {
      const v = sample(range, rng);
      if (t > 0) {
        params[path] = v;
        withParam(config, path, v);
      }
    }
    const started = performance.now();
    const model = fitRanking(
      inner,
      config as RankingConfig,
      options.signal ? { signal: options.signal } : {},
    );
    const metrics = evaluateRanking(model, split.train, split.test, evalOptions);
    users = metrics.users;
    const trial: Trial = {
      index: t,
      params,
      config: config as RankingConfig,
      score: metrics[metric],
      metrics,
      seconds: (performance.now() - started) / 1000,
    };
    leaderboard.push(trial);
    options.onTrial?.(trial, t + 1, trials);
    // let a Ctrl-C or a progress redraw in between trials
    await new Promise((resolve) => setImmediate(resolve));
    options.signal?.throwIfAborted();
  }
  leaderboard.sort((a, b) => b.score - a.score || a.index - b.index);
  return {
    family,
    metric,
    leaderboard,
    best: leaderboard[0]!,
    validation: { train: split.train.length, heldOut: split.test.length, users },
  };
}
