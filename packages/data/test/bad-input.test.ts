import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset } from '../src/index.ts';
import { dataFormatError, tempDir, tempFile } from './helpers.ts';

const HEADER = 'userId,movieId,rating,timestamp\n';

describe('bad input: a clear error naming file:line and the text', () => {
  it('malformed line (too many fields)', async () => {
    const path = tempFile('ratings.csv', `${HEADER}1,10,4.0,100\n1,11,4.0,100,extra\n`);
    const e = await dataFormatError(path);
    expect(e.file).toBe(path);
    expect(e.line).toBe(3);
    expect(e.text).toBe('1,11,4.0,100,extra');
    expect(e.reason).toBe('malformed line');
    expect(e.message).toContain(`${path}:3`);
    expect(e.message).toContain('1,11,4.0,100,extra');
  });

  it('malformed line (unterminated quote)', async () => {
    const e = await dataFormatError(tempFile('ratings.csv', `${HEADER}1,"10,4.0,100\n`));
    expect(e.reason).toBe('malformed line');
    expect(e.line).toBe(2);
  });

  it('non-numeric rating', async () => {
    const e = await dataFormatError(tempFile('ratings.csv', `${HEADER}1,10,4.0,100\n2,10,four,100\n`));
    expect(e.reason).toBe('non-numeric rating');
    expect(e.line).toBe(3);
    expect(e.message).toMatch(/:3: non-numeric rating: rating "four"/);
  });

  it('out-of-scale rating, and a wider scale accepts it', async () => {
    const path = tempFile('ratings.csv', `${HEADER}1,10,4.0,100\n2,10,7,100\n`);
    const e = await dataFormatError(path);
    expect(e.reason).toBe('rating out of scale');
    expect(e.message).toContain('outside 0.5–5');
    const d = await loadDataset(path, { scale: [1, 10] });
    expect(Array.from(d.ratings.ratings)).toEqual([4, 7]);
    const zero = await dataFormatError(tempFile('ratings.csv', `${HEADER}1,10,0,100\n`));
    expect(zero.reason).toBe('rating out of scale');
  });

  it('a headerless file whose first rating is bad is an error, not a header', async () => {
    const e = await dataFormatError(tempFile('ratings.tsv', '1\t10\tbad\t100\n1\t11\t4\t100\n'));
    expect(e.reason).toBe('non-numeric rating');
    expect(e.line).toBe(1);
  });

  it('missing column in a row', async () => {
    const e = await dataFormatError(tempFile('ratings.csv', `${HEADER}1,10,4.0,100\n1,11,4.0\n`));
    expect(e.reason).toBe('missing column');
    expect(e.line).toBe(3);
    expect(e.text).toBe('1,11,4.0');
  });

  it('missing column in the header', async () => {
    const e = await dataFormatError(tempFile('ratings.csv', 'userId,movieId,timestamp\n1,10,100\n'), {
      format: 'grouplens-csv',
    });
    expect(e.reason).toBe('missing column');
    expect(e.line).toBe(1);
    expect(e.message).toContain('no column "rating"');
  });

  it('empty file, and a header with no ratings', async () => {
    const empty = await dataFormatError(tempFile('ratings.csv', ''));
    expect(empty.reason).toBe('empty file');
    expect(empty.line).toBe(0);
    expect(empty.message).toMatch(/ratings\.csv: empty file/);
    const headerOnly = await dataFormatError(tempFile('ratings.csv', HEADER));
    expect(headerOnly.reason).toBe('empty file');
    const dat = await dataFormatError(tempFile('ratings.dat', ''), { format: 'ml-dat' });
    expect(dat.reason).toBe('empty file');
  });

  it('wrong separator (semicolons where commas are expected), even with skip', async () => {
    const path = tempFile('ratings.csv', 'userId;movieId;rating;timestamp\n1;10;4.0;100\n');
    const e = await dataFormatError(path, { format: 'grouplens-csv' });
    expect(e.reason).toBe('wrong separator');
    expect(e.message).toContain('";"-separated');
    const e2 = await dataFormatError(tempFile('ratings.dat', '1\t10\t4\t100\n'), {
      format: 'ml-dat',
      onBadRow: 'skip',
    });
    expect(e2.reason).toBe('wrong separator');
    expect(e2.message).toContain('tab-separated');
  });

  it('non-integer IDs in a GroupLens format', async () => {
    const e = await dataFormatError(tempFile('ratings.dat', '1::10::4::100\nabc::10::4::100\n'));
    expect(e.reason).toBe('bad user id');
    expect(e.line).toBe(2);
    const m = await dataFormatError(tempFile('ratings.dat', '1::x10::4::100\n'));
    expect(m.reason).toBe('bad movie id');
  });

  it('bad timestamp', async () => {
    const e = await dataFormatError(tempFile('ratings.csv', `${HEADER}1,10,4.0,yesterday\n`));
    expect(e.reason).toBe('bad timestamp');
    const big = await dataFormatError(tempFile('ratings.csv', `${HEADER}1,10,4.0,99999999999\n`));
    expect(big.reason).toBe('bad timestamp');
  });

  it('a bad movies.csv line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ratings.csv'), `${HEADER}1,10,4.0,100\n`);
    writeFileSync(
      join(dir, 'movies.csv'),
      'movieId,title,genres\n10,Ok (1999),Drama\n11,"Broken (1999),Drama\n',
    );
    const e = await dataFormatError(dir);
    expect(e.file).toBe(join(dir, 'movies.csv'));
    expect(e.line).toBe(3);
    expect(e.reason).toBe('malformed movie line');
  });
});

describe("onBadRow: 'skip'", () => {
  it('keeps the good rows and counts the bad by reason', async () => {
    const path = tempFile(
      'ratings.csv',
      `${HEADER}1,10,4.0,100\n1,11,x,100\n1,12,9,100\n1,13\n\n2,10,3.5,200\n2,11,3.0,200,9\nz,10,3,1\n2,12,1.0,300\r\n`,
    );
    const d = await loadDataset(path, { onBadRow: 'skip' });
    expect(d.ratings.length).toBe(3);
    expect(Array.from(d.ratings.ratings)).toEqual([4, 3.5, 1]);
    expect(d.report.rowsRead).toBe(8); // the blank line is not a row
    expect(d.report.skipped).toEqual({
      'non-numeric rating': 1,
      'rating out of scale': 1,
      'missing column': 1,
      'malformed line': 1,
      'bad user id': 1,
    });
    // skipped rows leave no trace in the ID maps
    expect(d.items.has(13)).toBe(false);
    expect(d.users.has('z')).toBe(false);
  });
});
