/**
 * storedHistory (the rule the API and the CLI fold a user in by) against the plain statement of that rule: the
 * user's interactions on the model's items, ascending by item, rated and viewed movies excluded once each.
 */
import { IdMap, viewValue } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import { storedHistory } from '../src/history.ts';
import type { UserRatings } from '../src/queries.ts';

/** The rule written as directly as possible (what storedHistory computed before it was made allocation-lean). */
function reference(items: IdMap, task: 'rating' | 'ranking', stored: UserRatings) {
  const viewed = stored.viewedMovieIds ?? [];
  const timed =
    stored.ratedAt !== undefined &&
    stored.ratedAt.length === stored.movieIds.length &&
    (task === 'rating' || viewed.length === 0 || stored.viewedAt?.length === viewed.length);
  const pairs: [number, number, number][] = [];
  const excluded = new Set<number>();
  stored.movieIds.forEach((id, j) => {
    const i = items.indexOf(id);
    if (i < 0) return;
    pairs.push([i, stored.ratings[j]!, timed ? stored.ratedAt![j]! : 0]);
    excluded.add(i);
  });
  viewed.forEach((id, j) => {
    const i = items.indexOf(id);
    if (i < 0) return;
    excluded.add(i);
    if (task === 'ranking')
      pairs.push([i, viewValue(stored.viewWeights![j]!), timed ? stored.viewedAt![j]! : 0]);
  });
  pairs.sort((a, b) => a[0] - b[0]);
  return {
    items: pairs.map((p) => p[0]),
    values: pairs.map((p) => Math.fround(p[1])),
    times: timed ? pairs.map((p) => p[2]) : undefined,
    exclude: [...excluded].sort((a, b) => a - b),
  };
}

describe('storedHistory', () => {
  it('agrees with the rule as plainly stated, for rating and ranking models, with and without times', () => {
    let seed = 7;
    // LCG (Numerical Recipes): x ← 1664525x + 1013904223 mod 2³²
    const random = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const items = IdMap.fromJSON(Array.from({ length: 50 }, (_, j) => `m${j}`));
    for (let trial = 0; trial < 200; trial++) {
      // movies m0…m69: the model knows m0…m49; a user rates some and views others (never both, as userRatings reads)
      const shuffled = Array.from({ length: 70 }, (_, j) => `m${j}`).sort(() => random() - 0.5);
      const nRated = Math.floor(random() * 30);
      const nViewed = Math.floor(random() * 20);
      const movieIds = shuffled.slice(0, nRated);
      const viewedMovieIds = shuffled.slice(nRated, nRated + nViewed);
      const withTimes = random() < 0.7;
      const stored: UserRatings = {
        exists: true,
        movieIds,
        ratings: Float32Array.from(movieIds, () => 0.5 + Math.floor(random() * 10) / 2),
        ...(withTimes ? { ratedAt: Int32Array.from(movieIds, () => Math.floor(random() * 1e9)) } : {}),
        viewedMovieIds,
        viewWeights: Float32Array.from(viewedMovieIds, () => 1 + random() * 20),
        ...(withTimes && random() < 0.8
          ? { viewedAt: Int32Array.from(viewedMovieIds, () => Math.floor(random() * 1e9)) }
          : {}),
      };
      for (const task of ['rating', 'ranking'] as const) {
        const got = storedHistory({ items, task }, stored);
        const want = reference(items, task, stored);
        expect(Array.from(got.history.items)).toEqual(want.items);
        expect(Array.from(got.history.values)).toEqual(want.values);
        expect(got.history.times === undefined ? undefined : Array.from(got.history.times)).toEqual(
          want.times,
        );
        expect(Array.from(got.exclude)).toEqual(want.exclude);
      }
    }
  });
});
