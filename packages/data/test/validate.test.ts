import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  checkId,
  checkRating,
  checkScale,
  HALF_STAR_SCALE,
  InvalidInputError,
  idProblem,
  loadDataset,
  ratingProblem,
  WHOLE_STAR_SCALE,
} from '../src/index.ts';
import { dataFormatError, fixture, tempDir, tempFile } from './helpers.ts';

const HEADER = 'userId,movieId,rating,timestamp\n';

describe('checkId: one rule for IDs everywhere', () => {
  const hostile: [string, string, RegExp][] = [
    ['lone high surrogate', '\ud800', /lone surrogate U\+D800/],
    ['lone high surrogate (other)', '\udbff', /lone surrogate U\+DBFF/],
    ['lone low surrogate', 'a\udc00', /lone surrogate U\+DC00 at position 1/],
    ['reversed pair', '\ude00\ud83d', /lone surrogate/],
    ['NUL', 'a\u0000b', /control characters, found U\+0000 at position 1/],
    ['bell', '\u0007', /control characters, found U\+0007/],
    ['newline', 'user\n1', /control characters, found U\+000A/],
    ['DEL', 'x\u007f', /U\+007F/],
    ['C1 next line', 'x\u0085', /U\+0085/],
    ['empty', '', /must not be empty/],
    ['surrounding spaces', ' 1 ', /spaces/],
    ['too long', 'x'.repeat(129), /at most 128 characters, got 129/],
  ];
  for (const [what, id, message] of hostile) {
    it(`refuses ${what}, naming where`, () => {
      expect(idProblem(id)).toMatch(message);
      let caught: unknown;
      try {
        checkId(id, 'argument userId');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidInputError);
      expect((caught as InvalidInputError).where).toBe('argument userId');
      expect((caught as InvalidInputError).message).toMatch(/^argument userId: /);
    });
  }

  it('accepts ordinary IDs, accents and astral characters (a surrogate pair is well-formed)', () => {
    for (const id of ['1', 'new-user', 'Amélie', 'user 7', '😀', 'x'.repeat(128), '\u00a0x'.trim()]) {
      expect(idProblem(id), id).toBeUndefined();
      expect(checkId(id, 'field')).toBe(id);
    }
  });

  it('keeps "\\ud800" and "\\udbff" apart by refusing both (PostgreSQL would store both as U+FFFD)', () => {
    expect(() => checkId('\ud800', 'a')).toThrow(InvalidInputError);
    expect(() => checkId('\udbff', 'a')).toThrow(InvalidInputError);
  });
});

describe('rating scales', () => {
  it('half stars: 0.5…5 in steps of 0.5', () => {
    for (const r of [0.5, 1, 3.5, 5]) expect(ratingProblem(r, HALF_STAR_SCALE)).toBeUndefined();
    expect(ratingProblem(3.3, HALF_STAR_SCALE)).toBe('rating 3.3 is not on the scale 0.5–5 in steps of 0.5');
    expect(ratingProblem(0, HALF_STAR_SCALE)).toMatch(/outside 0\.5–5/);
    expect(ratingProblem(5.5, HALF_STAR_SCALE)).toMatch(/outside/);
    expect(ratingProblem(Number.NaN, HALF_STAR_SCALE)).toMatch(/finite number/);
    expect(ratingProblem(Number.POSITIVE_INFINITY, HALF_STAR_SCALE)).toMatch(/finite number/);
    // float32 storage of a half star is exact; of a decimal step it is not, and still on the grid
    expect(ratingProblem(Math.fround(0.3), { min: 0.1, max: 1, step: 0.1 })).toBeUndefined();
  });

  it('whole stars: 1…5 in steps of 1', () => {
    expect(ratingProblem(3, WHOLE_STAR_SCALE)).toBeUndefined();
    expect(ratingProblem(3.5, WHOLE_STAR_SCALE)).toMatch(/not on the scale 1–5 in steps of 1/);
    expect(ratingProblem(0.5, WHOLE_STAR_SCALE)).toMatch(/outside 1–5/);
  });

  it('checkRating names where; checkScale refuses unusable scales', () => {
    expect(() => checkRating(3.3, HALF_STAR_SCALE, 'argument rating')).toThrow(
      /^argument rating: rating 3\.3 is not on the scale/,
    );
    expect(checkRating(4.5, HALF_STAR_SCALE, 'x')).toBe(4.5);
    expect(() => checkScale({ min: 5, max: 1, step: 1 })).toThrow(RangeError);
    expect(() => checkScale({ min: 1, max: 5, step: -1 })).toThrow(RangeError);
    expect(() => checkScale({ min: 1, max: 5, step: 3 })).toThrow(/dividing/);
    expect(() => checkScale({ min: Number.NaN, max: 5, step: 1 })).toThrow(RangeError);
  });
});

