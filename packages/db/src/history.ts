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
  // Column by column in typed arrays, ordered through one permutation: this runs for every user the API loads (each
  // rating reloads one), and a [item, value, time] triple per interaction with Int32Array.from over iterables was a
  // fifth of the serving path's allocation in the soak's heap profile (bench/results/session9.txt).
  const size = movieIds.length + viewed.length;
  const items = new Int32Array(size);
  const values = new Float32Array(size);
  const times = new Int32Array(timed ? size : 0);
  const excluded = new Int32Array(size);
  let n = 0;
  let e = 0;
  for (let j = 0; j < movieIds.length; j++) {
    const item = model.items.indexOf(movieIds[j]!);
    if (item < 0) continue;
    items[n] = item;
    values[n] = ratings[j]!;
    if (timed) times[n] = ratedAt![j]!;
    n++;
    excluded[e++] = item;
  }
  for (let j = 0; j < viewed.length; j++) {
    const item = model.items.indexOf(viewed[j]!);
    if (item < 0) continue;
    excluded[e++] = item;
    if (!withViews) continue;
    items[n] = item;
    values[n] = viewValue(weights[j]!);
    if (timed) times[n] = viewedAt![j]!;
    n++;
  }
  // ascending by item; equal items keep their order (a stable sort, as the triples' Array sort was)
  const order = new Int32Array(n);
  for (let j = 0; j < n; j++) order[j] = j;
  order.sort((a, b) => items[a]! - items[b]! || a - b);
  const history = {
    items: new Int32Array(n),
    values: new Float32Array(n),
    ...(timed ? { times: new Int32Array(n) } : {}),
  };
  for (let j = 0; j < n; j++) {
    const o = order[j]!;
    history.items[j] = items[o]!;
    history.values[j] = values[o]!;
    if (history.times !== undefined) history.times[j] = times[o]!;
  }
  // every rated or viewed movie once, ascending
  const sorted = excluded.subarray(0, e).sort();
  let unique = 0;
  for (let j = 0; j < e; j++)
    if (unique === 0 || sorted[j] !== sorted[unique - 1]) sorted[unique++] = sorted[j]!;
  return { history, exclude: sorted.slice(0, unique) };
}
