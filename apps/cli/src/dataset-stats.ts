import type { Dataset } from '@movierec/data';

export interface TopMovie {
  movieId: string;
  title: string | null;
  ratings: number;
  meanRating: number;
}

export interface DatasetStats {
  name: string;
  /**
   * 'ratings', or 'views' for watch history (no rating column): then `ratings` counts the (user, movie) views,
   * `scale` and `meanRating` describe the view weights, and topMovies' `ratings` counts viewers.
   */
  kind: 'ratings' | 'views' | 'mixed';
  users: number;
  /** Movies known to the dataset (rated or listed in its metadata). */
  movies: number;
  ratedMovies: number;
  ratings: number;
  scale: { min: number; max: number; step: number | null; distinct: number[] };
  meanRating: number;
  /** 1 − ratings / (users × ratedMovies): the share of the user × movie matrix with no rating. */
  sparsity: number;
  ratingsPerUser: { min: number; median: number; max: number };
  ratingsPerMovie: { min: number; median: number; max: number };
  firstRating: string | null;
  lastRating: string | null;
  skipped: Record<string, number>;
  duplicates: number;
  topMovies: TopMovie[];
}

function spread(counts: Int32Array): { min: number; median: number; max: number } {
  const nonZero = counts.filter((c) => c > 0).sort();
  if (nonZero.length === 0) return { min: 0, median: 0, max: 0 };
  const mid = nonZero.length >> 1;
  // Median: middle value, or the mean of the two middle values for an even count.
  const median = nonZero.length % 2 ? nonZero[mid]! : (nonZero[mid - 1]! + nonZero[mid]!) / 2;
  return { min: nonZero[0]!, median, max: nonZero[nonZero.length - 1]! };
}

/** Counts, rating scale, sparsity and the most-rated movies, computed in one pass over the columns. */
export function datasetStats(dataset: Dataset, top = 10): DatasetStats {
  const { ratings: cols, users, items } = dataset;
  const n = cols.length;
  const perUser = new Int32Array(users.size);
  const perItem = new Int32Array(items.size);
  const sumItem = new Float64Array(items.size);
  const distinct = new Set<number>();
  let sum = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < n; r++) {
    const u = cols.users[r]!;
    const i = cols.items[r]!;
    const v = cols.ratings[r]!;
    perUser[u]!++;
    perItem[i]!++;
    sumItem[i]! += v;
    sum += v;
    if (distinct.size < 1000) distinct.add(v);
    const t = cols.timestamps[r]!;
    if (t > 0) {
      if (t < first) first = t;
      if (t > last) last = t;
    }
  }
  const values = [...distinct].sort((a, b) => a - b);
  let step: number | null = null;
  for (let k = 1; k < values.length; k++) {
    const d = Math.round((values[k]! - values[k - 1]!) * 1e6) / 1e6;
    if (step === null || d < step) step = d;
  }
  let ratedUsers = 0;
  for (const c of perUser) if (c > 0) ratedUsers++;
  let ratedMovies = 0;
  for (const c of perItem) if (c > 0) ratedMovies++;
  const order = Array.from({ length: items.size }, (_, i) => i)
    .filter((i) => perItem[i]! > 0)
    .sort((a, b) => perItem[b]! - perItem[a]! || sumItem[b]! / perItem[b]! - sumItem[a]! / perItem[a]!)
    .slice(0, top);
  const iso = (t: number) => (Number.isFinite(t) ? new Date(t * 1000).toISOString().slice(0, 10) : null);
  return {
    name: dataset.name,
    kind: dataset.kind ?? 'ratings',
    users: ratedUsers,
    movies: items.size,
    ratedMovies,
    ratings: n,
    scale: {
      min: values[0] ?? 0,
      max: values.at(-1) ?? 0,
      step,
      distinct: values.length <= 20 ? values : [],
    },
    meanRating: n > 0 ? sum / n : 0,
    sparsity: ratedUsers > 0 && ratedMovies > 0 ? 1 - n / (ratedUsers * ratedMovies) : 1,
    ratingsPerUser: spread(perUser),
    ratingsPerMovie: spread(perItem),
    firstRating: iso(first),
    lastRating: iso(last),
    skipped: dataset.report.skipped,
    duplicates: dataset.report.duplicates,
    topMovies: order.map((i) => ({
      movieId: items.externalId(i),
      title: dataset.movies?.titles[i] || null,
      ratings: perItem[i]!,
      meanRating: sumItem[i]! / perItem[i]!,
    })),
  };
}
