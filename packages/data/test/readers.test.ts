import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type Dataset, generateSynthetic, loadDataset, writeRatingsCsv } from '../src/index.ts';
import { fixture, fixtureBytes, tempDir } from './helpers.ts';
import { makeZip } from './zip.ts';

/** Rows as "user,item,rating,timestamp" strings with external IDs, for comparing readers. */
function rows(d: Dataset): string[] {
  const out: string[] = [];
  const c = d.ratings;
  for (let r = 0; r < c.length; r++) {
    out.push(
      `${d.users.externalId(c.users[r]!)},${d.items.externalId(c.items[r]!)},${c.ratings[r]},${c.timestamps[r]}`,
    );
  }
  return out;
}

function movie(d: Dataset, id: number | string) {
  const i = d.items.indexOf(id);
  expect(i).toBeGreaterThanOrEqual(0);
  return { title: d.movies!.titles[i], year: d.movies!.years[i], genres: d.movies!.genres[i] };
}

const GROUPLENS_ROWS = [
  '1,1,4,964982703',
  '1,3,4,964981247',
  '1,11,2.5,964982224',
  '2,1,5,1445714835',
  '2,108548,3.5,1445714994',
  '2,170875,0.5,1445715051',
  '3,29,3,1306463578',
  '3,11,4.5,1306464122',
];

function expectGroupLens(d: Dataset): void {
  expect(rows(d)).toEqual(GROUPLENS_ROWS);
  expect(d.users.ids()).toEqual(['1', '2', '3']);
  expect(d.items.size).toBe(7); // six rated + one listed but never rated
  expect(d.report).toEqual({ rowsRead: 8, skipped: {}, duplicates: 0 });
  expect(movie(d, 1)).toEqual({
    title: 'Toy Story',
    year: 1995,
    genres: ['Adventure', 'Animation', 'Children', 'Comedy', 'Fantasy'],
  });
  expect(movie(d, 11).title).toBe('American President, The');
  expect(movie(d, 29)).toEqual({
    title: 'City of Lost Children, The (Cité des enfants perdus, La)',
    year: 1995,
    genres: ['Adventure', 'Drama', 'Fantasy', 'Mystery', 'Sci-Fi'],
  });
  expect(movie(d, 108548)).toEqual({ title: '', year: 0, genres: ['Comedy'] });
  expect(movie(d, 170875)).toEqual({ title: 'The "Great" Escape', year: 1963, genres: [] });
  expect(movie(d, 171749)).toEqual({ title: 'Babylon 5', year: 1994, genres: ['Sci-Fi'] });
}

describe('GroupLens CSV (ratings.csv + movies.csv)', () => {
  it('reads a folder', async () => {
    const d = await loadDataset(fixture('ml-latest-small-like'));
    expect(d.name).toBe('ml-latest-small-like');
    expectGroupLens(d);
  });

  it('reads a lone ratings.csv and picks up movies.csv beside it', async () => {
    expectGroupLens(await loadDataset(fixture('ml-latest-small-like', 'ratings.csv')));
  });

  it('reads the same data with a byte-order mark and CRLF line ends', async () => {
    const dir = tempDir();
    for (const f of ['ratings.csv', 'movies.csv']) {
      const text = fixtureBytes('ml-latest-small-like', f).toString('utf8').replace(/\n/g, '\r\n');
      writeFileSync(join(dir, f), `\uFEFF${text}`);
    }
    expectGroupLens(await loadDataset(dir));
  });

  it('reads .gz files', async () => {
    const dir = tempDir();
    for (const f of ['ratings.csv', 'movies.csv']) {
      writeFileSync(join(dir, `${f}.gz`), gzipSync(fixtureBytes('ml-latest-small-like', f)));
    }
    expectGroupLens(await loadDataset(dir));
  });

  it('reads a GroupLens .zip with a folder inside, and without a last newline', async () => {
    const dir = tempDir();
    const ratings = fixtureBytes('ml-latest-small-like', 'ratings.csv').toString().trimEnd();
    const zip = join(dir, 'ml-latest-small.zip');
    writeFileSync(
      zip,
      makeZip([
        { name: 'ml-latest-small/' },
        { name: 'ml-latest-small/README.txt', data: 'readme' },
        { name: 'ml-latest-small/links.csv', data: 'movieId,imdbId,tmdbId\n1,0114709,862\n' },
        { name: 'ml-latest-small/movies.csv', data: fixtureBytes('ml-latest-small-like', 'movies.csv') },
        { name: 'ml-latest-small/ratings.csv', data: ratings },
      ]),
    );
    const d = await loadDataset(zip);
    expect(d.name).toBe('ml-latest-small');
    expectGroupLens(d);
  });

  it('reads a file of another name when the format is forced', async () => {
    const dir = tempDir();
    const path = join(dir, 'export.txt');
    writeFileSync(path, fixtureBytes('ml-latest-small-like', 'ratings.csv'));
    const d = await loadDataset(path, { format: 'grouplens-csv' });
    expect(rows(d)).toEqual(GROUPLENS_ROWS);
    expect(d.movies).toBeUndefined();
  });

  it('reads across chunk boundaries exactly (plain and gzip): 80k synthetic ratings round-trip', async () => {
    const dir = tempDir();
    const syn = generateSynthetic({ users: 800, items: 400, ratings: 80_000, seed: 3 });
    const path = join(dir, 'ratings.csv');
    expect(writeRatingsCsv(syn, path)).toBeGreaterThan(1 << 20); // more than one 1 MB read
    writeFileSync(`${path}.gz`, gzipSync(readFileSync(path)));
    for (const file of [path, `${path}.gz`]) {
      const d = await loadDataset(file);
      expect(d.ratings.length).toBe(80_000);
      // synthetic IDs are 1…n in index order and the file lists users in order, so indices agree too
      expect(d.users.ids()).toEqual(syn.users.ids());
      const c = d.ratings;
      const s = syn.ratings;
      let same = 0;
      for (let r = 0; r < c.length; r++) {
        const item = Number(d.items.externalId(c.items[r]!));
        if (c.users[r] === s.users[r] && item === s.items[r]! + 1 && c.ratings[r] === s.ratings[r]) same++;
        if (c.timestamps[r] !== s.timestamps[r]) same--;
      }
      expect(same).toBe(80_000);
    }
  }, 60_000);
});

