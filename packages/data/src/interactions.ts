import { allocColumns } from './columns.ts';
import type { Dataset } from './dataset.ts';

/**
 * How ratings become the interactions a ranking model trains on (`toInteractions`):
 * - `minRating`: keep only ratings ≥ it (undefined: every rating — a low rating still says the user chose the
 *   movie); applies to ratings only: watch history has none, so it is an error there;
 * - `weight`: 'rating' (default) — each kept interaction's value is its rating, a view's is viewValue(weight) (on
 *   the rating scale, see there), so models that weigh the history by value (the default model's like-threshold,
 *   iALS' confidence c = 1 + α·r) read ratings and views on one scale;
 *   'binary' — every kept interaction has value 1 (pure implicit feedback, as the NCF paper turns ratings into
 *   interactions; the data is then watch history, kind 'views').
 */
export interface InteractionOptions {
  minRating?: number;
  weight?: 'rating' | 'binary';
}

/** The rating a single view (weight 1) is worth beside ratings: the level the ranking evaluation counts relevant. */
export const VIEW_RATING = 4;

/**
 * The value of a view of total weight w (views, plays, minutes; w > 0) beside ratings, on the rating scale:
 * v(w) = clamp(4 + log10(w), 0.5, 5). A view is implicit *positive* feedback — the user chose the movie (Hu, Koren &
 * Volinsky, "Collaborative filtering for implicit feedback datasets", ICDM 2008, §4: preference p = 1 whenever r > 0)
 * — so one view is worth the rating this project's evaluation calls relevant (4; every held-out view is relevant for
 * watch history), not a low rating; more views raise it only logarithmically, as Hu et al.'s confidence
 * c = 1 + α·log(1 + r/ε) grows with the count: ten views (or a weight of 10) reach the top of the scale (5); a part
 * of a view (w < 1) is worth less (w = 0.1: 3, below the default model's like-threshold of 3.5).
 */
export function viewValue(weight: number): number {
  // v(w) = clamp(4 + log10 w, 0.5, 5) (Hu, Koren & Volinsky 2008: p = 1 for any view, confidence ∝ log of count)
  return Math.min(5, Math.max(0.5, VIEW_RATING + Math.log10(weight)));
}

/** The CLI's --interactions values: which ratings, then how they weigh. */
export const INTERACTIONS_SYNTAX = 'all|>=<rating>[,weighted|,binary]';

/**
 * Parses an --interactions value: `all` (every rating, the default) or `>=R` (ratings ≥ R), optionally followed by
 * `,weighted` (value = the rating, the default) or `,binary` (value 1); `binary` or `weighted` alone mean `all,…`.
 * Throws a RangeError saying what it expected.
 */
export function parseInteractions(text: string): InteractionOptions {
  const fail = (why: string): never => {
    throw new RangeError(
      `expected ${INTERACTIONS_SYNTAX} (e.g. '>=4' or 'all,binary'), got '${text}': ${why}`,
    );
  };
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0 || parts.length > 2) fail('one or two comma-separated parts');
  const out: InteractionOptions = {};
  let which = false;
  for (const part of parts) {
    if (part === 'all' || part.startsWith('>=')) {
      if (which) fail('two choices of which ratings');
      which = true;
      if (part === 'all') continue;
      const v = part.slice(2).trim();
      const r = v === '' ? Number.NaN : Number(v);
      if (!Number.isFinite(r)) fail(`'${v}' is not a number`);
      out.minRating = r;
    } else if (part === 'weighted' || part === 'binary') {
      if (out.weight !== undefined) fail('two weights');
      out.weight = part === 'binary' ? 'binary' : 'rating';
    } else fail(`unknown part '${part}'`);
  }
  return out;
}

/** The --interactions text of `options` ('all', '>=4,binary', …), for logs and stored configurations. */
export function describeInteractions(options: InteractionOptions): string {
  const which = options.minRating === undefined ? 'all' : `>=${options.minRating}`;
  return options.weight === 'binary' ? `${which},binary` : which;
}

/**
 * The interactions a ranking model trains on, from a dataset (see InteractionOptions): the rows kept, each with its
 * rating (or weight) or 1. The ID maps, movie table and name are the dataset's (a user or movie left without
 * interactions keeps its index). Returns the dataset itself when nothing changes.
 */
export function toInteractions(dataset: Dataset, options: InteractionOptions = {}): Dataset {
  const { minRating, weight = 'rating' } = options;
  if (weight !== 'rating' && weight !== 'binary')
    throw new RangeError(
      `toInteractions: weight must be 'rating' or 'binary', got ${JSON.stringify(weight)}`,
    );
  const kind = dataset.kind ?? 'ratings';
  if (minRating !== undefined) {
    if (typeof minRating !== 'number' || !Number.isFinite(minRating))
      throw new RangeError(`toInteractions: minRating must be a finite number, got ${minRating}`);
    if (kind !== 'ratings')
      throw new RangeError(
        `${dataset.name} is ${kind === 'views' ? 'watch history' : 'ratings mixed with views'}: views have no rating, so a minimum rating (--interactions >=${minRating}) cannot apply; use 'all' or 'all,binary'`,
      );
  }
  // watch history valued beside ratings: each view's weight becomes viewValue(weight) ('mixed' data, from the
  // database's readInteractions, is already valued so)
  const views = kind === 'views' && weight === 'rating';
  if (minRating === undefined && weight === 'rating' && !views) return dataset;
  const cols = dataset.ratings;
  let kept = cols.length;
  if (minRating !== undefined) {
    kept = 0;
    for (let r = 0; r < cols.length; r++) if (cols.ratings[r]! >= minRating) kept++;
  }
  const out = allocColumns(kept);
  let w = 0;
  for (let r = 0; r < cols.length; r++) {
    const v = cols.ratings[r]!;
    if (minRating !== undefined && !(v >= minRating)) continue;
    out.users[w] = cols.users[r]!;
    out.items[w] = cols.items[r]!;
    out.ratings[w] = weight === 'binary' ? 1 : views ? viewValue(v) : v;
    out.timestamps[w] = cols.timestamps[r]!;
    w++;
  }
  const { scale: _scale, kind: _kind, ...rest } = dataset;
  // binary values are no longer ratings: the result is implicit feedback (watch history)
  return weight === 'binary' ? { ...rest, kind: 'views', ratings: out } : { ...dataset, ratings: out };
}
