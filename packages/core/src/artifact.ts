import { type Blob, type BlobDtype, decodeFamily, encodeFamily, type FamilyFormat } from './container.ts';
import { MFModel, type TrainingLog } from './model.ts';
import type { MFParams } from './params.ts';
import { registerModelClass } from './registry.ts';
import { type TemporalLayout, type TemporalParams, temporalLayout } from './temporal.ts';

/**
 * The MF model artifact: the container of container.ts with the magic "MRMF", format version 1. Header (UTF-8 JSON):
 * { format: 'movierec-mf', version, shapes {numUsers,numItems,factors}, globalMean, foldInL2, config, log,
 * users: [ids], items: [ids], blobs }. Blobs: userBias, itemBias (float32), userFactors, itemFactors (float32,
 * row-major), and optionally ratedOffsets, ratedItems (int32, the CSR index of training ratings used by
 * excludeRated) and itemRankBias (float32, numItems: the ranking-only item term, see MFParams).
 * A time-aware model (MFParams.temporal, Koren 2009) adds the header field `temporal` { trainStart, trainEnd,
 * binStart, binWidth, bins, beta } and the blobs temporal.itemBinBias (float32, numItems × bins),
 * temporal.userDrift, temporal.userMeanDay (float32, numUsers), temporal.userLastTime (int32, numUsers),
 * temporal.dayOffsets (int32, numUsers + 1), temporal.days (int32), temporal.dayBias (float32), each only when the
 * term is present. Still version 1: a file without them loads as a model without time terms, and a reader that
 * predates them ignores them (and predicts without time terms).
 */
export const MODEL_FORMAT_VERSION = 1;
const MF_FORMAT: FamilyFormat = { magic: 'MRMF', version: MODEL_FORMAT_VERSION, format: 'movierec-mf' };

/** The MF header's own fields (container.ts's encodeFamily adds config, log, users, items, blobs). */
interface Header {
  format: string;
  version: number;
  shapes: { numUsers: number; numItems: number; factors: number };
  globalMean: number;
  foldInL2: number;
  temporal?: TemporalLayout;
}

/** The optional blobs of TemporalParams, by artifact blob name. */
const TEMPORAL_BLOBS = [
  ['temporal.itemBinBias', 'itemBinBias'],
  ['temporal.userDrift', 'userDrift'],
  ['temporal.userMeanDay', 'userMeanDay'],
  ['temporal.userLastTime', 'userLastTime'],
  ['temporal.dayOffsets', 'dayOffsets'],
  ['temporal.days', 'days'],
  ['temporal.dayBias', 'dayBias'],
] as const;

/** Serialises a model to the versioned binary artifact (lossless: float32 values are copied bit for bit). */
export function serializeModel(model: MFModel): Uint8Array {
  const p = model.params;
  const later: [string, Blob][] = p.itemRankBias ? [['itemRankBias', p.itemRankBias]] : [];
  const tp = p.temporal;
  if (tp)
    for (const [blob, key] of TEMPORAL_BLOBS) {
      const a = tp[key];
      if (a) later.push([blob, a]);
    }
  return encodeFamily<Header>(MF_FORMAT, model, {
    blobs: [
      ['userBias', p.userBias],
      ['itemBias', p.itemBias],
      ['userFactors', p.userFactors],
      ['itemFactors', p.itemFactors],
    ],
    laterBlobs: later,
    header: {
      version: MODEL_FORMAT_VERSION,
      shapes: { numUsers: p.numUsers, numItems: p.numItems, factors: p.factors },
      globalMean: p.globalMean,
      foldInL2: model.foldInL2,
    },
    ...(tp ? { laterHeader: { temporal: temporalLayout(tp) } } : {}),
  });
}

