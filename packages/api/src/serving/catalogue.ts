/**
 * The movie catalogue held in memory next to the active models: metadata and rating statistics by catalogue index
 * (`Catalogue`), and for each served model the links between catalogue indices and its dense item indices with
 * per-genre item masks (`ItemSpace`).
 */
import type { IdMap } from '@movierec/data';
import type { MovieRows } from '@movierec/db';

export type { MovieRows };

/**
 * What the GraphQL `Movie` type resolves from. The movie's own fields (id, title, year, genres) are copied in once,
 * when the catalogue first hands the view out (views are kept per catalogue, i.e. per model load): plain data
 * properties are what compiled queries read fastest. Statistics read through to the catalogue's live columns.
 */
export class MovieView {
  readonly #catalogue: Catalogue;
  readonly index: number;
  readonly id: string;
  readonly title: string;
  readonly year: number | null;
  readonly genres: string[];
  constructor(catalogue: Catalogue, index: number) {
    this.#catalogue = catalogue;
    this.index = index;
    const rows = catalogue.rows;
    this.id = rows.externalIds[index]!;
    this.title = rows.titles[index]!;
    this.year = rows.years[index] || null;
    this.genres = rows.genres[index]!;
  }
  /** Bumped on every rating change of this movie. */
  get statsVersion(): number {
    return this.#catalogue.statsVersion[this.index]!;
  }
  get ratingCount(): number {
    return this.#catalogue.rows.ratingCounts[this.index]!;
  }
  get averageRating(): number | null {
    const n = this.#catalogue.rows.ratingCounts[this.index]!;
    // mean rating = Σ r / n
    return n > 0 ? this.#catalogue.rows.ratingSums[this.index]! / n : null;
  }
}

export class Catalogue {
  readonly rows: MovieRows;
  readonly size: number;
  readonly #byExternal = new Map<string, number>();
  readonly #titlesLower: string[];
  readonly #views: (MovieView | undefined)[];
  readonly #genreNames = new Map<string, string>();

