import {
  canPredict,
  type Recommender,
  type TopItems,
  UnknownItemError,
  UnknownUserError,
  type UserState,
} from '@movierec/core';
import { type Command, idArg, intFlag } from '../framework/command.ts';
import { CliError } from '../framework/errors.ts';
import { table } from '../framework/table.ts';
import { movieTitles, withModel } from '../model-source.ts';

const modelOption = {
  model: {
    type: 'string' as const,
    valueName: 'id|file',
    description: 'a model version ID in the database or a model file (default: the active version)',
  },
};

function userIndex(model: Recommender, id: string): number {
  const u = model.users.indexOf(id);
  if (u < 0) throw new UnknownUserError(id);
  return u;
}

function itemIndex(model: Recommender, id: string): number {
  const i = model.items.indexOf(id);
  if (i < 0) throw new UnknownItemError(id);
  return i;
}

function ranked(model: Recommender, list: TopItems, titles: Map<string, string>) {
  return Array.from(list.items, (item, rank) => {
    const movieId = model.items.externalId(item);
    return { rank: rank + 1, movieId, title: titles.get(movieId) ?? null, score: list.scores[rank]! };
  });
}

export const recommendCommand: Command = {
  name: 'recommend',
  summary: 'top-k movies for a user, from the active ranking model, else the rating model (or --model)',
  args: [{ name: 'userId', required: true, description: 'external user ID (as in the ratings file)' }],
  options: {
    k: { type: 'string', valueName: 'n', description: 'how many movies', defaultText: '10' },
    'include-rated': {
      type: 'boolean',
      description:
        'also list movies the user rated or viewed (by default they are left out, as the API does)',
    },
    ...modelOption,
  },
  examples: ['movierec recommend 1 --k 5', 'movierec recommend 1 --model model.mfm --json'],
  async run(ctx, input) {
    const userId = idArg(input, 'userId');
    const k = intFlag(input.values, 'k', 1) ?? 10;
    return withModel(
      ctx,
      input.values,
      async (handle) => {
        const { model, source, db } = handle;
        // With the database, the API's rule (@movierec/db storedHistory): everything the user rated or viewed is
        // left out (stored ratings and views, held-out and later ones included, not only the training index the
        // version keeps), and a user the model was not trained on is folded in from what they rated (and, for a
        // ranking model, viewed) as the API folds them in. A model file carries only its training interactions.
        const stored = db ? await db.storedHistory(model, userId) : undefined;
        const u = model.users.indexOf(userId);
        let state: UserState;
        if (u >= 0) state = model.userState(u);
        else if (stored !== undefined && stored.history.items.length > 0)
          state = model.foldIn(stored.history);
        else throw new UnknownUserError(userId);
        const exclude = input.values['include-rated']
          ? undefined
          : (stored?.exclude ?? model.trainedHistory(u));
        const list = model.recommend(state, { k, ...(exclude ? { exclude } : {}) });
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
      },
      ['ranking', 'rating'],
    );
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
      const item = itemIndex(model, movieId);
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
      if (!canPredict(model))
        throw new CliError(
          `model ${source.label} is a ${model.task} model (family ${model.family}) and does not predict ratings: ` +
            `activate a rating model or pass --model <id|file> of one`,
        );
      const user = userIndex(model, userId);
      const item = itemIndex(model, movieId);
      const rating = model.predict(model.userState(user), item);
      const title = (await movieTitles(handle)).get(movieId) ?? null;
      ctx.print(
        `${rating.toFixed(3)}  (user ${userId}, movie ${movieId}${title ? ` ${title}` : ''}, model ${source.label})`,
      );
      return { userId, movieId, title, rating, model: source.json };
    });
  },
};
