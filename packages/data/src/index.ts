export { type RatingColumns, takeRows } from './columns.ts';
export { IdMap } from './id-map.ts';
