import { DOWNLOADABLE, download, NetworkUnreachableError } from '@movierec/data';
import { datasetStats } from '../dataset-stats.ts';
import { type Command, intFlag, requireArg, stringFlag } from '../framework/command.ts';
import { CliError } from '../framework/errors.ts';
import { table } from '../framework/table.ts';
import { cacheDir } from '../paths.ts';
import { DATASET_OPTIONS, datasetOptions, loadRatings } from '../sources.ts';

export const dataInfoCommand: Command = {
  name: 'data info',
  summary:
    'counts, rating scale, sparsity and the most-rated movies of a dataset (or of watch history: views and weights)',
  args: [
    { name: 'path|name', required: true, description: 'a ratings file/folder/archive, or a dataset name' },
  ],
  options: {
    top: { type: 'string', valueName: 'n', description: 'how many top movies', defaultText: '10' },
    ...DATASET_OPTIONS,
  },
  examples: ['movierec data info ml-latest-small', 'movierec data info ./ratings.csv --json'],
  async run(ctx, input) {
    const top = intFlag(input.values, 'top', 1) ?? 10;
    datasetOptions(input.values);
    const dataset = await loadRatings(ctx, requireArg(input, 'path|name'), input.values);
    const s = datasetStats(dataset, top);
    const views = s.kind === 'views';
    const what = views ? 'views' : 'ratings';
    ctx.print(`${s.name}${views ? ' — watch history (no ratings: views, plays, purchases)' : ''}`);
    ctx.print(`  ${views ? 'views  ' : 'ratings'}   ${s.ratings}${views ? ' (user, movie) pairs' : ''}`);
    ctx.print(`  users     ${s.users}`);
    ctx.print(`  movies    ${s.movies} (${s.ratedMovies} ${views ? 'viewed' : 'rated'})`);
    ctx.print(
      views
        ? `  weights   ${s.scale.min} … ${s.scale.max}, mean ${s.meanRating.toFixed(3)} (repeated views summed)`
        : `  scale     ${s.scale.min} … ${s.scale.max}${s.scale.step ? ` in steps of ${s.scale.step}` : ''}, mean ${s.meanRating.toFixed(3)}`,
    );
    ctx.print(`  sparsity  ${(100 * s.sparsity).toFixed(2)}% of user × movie cells empty`);
    ctx.print(
      `  per user  min ${s.ratingsPerUser.min}, median ${s.ratingsPerUser.median}, max ${s.ratingsPerUser.max} ${what}`,
    );
    ctx.print(
      `  per movie min ${s.ratingsPerMovie.min}, median ${s.ratingsPerMovie.median}, max ${s.ratingsPerMovie.max} ${what}`,
    );
    if (s.firstRating) ctx.print(`  period    ${s.firstRating} … ${s.lastRating}`);
    const skipped = Object.entries(s.skipped);
    if (skipped.length || s.duplicates) {
      ctx.print(
        `  skipped   ${skipped.map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}; ${s.duplicates} duplicates merged`,
      );
    }
    ctx.print('');
    ctx.print(views ? 'Most-viewed movies:' : 'Most-rated movies:');
    ctx.print(
      table(
        ['movieId', views ? 'viewers' : 'ratings', views ? 'mean weight' : 'mean', 'title'],
        s.topMovies.map((m) => [m.movieId, m.ratings, m.meanRating, m.title ?? '']),
        2,
      ),
    );
    return s;
  },
};

export const dataFetchCommand: Command = {
  name: 'data fetch',
  summary: 'download a GroupLens MovieLens archive into the local cache and verify it (needs the network)',
  details:
    'Kept in MOVIEREC_CACHE_DIR (default .cache/datasets); afterwards the name works wherever a dataset is taken ' +
    '(data info, import, train, evaluate). A verified cached copy is reused unless --force. Offline? Copy the archive ' +
    'into the cache folder, or pass its path instead of the name.',
  args: [{ name: 'name', required: true, description: DOWNLOADABLE.join(', ') }],
  options: {
    force: { type: 'boolean', description: 'download again even when a verified copy is cached' },
    'base-url': {
      type: 'string',
      valueName: 'url',
      description: 'a mirror to fetch <url><name>.zip from',
      defaultText: 'https://files.grouplens.org/datasets/movielens/',
    },
  },
  examples: ['movierec data fetch ml-1m', 'movierec data info ml-1m'],
  async run(ctx, input) {
    const name = requireArg(input, 'name');
    if (!(DOWNLOADABLE as readonly string[]).includes(name)) {
      throw new CliError(`unknown dataset '${name}': GroupLens archives are ${DOWNLOADABLE.join(', ')}`);
    }
    const dir = cacheDir(ctx);
    const baseUrl = stringFlag(input.values, 'base-url');
    const bar = ctx.progress(`fetch ${name}`, 'bytes');
    try {
      const result = await download(name, {
        cacheDir: dir,
        onProgress: bar.onProgress,
        ...(baseUrl !== undefined ? { baseUrl } : {}),
        ...(input.values.force ? { force: true } : {}),
      });
      bar.finish();
      ctx.print(
        `${name} → ${result.path} (${result.source === 'cache' ? 'cached copy' : 'downloaded'}, verified by ${result.verifiedBy})`,
      );
      return { name, ...result };
    } catch (error) {
      bar.abort();
      if (error instanceof NetworkUnreachableError) {
        const host = new URL(baseUrl ?? 'https://files.grouplens.org/').host;
        throw new CliError(
          `cannot reach ${host} to fetch ${name}: offline? Copy ${name}.zip into ${dir}/ or pass the archive's path ` +
            `wherever a dataset is taken (data info, import, train, evaluate)`,
        );
      }
      throw error;
    }
  },
};
