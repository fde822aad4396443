import type { MovieTable } from '@movierec/data';

/**
 * Movie side features for the Bayesian model's item prior: one-hot genres (as listed in the data) and one-hot
 * release decade (<1950, 1950s, …, 2010s+; none when the year is unknown). Row-major numItems × count.
 */
export function movieFeatures(movies: MovieTable, numItems: number): { count: number; values: Float32Array } {
  const genreIndex = new Map<string, number>();
  for (let i = 0; i < numItems; i++)
    for (const g of movies.genres[i] ?? []) if (!genreIndex.has(g)) genreIndex.set(g, genreIndex.size);
  const decades = 8;
  const count = genreIndex.size + decades;
  const values = new Float32Array(numItems * count);
  for (let i = 0; i < numItems; i++) {
    for (const g of movies.genres[i] ?? []) values[i * count + genreIndex.get(g)!] = 1;
    const year = movies.years[i] ?? 0;
    if (year > 0) {
      // decade bin: <1950 → 0, 1950s → 1, …, 2010s and later → 7
      const d = Math.max(0, Math.min(decades - 1, Math.floor((year - 1940) / 10)));
      values[i * count + genreIndex.size + d] = 1;
    }
  }
  return { count, values };
}
