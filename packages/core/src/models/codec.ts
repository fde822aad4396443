import { MODEL_FORMAT_VERSION } from '../artifact.ts';
import { type BlobEntry, decodeContainer, encodeContainer, idMapFromHeader } from '../container.ts';
import { ModelFormatError } from '../errors.ts';
import type { TrainingLog } from '../model.ts';
import { registerModelFamily } from '../registry.ts';
import type { Csr, HistoryWeighting } from './common.ts';
import { type Confidence, FactorModel } from './factor.ts';
import { ItemItemModel, type ItemWeights } from './item-item.ts';

/**
 * The ranking models' artifact: the container of container.ts (format version 1, as the MF artifact) with a magic
 * naming the family (RANKING_MAGIC: "MREA" ease, "MRKN" item-knn, "MRIA" ials, "MRBP" bpr; MF is "MRMF"), and
 * header.format naming the kind ('movierec-item-item' | 'movierec-factor') and header.family the family. Blobs:
 * - both: historyOffsets, historyItems (int32), historyValues, popularity (float32);
 * - item-item dense: kept (int32), matrix (float32, m × m); sparse: rowOffsets, rowItems (int32), rowValues;
 * - factor: userFactors, itemFactors, optional itemBias (float32).
 */
export const RANKING_MAGIC: Readonly<Record<string, string>> = {
  ease: 'MREA',
  'item-knn': 'MRKN',
  ials: 'MRIA',
  bpr: 'MRBP',
};
interface Header {
  format: 'movierec-item-item' | 'movierec-factor';
  version: number;
  family: string;
  users: string[];
  items: string[];
  config: Record<string, unknown>;
  log: TrainingLog;
  weighting?: HistoryWeighting;
  factors?: number;
  foldIn?: { l2: number; confidence: Confidence };
  blobs: BlobEntry[];
}

export type RankingModel = ItemItemModel | FactorModel;

function encode(header: Omit<Header, 'blobs' | 'version'>, arrays: [string, Float32Array | Int32Array][]) {
  const magic = RANKING_MAGIC[header.family];
  if (!magic)
    throw new ModelFormatError(`no artifact format for the model family ${JSON.stringify(header.family)}`);
  return encodeContainer(magic, MODEL_FORMAT_VERSION, arrays, (blobs) => ({
    ...header,
    version: MODEL_FORMAT_VERSION,
    blobs,
  }));
}

function historyBlobs(history: Csr, popularity: Float32Array): [string, Float32Array | Int32Array][] {
  return [
    ['historyOffsets', history.offsets],
    ['historyItems', history.items],
    ['historyValues', history.values],
    ['popularity', popularity],
  ];
}

/** Serialises an item-item or factor ranking model (lossless: float32 copied bit for bit). */
export function serializeRankingModel(model: RankingModel): Uint8Array {
  const base = {
    family: model.family,
    users: model.users.toJSON(),
    items: model.items.toJSON(),
    config: { ...model.config },
    log: { ...model.log },
  };
  const arrays = historyBlobs(model.history, model.popularity);
  if (model instanceof ItemItemModel) {
    const w = model.weights;
    if (w.kind === 'dense') arrays.push(['kept', w.kept], ['matrix', w.matrix]);
    else
      arrays.push(['rowOffsets', w.rows.offsets], ['rowItems', w.rows.items], ['rowValues', w.rows.values]);
    return encode({ ...base, format: 'movierec-item-item', weighting: model.weighting }, arrays);
  }
  arrays.push(['userFactors', model.userFactors], ['itemFactors', model.itemFactors]);
  if (model.itemBias) arrays.push(['itemBias', model.itemBias]);
  return encode(
    { ...base, format: 'movierec-factor', factors: model.factors, foldIn: model.foldInSettings },
    arrays,
  );
}

/** Reads an item-item or factor model artifact; names what is wrong otherwise (ModelFormatError). */
export function deserializeRankingModel(bytes: Uint8Array, source = 'model artifact'): RankingModel {
  const {
    magic,
    header,
    blobs: found,
    fail,
  } = decodeContainer<Header>(bytes, source, {
    magics: Object.values(RANKING_MAGIC),
    kind: 'movierec ranking model',
    version: MODEL_FORMAT_VERSION,
  });
  if (RANKING_MAGIC[header.family] !== magic)
    fail(
      `magic ${JSON.stringify(magic)} does not match the header's family ${JSON.stringify(header.family)}`,
    );
  if (header.format !== 'movierec-item-item' && header.format !== 'movierec-factor')
    fail(`header format is ${JSON.stringify(header.format)}, expected movierec-item-item or movierec-factor`);
  if (typeof header.family !== 'string') fail('header has no model family');
  if (!Array.isArray(header.users) || !Array.isArray(header.items))
    fail('header lacks the user/item ID lists');
  const int = (name: string) => {
    const a = found.get(name);
    return a instanceof Int32Array ? a : fail(`blob ${name} is missing or not int32`);
  };
  const float = (name: string) => {
    const a = found.get(name);
    return a instanceof Float32Array ? a : fail(`blob ${name} is missing or not float32`);
  };
  const common = {
    family: header.family,
    users: idMapFromHeader('user', header.users, fail),
    items: idMapFromHeader('item', header.items, fail),
    history: { offsets: int('historyOffsets'), items: int('historyItems'), values: float('historyValues') },
    popularity: float('popularity'),
    config: header.config ?? {},
    log: header.log ?? { engine: header.family, epochs: [] },
  };
  try {
    if (header.format === 'movierec-item-item') {
      const weights: ItemWeights = found.has('kept')
        ? { kind: 'dense', kept: int('kept'), matrix: float('matrix') }
        : {
            kind: 'sparse',
            rows: { offsets: int('rowOffsets'), items: int('rowItems'), values: float('rowValues') },
          };
      return new ItemItemModel({
        ...common,
        weights,
        ...(header.weighting ? { weighting: header.weighting } : {}),
      });
    }
    if (!(Number.isInteger(header.factors) && header.foldIn)) fail('factor header lacks factors or foldIn');
    return new FactorModel({
      ...common,
      factors: header.factors!,
      userFactors: float('userFactors'),
      itemFactors: float('itemFactors'),
      ...(found.has('itemBias') ? { itemBias: float('itemBias') } : {}),
      foldIn: header.foldIn!,
    });
  } catch (err) {
    if (err instanceof ModelFormatError) throw err;
    return fail((err as Error).message);
  }
}

// Every ranking family joins core's model registry (registry.ts), so whoever loads a model version by its magic —
// the API, the CLI, the database package — reads these too without naming a class.
for (const [family, magic] of Object.entries(RANKING_MAGIC)) {
  registerModelFamily({
    family,
    magic,
    serialize(model) {
      if (!(model instanceof ItemItemModel || model instanceof FactorModel) || model.family !== family)
        throw new ModelFormatError(
          `the '${family}' family serialises its own models, got a ${model.family} model`,
        );
      return serializeRankingModel(model);
    },
    deserialize: (bytes, source) => deserializeRankingModel(bytes, source),
  });
}
