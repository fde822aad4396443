import { openCliDb } from '../db.ts';
import type { Command } from '../framework/command.ts';
import { DATASET_OPTIONS, datasetOptions, loadRatings } from '../sources.ts';

export const importCommand: Command = {
  name: 'import',
  summary: 'load a dataset into the database in one transaction (default: the bundled ml-latest-small)',
  details:
    'Users, movies (with titles, years, genres) and ratings are merged: importing the same data again changes ' +
    'nothing, a newer rating replaces an older one. Ctrl-C or bad input rolls the whole import back. Watch history ' +
    '(a CSV/TSV of user, movie[, timestamp][, weight] with no rating column, or --kind views) goes into the views ' +
    'table the same way (a newer row replaces a pair’s weight), where --task ranking training reads it beside the ratings.',
  args: [
    { name: 'path|name', description: 'a ratings file/folder/archive or a dataset name (default: bundled)' },
  ],
  options: { ...DATASET_OPTIONS },
  examples: [
    'movierec import',
    'movierec import ml-1m',
    'movierec import ./my-ratings.csv',
    'movierec import ./watch-history.csv',
    'movierec import ./plays.tsv --kind views',
  ],
  async run(ctx, input) {
    datasetOptions(input.values);
    const dataset = await loadRatings(ctx, input.args['path|name'], input.values);
    const db = await openCliDb(ctx);
    try {
      await db.migrate();
      const summary = await db.importDataset(dataset);
      if (ctx.signal.aborted) {
        // Ctrl-C after the commit: the import is complete and stays; exit 0 says so (130 means nothing written).
        ctx.log('interrupted after the import had committed: it is complete and stays in the database');
      }
      const rows = summary.kind === 'views' ? summary.views : summary.ratings;
      ctx.print(
        `imported ${dataset.name} into ${db.location}: ${summary.kind === 'views' ? 'views (watch history)' : 'ratings'} ${rows.inserted} new, ` +
          `${rows.updated} updated, ${rows.unchanged} unchanged; ` +
          `users ${summary.users.inserted} new; movies ${summary.movies.inserted} new ` +
          `(${summary.seconds.toFixed(1)} s, ${Math.round(summary.ratingsPerSecond)} ${summary.kind === 'views' ? 'views' : 'ratings'}/s)`,
      );
      return { dataset: dataset.name, database: db.location, ...summary };
    } finally {
      await db.close();
    }
  },
};
