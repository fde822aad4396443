import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSynthetic, loadDataset, Rng } from '../src/index.ts';
import { tempDir } from './helpers.ts';

describe('IDs', () => {
  it('treats an integer and its decimal text as one ID, keeps "007" distinct, and handles huge IDs', async () => {
    const path = join(tempDir(), 'ratings.csv');
    writeFileSync(
      path,
      'user,item,rating\n7,123456789012,4\n"7",5000000,3\n 7 ,x,2\n007,5000000,1\n8,123456789012,5\n8,4194304,5\n',
    );
    const d = await loadDataset(path, { format: 'csv' });
    expect(d.users.ids()).toEqual(['7', '007', '8']);
    expect(d.items.ids()).toEqual(['123456789012', '5000000', 'x', '4194304']);
    expect(Array.from(d.ratings.users)).toEqual([0, 0, 0, 1, 2, 2]);
    expect(Array.from(d.ratings.items)).toEqual([0, 1, 2, 1, 0, 3]);
  });
});

describe('duplicates at scale', () => {
  it('collapses duplicates in a shuffled file to the latest rating, counting each', async () => {
    const syn = generateSynthetic({ users: 300, items: 200, ratings: 20_000, seed: 5 });
    const c = syn.ratings;
    const rng = new Rng(9);
    const lines: string[] = [];
    const latest = new Map<string, number>();
    for (let r = 0; r < c.length; r++) {
      const key = `${c.users[r]! + 1},${c.items[r]! + 1}`;
      lines.push(`${key},${c.ratings[r]},${c.timestamps[r]}`);
      latest.set(key, c.ratings[r]!);
    }
    // 1,000 re-ratings, half later (they win) and half earlier (they lose)
    let dups = 0;
    for (let k = 0; k < 1000; k++) {
      const r = rng.int(c.length);
      const key = `${c.users[r]! + 1},${c.items[r]! + 1}`;
      const later = k % 2 === 0;
      const rating = 0.5 + rng.int(10) / 2;
      lines.push(`${key},${rating},${c.timestamps[r]! + (later ? 1000 + k : -1000 - k)}`);
      if (later) latest.set(key, rating);
      dups++;
    }
    for (let i = lines.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    }
    const path = join(tempDir(), 'ratings.csv');
    writeFileSync(path, `userId,movieId,rating,timestamp\n${lines.join('\n')}\n`);
    const d = await loadDataset(path);
    // a pair re-rated twice later keeps the larger timestamp; recompute expectations from the file itself
    const best = new Map<string, { t: number; rating: number; row: number }>();
    lines.forEach((line, row) => {
      const [u, i, rating, t] = line.split(',');
      const key = `${u},${i}`;
      const prev = best.get(key);
      if (!prev || Number(t) >= prev.t) best.set(key, { t: Number(t), rating: Number(rating), row });
    });
    expect(d.report.duplicates).toBe(dups);
    expect(d.ratings.length).toBe(best.size);
    for (let r = 0; r < d.ratings.length; r++) {
      const key = `${d.users.externalId(d.ratings.users[r]!)},${d.items.externalId(d.ratings.items[r]!)}`;
      expect(d.ratings.ratings[r]).toBe(best.get(key)!.rating);
      expect(d.ratings.timestamps[r]).toBe(best.get(key)!.t);
    }
  });
});

describe('archives', () => {
  it('says so when a .zip is not a zip', async () => {
    const path = join(tempDir(), 'ml-1m.zip');
    writeFileSync(path, 'this is not a zip');
    await expect(loadDataset(path)).rejects.toThrow(/ml-1m\.zip: not a readable zip archive/);
  });

  it('says which files it found when none holds ratings', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.csv'), 'x\n');
    writeFileSync(join(dir, 'b.csv'), 'y\n');
    await expect(loadDataset(dir)).rejects.toThrow(
      /cannot tell which file holds the ratings \(found a\.csv, b\.csv\)/,
    );
  });

  it('names a missing path', async () => {
    await expect(loadDataset('/no/such/ratings.csv')).rejects.toThrow(/no such file or directory/);
  });
});
