import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Dataset } from './dataset.ts';
import { DataFormatError } from './errors.ts';
import { IdRegistry } from './id-registry.ts';
import { MovieCollector, readGenreNames, readMoviesCsv, readMoviesDat, readUItem } from './movies.ts';
import { BUNDLED_DIR, DEFAULT_CACHE_DIR } from './paths.ts';
import {
  type BadRowPolicy,
  type ColumnSpec,
  type DataKind,
  type RatingsLayout,
  RatingsParser,
} from './ratings-parser.ts';
import { openSource, RATINGS_KEYS, readAll, type Source, type SourceEntry } from './sources.ts';
import {
  checkScale,
  DEFAULT_RATING_SCALE,
  HALF_STAR_SCALE,
  type RatingScale,
  WHOLE_STAR_SCALE,
} from './validate.ts';

/**
 * - 'grouplens-csv': ratings.csv (`userId,movieId,rating,timestamp`) + movies.csv — ml-latest(-small), ml-20m/25m/32m
 * - 'ml-dat': ratings.dat (`UserID::MovieID::Rating::Timestamp`) + movies.dat — ml-1m, ml-10m
 * - 'ml-100k': u.data (tab-separated user, item, rating, timestamp) + u.item (pipe-separated, genre flags)
 * - 'csv' / 'tsv': any ratings export, columns by header name or position (see LoadOptions.columns)
 */
export type DatasetFormat = 'grouplens-csv' | 'ml-dat' | 'ml-100k' | 'csv' | 'tsv';

export interface LoadOptions {
  /** Force a format instead of detecting it from file names and the first line. */
  format?: DatasetFormat;
  /**
   * 'ratings' or 'views' (watch history: user, movie[, timestamp][, weight], no rating). Default: detected — a
   * generic CSV/TSV whose header names a user and a movie column but no rating column is watch history; everything
   * else is ratings. 'views' reads any CSV/TSV (a GroupLens ratings.csv too) as watch history, ignoring a rating
   * column; a headerless one by position: user, movie[, timestamp][, weight].
   */
  kind?: DataKind;
  /** Generic csv/tsv: which columns hold what, by header name or 0-based position. Guessed from the header if absent. */
  columns?: ColumnSpec;
  /** Generic csv/tsv: field separator (default ',' for csv, tab for tsv). */
  delimiter?: string;
  /** Generic csv/tsv: whether the first line is a header (default: yes for named columns, else detected). */
  header?: boolean;
  /**
   * Valid ratings: { min, max, step } (step 0: any value in range), or [min, max] (any value). Default by format:
   * whole stars 1–5 for ml-100k and ml-1m, else half stars 0.5–5 (the API's scale). A rating off the scale is a
   * bad row ('rating out of scale', file:line).
   */
  scale?: RatingScale | readonly [number, number];
  /** 'error' (default): stop at the first bad row with a DataFormatError; 'skip': count it in report.skipped. */
  onBadRow?: BadRowPolicy;
  /**
   * Text encoding of the ratings and metadata files (default: by format; ISO-8859-1 for ml-dat/ml-100k and u.item,
   * movies.dat UTF-8 when valid, else UTF-8). In UTF-8, bytes that are not UTF-8 are an error naming file:line.
   */
  encoding?: 'utf8' | 'latin1';
  /** Read movie metadata where the format has it (default true). */
  movies?: boolean;
  /** Dataset name (default: from the path). */
  name?: string;
  /** Where download() keeps archives, for loading by name (default `.cache/datasets` under the repository root). */
  cacheDir?: string;
  /** Progress in bytes of the ratings file. */
  onProgress?: (p: { done: number; total: number }) => void;
  /** Stops reading (between chunks) with the signal's reason. */
  signal?: AbortSignal;
}

export const DATASET_NAMES = ['ml-100k', 'ml-1m', 'ml-latest-small', 'ml-25m', 'ml-32m'] as const;

/** The bundled MovieLens ml-latest-small (100,004 ratings; see packages/data/datasets/ml-latest-small/README.md). */
export function loadBundled(options: Omit<LoadOptions, 'format'> = {}): Promise<Dataset> {
  return loadDataset(BUNDLED_DIR, { name: 'ml-latest-small', ...options, format: 'grouplens-csv' });
}

/**
 * Reads a rating dataset from a file, a folder, a .gz file or a GroupLens .zip archive, or by name: 'bundled',
 * or a downloaded dataset ('ml-1m', … in the download cache; 'ml-latest-small' falls back to the bundled copy).
 */
export async function loadDataset(pathOrName: string, options: LoadOptions = {}): Promise<Dataset> {
  const path = resolveName(pathOrName, options);
  if (path === BUNDLED_DIR && !options.name) options = { ...options, name: 'ml-latest-small' };
  const source = await openSource(path);
  try {
    return await readSource(source, path, options);
  } finally {
    await source.close();
  }
}

