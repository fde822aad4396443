import { readFileSync } from 'node:fs';
import {
  type Dataset,
  describeInteractions,
  INTERACTIONS_SYNTAX,
  type InteractionOptions,
  parseInteractions,
  toInteractions,
} from '@movierec/data';
import {
  ALL_RANKING_FAMILIES,
  type AnyRankingConfig,
  parseRankingPreset,
  RANKING_PRESETS,
  type RankingReport,
  rankingPreset,
  type TrainedRankingModel,
  trainRanking,
} from '@movierec/trainer';
import { withDb } from './db.ts';
import {
  type CommandInput,
  type Context,
  type OptionSpec,
  stringFlag,
  type Values,
} from './framework/command.ts';
import { CliError, UsageError } from './framework/errors.ts';
import { table } from './framework/table.ts';
import { loadRatings } from './sources.ts';

export const TASKS = ['rating', 'ranking'] as const;
export type Task = (typeof TASKS)[number];

export const TASK_OPTION: Record<string, OptionSpec> = {
  task: {
    type: 'string',
    valueName: TASKS.join('|'),
    description:
      'rating: the rating model (predicts r̂); ranking: a top-N model (EASE, item-kNN, iALS, BPR, NCF: GMF/MLP/NeuMF)',
    defaultText: 'rating',
  },
};

export function taskFlag(values: Values): Task {
  const v = stringFlag(values, 'task') ?? 'rating';
  if (!(TASKS as readonly string[]).includes(v))
    throw new UsageError(`--task: expected one of ${TASKS.join(', ')}, got '${v}'`);
  return v as Task;
}

/** --interactions: how ratings become the interactions a ranking model trains on (@movierec/data toInteractions). */
export const INTERACTIONS_OPTION: Record<string, OptionSpec> = {
  interactions: {
    type: 'string',
    valueName: INTERACTIONS_SYNTAX,
    description:
      "--task ranking: which ratings are interactions — all, or those ≥ a rating ('>=4') — valued by their rating " +
      '(weighted) or 1 (binary); views (watch history) keep their weight, or 1 with binary',
    defaultText: 'all,weighted',
  },
};

/** The --interactions value (undefined when absent); a malformed one is a usage error. */
export function interactionsFlag(values: Values): InteractionOptions | undefined {
  const text = stringFlag(values, 'interactions');
  if (text === undefined) return undefined;
  try {
    return parseInteractions(text);
  } catch (error) {
    throw new UsageError(`--interactions: ${(error as Error).message}`);
  }
}

/**
 * The interactions a ranking command trains on: the dataset argument (ratings or watch history) or, with --from-db,
 * the database's ratings and views (readInteractions), turned into interactions as --interactions says.
 */
export async function loadRankingData(ctx: Context, input: CommandInput): Promise<Dataset> {
  const { values } = input;
  const options = interactionsFlag(values);
  if (values['from-db'] && input.args['path|name'] !== undefined)
    throw new UsageError('give either a dataset or --from-db, not both');
  let dataset: Dataset;
  if (values['from-db']) dataset = await withDb(ctx, (db) => db.readInteractions(options));
  else {
    const loaded = await loadRatings(ctx, input.args['path|name'], values);
    try {
      // always: watch history's weights become viewValue(weight), as readInteractions and the API value views
      dataset = toInteractions(loaded, options ?? {});
    } catch (error) {
      throw new CliError((error as Error).message);
    }
  }
  if (options !== undefined)
    ctx.log(
      `interactions ${describeInteractions(options)}: ${dataset.ratings.length} of ${dataset.name}` +
        `${dataset.kind === 'views' ? ' (implicit: every held-out interaction is relevant)' : ''}`,
    );
  if (dataset.ratings.length === 0)
    throw new CliError(
      `${dataset.name}: no interactions left${options === undefined ? '' : ` after --interactions ${describeInteractions(options)}`}`,
    );
  return dataset;
}

export interface RankingChoice {
  /** The preset name or the file it came from. */
  source: string;
  config: AnyRankingConfig;
}

