import type { NcfModel, RankingModel } from '@movierec/core';
import { type BprConfig, fitBpr } from '../engines/bpr.ts';
import { type EaseConfig, fitEase, type RankingFitOptions, trainEase } from '../engines/ease.ts';
import { fitIals, type IalsConfig, trainIals } from '../engines/ials.ts';
import { fitItemKnn, type ItemKnnConfig } from '../engines/item-knn.ts';
import { NCF_DEFAULTS, type NcfConfig, trainNcf } from '../engines/ncf.ts';
import type { InteractionData } from './interactions.ts';

/** The ranking model families fitted natively and synchronously (fitRanking; what `movierec tune` searches). */
export const RANKING_FAMILIES = ['ease', 'item-knn', 'ials', 'bpr'] as const;
export type RankingFamily = (typeof RANKING_FAMILIES)[number];

/** Every ranking family `trainRanking` (train/evaluate --task ranking, the bench) fits: the above and NCF (TF.js). */
export const ALL_RANKING_FAMILIES = [...RANKING_FAMILIES, 'ncf'] as const;
export type AnyRankingFamily = (typeof ALL_RANKING_FAMILIES)[number];

export type RankingConfig =
  | ({ family: 'ease' } & Partial<EaseConfig>)
  | ({ family: 'item-knn' } & Partial<ItemKnnConfig>)
  | ({ family: 'ials' } & Partial<IalsConfig>)
  | ({ family: 'bpr' } & Partial<BprConfig>);

/** GMF, MLP or NeuMF (He et al. 2017; `kind`), trained in TF.js layers by engines/ncf.ts. */
export type NcfRankingConfig = { family: 'ncf' } & Partial<NcfConfig>;

/** A configuration of any ranking family. */
export type AnyRankingConfig = RankingConfig | NcfRankingConfig;

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

/** The ranking model `trainRanking` returns: an item-item or factor model, or an NCF network (served natively). */
export type TrainedRankingModel = RankingModel | NcfModel;

/**
 * Fits any ranking family behind the one Recommender interface: iALS and EASE by trainIals and trainEase on
 * `options.threads` worker threads (the same model as fitRanking's for any thread count), the other native families
 * by fitRanking, the NCF family
 * (GMF, MLP, NeuMF with pre-training) by trainNcf on TF.js layers — log loss with sampled negatives over every
 * interaction as a positive. Progress counts epochs for NCF (every stage's), the families' own units otherwise.
 */
export async function trainRanking(
  data: InteractionData,
  config: AnyRankingConfig,
  options: RankingFitOptions = {},
): Promise<TrainedRankingModel> {
  // iALS and EASE on worker threads (options.threads, default every core); the others on this thread
  if (config.family === 'ials') {
    const { family: _f, ...rest } = config;
    return trainIals(data, rest, options);
  }
  if (config.family === 'ease') {
    const { family: _f, ...rest } = config;
    return trainEase(data, rest, options);
  }
  if (config.family !== 'ncf') return fitRanking(data, config, options);
  const { family: _f, ...rest } = config;
  const c = { ...NCF_DEFAULTS, ...rest };
  const total = c.kind === 'neumf' && c.pretrain ? 2 * c.pretrainEpochs + c.epochs : c.epochs;
  let done = 0;
  const { model } = await trainNcf(data, rest, {
    ...(options.signal ? { signal: options.signal } : {}),
    onBackend: (info) => options.onMessage?.(`ncf: TensorFlow.js backend ${info.name}`),
    onEpoch: () => options.onProgress?.({ done: ++done, total }),
  });
  return model;
}