function resolveName(pathOrName: string, options: LoadOptions): string {
  if (pathOrName === 'bundled') return BUNDLED_DIR;
  if (existsSync(pathOrName)) return pathOrName;
  if ((DATASET_NAMES as readonly string[]).includes(pathOrName)) {
    const cached = join(options.cacheDir ?? DEFAULT_CACHE_DIR, `${pathOrName}.zip`);
    if (existsSync(cached)) return cached;
    if (pathOrName === 'ml-latest-small') return BUNDLED_DIR;
    throw new Error(
      `dataset "${pathOrName}" is not downloaded (looked for ${cached}); fetch it with download('${pathOrName}') ` +
        `from @movierec/data, or pass the path of a local copy, e.g. loadDataset('/path/to/${pathOrName}.zip')`,
    );
  }
  throw new Error(
    `${pathOrName}: no such file or directory (known dataset names: bundled, ${DATASET_NAMES.join(', ')})`,
  );
}

/**
 * The scale a dataset's ratings must lie on: the option, else by format — ml-100k and ml-1m (ml-dat named so) rate
 * in whole stars 1–5, the other GroupLens releases (ml-10m onwards, ml-latest) and generic files in half stars 0.5–5.
 */
function ratingScale(
  option: RatingScale | readonly [number, number] | undefined,
  format: DatasetFormat,
  /** The dataset's name and path, to tell ml-1m from ml-10m (both ml-dat). */
  name: string,
): RatingScale {
  if (option !== undefined) {
    const scale = Array.isArray(option)
      ? { min: (option as readonly number[])[0]!, max: (option as readonly number[])[1]!, step: 0 }
      : (option as RatingScale);
    return checkScale(scale, 'option scale');
  }
  if (format === 'ml-100k' || (format === 'ml-dat' && /(^|[^0-9a-z])ml-1m([/\\.\s]|$)/i.test(name)))
    return WHOLE_STAR_SCALE;
  return format === 'grouplens-csv' ? HALF_STAR_SCALE : DEFAULT_RATING_SCALE;
}

function datasetName(path: string): string {
  const base = basename(path.replace(/[/\\]+$/, ''));
  return base.replace(/\.(zip|gz)$/i, '').replace(/\.(csv|tsv|dat|data|txt)$/i, '');
}

async function firstLine(entry: SourceEntry): Promise<string> {
  let bytes = new Uint8Array(0);
  for await (const chunk of entry.chunks()) {
    const joined = new Uint8Array(bytes.length + chunk.length);
    joined.set(bytes);
    joined.set(chunk, bytes.length);
    bytes = joined;
    if (bytes.indexOf(10) >= 0 || bytes.length > 65536) break;
  }
  const nl = bytes.indexOf(10);
  return Buffer.from(nl >= 0 ? bytes.subarray(0, nl) : bytes)
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .replace(/\r$/, '');
}

async function detect(
  source: Source,
  path: string,
): Promise<{ format: DatasetFormat; ratings: SourceEntry }> {
  for (const [key, format] of [
    ['ratings.csv', 'grouplens-csv'],
    ['ratings.dat', 'ml-dat'],
    ['u.data', 'ml-100k'],
  ] as const) {
    const entry = source.get(key);
    if (entry) {
      if (
        format === 'grouplens-csv' &&
        !/^userid,movieid,rating,timestamp\s*$/i.test(await firstLine(entry))
      ) {
        return { format: 'csv', ratings: entry };
      }
      return { format, ratings: entry };
    }
  }
  const entry = source.explicit ?? onlyCandidate(source, path);
  const line = await firstLine(entry);
  if (/^userid,movieid,rating,timestamp\s*$/i.test(line)) return { format: 'grouplens-csv', ratings: entry };
  if (line.includes('::')) return { format: 'ml-dat', ratings: entry };
  if (/\.(tsv|tab)$/.test(entry.key) || (line.includes('\t') && !line.includes(','))) {
    return { format: 'tsv', ratings: entry };
  }
  return { format: 'csv', ratings: entry };
}

function pickRatings(source: Source, format: DatasetFormat, path: string): SourceEntry {
  const key = { 'grouplens-csv': 'ratings.csv', 'ml-dat': 'ratings.dat', 'ml-100k': 'u.data' }[
    format as 'grouplens-csv'
  ];
  const byKey = key ? source.get(key) : undefined;
  if (byKey) return byKey;
  const preferred = source.entries.filter((e) => RATINGS_KEYS.includes(e.key));
  if (preferred.length === 1) return preferred[0]!;
  if (source.explicit) return source.explicit;
  return onlyCandidate(source, path, `format "${format}"${key ? ` (expected ${key})` : ''}`);
}

