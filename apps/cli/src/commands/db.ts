import { openCliDb } from '../db.ts';
import type { Command } from '../framework/command.ts';
import { table } from '../framework/table.ts';

export const dbMigrateCommand: Command = {
  name: 'db migrate',
  summary: 'apply prisma/migrations to the database (embedded PGlite, or DATABASE_URL)',
  examples: [
    'movierec db migrate',
    'DATABASE_URL=postgres://postgres@127.0.0.1:5432/movierec movierec db migrate',
  ],
  async run(ctx) {
    const db = await openCliDb(ctx);
    try {
      const result = await db.migrate();
      ctx.print(
        result.applied.length
          ? `applied ${result.applied.length} migration(s) to ${db.location}: ${result.applied.join(', ')}`
          : `${db.location} is up to date (${result.alreadyApplied.length} migration(s) applied)`,
      );
      return { database: db.location, ...result };
    } finally {
      await db.close();
    }
  },
};

export const dbStatusCommand: Command = {
  name: 'db status',
  summary:
    'migrations applied and pending, and how many users, movies, ratings, views and model versions are stored',
  async run(ctx) {
    const db = await openCliDb(ctx);
    try {
      const status = await db.status();
      ctx.print(`database   ${db.location}`);
      ctx.print(
        `migrations ${status.migrations.applied.length} applied, ${status.migrations.pending.length} pending`,
      );
      if (status.counts) {
        ctx.print(
          table(
            ['users', 'movies', 'ratings', 'views', 'model versions'],
            [
              [
                status.counts.users,
                status.counts.movies,
                status.counts.ratings,
                status.counts.views,
                status.counts.modelVersions,
              ],
            ],
          ),
        );
      }
      return { database: db.location, ...status };
    } finally {
      await db.close();
    }
  },
};
