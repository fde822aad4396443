export { allocColumns, type RatingColumns, takeRows } from './columns.ts';
export type { Dataset, LoadReport, MovieTable } from './dataset.ts';
export {
  DOWNLOADABLE,
  type DownloadableDataset,
  type DownloadOptions,
  type DownloadResult,
  download,
  GROUPLENS_BASE_URL,
  KNOWN_SHA256,
} from './download.ts';
export { DataFormatError, NetworkUnreachableError } from './errors.ts';
export { IdMap } from './id-map.ts';
export {
  describeInteractions,
  INTERACTIONS_SYNTAX,
  type InteractionOptions,
  parseInteractions,
  toInteractions,
  VIEW_RATING,
  viewValue,
} from './interactions.ts';
export { DATASET_NAMES, type DatasetFormat, type LoadOptions, loadBundled, loadDataset } from './load.ts';
export { ML100K_GENRES } from './movies.ts';
export { BUNDLED_DIR, DEFAULT_CACHE_DIR } from './paths.ts';
export type { BadRowPolicy, ColumnSpec, DataKind } from './ratings-parser.ts';
export { Rng } from './rng.ts';
export { kFold, randomSplit, type Split, type UserHoldoutOptions, userHoldout } from './splits.ts';
export {
  generateSynthetic,
  type PlantedModel,
  type SyntheticDataset,
  type SyntheticOptions,
  type SyntheticPreset,
} from './synthetic.ts';
export { parseTitle } from './text.ts';
export {
  checkId,
  checkRating,
  checkScale,
  DEFAULT_RATING_SCALE,
  describeScale,
  HALF_STAR_SCALE,
  InvalidInputError,
  idProblem,
  MAX_ID_LENGTH,
  onGrid,
  type RatingScale,
  ratingProblem,
  WHOLE_STAR_SCALE,
} from './validate.ts';
export { writeRatingsCsv } from './write.ts';
