import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkScale,
  DATASET_NAMES,
  type Dataset,
  type LoadOptions,
  loadBundled,
  loadDataset,
  type RatingScale,
} from '@movierec/data';
import { type Context, choiceFlag, type OptionSpec, stringFlag, type Values } from './framework/command.ts';
import { CliError, UsageError } from './framework/errors.ts';
import { cacheDir } from './paths.ts';

/**
 * What a dataset argument names: an existing file or folder (relative to where the user ran the command), the
 * bundled dataset, or a downloaded one. Anything else is one clear error, before any reading starts.
 */
export function resolveDatasetArg(ctx: Context, value: string): string {
  const path = ctx.resolvePath(value);
  if (existsSync(path)) return path;
  if (value === 'bundled' || value === 'ml-latest-small') return value;
  if ((DATASET_NAMES as readonly string[]).includes(value)) {
    const cached = join(cacheDir(ctx), `${value}.zip`);
    if (existsSync(cached)) return cached;
    throw new CliError(
      `dataset '${value}' is not downloaded: run 'movierec data fetch ${value}' (needs network), or give the path of a local copy`,
    );
  }
  throw new CliError(
    `no such file or dataset: '${value}' (looked for ${path}; dataset names: bundled, ${DATASET_NAMES.join(', ')})`,
  );
}

/** How to read a dataset file: flags of every command that reads one (data info, import, train, evaluate). */
export const DATASET_OPTIONS: Record<string, OptionSpec> = {
  encoding: {
    type: 'string',
    valueName: 'utf8|latin1',
    description: 'text encoding of the ratings and movie files',
    defaultText: 'by format: latin1 for ml-100k/ml-1m, else utf8',
  },
  kind: {
    type: 'string',
    valueName: 'ratings|views',
    description:
      'views: read a CSV/TSV as watch history — user, movie[, timestamp][, weight], no rating (a rating column is ignored)',
    defaultText: 'detected: a header naming user and movie columns but no rating column is watch history',
  },
  scale: {
    type: 'string',
    valueName: 'min:max[:step]',
    description: 'the ratings the file may hold, e.g. 1:10:1 (step 0 or none: any value)',
    defaultText: 'by format: 1:5:1 for ml-100k/ml-1m, else 0.5:5:0.5',
  },
};

/** --encoding, --kind and --scale as loadDataset options; a bad value is a usage error before anything is read. */
export function datasetOptions(values: Values): Pick<LoadOptions, 'encoding' | 'scale' | 'kind'> {
  const out: Pick<LoadOptions, 'encoding' | 'scale' | 'kind'> = {};
  const encoding = choiceFlag(values, 'encoding', ['utf8', 'latin1'] as const);
  if (encoding !== undefined) out.encoding = encoding;
  const kind = choiceFlag(values, 'kind', ['ratings', 'views'] as const);
  if (kind !== undefined) out.kind = kind;
  if (kind === 'views' && values.scale !== undefined)
    throw new UsageError('--scale is for ratings; --kind views reads watch history, which has no rating');
  const scale = stringFlag(values, 'scale');
  if (scale !== undefined) {
    const parts = scale.split(':').map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
    const [min, max, step = 0] = parts;
    const bad = () =>
      new UsageError(
        `--scale: expected min:max[:step] with min ≤ max and a step dividing max − min, got '${scale}'`,
      );
    if (parts.length < 2 || parts.length > 3 || min === undefined || max === undefined) throw bad();
    const parsed: RatingScale = { min, max, step };
    try {
      out.scale = checkScale(parsed, '--scale');
    } catch {
      throw bad();
    }
  }
  return out;
}

/** Loads a dataset file/folder or named dataset (default: the bundled ml-latest-small), with a progress bar. */
export async function loadRatings(
  ctx: Context,
  pathOrName: string | undefined,
  values: Values = {},
): Promise<Dataset> {
  const read = datasetOptions(values);
  const target = pathOrName === undefined ? undefined : resolveDatasetArg(ctx, pathOrName);
  const bar = ctx.progress(`read ${pathOrName ?? 'ml-latest-small'}`, 'bytes');
  try {
    const options = { onProgress: bar.onProgress, cacheDir: cacheDir(ctx), ...read };
    const dataset = target === undefined ? await loadBundled(options) : await loadDataset(target, options);
    bar.finish(
      `${dataset.ratings.length} ${dataset.kind === 'views' ? 'views (watch history)' : 'ratings'}, ${dataset.users.size} users, ${dataset.items.size} movies`,
    );
    ctx.signal.throwIfAborted();
    return dataset;
  } catch (error) {
    bar.abort();
    throw error;
  }
}