describe('the readers enforce the same rules, with file:line', () => {
  it('a rating of 3.3 in a GroupLens file is refused at its line', async () => {
    const path = tempFile('ratings.csv', `${HEADER}1,10,4.0,100\n2,10,3.3,100\n`);
    const e = await dataFormatError(path);
    expect(e.reason).toBe('rating out of scale');
    expect(e.line).toBe(3);
    expect(e.message).toContain(
      `${path}:3: rating out of scale: rating 3.3 is not on the scale 0.5–5 in steps of 0.5`,
    );
    const skipped = await loadDataset(path, { onBadRow: 'skip' });
    expect(skipped.report.skipped).toEqual({ 'rating out of scale': 1 });
  });

  it('a dataset carries its scale: half stars for ml-latest, whole stars for ml-100k and ml-1m', async () => {
    expect((await loadDataset(fixture('ml-latest-small-like'))).scale).toEqual(HALF_STAR_SCALE);
    expect((await loadDataset(fixture('ml-100k'))).scale).toEqual(WHOLE_STAR_SCALE);
    expect((await loadDataset(fixture('ml-1m'))).scale).toEqual(WHOLE_STAR_SCALE);
    expect((await loadDataset(fixture('ml-10m'))).scale).toEqual(HALF_STAR_SCALE);
  });

  it('a half star in ml-100k (whole stars) is refused', async () => {
    const dir = join(tempDir(), 'ml-100k');
    mkdirSync(dir);
    tempFile('u.data', '1\t10\t4\t100\n2\t10\t3.5\t100\n', dir);
    const e = await dataFormatError(dir);
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/rating 3\.5 is not on the scale 1–5 in steps of 1/);
  });

  it('a half star in an ml-1m ratings.dat is refused', async () => {
    const dir = join(tempDir(), 'ml-1m');
    mkdirSync(dir);
    tempFile('ratings.dat', '1::10::4::100\n1::11::2.5::100\n', dir);
    const e = await dataFormatError(dir);
    expect(e.line).toBe(2);
    expect(e.reason).toBe('rating out of scale');
  });

  it('an explicit scale (object or [min, max]) replaces the default', async () => {
    const path = tempFile('scores.csv', 'user,item,score\na,x,7.25\nb,x,10\n');
    expect((await dataFormatError(path)).reason).toBe('rating out of scale');
    const d = await loadDataset(path, { scale: { min: 0, max: 10, step: 0.25 } });
    expect(Array.from(d.ratings.ratings)).toEqual([7.25, 10]);
    const open = await loadDataset(path, { scale: [0, 10] });
    expect(open.scale).toEqual({ min: 0, max: 10, step: 0 });
    await expect(loadDataset(path, { scale: { min: 10, max: 0, step: 1 } })).rejects.toThrow(/option scale/);
  });

  it('control characters and NUL in a string ID are refused at their line', async () => {
    const nul = await dataFormatError(tempFile('r.csv', 'user,item,rating\nalice,x,4\nbo\u0000b,x,4\n'));
    expect(nul.reason).toBe('bad user id');
    expect(nul.line).toBe(3);
    expect(nul.message).toMatch(/U\+0000/);
    const bell = await dataFormatError(tempFile('r.csv', 'user,item,rating\nalice,x\u0007y,4\n'));
    expect(bell.reason).toBe('bad movie id');
    expect(bell.line).toBe(2);
    const long = await dataFormatError(tempFile('r.csv', `user,item,rating\n${'u'.repeat(200)},x,4\n`));
    expect(long.reason).toBe('bad user id');
    expect(long.message).toMatch(/at most 128/);
  });

  it('a surrogate encoded in the file (CESU-8 bytes ED A0 80) is not UTF-8: refused at its line', async () => {
    const bytes = Buffer.concat([
      Buffer.from('user,item,rating\nalice,x,4\n'),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from(',x,4\n'),
    ]);
    const e = await dataFormatError(tempFile('r.csv', bytes));
    expect(e.reason).toBe('invalid UTF-8');
    expect(e.line).toBe(3);
  });
});

