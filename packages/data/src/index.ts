export { type RatingColumns, takeRows } from './columns.ts';
export type { Dataset, LoadReport, MovieTable } from './dataset.ts';
export { IdMap } from './id-map.ts';
