import { saveRecommender } from '@movierec/core';
import { withDb } from '../db.ts';
import { type Command, requireArg } from '../framework/command.ts';
import { CliError } from '../framework/errors.ts';
import { table } from '../framework/table.ts';

export const modelsListCommand: Command = {
  name: 'models list',
  summary:
    'stored model versions, newest first, with task, engine, size, metrics and which are active (one per task)',
  async run(ctx) {
    return withDb(ctx, async (db) => {
      await db.store.assertMigrated(db.raw);
      const versions = await db.store.listModelVersions(db.raw);
      const rows = versions.map((v) => ({
        id: v.id,
        active: v.active,
        task: v.task,
        family: v.family,
        createdAt: v.createdAt.toISOString(),
        engine: v.engine,
        factors: v.factors,
        users: v.numUsers,
        movies: v.numMovies,
        epochs: v.trainingRun?.epochs.length ?? null,
        metrics: v.metrics,
      }));
      if (rows.length === 0)
        ctx.print(`no model versions in ${db.location} yet: train one with 'movierec train'`);
      else {
        ctx.print(
          table(
            [
              'id',
              'active',
              'task',
              'created (UTC)',
              'engine',
              'factors',
              'epochs',
              'RMSE',
              'MAE',
              'NDCG@10',
              'R@10',
              'coverage',
              'popularity NDCG@10',
            ],
            rows.map((r) => [
              r.id,
              r.active ? '*' : '',
              r.task,
              r.createdAt.slice(0, 19).replace('T', ' '),
              r.family === 'mf' ? r.engine : `${r.engine} (${r.family})`,
              r.factors,
              r.epochs,
              r.metrics.rmse ?? null,
              r.metrics.mae ?? null,
              r.metrics.ndcgAt10 ?? null,
              r.metrics.recallAt10 ?? null,
              r.metrics.coverageAt10 ?? null,
              r.metrics.popularityNdcgAt10 ?? null,
            ]),
          ),
        );
        ctx.print(
          'rating versions: RMSE/MAE and @10 figures on a random holdout of ratings; ranking versions: @10 figures ' +
            "on each user's latest 20% beside the popularity baseline's on the same split",
        );
      }
      return { database: db.location, versions: rows };
    });
  },
};

export const modelsActivateCommand: Command = {
  name: 'models activate',
  summary:
    'make a model version the active one of its task (rating or ranking) for the API and the query commands',
  args: [{ name: 'id', required: true, description: 'model version ID (see models list)' }],
  async run(ctx, input) {
    const id = requireArg(input, 'id');
    return withDb(ctx, async (db) => {
      await db.store.assertMigrated(db.raw);
      const task = await db.store.activateModelVersion(db.raw, id);
      ctx.print(`model version ${id} is now the active ${task} model in ${db.location}`);
      return { database: db.location, active: Number(id), task };
    });
  },
};

export const modelsExportCommand: Command = {
  name: 'models export',
  summary: 'write a model version to a model file (usable with --model <file>)',
  args: [
    { name: 'id', required: true, description: "model version ID, or 'active'" },
    { name: 'path', required: true, description: 'file to write (written whole or not at all)' },
  ],
  async run(ctx, input) {
    const id = requireArg(input, 'id');
    const path = ctx.resolvePath(requireArg(input, 'path'));
    return withDb(ctx, async (db) => {
      const { id: versionId, model } =
        id === 'active' ? await db.loadActive() : { id, model: await db.loadVersion(id) };
      try {
        await saveRecommender(model, path);
      } catch (error) {
        throw new CliError(`cannot write ${path}: ${(error as Error).message}`);
      }
      ctx.print(`model version ${versionId} → ${path}`);
      return {
        version: versionId,
        path,
        factors: (model as { factors?: number }).factors ?? null,
        users: model.numUsers,
        movies: model.numItems,
      };
    });
  },
};