describe('encodings', () => {
  const latin1Movies = Buffer.from(
    'movieId,title,genres\n10,Heat (1995),Action\n50,Am\xe9lie (2001),Comedy|Romance\n',
    'latin1',
  );

  it('a Latin-1 movies.csv names file:line and suggests --encoding latin1; with it, it loads', async () => {
    const dir = tempDir();
    tempFile('ratings.csv', `${HEADER}1,10,4.0,100\n1,50,4.5,100\n`, dir);
    const movies = tempFile('movies.csv', latin1Movies, dir);
    const e = await dataFormatError(dir);
    expect(e.file).toBe(movies);
    expect(e.line).toBe(3);
    expect(e.reason).toBe('invalid UTF-8');
    expect(e.message).toContain('--encoding latin1');
    expect(e.text).toBe('50,Amélie (2001),Comedy|Romance');
    const d = await loadDataset(dir, { encoding: 'latin1' });
    expect(d.movies?.titles[d.items.indexOf('50')]).toBe('Amélie');
  });

  it('Latin-1 string IDs in a ratings file: refused in UTF-8 with file:line, read right with latin1', async () => {
    const path = tempFile('r.csv', Buffer.from('user,item,rating\nJos\xe9,x,4\n', 'latin1'));
    const e = await dataFormatError(path);
    expect(e.reason).toBe('invalid UTF-8');
    expect(e.message).toContain(`${path}:2`);
    const d = await loadDataset(path, { encoding: 'latin1' });
    expect(d.users.ids()).toEqual(['José']);
  });

  it('valid UTF-8 stays valid (a UTF-8 movies.csv, accents in IDs)', async () => {
    const dir = tempDir();
    tempFile('ratings.csv', `${HEADER}1,50,4.5,100\n`, dir);
    tempFile('movies.csv', 'movieId,title,genres\n50,Amélie (2001),Comedy\n', dir);
    const d = await loadDataset(dir);
    expect(d.movies?.titles[0]).toBe('Amélie');
  });
});

describe('compressed files and folders', () => {
  it('a truncated .gz names the file and says truncated', async () => {
    const rows = Array.from({ length: 20_000 }, (_, k) => `${k % 500},${k % 97},4.0,${k}`).join('\n');
    const full = gzipSync(`${HEADER}${rows}\n`);
    const path = tempFile('ratings.csv.gz', full.subarray(0, Math.floor(full.length / 2)));
    const e = await dataFormatError(path);
    expect(e.reason).toBe('truncated file');
    expect(e.file).toBe(path);
    expect(e.message).toMatch(/ratings\.csv\.gz: truncated file: .*download or copy it again/);
  });

  it('a .gz that is not gzip at all is named as corrupt', async () => {
    const e = await dataFormatError(
      tempFile('ratings.csv.gz', 'definitely not gzip data, just text\n'.repeat(3)),
    );
    expect(e.reason).toBe('corrupt file');
  });

  it('a readme.txt beside the ratings is not taken for them', async () => {
    const dir = tempDir();
    tempFile('readme.txt', 'This folder holds the views of our users.\nSee the wiki.\n', dir);
    tempFile('views.csv', 'user,item,rating\na,x,4\n', dir);
    const d = await loadDataset(dir);
    expect(d.ratings.length).toBe(1);
  });

  it('a folder with only documentation and metadata says no file holds ratings, listing what it found', async () => {
    const dir = tempDir();
    tempFile('readme.txt', 'hello\n', dir);
    tempFile('movies.csv', 'movieId,title,genres\n1,A (1999),Drama\n', dir);
    const e = await dataFormatError(dir);
    expect(e.reason).toBe('no ratings file');
    expect(e.message).toMatch(/found .*readme\.txt.*movies\.csv|found .*movies\.csv.*readme\.txt/);
  });

  it('a lone file is read whatever its name (ratings.txt)', async () => {
    const path = tempFile('ratings.txt', 'user,item,rating\na,x,4\n');
    expect((await loadDataset(path)).ratings.length).toBe(1);
    expect(readFileSync(path, 'utf8')).toContain('a,x,4');
  });
});
