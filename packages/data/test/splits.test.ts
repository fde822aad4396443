import { describe, expect, it } from 'vitest';
import { generateSynthetic, kFold, type RatingColumns, Rng, randomSplit, userHoldout } from '../src/index.ts';

const data = generateSynthetic({ users: 300, items: 200, ratings: 12_000, seed: 7 }).ratings;

function key(c: RatingColumns, r: number): string {
  return `${c.users[r]}:${c.items[r]}`;
}

function keys(c: RatingColumns): Set<string> {
  const s = new Set<string>();
  for (let r = 0; r < c.length; r++) s.add(key(c, r));
  return s;
}

describe('Rng', () => {
  it('is deterministic by seed and uniform enough', () => {
    const a = new Rng(1);
    const b = new Rng(1);
    const c = new Rng(2);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xs);
    const r = new Rng(3);
    let sum = 0;
    let sq = 0;
    for (let k = 0; k < 20000; k++) {
      const z = r.normal();
      sum += z;
      sq += z * z;
    }
    expect(Math.abs(sum / 20000)).toBeLessThan(0.05);
    expect(Math.abs(sq / 20000 - 1)).toBeLessThan(0.05);
    for (let k = 0; k < 1000; k++) {
      const i = r.int(7);
      expect(i >= 0 && i < 7 && Number.isInteger(i)).toBe(true);
    }
  });
});

describe('randomSplit', () => {
  it('holds out exactly round(n·ratio) rows, partitions the data, and is deterministic by seed', () => {
    const s = randomSplit(data, { testRatio: 0.2, seed: 1 });
    expect(s.test.length).toBe(2400);
    expect(s.train.length).toBe(9600);
    const tr = keys(s.train);
    for (const k of keys(s.test)) expect(tr.has(k)).toBe(false);
    const again = randomSplit(data, { testRatio: 0.2, seed: 1 });
    expect(Array.from(again.test.items)).toEqual(Array.from(s.test.items));
    const other = randomSplit(data, { testRatio: 0.2, seed: 2 });
    expect(Array.from(other.test.items)).not.toEqual(Array.from(s.test.items));
  });

  it('counts test users and items unseen in train', () => {
    // users 1 and 2 and item 3 have one rating each: unseen exactly when that rating is the one held out
    const cols: RatingColumns = {
      length: 4,
      users: Int32Array.of(0, 0, 1, 2),
      items: Int32Array.of(0, 1, 0, 3),
      ratings: Float32Array.of(1, 2, 3, 4),
      timestamps: Int32Array.of(0, 0, 0, 0),
    };
    for (let seed = 0; seed < 20; seed++) {
      const s = randomSplit(cols, { testRatio: 0.25, seed });
      const r = Array.from(s.test.users)[0]!;
      const item = s.test.items[0]!;
      const trainUsers = new Set(s.train.users);
      const trainItems = new Set(s.train.items);
      expect(s.unseenUsers).toBe(trainUsers.has(r) ? 0 : 1);
      expect(s.unseenItems).toBe(trainItems.has(item) ? 0 : 1);
    }
  });

  it('rejects a ratio outside (0, 1)', () => {
    expect(() => randomSplit(data, { testRatio: 1.5, seed: 1 })).toThrow(/testRatio/);
  });
});

describe('userHoldout', () => {
  it("'recent' holds out each user's latest fraction by timestamp", () => {
    const s = userHoldout(data, { strategy: 'recent', fraction: 0.2 });
    expect(s.unseenUsers).toBe(0);
    const latestTrain = new Map<number, number>();
    for (let r = 0; r < s.train.length; r++) {
      const u = s.train.users[r]!;
      latestTrain.set(u, Math.max(latestTrain.get(u) ?? 0, s.train.timestamps[r]!));
    }
    const perUser = new Map<number, number>();
    for (let r = 0; r < s.test.length; r++) {
      const u = s.test.users[r]!;
      expect(s.test.timestamps[r]!).toBeGreaterThanOrEqual(latestTrain.get(u)!);
      perUser.set(u, (perUser.get(u) ?? 0) + 1);
    }
    const total = new Map<number, number>();
    for (let r = 0; r < data.length; r++) total.set(data.users[r]!, (total.get(data.users[r]!) ?? 0) + 1);
    for (const [u, n] of total) expect(perUser.get(u) ?? 0).toBe(Math.round(n * 0.2));
    expect(s.train.length + s.test.length).toBe(data.length);
  });

  it("'random' with k holds out k per user, keeps minTrain, and is deterministic", () => {
    const cols: RatingColumns = {
      length: 7,
      users: Int32Array.of(0, 0, 0, 0, 0, 1, 1),
      items: Int32Array.of(0, 1, 2, 3, 4, 0, 1),
      ratings: Float32Array.of(1, 2, 3, 4, 5, 1, 2),
      timestamps: Int32Array.of(5, 4, 3, 2, 1, 1, 2),
    };
    const s = userHoldout(cols, { strategy: 'random', k: 3, seed: 4 });
    expect(Array.from(s.test.users).filter((u) => u === 0).length).toBe(3);
    expect(Array.from(s.test.users).filter((u) => u === 1).length).toBe(1); // 2 ratings, minTrain 1
    const again = userHoldout(cols, { strategy: 'random', k: 3, seed: 4 });
    expect(Array.from(again.test.items)).toEqual(Array.from(s.test.items));
    const recent = userHoldout(cols, { strategy: 'recent', k: 2 });
    expect(Array.from(recent.test.items)).toEqual([0, 1, 1]); // user 0's latest are items 0,1; user 1's is item 1
  });
});

describe('kFold', () => {
  it('makes k disjoint test folds covering every row once', () => {
    const folds = kFold(data, { k: 5, seed: 3 });
    expect(folds).toHaveLength(5);
    const seen = new Set<string>();
    for (const f of folds) {
      expect(f.test.length === 2400).toBe(true);
      expect(f.train.length + f.test.length).toBe(data.length);
      const tr = keys(f.train);
      for (const k of keys(f.test)) {
        expect(tr.has(k)).toBe(false);
        expect(seen.has(k)).toBe(false);
        seen.add(k);
      }
      expect(f.unseenUsers).toBeGreaterThanOrEqual(0);
    }
    expect(seen.size).toBe(data.length);
    expect(Array.from(kFold(data, { k: 5, seed: 3 })[2]!.test.items)).toEqual(
      Array.from(folds[2]!.test.items),
    );
  });

  it('rejects k < 2', () => {
    expect(() => kFold(data, { k: 1, seed: 0 })).toThrow(/k must be/);
  });
});