/** Files in a folder or archive that never hold ratings: metadata, documentation, GroupLens' other tables. */
const NOT_RATINGS =
  /^(movies\.(csv|dat)|u\.(item|genre|user|occupation|info)|users\.dat|links\.csv|tags\.(csv|dat)|genome-.*|(readme|license|licence|copying|notice|changelog|checksums?)(\..*)?|.*\.(md|txt|html?|pdf|json|xml|sha256|md5|py|r|sh))$/i;

/** The one file of a folder or archive that can hold ratings; names the files when there are none or several. */
function onlyCandidate(source: Source, path: string, wanted = 'ratings'): SourceEntry {
  const candidates = source.entries.filter((e) => !NOT_RATINGS.test(e.key));
  if (candidates.length === 1) return candidates[0]!;
  const found = source.entries.map((e) => e.key).join(', ') || 'no files';
  throw new DataFormatError(
    path,
    0,
    '',
    'no ratings file',
    candidates.length === 0
      ? `no file here can hold ${wanted} (found ${found}; documentation and metadata files are not read as ratings); pass the ratings file itself`
      : `cannot tell which file holds the ${wanted} (found ${candidates.map((e) => e.key).join(', ')}); pass the ratings file itself, with { format } if needed`,
  );
}

const HEADER_NAMES: Record<keyof ColumnSpec, string[]> = {
  user: ['user', 'userid', 'user_id', 'uid', 'customerid', 'customer_id'],
  item: ['item', 'itemid', 'item_id', 'movie', 'movieid', 'movie_id', 'mid', 'film', 'filmid', 'film_id'],
  rating: ['rating', 'ratings', 'score', 'stars'],
  timestamp: [
    'timestamp',
    'time',
    'date',
    'ts',
    'rated_at',
    'viewed_at',
    'watched_at',
    'played_at',
    'purchased_at',
  ],
  weight: [
    'weight',
    'count',
    'plays',
    'playcount',
    'play_count',
    'views',
    'view_count',
    'watches',
    'quantity',
    'minutes',
  ],
};

/**
 * Generic csv/tsv: columns by recognisable header names, else positions with the header detected. A header naming
 * a user and a movie column but no rating column makes the file watch history (kind 'views'); `kind` forces one.
 */
function guessColumns(
  line: string,
  delimiter: string,
  kind: DataKind | undefined,
): { columns: ColumnSpec; header: boolean | 'auto'; kind: DataKind } {
  const fields = line.split(delimiter).map((f) => f.trim().replace(/^"|"$/g, ''));
  const lower = fields.map((f) => f.toLowerCase());
  const find = (role: keyof ColumnSpec) => {
    const k = lower.findIndex((f) => HEADER_NAMES[role].includes(f));
    return k >= 0 ? fields[k]! : undefined;
  };
  const user = find('user');
  const item = find('item');
  const rating = find('rating');
  const timestamp = find('timestamp') ?? null;
  if (user && item && rating && kind !== 'views')
    return { columns: { user, item, rating, timestamp }, header: true, kind: 'ratings' };
  if (user && item && kind !== 'ratings')
    return {
      columns: { user, item, rating: null, timestamp, weight: find('weight') ?? null },
      header: true,
      kind: 'views',
    };
  if (kind === 'views')
    return {
      columns: {
        user: 0,
        item: 1,
        rating: null,
        timestamp: fields.length >= 3 ? 2 : null,
        weight: fields.length >= 4 ? 3 : null,
      },
      header: 'auto',
      kind: 'views',
    };
  return {
    columns: { user: 0, item: 1, rating: 2, timestamp: fields.length >= 4 ? 3 : null },
    header: 'auto',
    kind: 'ratings',
  };
}

/** GroupLens's own ratings files: ratings.csv (header, quoted fields), ratings.dat ('::'), u.data (tab). */
const GROUPLENS_RATINGS: Record<
  'grouplens-csv' | 'ml-dat' | 'ml-100k',
  { layout: RatingsLayout; encoding: 'utf8' | 'latin1' }
> = {
  'grouplens-csv': {
    layout: {
      delimiter: ',',
      columns: { user: 'userId', item: 'movieId', rating: 'rating', timestamp: 'timestamp' },
      header: true,
      exactFields: 4,
      intIds: true,
      quotes: true,
    },
    encoding: 'utf8',
  },
  'ml-dat': { layout: positionalLayout('::'), encoding: 'latin1' },
  'ml-100k': { layout: positionalLayout('\t'), encoding: 'latin1' },
};

/** user, movie, rating, timestamp in that order, no header, no quoting (ml-1m's ratings.dat, ml-100k's u.data). */
function positionalLayout(delimiter: string): RatingsLayout {
  return {
    delimiter,
    columns: { user: 0, item: 1, rating: 2, timestamp: 3 },
    header: false,
    exactFields: 4,
    intIds: true,
    quotes: false,
  };
}

