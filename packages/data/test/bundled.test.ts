import { describe, expect, it } from 'vitest';
import { loadBundled, loadDataset } from '../src/index.ts';

describe('loadBundled', () => {
  it('reads the bundled ml-latest-small: 100,004 ratings, 671 users, 9,066 movies', async () => {
    const d = await loadBundled();
    expect(d.name).toBe('ml-latest-small');
    expect(d.ratings.length).toBe(100004);
    expect(d.ratings.users.length).toBe(100004);
    expect(d.users.size).toBe(671);
    expect(d.items.size).toBe(9066);
    expect(d.report).toEqual({ rowsRead: 100004, skipped: {}, duplicates: 0 });
    let sum = 0;
    for (let r = 0; r < d.ratings.length; r++) sum += d.ratings.ratings[r]!;
    expect(sum / d.ratings.length).toBeCloseTo(3.5436, 3);
    // first row of ratings.csv: 1,31,2.5,1260759144
    expect(d.users.externalId(d.ratings.users[0]!)).toBe('1');
    expect(d.items.externalId(d.ratings.items[0]!)).toBe('31');
    expect(d.ratings.ratings[0]).toBe(2.5);
    expect(d.ratings.timestamps[0]).toBe(1260759144);
  });

  it('parses titles, years, genres, quoted commas and the five empty titles', async () => {
    const d = await loadBundled();
    const m = d.movies!;
    const toy = d.items.indexOf(1);
    expect(m.titles[toy]).toBe('Toy Story');
    expect(m.years[toy]).toBe(1995);
    expect(m.genres[toy]).toEqual(['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy']);
    expect(m.titles[d.items.indexOf(11)]).toBe('American President, The');
    const empty = [108548, 108583, 143410, 151307, 162376].map((id) => d.items.indexOf(id));
    expect(empty.every((i) => i >= 0 && m.titles[i] === '')).toBe(true);
    expect(m.titles.filter((t) => t === '').length).toBe(5);
    expect(m.genres[d.items.indexOf(143410)]).toEqual([]);
  });

  it('is what loadDataset("bundled") and loadDataset("ml-latest-small") give without a download', async () => {
    const a = await loadDataset('bundled');
    expect(a.ratings.length).toBe(100004);
    expect(a.name).toBe('ml-latest-small');
  });
});
