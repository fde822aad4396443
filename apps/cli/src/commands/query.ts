import type { MFModel, TopItems } from '@movierec/core';
import { type Command, idArg, intFlag } from '../framework/command.ts';
import { table } from '../framework/table.ts';
import { movieTitles, withModel } from '../model-source.ts';

const modelOption = {
  model: {
    type: 'string' as const,
    valueName: 'id|file',
    description: 'a model version ID in the database or a model file (default: the active version)',
  },
};

function ranked(model: MFModel, list: TopItems, titles: Map<string, string>) {
  return Array.from(list.items, (item, rank) => {
    const movieId = model.items.externalId(item);
    return { rank: rank + 1, movieId, title: titles.get(movieId) ?? null, score: list.scores[rank]! };
  });
}

export const recommendCommand: Command = {
  name: 'recommend',
  summary: 'top-k movies for a user, from the active model version (or --model)',
  args: [{ name: 'userId', required: true, description: 'external user ID (as in the ratings file)' }],
  options: {
    k: { type: 'string', valueName: 'n', description: 'how many movies', defaultText: '10' },
    'include-rated': { type: 'boolean', description: 'also list movies the user rated in training' },
    ...modelOption,
  },
  examples: ['movierec recommend 1 --k 5', 'movierec recommend 1 --model model.mfm --json'],
  async run(ctx, input) {
    const userId = idArg(input, 'userId');
    const k = intFlag(input.values, 'k', 1) ?? 10;
    return withModel(ctx, input.values, async (handle) => {
      const { model, source, db } = handle;
      const user = model.userIndex(userId);
      // Models from files carry the training ratings; for stored versions the database says what the user rated
      // (all their stored ratings, held-out and later ones included, not only the training index the version keeps).
      const exclude = input.values['include-rated']
        ? undefined
        : db
          ? await db.ratedItems(model, userId)
          : model.trainedHistory(user);
      const list = model.recommend(model.userState(user), { k, ...(exclude ? { exclude } : {}) });
      const items = ranked(model, list, await movieTitles(handle));
      ctx.print(`Top ${k} for user ${userId} (model ${source.label}):`);
      ctx.print(
        table(
          ['rank', 'movieId', 'predicted', 'title'],
          items.map((r) => [r.rank, r.movieId, r.score, r.title ?? '']),
          2,
        ),
      );
      return { userId, model: source.json, items };
    });
  },
};

export const similarCommand: Command = {
  name: 'similar',
  summary: 'movies closest to a movie (cosine similarity of the learned movie factors)',
  args: [{ name: 'movieId', required: true, description: 'external movie ID' }],
  options: {
    k: { type: 'string', valueName: 'n', description: 'how many movies', defaultText: '10' },
    ...modelOption,
  },
  examples: ['movierec similar 1 --k 5'],
  async run(ctx, input) {
    const movieId = idArg(input, 'movieId');
    const k = intFlag(input.values, 'k', 1) ?? 10;
    return withModel(ctx, input.values, async (handle) => {
      const { model, source } = handle;
      const item = model.itemIndex(movieId);
      const titles = await movieTitles(handle);
      const items = ranked(model, model.similarItems(item, k), titles).map(({ score, ...r }) => ({
        ...r,
        similarity: score,
      }));
      const title = titles.get(movieId);
      ctx.print(`Movies like ${movieId}${title ? ` (${title})` : ''}, model ${source.label}:`);
      ctx.print(
        table(
          ['rank', 'movieId', 'cosine', 'title'],
          items.map((r) => [r.rank, r.movieId, r.similarity, r.title ?? '']),
          3,
        ),
      );
      return { movieId, title: title ?? null, model: source.json, items };
    });
  },
};

export const predictCommand: Command = {
  name: 'predict',
  summary: 'predicted rating r̂(u,i) = μ + b_u + b_i + p_u·q_i of a user for a movie',
  args: [
    { name: 'userId', required: true, description: 'external user ID' },
    { name: 'movieId', required: true, description: 'external movie ID' },
  ],
  options: { ...modelOption },
  examples: ['movierec predict 1 31'],
  async run(ctx, input) {
    const userId = idArg(input, 'userId');
    const movieId = idArg(input, 'movieId');
    return withModel(ctx, input.values, async (handle) => {
      const { model, source } = handle;
      const user = model.userIndex(userId);
      const item = model.itemIndex(movieId);
      const rating = model.predict(user, item);
      const title = (await movieTitles(handle)).get(movieId) ?? null;
      ctx.print(
        `${rating.toFixed(3)}  (user ${userId}, movie ${movieId}${title ? ` ${title}` : ''}, model ${source.label})`,
      );
      return { userId, movieId, title, rating, model: source.json };
    });
  },
};
