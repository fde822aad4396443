import type { MovieTable } from './dataset.ts';
import { DataFormatError } from './errors.ts';
import type { IdRegistry } from './id-registry.ts';
import type { BadRowPolicy } from './ratings-parser.ts';
import { decodeText, parseTitle, splitFields } from './text.ts';

/** ml-100k's u.genre order (the 19 flag columns of u.item); 'unknown' is read as no genre. */
export const ML100K_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

/** Movie metadata collected by item index while files are read; sized to the final item count by finish(). */
export class MovieCollector {
  readonly titles: string[] = [];
  readonly years: number[] = [];
  readonly genres: string[][] = [];

  set(index: number, title: string, year: number, genres: string[]): void {
    this.titles[index] = title;
    this.years[index] = year;
    this.genres[index] = genres;
  }

  finish(itemCount: number): MovieTable {
    const titles = new Array<string>(itemCount);
    const years = new Int16Array(itemCount);
    const genres = new Array<string[]>(itemCount);
    for (let i = 0; i < itemCount; i++) {
      titles[i] = this.titles[i] ?? '';
      years[i] = this.years[i] ?? 0;
      genres[i] = this.genres[i] ?? [];
    }
    return { titles, years, genres };
  }
}

interface MovieReadContext {
  file: string;
  /** Text encoding; undefined: UTF-8 when valid, else ISO-8859-1 (movies.dat). */
  encoding?: 'utf8' | 'latin1' | undefined;
  items: IdRegistry;
  movies: MovieCollector;
  onBadRow: BadRowPolicy;
  skipped: Record<string, number>;
}

function splitGenres(field: string, separator: string): string[] {
  const s = field.trim();
  if (s === '' || s === '(no genres listed)') return [];
  return s.split(separator).filter((g) => g !== '');
}

function lines(bytes: Uint8Array, encoding: 'utf8' | 'latin1' | undefined, file: string): string[] {
  let text = decodeText(bytes, encoding, file);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text.split('\n');
}

function bad(ctx: MovieReadContext, line: number, text: string, reason: string, detail: string): void {
  if (ctx.onBadRow === 'error') throw new DataFormatError(ctx.file, line, text.slice(0, 200), reason, detail);
  ctx.skipped[reason] = (ctx.skipped[reason] ?? 0) + 1;
}

/** GroupLens movies.csv: `movieId,title,genres`, titles quoted when they hold commas, genres split on '|'. */
export function readMoviesCsv(bytes: Uint8Array, ctx: MovieReadContext): void {
  const all = lines(bytes, ctx.encoding ?? 'utf8', ctx.file);
  let headerSeen = false;
  for (let k = 0; k < all.length; k++) {
    const text = all[k]!.replace(/\r$/, '');
    if (text.trim() === '') continue;
    if (!headerSeen) {
      headerSeen = true;
      if (!/^movieid,/i.test(text)) {
        throw new DataFormatError(
          ctx.file,
          k + 1,
          text,
          'missing column',
          'expected the header movieId,title,genres',
        );
      }
      continue;
    }
    // movieId is the first field and genres the last (neither holds a comma), the title is what lies between
    const first = text.indexOf(',');
    const last = text.lastIndexOf(',');
    if (first < 0 || last === first) {
      bad(ctx, k + 1, text, 'malformed movie line', 'expected 3 fields: movieId,title,genres');
      continue;
    }
    let rawTitle = text.slice(first + 1, last);
    if (rawTitle.charCodeAt(0) === 34) {
      const unquoted = splitFields(rawTitle, ',', true);
      if (unquoted?.length !== 1) {
        bad(ctx, k + 1, text, 'malformed movie line', 'unterminated quote in the title');
        continue;
      }
      rawTitle = unquoted[0]!;
    }
    const id = text.slice(0, first).trim();
    if (!/^\d+$/.test(id)) {
      bad(ctx, k + 1, text, 'bad movie id', `movie ID ${JSON.stringify(id)}`);
      continue;
    }
    const { title, year } = parseTitle(rawTitle);
    ctx.movies.set(ctx.items.addString(id), title, year, splitGenres(text.slice(last + 1), '|'));
  }
}

/** ml-1m / ml-10m movies.dat: `MovieID::Title::Genres` (ISO-8859-1 in ml-1m). */
export function readMoviesDat(bytes: Uint8Array, ctx: MovieReadContext): void {
  const all = lines(bytes, ctx.encoding, ctx.file);
  for (let k = 0; k < all.length; k++) {
    const text = all[k]!.replace(/\r$/, '');
    if (text.trim() === '') continue;
    const f = text.split('::');
    if (f.length !== 3) {
      bad(ctx, k + 1, text, 'malformed movie line', `expected 3 "::"-separated fields, found ${f.length}`);
      continue;
    }
    const id = f[0]!.trim();
    if (!/^\d+$/.test(id)) {
      bad(ctx, k + 1, text, 'bad movie id', `movie ID ${JSON.stringify(id)}`);
      continue;
    }
    const { title, year } = parseTitle(f[1]!);
    ctx.movies.set(ctx.items.addString(id), title, year, splitGenres(f[2]!, '|'));
  }
}

/** ml-100k u.genre: `name|flag-index` lines; falls back to the published order. */
export function readGenreNames(bytes: Uint8Array | undefined): string[] {
  if (!bytes) return ML100K_GENRES;
  const names: string[] = [];
  for (const line of lines(bytes, 'latin1', 'u.genre')) {
    const [name, index] = line.replace(/\r$/, '').split('|');
    if (name && index && /^\d+$/.test(index)) names[Number(index)] = name;
  }
  return names.length > 0 ? names : ML100K_GENRES;
}

/** ml-100k u.item: `id|title|release date|video release date|IMDb URL|` then one 0/1 flag per genre. */
export function readUItem(bytes: Uint8Array, genreNames: string[], ctx: MovieReadContext): void {
  const all = lines(bytes, ctx.encoding ?? 'latin1', ctx.file);
  const expected = 5 + genreNames.length;
  for (let k = 0; k < all.length; k++) {
    const text = all[k]!.replace(/\r$/, '');
    if (text.trim() === '') continue;
    const f = text.split('|');
    if (f.length !== expected) {
      bad(
        ctx,
        k + 1,
        text,
        'malformed movie line',
        `expected ${expected} "|"-separated fields, found ${f.length}`,
      );
      continue;
    }
    const id = f[0]!.trim();
    if (!/^\d+$/.test(id)) {
      bad(ctx, k + 1, text, 'bad movie id', `movie ID ${JSON.stringify(id)}`);
      continue;
    }
    let { title, year } = parseTitle(f[1]!);
    if (year === 0) {
      const m = /(\d{4})\s*$/.exec(f[2]!); // release date "01-Jan-1995"
      if (m) year = Number(m[1]);
    }
    const genres: string[] = [];
    for (let g = 0; g < genreNames.length; g++) {
      const name = genreNames[g];
      if (f[5 + g] === '1' && name && name !== 'unknown') genres.push(name);
    }
    ctx.movies.set(ctx.items.addString(id), title, year, genres);
  }
}
