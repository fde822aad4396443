import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DATASET_NAMES, type Dataset, loadBundled, loadDataset } from '@movierec/data';
import type { Context } from './framework/command.ts';
import { CliError } from './framework/errors.ts';
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

/** Loads a dataset file/folder or named dataset (default: the bundled ml-latest-small), with a progress bar. */
export async function loadRatings(ctx: Context, pathOrName: string | undefined): Promise<Dataset> {
  const target = pathOrName === undefined ? undefined : resolveDatasetArg(ctx, pathOrName);
  const bar = ctx.progress(`read ${pathOrName ?? 'ml-latest-small'}`, 'bytes');
  try {
    const options = { onProgress: bar.onProgress, cacheDir: cacheDir(ctx) };
    const dataset = target === undefined ? await loadBundled(options) : await loadDataset(target, options);
    bar.finish(
      `${dataset.ratings.length} ratings, ${dataset.users.size} users, ${dataset.items.size} movies`,
    );
    ctx.signal.throwIfAborted();
    return dataset;
  } catch (error) {
    bar.abort();
    throw error;
  }
}
