export { type RatingColumns, takeRows } from './columns.ts';
export type { Dataset, LoadReport, MovieTable } from './dataset.ts';
export { DataFormatError, NetworkUnreachableError } from './errors.ts';
export { IdMap } from './id-map.ts';
export { DATASET_NAMES, type DatasetFormat, type LoadOptions, loadBundled, loadDataset } from './load.ts';
export { ML100K_GENRES } from './movies.ts';
export { BUNDLED_DIR, DEFAULT_CACHE_DIR } from './paths.ts';
export type { BadRowPolicy, ColumnSpec } from './ratings-parser.ts';
export { parseTitle } from './text.ts';
