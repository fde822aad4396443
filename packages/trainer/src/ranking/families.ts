import type { RankingModel } from '@movierec/core';
import { type BprConfig, fitBpr } from '../engines/bpr.ts';
import { type EaseConfig, fitEase, type RankingFitOptions } from '../engines/ease.ts';
import { fitIals, type IalsConfig } from '../engines/ials.ts';
import { fitItemKnn, type ItemKnnConfig } from '../engines/item-knn.ts';
import type { InteractionData } from './interactions.ts';

/** The ranking model families the trainer fits (NCF lives with the tfjs engines). */
export const RANKING_FAMILIES = ['ease', 'item-knn', 'ials', 'bpr'] as const;
export type RankingFamily = (typeof RANKING_FAMILIES)[number];

export type RankingConfig =
  | ({ family: 'ease' } & Partial<EaseConfig>)
  | ({ family: 'item-knn' } & Partial<ItemKnnConfig>)
  | ({ family: 'ials' } & Partial<IalsConfig>)
  | ({ family: 'bpr' } & Partial<BprConfig>);

/** Fits the family named by `config.family` with the rest of `config` over its defaults. */
export function fitRanking(
  data: InteractionData,
  config: RankingConfig,
  options: RankingFitOptions = {},
): RankingModel {
  const { family, ...rest } = config;
  switch (family) {
    case 'ease':
      return fitEase(data, rest as Partial<EaseConfig>, options);
    case 'item-knn':
      return fitItemKnn(data, rest as Partial<ItemKnnConfig>, options);
    case 'ials':
      return fitIals(data, rest as Partial<IalsConfig>, options);
    case 'bpr':
      return fitBpr(data, rest as Partial<BprConfig>, options);
    default:
      throw new RangeError(
        `unknown ranking model family ${JSON.stringify(family)}; expected one of ${RANKING_FAMILIES.join(', ')}`,
      );
  }
}
