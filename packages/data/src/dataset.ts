import type { RatingColumns } from './columns.ts';
import type { IdMap } from './id-map.ts';
import type { RatingScale } from './validate.ts';

/** Movie metadata by dense item index (same indices as Dataset.items). */
export interface MovieTable {
  /** Title without the trailing "(1995)"; '' where the source has an empty title. */
  readonly titles: string[];
  /** Release year parsed from the title, 0 where unknown. */
  readonly years: Int16Array;
  /** Genres per movie ([] for "(no genres listed)"). */
  readonly genres: string[][];
}

/** What a reader skipped or merged, by reason (only with onBadRow: 'skip'; duplicates are always counted). */
export interface LoadReport {
  /** Rows read from the ratings file(s), before dropping anything. */
  rowsRead: number;
  /** Skipped rows by reason, e.g. { 'non-numeric rating': 3 }. */
  skipped: Record<string, number>;
  /** Duplicate (user, movie) pairs collapsed to the latest by timestamp. */
  duplicates: number;
}

/** A loaded rating dataset: columns plus the ID maps that give their indices meaning. */
export interface Dataset {
  /** Human name, e.g. 'ml-latest-small' or the file name. */
  readonly name: string;
  /**
   * What `ratings` holds (absent: 'ratings'): 'ratings' — ratings[r] is a rating on `scale`; 'views' — watch history
   * (views, plays, purchases), ratings[r] is the weight of user's interactions with the movie (> 0; 1 per view when
   * the file had no weight column; repeated views summed); 'mixed' — ratings and views together (the database's
   * interactions, `readInteractions`): a rated pair holds its rating, a pair only viewed its weight.
   */
  readonly kind?: 'ratings' | 'views' | 'mixed';
  readonly ratings: RatingColumns;
  /** External user ID ↔ dense user index. */
  readonly users: IdMap;
  /** External movie ID ↔ dense item index. Movies listed in metadata but never rated are included. */
  readonly items: IdMap;
  /** The values a rating may take (file readers always set it; absent: DEFAULT_RATING_SCALE, half stars 0.5–5). */
  readonly scale?: RatingScale;
  /** Present where the format carries metadata. */
  readonly movies?: MovieTable;
  readonly report: LoadReport;
}
