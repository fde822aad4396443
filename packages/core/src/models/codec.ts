import { readFile, rename, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { IdMap } from '@movierec/data';
import { MODEL_FORMAT_VERSION } from '../artifact.ts';
import { ModelFormatError } from '../errors.ts';
import type { TrainingLog } from '../model.ts';
import { registerModelFamily } from '../registry.ts';
import type { Csr, HistoryWeighting } from './common.ts';
import { type Confidence, FactorModel } from './factor.ts';
import { ItemItemModel, type ItemWeights } from './item-item.ts';

/**
 * The ranking models' artifact: the same container as the MF artifact (src/artifact.ts, format version 1) — a
 * 4-byte magic naming the family (RANKING_MAGIC: "MREA" ease, "MRKN" item-knn, "MRIA" ials, "MRBP" bpr; MF is
 * "MRMF"), uint32 version, uint32 header length, a UTF-8 JSON header, then 8-byte-aligned little-endian typed-array
 * blobs — with header.format naming the kind ('movierec-item-item' | 'movierec-factor') and header.family the
 * family. Blobs:
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
type Dtype = 'float32' | 'int32';
interface BlobEntry {
  name: string;
  dtype: Dtype;
  length: number;
  offset: number;
}
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

const align8 = (n: number) => (n + 7) & ~7;

function encode(header: Omit<Header, 'blobs' | 'version'>, arrays: [string, Float32Array | Int32Array][]) {
  if (endianness() !== 'LE')
    throw new ModelFormatError('model artifacts are little-endian; this host is not');
  const magic = RANKING_MAGIC[header.family];
  if (!magic)
    throw new ModelFormatError(`no artifact format for the model family ${JSON.stringify(header.family)}`);
  const blobs: BlobEntry[] = [];
  let dataBytes = 0;
  for (const [name, a] of arrays) {
    blobs.push({
      name,
      dtype: a instanceof Float32Array ? 'float32' : 'int32',
      length: a.length,
      offset: dataBytes,
    });
    dataBytes = align8(dataBytes + a.byteLength);
  }
  const json = new TextEncoder().encode(JSON.stringify({ ...header, version: MODEL_FORMAT_VERSION, blobs }));
  const dataStart = align8(12 + json.length);
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(new TextEncoder().encode(magic), 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, MODEL_FORMAT_VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  arrays.forEach(([, a], j) => {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + blobs[j]!.offset);
  });
  return out;
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

function readHeader(bytes: Uint8Array, source: string) {
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${source}: ${msg}`);
  };
  if (bytes.length < 12) fail(`only ${bytes.length} bytes, too short to be a model artifact`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (!Object.values(RANKING_MAGIC).includes(magic))
    fail(
      `not a movierec ranking model (starts with ${JSON.stringify(magic)}, expected one of ${Object.values(RANKING_MAGIC).join(', ')})`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== MODEL_FORMAT_VERSION)
    fail(
      `format version ${version}, this build reads version ${MODEL_FORMAT_VERSION}; retrain or export again`,
    );
  const length = view.getUint32(8, true);
  if (12 + length > bytes.length) fail(`header claims ${length} bytes but the file has ${bytes.length}`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + length))) as Header;
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (RANKING_MAGIC[header.family] !== magic)
    fail(
      `magic ${JSON.stringify(magic)} does not match the header's family ${JSON.stringify(header.family)}`,
    );
  return { header, dataStart: align8(12 + length), fail };
}

/** Reads an item-item or factor model artifact; names what is wrong otherwise (ModelFormatError). */
export function deserializeRankingModel(bytes: Uint8Array, source = 'model artifact'): RankingModel {
  const { header, dataStart, fail } = readHeader(bytes, source);
  if (header.format !== 'movierec-item-item' && header.format !== 'movierec-factor')
    fail(`header format is ${JSON.stringify(header.format)}, expected movierec-item-item or movierec-factor`);
  if (typeof header.family !== 'string') fail('header has no model family');
  if (!Array.isArray(header.users) || !Array.isArray(header.items))
    fail('header lacks the user/item ID lists');
  const found = new Map<string, Float32Array | Int32Array>();
  for (const blob of header.blobs ?? []) {
    const start = dataStart + blob.offset;
    const end = start + blob.length * 4;
    if (!(blob.offset >= 0 && blob.length >= 0) || end > bytes.length)
      fail(`${blob.name} runs past the end of the file (needs ${end} bytes, has ${bytes.length})`);
    // a copy of exactly these bytes: `bytes` may be a Node Buffer (a database driver's), whose slice() is a view
    // into a shared pool, so slice().buffer would be the whole pool
    const copy = new Uint8Array(bytes.subarray(start, end)).buffer;
    found.set(blob.name, blob.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy));
  }
  const int = (name: string) => {
    const a = found.get(name);
    return a instanceof Int32Array ? a : fail(`blob ${name} is missing or not int32`);
  };
  const float = (name: string) => {
    const a = found.get(name);
    return a instanceof Float32Array ? a : fail(`blob ${name} is missing or not float32`);
  };
  const ids = (what: string, list: string[]) => {
    try {
      return IdMap.fromJSON(list);
    } catch (err) {
      return fail(`${what} ID map: ${(err as Error).message}`);
    }
  };
  const common = {
    family: header.family,
    users: ids('user', header.users),
    items: ids('item', header.items),
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

/** Writes a ranking model artifact to `path` (temporary file + rename). */
export async function saveRankingModel(model: RankingModel, path: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, serializeRankingModel(model));
  await rename(tmp, path);
}

/** Reads a ranking model artifact from `path`. */
export async function loadRankingModel(path: string): Promise<RankingModel> {
  const bytes = await readFile(path);
  return deserializeRankingModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
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
