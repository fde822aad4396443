import { describe, expect, it } from 'vitest';
import {
  describeInteractions,
  loadDataset,
  parseInteractions,
  toInteractions,
  VIEW_RATING,
  viewValue,
} from '../src/index.ts';
import { dataFormatError, tempFile } from './helpers.ts';

describe('watch history (no rating column)', () => {
  it('a header with user and movie but no rating is read as views, weight 1, repeated views summed', async () => {
    const d = await loadDataset(
      tempFile('views.csv', 'user_id,movie_id,timestamp\nu1,m1,100\nu1,m2,200\nu2,m1,150\nu1,m1,300\n'),
    );
    expect(d.kind).toBe('views');
    expect(d.scale).toBeUndefined();
    expect(d.ratings.length).toBe(3);
    expect(d.report.duplicates).toBe(1);
    const row = (u: string, m: string) => {
      for (let r = 0; r < d.ratings.length; r++)
        if (d.users.externalId(d.ratings.users[r]!) === u && d.items.externalId(d.ratings.items[r]!) === m)
          return { weight: d.ratings.ratings[r], time: d.ratings.timestamps[r] };
      return undefined;
    };
    // u1 watched m1 twice: one interaction of weight 2 at the latest time
    expect(row('u1', 'm1')).toEqual({ weight: 2, time: 300 });
    expect(row('u1', 'm2')).toEqual({ weight: 1, time: 200 });
    expect(row('u2', 'm1')).toEqual({ weight: 1, time: 150 });
  });

  it('reads a weight column (plays) and sums it, also when a user comes back later in the file', async () => {
    const d = await loadDataset(
      tempFile('plays.csv', 'userId,movieId,plays\n1,10,3\n2,10,0.5\n1,10,2\n1,11,1\n'),
    );
    expect(d.kind).toBe('views');
    const byPair = new Map<string, number>();
    for (let r = 0; r < d.ratings.length; r++)
      byPair.set(
        `${d.users.externalId(d.ratings.users[r]!)}/${d.items.externalId(d.ratings.items[r]!)}`,
        d.ratings.ratings[r]!,
      );
    expect(Object.fromEntries(byPair)).toEqual({ '1/10': 5, '2/10': 0.5, '1/11': 1 });
  });

  it('kind "views" reads a headerless file by position, and a ratings.csv with its rating ignored', async () => {
    const d = await loadDataset(tempFile('history.csv', '1,10,100,2\n1,11,200,1\n'), { kind: 'views' });
    expect(d.kind).toBe('views');
    expect(Array.from(d.ratings.ratings)).toEqual([2, 1]);
    expect(Array.from(d.ratings.timestamps)).toEqual([100, 200]);
    const g = await loadDataset(tempFile('ratings.csv', 'userId,movieId,rating,timestamp\n1,10,4.0,100\n'), {
      kind: 'views',
    });
    expect(g.kind).toBe('views');
    expect(Array.from(g.ratings.ratings)).toEqual([1]);
  });

  it('bad input: a weight ≤ 0 is an error naming file:line', async () => {
    const path = tempFile('plays.csv', 'userId,movieId,weight\n1,10,2\n1,11,0\n');
    const e = await dataFormatError(loadDataset(path));
    expect(e.file).toBe(path);
    expect(e.line).toBe(3);
    expect(e.reason).toBe('bad weight');
    expect(e.message).toContain(`${path}:3: bad weight: weight 0 must be a number > 0`);
    const negative = await dataFormatError(
      loadDataset(tempFile('p.csv', 'userId,movieId,weight\n1,10,-1.5\n')),
    );
    expect(negative.reason).toBe('bad weight');
    expect(negative.line).toBe(2);
  });

  it('bad input: a weight that is not a number is an error naming file:line', async () => {
    const path = tempFile('plays.csv', 'userId,movieId,weight\n1,10,2\n1,11,lots\n');
    const e = await dataFormatError(loadDataset(path));
    expect(e.line).toBe(3);
    expect(e.reason).toBe('non-numeric weight');
    expect(e.message).toContain(`${path}:3: non-numeric weight: weight "lots" is not a number`);
  });

  it('bad input: a watch-history file with a rating column that is not numeric is an error naming file:line', async () => {
    const path = tempFile('history.csv', 'userId,movieId,rating\n1,10,watched\n');
    const e = await dataFormatError(loadDataset(path));
    expect(e.line).toBe(2);
    expect(e.reason).toBe('non-numeric rating');
    // says how to read it as watch history instead
    expect(e.message).toMatch(/history\.csv:2: non-numeric rating: rating "watched" .*--kind views/);
    // read as views, the rating column is ignored
    const d = await loadDataset(path, { kind: 'views' });
    expect(d.ratings.length).toBe(1);
  });

  it('--scale on watch history and kind views on a GroupLens .dat file are refused', async () => {
    await expect(loadDataset(tempFile('v.csv', 'user,movie\n1,2\n'), { scale: [1, 5] })).rejects.toThrow(
      /--scale\) is for ratings; this file is watch history/,
    );
    const e = await dataFormatError(
      loadDataset(tempFile('ratings.dat', '1::10::4::100\n'), { kind: 'views' }),
    );
    expect(e.reason).toBe('wrong format');
  });
});

