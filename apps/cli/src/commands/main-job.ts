import { openCliDb } from '../db.ts';
import type { Command } from '../framework/command.ts';
import { CliError, EXIT_INTERRUPTED, isAbortError } from '../framework/errors.ts';
import { loadRatings } from '../sources.ts';
import { datasetFingerprint, trainingChoice } from '../training.ts';
import { SERVE_OPTIONS, sampleQuery, startApi, untilInterrupted } from './serve.ts';
import {
  printHoldoutEvaluation,
  runTraining,
  TRAIN_RUN_OPTIONS,
  trainJson,
  trainRunFlags,
  versionMetrics,
} from './train.ts';

export const mainCommand: Command = {
  name: 'main',
  summary:
    'the main job: migrate, import the bundled data, train (default preset), evaluate, activate, serve',
  details:
    "Uses the embedded PGlite database (MOVIEREC_DATA_DIR, default .data/pglite) or DATABASE_URL's PostgreSQL. " +
    'Every step is offline. Training shows one progress bar and a summary line; --verbose adds a line per epoch. ' +
    'With --json, the one JSON object is printed once the API is up.',
  options: {
    'no-serve': { type: 'boolean', description: 'stop after saving the model version' },
    ...SERVE_OPTIONS,
    ...TRAIN_RUN_OPTIONS,
  },
  examples: [
    'pnpm start',
    'pnpm --filter cli main --epochs 5 --port 8080',
    'movierec main --no-serve --json',
  ],
  async run(ctx, input) {
    const { values } = input;
    // flag errors before any work
    trainingChoice(values);
    trainRunFlags(values);
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
      const dataset = await afterImport(() => db.readRatings());
      ctx.print(`3/5  training on the ${dataset.ratings.length} ratings in the database`);
      const run = await afterImport(() => runTraining(ctx, dataset, values, { epochLines: ctx.verbose }));
      ctx.print('');
      ctx.print('4/5  evaluation');
      printHoldoutEvaluation(ctx, run);

      await afterImport(async () => ctx.signal.throwIfAborted());
      const version = await db.store.saveModel(db.raw, run.model, {
        datasetFingerprint: datasetFingerprint(dataset),
        metrics: versionMetrics(run),
        engine: run.choice.engineName,
        activate: true,
      });
      ctx.print('');
      ctx.print(`5/5  saved and activated model version ${version}`);
      const result = {
        database: db.location,
        migrations: migrated,
        import: imported,
        training: trainJson(run),
        modelVersion: version,
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
