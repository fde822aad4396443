import type { ModelTask, Recommender, UserHistory } from '@movierec/core';
import { viewValue } from '@movierec/data';
import type { UserRatings } from './queries.ts';

/** What a model reads of a user's stored interactions, and what a list of recommendations leaves out. */
export interface StoredHistory {
  /** The interactions the model folds in, on its items (ascending), with their values and (when stored) times. */
  readonly history: UserHistory;
  /** Every movie of the model the user rated or viewed (ascending): never recommended back. */
  readonly exclude: Int32Array;
}

/**
 * The one rule the API (folding a user into an active model) and the CLI (`recommend`) share for a user's stored
 * ratings and views (userRatings):
 * - a rating model reads the ratings (a view is not a rating);
 * - a ranking model reads the ratings and the views of unrated movies, each view valued on the rating scale by
 *   @movierec/data's viewValue(weight) = clamp(4 + log10 w, 0.5, 5), as its training data valued them
 *   (readInteractions, toInteractions);
 * - whichever the task, every movie the user rated or viewed is excluded from their recommendations.
 * Movies the model does not know are skipped. Times come along when every interaction read has one.
 */
export function storedHistory(
  model: Pick<Recommender, 'items'> & { readonly task: ModelTask },
  stored: UserRatings,
): StoredHistory {
  const { movieIds, ratings, ratedAt } = stored;
  const viewed = stored.viewedMovieIds ?? [];
  const weights = stored.viewWeights ?? new Float32Array(0);
  const viewedAt = stored.viewedAt;
  const withViews = model.task === 'ranking';
  const timed =
    ratedAt !== undefined &&
    ratedAt.length === movieIds.length &&
    (!withViews || viewed.length === 0 || (viewedAt !== undefined && viewedAt.length === viewed.length));
  const pairs: [number, number, number][] = [];
  const excluded: number[] = [];
  for (let j = 0; j < movieIds.length; j++) {
    const item = model.items.indexOf(movieIds[j]!);
    if (item < 0) continue;
    pairs.push([item, ratings[j]!, timed ? ratedAt![j]! : 0]);
    excluded.push(item);
  }
  for (let j = 0; j < viewed.length; j++) {
    const item = model.items.indexOf(viewed[j]!);
    if (item < 0) continue;
    excluded.push(item);
    if (withViews) pairs.push([item, viewValue(weights[j]!), timed ? viewedAt![j]! : 0]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const exclude = Int32Array.from(new Set(excluded)).sort();
  return {
    history: {
      items: Int32Array.from(pairs, (p) => p[0]),
      values: Float32Array.from(pairs, (p) => p[1]),
      ...(timed ? { times: Int32Array.from(pairs, (p) => p[2]) } : {}),
    },
    exclude,
  };
}