describe('ml-1m / ml-10m .dat', () => {
  const expected = [
    '1,1193,5,978300760',
    '1,661,3,978302109',
    '1,914,3,978301968',
    '2,1193,4,978298413',
    '2,73,5,978299000',
    '6040,661,1,956703932',
  ];

  it('reads ratings.dat and ISO-8859-1 movies.dat from a folder', async () => {
    const d = await loadDataset(fixture('ml-1m'));
    expect(rows(d)).toEqual(expected);
    expect(movie(d, 73)).toEqual({ title: 'Misérables, Les', year: 1995, genres: ['Drama', 'Musical'] });
    expect(movie(d, 1).genres).toEqual(['Animation', "Children's", 'Comedy']);
    expect(d.items.size).toBe(6);
  });

  it('reads the published zip layout (ml-1m/ratings.dat)', async () => {
    const dir = tempDir();
    const zip = join(dir, 'ml-1m.zip');
    writeFileSync(
      zip,
      makeZip([
        { name: 'ml-1m/' },
        { name: 'ml-1m/movies.dat', data: fixtureBytes('ml-1m', 'movies.dat') },
        { name: 'ml-1m/ratings.dat', data: fixtureBytes('ml-1m', 'ratings.dat') },
        { name: 'ml-1m/users.dat', data: '1::F::1::10::48067\n' },
      ]),
    );
    const d = await loadDataset(zip);
    expect(d.name).toBe('ml-1m');
    expect(rows(d)).toEqual(expected);
    expect(movie(d, 73).title).toBe('Misérables, Les');
  });
});

describe('ml-10m .dat (half stars, UTF-8 movies.dat, ml-10M100K/ folder)', () => {
  it('reads a folder', async () => {
    const d = await loadDataset(fixture('ml-10m'));
    expect(rows(d)).toEqual(['1,122,5,838985046', '1,185,4.5,838983525', '2,122,0.5,868245777']);
    expect(movie(d, 4437).title).toBe('Nói albinói');
  });

  it('reads the archive layout, forced or detected', async () => {
    const dir = tempDir();
    const zip = join(dir, 'ml-10m.zip');
    writeFileSync(
      zip,
      makeZip([
        { name: 'ml-10M100K/' },
        { name: 'ml-10M100K/ratings.dat', data: fixtureBytes('ml-10m', 'ratings.dat') },
        { name: 'ml-10M100K/movies.dat', data: fixtureBytes('ml-10m', 'movies.dat') },
        { name: 'ml-10M100K/tags.dat', data: '15::4973::excellent!::1215184630\n' },
      ]),
    );
    for (const options of [{}, { format: 'ml-dat' as const }]) {
      const d = await loadDataset(zip, options);
      expect(rows(d)).toEqual(['1,122,5,838985046', '1,185,4.5,838983525', '2,122,0.5,868245777']);
      expect(movie(d, 4437)).toEqual({ title: 'Nói albinói', year: 2003, genres: ['Comedy', 'Drama'] });
      expect(movie(d, 185).title).toBe('Net, The');
    }
  });
});