/** The dtype and length each blob must have for the shapes (and what to call that length in an error). */
function expectedBlobs({ numUsers, numItems, factors }: Header['shapes']) {
  const expected: Record<string, [BlobDtype, number, string]> = {
    userBias: ['float32', numUsers, 'numUsers'],
    itemBias: ['float32', numItems, 'numItems'],
    userFactors: ['float32', numUsers * factors, `numUsers × factors = ${numUsers} × ${factors}`],
    itemFactors: ['float32', numItems * factors, `numItems × factors = ${numItems} × ${factors}`],
    ratedOffsets: ['int32', numUsers + 1, 'numUsers + 1'],
    itemRankBias: ['float32', numItems, 'numItems'],
    'temporal.userDrift': ['float32', numUsers, 'numUsers'],
    'temporal.userMeanDay': ['float32', numUsers, 'numUsers'],
    'temporal.userLastTime': ['int32', numUsers, 'numUsers'],
    'temporal.dayOffsets': ['int32', numUsers + 1, 'numUsers + 1'],
  };
  return expected;
}

/** Reads an artifact written by serializeModel; checks magic, version and every shape, naming what differs. */
export function deserializeModel(bytes: Uint8Array, source = 'model artifact'): MFModel {
  const {
    header,
    blobs: found,
    fail,
    identity,
  } = decodeFamily<Header, TrainingLog>(bytes, source, MF_FORMAT, {
    checkHeader(header, fail) {
      if (header.version !== MODEL_FORMAT_VERSION)
        fail(`header says version ${header.version} but the preamble says ${MODEL_FORMAT_VERSION}`);
      const { numUsers, numItems, factors } = header.shapes ?? {};
      for (const [name, v] of [
        ['numUsers', numUsers],
        ['numItems', numItems],
        ['factors', factors],
      ] as const) {
        if (!(Number.isInteger(v) && (v as number) >= 0)) fail(`shapes.${name} is ${JSON.stringify(v)}`);
      }
      if (!Array.isArray(header.users) || header.users.length !== numUsers)
        fail(`user ID map has ${header.users?.length} IDs but shapes.numUsers is ${numUsers}`);
      if (!Array.isArray(header.items) || header.items.length !== numItems)
        fail(`item ID map has ${header.items?.length} IDs but shapes.numItems is ${numItems}`);
    },
    checkBlob(blob, header, fail) {
      const want = expectedBlobs(header.shapes)[blob.name];
      if (!want) return;
      if (blob.dtype !== want[0]) fail(`${blob.name} is ${blob.dtype}, expected ${want[0]}`);
      if (blob.length !== want[1])
        fail(`${blob.name} has ${blob.length} values but the shapes need ${want[2]} = ${want[1]}`);
    },
  });
  const { numUsers, numItems, factors } = header.shapes;
  const get = (name: string) => found.get(name) ?? fail(`blob ${name} is missing`);
  const params: MFParams = {
    factors,
    numUsers,
    numItems,
    globalMean: header.globalMean,
    userBias: get('userBias') as Float32Array,
    itemBias: get('itemBias') as Float32Array,
    userFactors: get('userFactors') as Float32Array,
    itemFactors: get('itemFactors') as Float32Array,
    ...(found.has('itemRankBias') ? { itemRankBias: found.get('itemRankBias') as Float32Array } : {}),
  };
  if (header.temporal) {
    const t: TemporalParams = { ...header.temporal };
    for (const [blob, key] of TEMPORAL_BLOBS) {
      const a = found.get(blob);
      if (a) (t as unknown as Record<string, unknown>)[key] = a;
    }
    params.temporal = t;
  }
  const init = { params, ...identity(numUsers, { engine: 'unknown', epochs: [] }) };
  let model: MFModel;
  try {
    model = new MFModel(init);
  } catch (err) {
    if (err instanceof RangeError) return fail(err.message);
    throw err;
  }
  if (typeof header.foldInL2 === 'number') model.foldInL2 = header.foldInL2;
  return model;
}

registerModelClass('mf', MF_FORMAT.magic, MFModel, {
  serialize: serializeModel,
  deserialize: deserializeModel,
});
