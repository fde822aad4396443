import { BPR_DEFAULTS } from '../engines/bpr.ts';
import { EASE_DEFAULTS } from '../engines/ease.ts';
import { IALS_DEFAULTS } from '../engines/ials.ts';
import { ITEM_KNN_DEFAULTS } from '../engines/item-knn.ts';
import { NCF_DEFAULTS } from '../engines/ncf.ts';
import {
  ALL_RANKING_FAMILIES,
  type AnyRankingConfig,
  type AnyRankingFamily,
  type RankingFamily,
} from './families.ts';

/** Each family's full default configuration (what a preset's fields override). */
export const RANKING_DEFAULTS: Record<RankingFamily, Record<string, unknown>> = {
  ease: EASE_DEFAULTS as unknown as Record<string, unknown>,
  'item-knn': ITEM_KNN_DEFAULTS as unknown as Record<string, unknown>,
  ials: IALS_DEFAULTS as unknown as Record<string, unknown>,
  bpr: BPR_DEFAULTS as unknown as Record<string, unknown>,
};

/** The same for every family `trainRanking` fits (NCF's included), which a preset file is checked against. */
const ALL_DEFAULTS: Record<AnyRankingFamily, Record<string, unknown>> = {
  ...RANKING_DEFAULTS,
  ncf: NCF_DEFAULTS as unknown as Record<string, unknown>,
};

/**
 * Named ranking configurations. `default` is the recommendation model the main job trains and serves: EASE with a
 * recency- and rating-weighted history, chosen by `movierec tune` on an inner temporal validation split of the
 * training part (bench/accuracy-ranking.ts prints how it compares on the test part; README "Results").
 * The per-family presets are each family's tuned setting, so the bench compares every model at its best.
 */
export const RANKING_PRESETS = {
  // `movierec tune --model ease --preset default --trials 16 --space
  //  'lambda=100:1500:log,weighting.recencyTau=5:150:log,weighting.lowWeight=0:1'`: validation NDCG@10 0.1310
  default: {
    family: 'ease',
    lambda: 278.6,
    minCount: 10,
    weighting: { recencyTau: 11.36, likeThreshold: 3.5, lowWeight: 0.07776 },
  },
  ease: { family: 'ease', lambda: 300, minCount: 10 },
  'item-knn': {
    family: 'item-knn',
    neighbours: 100,
    shrinkage: 10,
    weighting: { recencyTau: 30, likeThreshold: 3.5, lowWeight: 0.3 },
  },
  ials: { family: 'ials' },
  bpr: { family: 'bpr' },
  // the NCF family (He et al. 2017) at engines/ncf.ts' NCF_DEFAULTS: GMF 8 factors, MLP 64-32-16-8, 4 negatives;
  // NeuMF pre-trained from GMF and MLP (the paper's section 3.4.1)
  gmf: { family: 'ncf', kind: 'gmf' },
  mlp: { family: 'ncf', kind: 'mlp' },
  neumf: { family: 'ncf', kind: 'neumf', pretrain: true },
} as const satisfies Record<string, AnyRankingConfig>;

export type RankingPresetName = keyof typeof RANKING_PRESETS;

/**
 * A ranking preset file, as `movierec tune --out` writes it and `train --task ranking --preset <file>` reads it:
 *   { "task": "ranking", "model": { "family": "ease", "lambda": 420, "weighting": { … } }, "tuning": { … } }
 * `model` may also sit at the top level ({ "family": "ease", … }). Unknown fields are an error naming them.
 */
export function parseRankingPreset(json: unknown, source: string): AnyRankingConfig {
  const fail = (msg: string): never => {
    throw new RangeError(`${source}: ${msg}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return fail('expected a JSON object');
  const top = json as Record<string, unknown>;
  if (top.task !== undefined && top.task !== 'ranking')
    fail(`task is ${JSON.stringify(top.task)}; a ranking preset has task "ranking"`);
  const model = (top.model ?? top) as Record<string, unknown>;
  if (typeof model !== 'object' || model === null) return fail('"model" must be an object');
  const family = model.family;
  if (typeof family !== 'string' || !(ALL_RANKING_FAMILIES as readonly string[]).includes(family))
    fail(`model.family is ${JSON.stringify(family)}; expected one of ${ALL_RANKING_FAMILIES.join(', ')}`);
  const defaults = ALL_DEFAULTS[family as AnyRankingFamily];
  const check = (obj: Record<string, unknown>, ref: Record<string, unknown>, path: string) => {
    for (const [key, value] of Object.entries(obj)) {
      if (path === '' && key === 'family') continue;
      if (path === '' && top.model === undefined && (key === 'task' || key === 'tuning')) continue;
      if (!(key in ref))
        fail(`unknown field ${path}${key} for ${family} (known: ${Object.keys(ref).join(', ')})`);
      const want = ref[key];
      if (Array.isArray(want)) {
        // a list of numbers of any length (NCF's layers)
        if (!Array.isArray(value) || value.some((x) => typeof x !== 'number'))
          fail(`${path}${key} must be a list of numbers, got ${JSON.stringify(value)}`);
      } else if (typeof want === 'object' && want !== null) {
        if (typeof value !== 'object' || value === null) fail(`${path}${key} must be an object`);
        check(value as Record<string, unknown>, want as Record<string, unknown>, `${path}${key}.`);
      } else if (typeof value !== typeof want)
        fail(`${path}${key} must be a ${typeof want}, got ${JSON.stringify(value)}`);
    }
  };
  check(model, defaults, '');
  const { task: _t, tuning: _u, ...config } = model;
  return config as unknown as AnyRankingConfig;
}

/** A preset by name, or undefined when `name` is not one. */
export function rankingPreset(name: string): AnyRankingConfig | undefined {
  return (RANKING_PRESETS as Record<string, AnyRankingConfig>)[name];
}