async function readSource(source: Source, path: string, options: LoadOptions): Promise<Dataset> {
  let format = options.format;
  let ratingsEntry: SourceEntry;
  if (format) ratingsEntry = pickRatings(source, format, path);
  else ({ format, ratings: ratingsEntry } = await detect(source, path));
  if (options.kind === 'views') {
    // watch history is read by the generic reader (a GroupLens ratings.csv read as views: its rating is ignored)
    if (format === 'grouplens-csv') format = 'csv';
    else if (format === 'ml-dat' || format === 'ml-100k')
      throw new DataFormatError(
        ratingsEntry.display,
        0,
        '',
        'wrong format',
        `watch history (kind "views") is read from a CSV/TSV file with a header (user, movie[, timestamp][, weight]), not from the ${format} rating format`,
      );
  }
  let kind: DataKind = 'ratings';

  const users = new IdRegistry();
  const items = new IdRegistry();
  const movies = new MovieCollector();
  const skipped: Record<string, number> = {};
  const onBadRow = options.onBadRow ?? 'error';
  let haveMovies = false;

  if (options.movies !== false) {
    const ctx = { items, movies, onBadRow, skipped };
    const moviesCsv = source.get('movies.csv');
    const moviesDat = source.get('movies.dat');
    const uItem = source.get('u.item');
    const encoding = options.encoding;
    if (format === 'grouplens-csv' && moviesCsv) {
      readMoviesCsv(await readAll(moviesCsv), {
        ...ctx,
        file: moviesCsv.display,
        encoding: encoding ?? 'utf8',
      });
      haveMovies = true;
    } else if (format === 'ml-dat' && moviesDat) {
      readMoviesDat(await readAll(moviesDat), { ...ctx, file: moviesDat.display, encoding });
      haveMovies = true;
    } else if (format === 'ml-100k' && uItem) {
      const genreEntry = source.get('u.genre');
      const names = readGenreNames(genreEntry ? await readAll(genreEntry) : undefined);
      readUItem(await readAll(uItem), names, { ...ctx, file: uItem.display, encoding: encoding ?? 'latin1' });
      haveMovies = true;
    }
  }

  let layout: RatingsLayout;
  let encoding: 'utf8' | 'latin1' = 'utf8';
  switch (format) {
    case 'grouplens-csv':
    case 'ml-dat':
    case 'ml-100k':
      ({ layout, encoding } = GROUPLENS_RATINGS[format]);
      break;
    case 'csv':
    case 'tsv': {
      const delimiter = options.delimiter ?? (format === 'tsv' ? '\t' : ',');
      let columns = options.columns;
      let header: boolean | 'auto' = options.header ?? 'auto';
      if (!columns) {
        const line = await firstLine(ratingsEntry);
        if (line.trim() === '')
          throw new DataFormatError(ratingsEntry.display, 0, '', 'empty file', 'no ratings');
        const guess = guessColumns(line, delimiter, options.kind);
        columns = guess.columns;
        kind = guess.kind;
        if (options.header === undefined) header = guess.header;
      } else {
        kind = options.kind ?? (columns.rating == null ? 'views' : 'ratings');
        if (options.header === undefined) {
          const named = Object.values(columns).some((c) => typeof c === 'string');
          header = named ? true : 'auto';
        }
      }
      layout = { delimiter, columns, header, intIds: false, quotes: true, kind };
      break;
    }
  }

  const scale = ratingScale(options.scale, format, `${options.name ?? ''} ${path}`);
  if (kind === 'views' && options.scale !== undefined)
    throw new RangeError(
      `${ratingsEntry.display}: the option scale (CLI --scale) is for ratings; this file is watch history (no rating column)`,
    );
  const parser = new RatingsParser(layout, {
    file: ratingsEntry.display,
    scale,
    onBadRow,
    encoding: options.encoding ?? encoding,
    sizeHint: ratingsEntry.size,
    users,
    items,
    skipped,
  });
  const total = ratingsEntry.size ?? 0;
  const onProgress = options.onProgress;
  const signal = options.signal;
  signal?.throwIfAborted();
  for await (const chunk of ratingsEntry.chunks()) {
    signal?.throwIfAborted();
    parser.push(chunk);
    onProgress?.({ done: parser.bytesRead, total: Math.max(total, parser.bytesRead) });
  }
  parser.end();
  const ratings = parser.builder.finish(users.size, items.size);
  const itemMap = items.toIdMap();
  return {
    name: options.name ?? datasetName(path),
    ...(kind === 'views' ? { kind } : {}),
    ratings,
    users: users.toIdMap(),
    items: itemMap,
    ...(kind === 'views' ? {} : { scale }),
    ...(haveMovies ? { movies: movies.finish(itemMap.size) } : {}),
    report: { rowsRead: parser.rowsRead, skipped, duplicates: parser.builder.duplicates },
  };
}
