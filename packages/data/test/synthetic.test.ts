import { describe, expect, it } from 'vitest';
import { generateSynthetic } from '../src/index.ts';

describe('generateSynthetic', () => {
  const d = generateSynthetic({ users: 500, items: 300, ratings: 30_000, seed: 11, factors: 4 });

  it('has the asked sizes, half-star ratings in 0.5–5 and no duplicate pairs', () => {
    const c = d.ratings;
    expect(c.length).toBe(30_000);
    expect(d.users.size).toBe(500);
    expect(d.items.size).toBe(300);
    const pairs = new Set<number>();
    for (let r = 0; r < c.length; r++) {
      const x = c.ratings[r]!;
      expect(x >= 0.5 && x <= 5 && Number.isInteger(x * 2)).toBe(true);
      pairs.add(c.users[r]! * 300 + c.items[r]!);
    }
    expect(pairs.size).toBe(30_000);
  });

  it('is deterministic by seed', () => {
    const again = generateSynthetic({ users: 500, items: 300, ratings: 30_000, seed: 11, factors: 4 });
    expect(Array.from(again.ratings.ratings.subarray(0, 500))).toEqual(
      Array.from(d.ratings.ratings.subarray(0, 500)),
    );
    const other = generateSynthetic({ users: 500, items: 300, ratings: 30_000, seed: 12, factors: 4 });
    expect(Array.from(other.ratings.items.subarray(0, 500))).not.toEqual(
      Array.from(d.ratings.items.subarray(0, 500)),
    );
  });

  it('has skewed (power-law) item popularity and user activity', () => {
    const itemCount = new Int32Array(300);
    const userCount = new Int32Array(500);
    for (let r = 0; r < d.ratings.length; r++) {
      itemCount[d.ratings.items[r]!]!++;
      userCount[d.ratings.users[r]!]!++;
    }
    const items = Array.from(itemCount).sort((a, b) => b - a);
    const users = Array.from(userCount).sort((a, b) => b - a);
    expect(items[0]! / items[150]!).toBeGreaterThan(4);
    expect(users[0]! / users[250]!).toBeGreaterThan(2);
    expect(users[499]).toBeGreaterThanOrEqual(20);
  });

  it('carries the planted structure: the planted model predicts far better than the mean', () => {
    const { globalMean, userBias, itemBias, userFactors, itemFactors, factors } = d.planted;
    let sePlanted = 0;
    let seMean = 0;
    let mean = 0;
    for (let r = 0; r < d.ratings.length; r++) mean += d.ratings.ratings[r]!;
    mean /= d.ratings.length;
    for (let r = 0; r < d.ratings.length; r++) {
      const u = d.ratings.users[r]!;
      const i = d.ratings.items[r]!;
      let p = globalMean + userBias[u]! + itemBias[i]!;
      for (let f = 0; f < factors; f++) p += userFactors[u * factors + f]! * itemFactors[i * factors + f]!;
      sePlanted += (p - d.ratings.ratings[r]!) ** 2;
      seMean += (mean - d.ratings.ratings[r]!) ** 2;
    }
    // RMSE = √(Σ(p − r)² / n)
    const rmsePlanted = Math.sqrt(sePlanted / d.ratings.length);
    const rmseMean = Math.sqrt(seMean / d.ratings.length);
    expect(rmsePlanted).toBeLessThan(0.7);
    expect(rmsePlanted).toBeLessThan(rmseMean * 0.75);
  });

  it('has the ML-1M preset sizes', () => {
    const m = generateSynthetic({ preset: 'ml-1m', ratings: 50_000 });
    expect(m.users.size).toBe(6040);
    expect(m.items.size).toBe(3706);
    expect(m.ratings.length).toBe(50_000);
  });

  it('rejects impossible sizes', () => {
    expect(() => generateSynthetic({ users: 2, items: 10, ratings: 100 })).toThrow(/do not fit/);
  });
});