  constructor(
    rows: MovieRows,
    /** The database's stamp of these movies' metadata (ApiStore.movieStamp), null where the store has none. */
    readonly stamp: string | null = null,
  ) {
    this.rows = rows;
    this.size = rows.externalIds.length;
    this.#titlesLower = rows.titles.map((t) => t.toLowerCase());
    this.#views = new Array(this.size);
    this.statsVersion = new Uint32Array(this.size);
    for (let m = 0; m < this.size; m++) {
      this.#byExternal.set(rows.externalIds[m]!, m);
      for (const g of rows.genres[m]!) {
        const key = g.toLowerCase();
        if (!this.#genreNames.has(key)) this.#genreNames.set(key, g);
      }
    }
  }

  /** Catalogue index of an external movie ID, -1 when unknown. */
  indexOf(externalId: string): number {
    return this.#byExternal.get(externalId) ?? -1;
  }

  view(index: number): MovieView {
    let v = this.#views[index];
    if (v === undefined) this.#views[index] = v = new MovieView(this, index);
    return v;
  }

  /** Every genre name in the catalogue. */
  genreNames(): string[] {
    return [...this.#genreNames.values()].sort();
  }

  hasGenre(genre: string): boolean {
    return this.#genreNames.has(genre.toLowerCase());
  }

  /**
   * Catalogue indices in catalogue order whose title contains `search` (case-insensitive) and that carry `genre`,
   * starting after catalogue index `after` (exclusive); returns up to `first` of them and the total match count.
   */
  search(
    search: string | null,
    genre: string | null,
    first: number,
    after: number,
  ): { indices: number[]; total: number; hasNext: boolean } {
    const needle = search === null || search === '' ? null : search.toLowerCase();
    const genreKey = genre === null || genre === '' ? null : genre.toLowerCase();
    const indices: number[] = [];
    let total = 0;
    let hasNext = false;
    for (let m = 0; m < this.size; m++) {
      if (needle !== null && !this.#titlesLower[m]!.includes(needle)) continue;
      if (genreKey !== null && !this.rows.genres[m]!.some((g) => g.toLowerCase() === genreKey)) continue;
      total++;
      if (m <= after) continue;
      if (indices.length < first) indices.push(m);
      else hasNext = true;
    }
    return { indices, total, hasNext };
  }

  /**
   * Takes fresh rating statistics of the same movies (equal `stamp`), bumping statsVersion where they changed, e.g.
   * by ratings other processes stored.
   */
  refreshStats(rows: Pick<MovieRows, 'ratingCounts' | 'ratingSums'>): void {
    const { ratingCounts, ratingSums } = this.rows;
    for (let m = 0; m < this.size; m++) {
      if (ratingCounts[m] === rows.ratingCounts[m] && ratingSums[m] === rows.ratingSums[m]) continue;
      ratingCounts[m] = rows.ratingCounts[m]!;
      ratingSums[m] = rows.ratingSums[m]!;
      this.statsVersion[m]!++;
    }
  }

  /** Per movie, bumped whenever its rating statistics change (cached responses showing them compare it). */
  readonly statsVersion: Uint32Array = new Uint32Array(0);

  /** Applies one rating change to the in-memory statistics (previous null for a new rating). */
  applyRating(index: number, rating: number, previous: number | null): void {
    const rows = this.rows;
    this.statsVersion[index]!++;
    if (previous === null) rows.ratingCounts[index]!++;
    else rows.ratingSums[index]! -= previous;
    rows.ratingSums[index]! += rating;
  }
}

/**
 * One served model's items against the catalogue: catalogue index ↔ the model's dense item index, which items
 * are servable (have catalogue metadata) and per-genre masks over the model's items (the `allowed` masks of
 * core's RecommendQuery).
 */
export class ItemSpace {
  readonly catalogue: Catalogue;
  readonly items: IdMap;
  /** Catalogue index → model item index, -1 where the model does not know the movie. */
  readonly itemOf: Int32Array;
  /** Model item index → catalogue index, -1 where the movie is missing from the catalogue. */
  readonly movieOf: Int32Array;
  /** Model items that have catalogue metadata (1) — only these are recommended. */
  readonly servable: Uint8Array;
  /** Lower-cased genre → mask over model items; built on first use. */
  readonly #genreMasks = new Map<string, Uint8Array>();

  constructor(catalogue: Catalogue, items: IdMap) {
    this.catalogue = catalogue;
    this.items = items;
    this.itemOf = new Int32Array(catalogue.size).fill(-1);
    this.movieOf = new Int32Array(items.size).fill(-1);
    this.servable = new Uint8Array(items.size);
    for (let m = 0; m < catalogue.size; m++) {
      const item = items.indexOf(catalogue.rows.externalIds[m]!);
      this.itemOf[m] = item;
      if (item >= 0) {
        this.movieOf[item] = m;
        this.servable[item] = 1;
      }
    }
  }

  /** The movie behind a model item, or null where the catalogue lacks it. */
  viewOfItem(item: number): MovieView | null {
    const m = this.movieOf[item] ?? -1;
    return m >= 0 ? this.catalogue.view(m) : null;
  }

  /**
   * Mask over model items: 1 where the movie is in the catalogue and carries at least one of `genres`
   * (case-insensitive); with no genres, every servable item.
   */
  itemMask(genres: readonly string[] | null): Uint8Array {
    if (genres === null || genres.length === 0) return this.servable;
    const keys = [...new Set(genres.map((g) => g.toLowerCase()))].sort();
    const cacheKey = keys.join('\u0000');
    let mask = this.#genreMasks.get(cacheKey);
    if (mask !== undefined) return mask;
    mask = new Uint8Array(this.movieOf.length);
    const wanted = new Set(keys);
    const genresOf = this.catalogue.rows.genres;
    for (let item = 0; item < this.movieOf.length; item++) {
      const m = this.movieOf[item]!;
      if (m < 0) continue;
      for (const g of genresOf[m]!) {
        if (wanted.has(g.toLowerCase())) {
          mask[item] = 1;
          break;
        }
      }
    }
    if (this.#genreMasks.size < 1024) this.#genreMasks.set(cacheKey, mask);
    return mask;
  }
}