/**
 * The ranking configuration named by --preset: a preset of RANKING_PRESETS (default, ease, item-knn, ials, bpr, gmf,
 * mlp, neumf) or a
 * JSON file written by `movierec tune --out` (or by hand: { "task": "ranking", "model": { "family": … } }).
 */
export function rankingChoice(ctx: Context, values: Values): RankingChoice {
  const preset = stringFlag(values, 'preset') ?? 'default';
  const named = rankingPreset(preset);
  if (named) return { source: preset, config: structuredClone(named) as AnyRankingConfig };
  if (!/[./\\]/.test(preset))
    throw new UsageError(
      `--preset: '${preset}' is neither a ranking preset (${Object.keys(RANKING_PRESETS).join(', ')}) nor a file path`,
    );
  const path = ctx.resolvePath(preset);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`--preset ${preset}: cannot read ${path} (${(error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--preset ${path}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return { source: path, config: parseRankingPreset(json, path) };
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** One-line description of a ranking configuration. */
export function describeRanking(config: AnyRankingConfig): string {
  const { family, ...rest } = config;
  return `${family} ${JSON.stringify(rest)}`;
}

/**
 * Fits a ranking model with a progress bar; returns it and the seconds it took. `threads`: worker threads for the
 * families that use them (trainRanking's default: every core).
 */
export async function trainRankingModel(
  ctx: Context,
  dataset: Pick<Dataset, 'ratings' | 'users' | 'items'>,
  config: AnyRankingConfig,
  label = `train ${config.family}`,
  { threads }: { threads?: number } = {},
): Promise<{ model: TrainedRankingModel; seconds: number }> {
  if (!(ALL_RANKING_FAMILIES as readonly string[]).includes(config.family))
    throw new CliError(`unknown ranking model family '${config.family}'`);
  const bar = ctx.progress(label, 'steps');
  const started = performance.now();
  try {
    // let the bar draw (and a Ctrl-C land) before the CPU-bound fit
    await new Promise((resolve) => setImmediate(resolve));
    // the NCF family trains in TF.js layers (async, epoch by epoch); the others fit natively
    const model = await trainRanking(dataset, config, {
      onProgress: bar.onProgress,
      onMessage: (m) => bar.interrupt(() => ctx.log(m)),
      signal: ctx.signal,
      ...(threads === undefined ? {} : { threads }),
    });
    const seconds = (performance.now() - started) / 1000;
    bar.finish(`${seconds.toFixed(1)} s`);
    return { model, seconds };
  } catch (error) {
    bar.abort();
    throw error;
  }
}

/** The ranking metrics as the JSON output and model versions name them: 'ndcg@10', 'recall@10', … */
export function rankingMetricNames(r: RankingReport): Record<string, number> {
  const k = r.k;
  const out: Record<string, number> = {
    [`precision@${k}`]: r.precision,
    [`recall@${k}`]: r.recall,
    [`ndcg@${k}`]: r.ndcg,
    [`map@${k}`]: r.map,
    [`hitRate@${k}`]: r.hitRate,
  };
  if (Number.isFinite(r.coverage)) out[`coverage@${k}`] = r.coverage;
  if (Number.isFinite(r.novelty)) out.novelty = r.novelty;
  return out;
}

/** The ranking table: one row per model. */
export function rankingTable(rows: { name: string; r: RankingReport; seconds?: number }[]): string {
  const k = rows[0]?.r.k ?? 10;
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(4) : null);
  return table(
    ['model', `P@${k}`, `R@${k}`, `NDCG@${k}`, `MAP@${k}`, `HR@${k}`, 'coverage', 'novelty', 'train s'],
    rows.map(({ name, r, seconds }) => [
      name,
      f(r.precision),
      f(r.recall),
      f(r.ndcg),
      f(r.map),
      f(r.hitRate),
      f(r.coverage),
      Number.isFinite(r.novelty) ? r.novelty.toFixed(2) : null,
      seconds === undefined ? null : seconds.toFixed(1),
    ]),
  );
}
