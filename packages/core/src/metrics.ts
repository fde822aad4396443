/**
 * A model's evaluation figures with one spelling from the trainer (evaluationMetrics) through the database
 * (model_versions.metrics) to GraphQL (ModelMetrics): rating accuracy on held-out ratings (RMSE, MAE) and top-10
 * ranking quality per user (Precision/Recall/NDCG/MAP@10, hit rate, catalogue coverage, novelty), and for a ranking
 * model the popularity baseline's figures on the same split beside its own. Absent = not measured.
 */
export interface Metrics {
  rmse?: number;
  mae?: number;
  precisionAt10?: number;
  recallAt10?: number;
  ndcgAt10?: number;
  mapAt10?: number;
  hitRateAt10?: number;
  coverageAt10?: number;
  /** Mean self-information of the recommended movies, −log2(pop_i/|U|) (Zhou et al. 2010). */
  novelty?: number;
  /** The popularity baseline on the same split (a ranking model's versions store them beside its own). */
  popularityNdcgAt10?: number;
  popularityRecallAt10?: number;
  popularityCoverageAt10?: number;
  /** How many held-out ratings the figures were measured on. */
  heldOutRatings?: number;
  /** How many held-out interactions a ranking model's figures were measured on (temporal protocol). */
  heldOutInteractions?: number;
}

/** Every field of Metrics, in display order. */
export const METRIC_NAMES = [
  'rmse',
  'mae',
  'precisionAt10',
  'recallAt10',
  'ndcgAt10',
  'mapAt10',
  'hitRateAt10',
  'coverageAt10',
  'novelty',
  'popularityNdcgAt10',
  'popularityRecallAt10',
  'popularityCoverageAt10',
  'heldOutRatings',
  'heldOutInteractions',
] as const satisfies readonly (keyof Metrics)[];

/** Metrics from stored JSON (a database row, a file header): known fields with finite numbers, the rest dropped. */
export function readMetrics(json: unknown): Metrics {
  const out: Metrics = {};
  if (json === null || typeof json !== 'object') return out;
  const record = json as Record<string, unknown>;
  for (const name of METRIC_NAMES) {
    const value = record[name];
    if (typeof value === 'number' && Number.isFinite(value)) out[name] = value;
  }
  return out;
}

/** True when at least one figure is present. */
export function hasMetrics(m: Metrics): boolean {
  return METRIC_NAMES.some((name) => m[name] !== undefined);
}