describe('progress', () => {
  it('reports bytes read up to the whole file', async () => {
    const seen: { done: number; total: number }[] = [];
    await loadDataset(fixture('ml-latest-small-like', 'ratings.csv'), { onProgress: (p) => seen.push(p) });
    const size = fixtureBytes('ml-latest-small-like', 'ratings.csv').length;
    expect(seen.at(-1)).toEqual({ done: size, total: size });
  });
});

describe('abort', () => {
  it('stops reading when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped by the user'));
    await expect(loadDataset(fixture('ml-1m'), { signal: controller.signal })).rejects.toThrow(
      'stopped by the user',
    );
  });
});

describe('ml-100k (u.data + u.item)', () => {
  it('reads tab-separated u.data and maps u.item genre flags to names', async () => {
    const d = await loadDataset(fixture('ml-100k'));
    expect(rows(d)).toEqual([
      '196,242,3,881250949',
      '186,302,3,891717742',
      '22,377,1,878887116',
      '244,51,2,880606923',
      '196,51,5,881251000',
    ]);
    expect(movie(d, 51)).toEqual({
      title: 'Legends of the Fall',
      year: 1994,
      genres: ['Drama', 'Romance', 'War', 'Western'],
    });
    expect(movie(d, 302).genres).toEqual(['Crime', 'Film-Noir', 'Mystery', 'Thriller']);
    expect(movie(d, 267)).toEqual({ title: 'unknown', year: 0, genres: [] });
    expect(movie(d, 1003).title).toBe('Café au Lait');
    expect(d.items.size).toBe(14);
  });

  it('reads a lone u.data file by name', async () => {
    const d = await loadDataset(fixture('ml-100k', 'u.data'));
    expect(d.ratings.length).toBe(5);
    expect(movie(d, 377).genres).toEqual(["Children's", 'Comedy']);
  });
});

describe('generic CSV / TSV', () => {
  it('guesses named columns from the header (string IDs, ISO dates)', async () => {
    const d = await loadDataset(fixture('generic', 'kaggle-ratings.csv'));
    expect(rows(d)).toEqual([
      'u_alice,tt0114709,4.5,1556704800',
      'u_alice,tt0113497,3,1556791200',
      'u_bob,tt0114709,5,1577836800',
    ]);
    expect(d.movies).toBeUndefined();
  });

  it('takes columns by name', async () => {
    const d = await loadDataset(fixture('generic', 'kaggle-ratings.csv'), {
      format: 'csv',
      columns: { user: 'USER_ID', item: 'movie_id', rating: 'score' },
    });
    expect(rows(d)[0]).toBe('u_alice,tt0114709,4.5,0');
  });

  it('reads a headerless TSV by position', async () => {
    const d = await loadDataset(fixture('generic', 'positional.tsv'));
    expect(rows(d)).toEqual(['10,100,4,1000000000', '10,200,2.5,1000000100', '20,100,1,1000000200']);
    const swapped = await loadDataset(fixture('generic', 'positional.tsv'), {
      format: 'tsv',
      columns: { user: 1, item: 0, rating: 2, timestamp: null },
    });
    expect(rows(swapped)[0]).toBe('100,10,4,0');
  });

  it('reads another delimiter and quoted fields', async () => {
    const dir = tempDir();
    const path = join(dir, 'ratings.txt');
    writeFileSync(path, 'user;film;stars\n"a";"The ""X""; 1";4\nb;y;2\n');
    const d = await loadDataset(path, { format: 'csv', delimiter: ';' });
    expect(rows(d)).toEqual(['a,The "X"; 1,4,0', 'b,y,2,0']);
  });
});

describe('duplicates', () => {
  it('keeps the latest rating of a (user, movie) pair and counts the rest, in grouped and ungrouped files', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    // grouped by user: caught while reading
    writeFileSync(
      join(dir, 'a', 'ratings.csv'),
      'userId,movieId,rating,timestamp\n1,10,1.0,100\n1,20,2.0,100\n1,10,3.0,300\n1,10,2.5,200\n2,10,4.0,50\n',
    );
    const a = await loadDataset(join(dir, 'a'));
    expect(rows(a)).toEqual(['1,10,3,300', '1,20,2,100', '2,10,4,50']);
    expect(a.report.duplicates).toBe(2);
    expect(a.report.rowsRead).toBe(5);
    // user 1 comes back after user 2: caught by the final pass
    writeFileSync(
      join(dir, 'b', 'ratings.csv'),
      'userId,movieId,rating,timestamp\n1,10,1.0,300\n2,10,4.0,50\n1,10,3.0,100\n1,20,2.0,100\n2,10,5.0,60\n',
    );
    const b = await loadDataset(join(dir, 'b'));
    expect(rows(b)).toEqual(['1,10,1,300', '1,20,2,100', '2,10,5,60']);
    expect(b.report.duplicates).toBe(2);
  });
});