describe('toInteractions', () => {
  it('every rating, ratings ≥ a threshold, weighted by rating or binary', async () => {
    const d = await loadDataset(
      tempFile('ratings.csv', 'userId,movieId,rating,timestamp\n1,10,4.5,100\n1,11,2.0,110\n2,10,3.5,120\n'),
    );
    expect(toInteractions(d)).toBe(d);
    const liked = toInteractions(d, { minRating: 3.5 });
    expect(Array.from(liked.ratings.ratings)).toEqual([4.5, 3.5]);
    expect(Array.from(liked.ratings.timestamps)).toEqual([100, 120]);
    expect(liked.kind ?? 'ratings').toBe('ratings');
    expect(liked.users).toBe(d.users);
    const binary = toInteractions(d, { minRating: 4, weight: 'binary' });
    expect(Array.from(binary.ratings.ratings)).toEqual([1]);
    expect(binary.kind).toBe('views');
    expect(binary.scale).toBeUndefined();
    expect(toInteractions(d, { weight: 'binary' }).ratings.length).toBe(3);
  });

  it('weighted watch history: each view valued on the rating scale, v(w) = clamp(4 + log10 w, 0.5, 5)', async () => {
    // a single view is worth a relevant rating (4), not a low one; ten views reach 5; a tenth of a view 3
    expect(viewValue(1)).toBe(VIEW_RATING);
    expect(viewValue(1)).toBe(4);
    expect(viewValue(10)).toBe(5);
    expect(viewValue(1000)).toBe(5);
    expect(viewValue(0.1)).toBeCloseTo(3, 12);
    expect(viewValue(1e-9)).toBe(0.5);
    expect(viewValue(2)).toBeGreaterThan(viewValue(1));
    const v = await loadDataset(tempFile('plays.csv', 'user,movie,plays\n1,2,1\n1,3,10\n2,2,2\n'));
    expect(v.kind).toBe('views');
    const valued = toInteractions(v);
    expect(Array.from(valued.ratings.ratings)).toEqual([4, 5, Math.fround(4 + Math.log10(2))]);
    expect(valued.kind).toBe('views');
    // binary stays 1
    expect(Array.from(toInteractions(v, { weight: 'binary' }).ratings.ratings)).toEqual([1, 1, 1]);
  });

  it('a minimum rating on watch history is a clear error', async () => {
    const v = await loadDataset(tempFile('views.csv', 'user,movie\n1,2\n'));
    expect(() => toInteractions(v, { minRating: 4 })).toThrow(/watch history: views have no rating/);
  });

  it('parses and describes the --interactions syntax', () => {
    expect(parseInteractions('all')).toEqual({});
    expect(parseInteractions('>=4')).toEqual({ minRating: 4 });
    expect(parseInteractions('>=3.5,binary')).toEqual({ minRating: 3.5, weight: 'binary' });
    expect(parseInteractions('weighted')).toEqual({ weight: 'rating' });
    expect(describeInteractions({ minRating: 4, weight: 'binary' })).toBe('>=4,binary');
    expect(describeInteractions({})).toBe('all');
    expect(() => parseInteractions('>=four')).toThrow(/'four' is not a number/);
    expect(() => parseInteractions('some')).toThrow(/unknown part 'some'/);
    expect(() => parseInteractions('all,>=4')).toThrow(/two choices/);
  });
});
