import { datasetStats } from '../dataset-stats.ts';
import { type Command, intFlag, requireArg } from '../framework/command.ts';
import { table } from '../framework/table.ts';
import { loadRatings } from '../sources.ts';

export const dataInfoCommand: Command = {
  name: 'data info',
  summary: 'counts, rating scale, sparsity and the most-rated movies of a dataset',
  args: [
    { name: 'path|name', required: true, description: 'a ratings file/folder/archive, or a dataset name' },
  ],
  options: { top: { type: 'string', valueName: 'n', description: 'how many top movies', defaultText: '10' } },
  examples: ['movierec data info ml-latest-small', 'movierec data info ./ratings.csv --json'],
  async run(ctx, input) {
    const top = intFlag(input.values, 'top', 1) ?? 10;
    const dataset = await loadRatings(ctx, requireArg(input, 'path|name'));
    const s = datasetStats(dataset, top);
    ctx.print(`${s.name}`);
    ctx.print(`  ratings   ${s.ratings}`);
    ctx.print(`  users     ${s.users}`);
    ctx.print(`  movies    ${s.movies} (${s.ratedMovies} rated)`);
    ctx.print(
      `  scale     ${s.scale.min} … ${s.scale.max}${s.scale.step ? ` in steps of ${s.scale.step}` : ''}, mean ${s.meanRating.toFixed(3)}`,
    );
    ctx.print(`  sparsity  ${(100 * s.sparsity).toFixed(2)}% of user × movie cells empty`);
    ctx.print(
      `  per user  min ${s.ratingsPerUser.min}, median ${s.ratingsPerUser.median}, max ${s.ratingsPerUser.max} ratings`,
    );
    ctx.print(
      `  per movie min ${s.ratingsPerMovie.min}, median ${s.ratingsPerMovie.median}, max ${s.ratingsPerMovie.max} ratings`,
    );
    if (s.firstRating) ctx.print(`  period    ${s.firstRating} … ${s.lastRating}`);
    const skipped = Object.entries(s.skipped);
    if (skipped.length || s.duplicates) {
      ctx.print(
        `  skipped   ${skipped.map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}; ${s.duplicates} duplicates merged`,
      );
    }
    ctx.print('');
    ctx.print('Most-rated movies:');
    ctx.print(
      table(
        ['movieId', 'ratings', 'mean', 'title'],
        s.topMovies.map((m) => [m.movieId, m.ratings, m.meanRating, m.title ?? '']),
        2,
      ),
    );
    return s;
  },
};
