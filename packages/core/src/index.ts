export { allocParams, type MFParams, type UserVector } from './params.ts';
export type { Recommender, RecommendOptions, ScoredItem } from './recommender.ts';
