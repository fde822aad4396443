import { openCliDb } from '../db.ts';
import type { Command } from '../framework/command.ts';
import { CliError, EXIT_INTERRUPTED, isAbortError } from '../framework/errors.ts';
import { loadRatings } from '../sources.ts';
import { datasetFingerprint, trainingChoice } from '../training.ts';
import { SERVE_OPTIONS, sampleQuery, startApi, untilInterrupted } from './serve.ts';
import { runTraining, TRAIN_RUN_OPTIONS, trainJson, trainRunFlags, versionMetrics } from './train.ts';
import { rankingFlags, rankingTrainJson, runRankingTraining, saveRankingVersion } from './train-ranking.ts';

export const mainCommand: Command = {
  name: 'main',
  summary:
    'the main job: migrate, import the bundled data, train and evaluate the rating model and the recommendation ' +
    'model, save and activate both, serve',
  details:
    "Uses the embedded PGlite database (MOVIEREC_DATA_DIR, default .data/pglite) or DATABASE_URL's PostgreSQL. " +
    'Every step is offline. The rating model (--preset and the training flags) predicts ratings; the ' +
    'recommendation model (--ranking-preset, default: EASE with a recency- and rating-weighted history) ranks ' +
    'recommendations. Training shows one progress bar and a summary line; --verbose adds a line per epoch. ' +
    'With --json, the one JSON object is printed once the API is up.',
  options: {
    'no-serve': { type: 'boolean', description: 'stop after saving the model versions' },
    'ranking-preset': {
      type: 'string',
      valueName: 'name|file',
      description:
        'the recommendation model: a ranking preset (default, ease, item-knn, ials, bpr, gmf, mlp, neumf) or a file from tune',
      defaultText: 'default',
    },
    ...SERVE_OPTIONS,
    ...TRAIN_RUN_OPTIONS,
  },
  examples: [
    'pnpm start',
    'pnpm --filter cli main --epochs 5 --port 8080',
    'movierec main --no-serve --json',
  ],
  async run(ctx, { values }) {
    // flag errors before any work
    trainingChoice(values);
    trainRunFlags(values);
    // the recommendation model's settings: its own preset; --validation 0 skips its evaluation too
    const rankingValues = {
      preset: values['ranking-preset'] ?? 'default',
      ...(values.validation === undefined ? {} : { validation: values.validation }),
      ...(values.threads === undefined ? {} : { threads: values.threads }),
    };
    rankingFlags(ctx, rankingValues);
    const db = await openCliDb(ctx);
    let closeDb = true;
    try {
      ctx.print(`1/5  database: ${db.location}`);
      const migrated = await db.migrate();
      ctx.print(
        `     migrations: ${migrated.applied.length} applied now, ${migrated.alreadyApplied.length} already applied`,
      );

      const bundled = await loadRatings(ctx, undefined);
      const imported = await db.importDataset(bundled);
      ctx.print(
        `2/5  imported ${bundled.name}: ${imported.ratings.inserted} new ratings, ${imported.ratings.unchanged} unchanged ` +
          `(${imported.users.inserted + imported.users.unchanged + imported.users.updated} users, ` +
          `${imported.movies.inserted + imported.movies.unchanged + imported.movies.updated} movies)`,
      );

      const afterImport = async <T>(step: () => Promise<T>): Promise<T> => {
        try {
          return await step();
        } catch (error) {
          if (!isAbortError(error)) throw error;
          throw new CliError(
            `interrupted: the import had committed (re-running it changes nothing); training stopped and saved no model`,
            EXIT_INTERRUPTED,
          );
        }
      };
      // one read for both models: the rating model's ratings are the first rows of the ranking model's interactions
      const { ratings: dataset, interactions } = await afterImport(() => db.readRatingsAndInteractions());
      ctx.print(`3/5  rating model: training on the ${dataset.ratings.length} ratings in the database`);
      const run = await afterImport(() => runTraining(ctx, dataset, values, { epochLines: ctx.verbose }));

      ctx.print('');
      // the ranking model trains on every interaction: the ratings and the views of unrated movies (watch history)
      ctx.print(
        `4/5  recommendation model (ranking preset ${rankingValues.preset}): training on the ${interactions.ratings.length} interactions ` +
          `in the database (ratings${interactions.ratings.length > dataset.ratings.length ? ' and views' : ''})`,
      );
      const ranking = await afterImport(() => runRankingTraining(ctx, interactions, rankingValues));

      await afterImport(async () => ctx.signal.throwIfAborted());
      const fingerprint = datasetFingerprint(dataset);
      const version = await db.store.saveModel(db.raw, run.model, {
        datasetFingerprint: fingerprint,
        metrics: versionMetrics(run),
        engine: run.choice.engineName,
        activate: true,
      });
      const rankingVersion = await saveRankingVersion(db, ranking, fingerprint, true);
      ctx.print('');
      ctx.print(
        `5/5  saved and activated model versions ${version} (rating: predictRating) and ${rankingVersion} ` +
          `(ranking, ${ranking.config.family}: recommendations)`,
      );
      const result = {
        database: db.location,
        migrations: migrated,
        import: imported,
        training: trainJson(run),
        modelVersion: version,
        ranking: { ...rankingTrainJson(ranking), modelVersion: rankingVersion },
      };
      if (values['no-serve']) return result;

      const server = await startApi(ctx, values, { db: db.raw, logLevel: 'warn' });
      closeDb = false;
      const sampleUser = run.model.users.externalId(0);
      ctx.print('');
      ctx.print(`API  ${server.url}/graphql`);
      ctx.print(`page ${server.url}/`);
      ctx.print('Try:');
      ctx.print(`  ${await sampleQuery(server, sampleUser)}`);
      ctx.print('Ctrl-C stops the server.');
      ctx.emit({ ...result, url: server.url, graphql: `${server.url}/graphql`, page: `${server.url}/` });
      await untilInterrupted(ctx.signal);
      await server.close();
      await db.close();
      ctx.log('server stopped');
      return result;
    } finally {
      if (closeDb) await db.close();
    }
  },
};
