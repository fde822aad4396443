import { readFile, rename, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { IdMap } from '@movierec/data';
import { ModelFormatError } from './errors.ts';
import { MFModel, type TrainingLog } from './model.ts';
import type { MFParams } from './params.ts';
import type { RatedIndex } from './rated-index.ts';
import type { TemporalParams } from './temporal.ts';

/**
 * The model artifact, format version 1 (little-endian):
 *   bytes 0–3   ASCII "MRMF"
 *   bytes 4–7   uint32 format version
 *   bytes 8–11  uint32 byte length H of the header
 *   12 … 12+H   header, UTF-8 JSON: { format, version, shapes {numUsers,numItems,factors}, globalMean, foldInL2,
 *               config, log, users: [ids], items: [ids], blobs: [{ name, dtype, length, offset }] }
 *   then, from the next multiple of 8, the blobs (offset relative to that point, each 8-byte aligned):
 *   userBias, itemBias (float32), userFactors, itemFactors (float32, row-major), and optionally
 *   ratedOffsets, ratedItems (int32, the CSR index of training ratings used by excludeRated) and
 *   itemRankBias (float32, numItems: the ranking-only item term, see MFParams).
 * A time-aware model (MFParams.temporal, Koren 2009) adds the header field `temporal` { trainStart, trainEnd,
 * binStart, binWidth, bins, beta } and the blobs temporal.itemBinBias (float32, numItems × bins),
 * temporal.userDrift, temporal.userMeanDay (float32, numUsers), temporal.userLastTime (int32, numUsers),
 * temporal.dayOffsets (int32, numUsers + 1), temporal.days (int32), temporal.dayBias (float32), each only when the
 * term is present. Still version 1: a file without them loads as a model without time terms, and a reader that
 * predates them ignores them (and predicts without time terms).
 */
export const MODEL_FORMAT_VERSION = 1;
const MAGIC = 'MRMF';

type Dtype = 'float32' | 'int32';
interface BlobEntry {
  name: string;
  dtype: Dtype;
  length: number;
  offset: number;
}
interface Header {
  format: string;
  version: number;
  shapes: { numUsers: number; numItems: number; factors: number };
  globalMean: number;
  foldInL2: number;
  config: Record<string, unknown>;
  log: TrainingLog;
  users: string[];
  items: string[];
  blobs: BlobEntry[];
  temporal?: Pick<TemporalParams, 'trainStart' | 'trainEnd' | 'binStart' | 'binWidth' | 'bins' | 'beta'>;
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

function checkHost(): void {
  if (endianness() !== 'LE')
    throw new ModelFormatError('model artifacts are little-endian; this host is big-endian');
}

const align8 = (n: number) => (n + 7) & ~7;

/** Serialises a model to the versioned binary artifact (lossless: float32 values are copied bit for bit). */
export function serializeModel(model: MFModel): Uint8Array {
  checkHost();
  const p = model.params;
  const arrays: [string, Float32Array | Int32Array][] = [
    ['userBias', p.userBias],
    ['itemBias', p.itemBias],
    ['userFactors', p.userFactors],
    ['itemFactors', p.itemFactors],
  ];
  if (model.rated) {
    arrays.push(['ratedOffsets', model.rated.offsets], ['ratedItems', model.rated.items]);
  }
  if (p.itemRankBias) arrays.push(['itemRankBias', p.itemRankBias]);
  const tp = p.temporal;
  if (tp)
    for (const [blob, key] of TEMPORAL_BLOBS) {
      const a = tp[key];
      if (a) arrays.push([blob, a]);
    }
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
  const header: Header = {
    format: 'movierec-mf',
    version: MODEL_FORMAT_VERSION,
    shapes: { numUsers: p.numUsers, numItems: p.numItems, factors: p.factors },
    globalMean: p.globalMean,
    foldInL2: model.foldInL2,
    config: { ...model.config },
    log: model.log,
    users: model.users.toJSON(),
    items: model.items.toJSON(),
    blobs,
    ...(tp
      ? {
          temporal: {
            trainStart: tp.trainStart,
            trainEnd: tp.trainEnd,
            binStart: tp.binStart,
            binWidth: tp.binWidth,
            bins: tp.bins,
            beta: tp.beta,
          },
        }
      : {}),
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align8(12 + json.length);
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, MODEL_FORMAT_VERSION, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  for (let j = 0; j < arrays.length; j++) {
    const a = arrays[j]![1];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + blobs[j]!.offset);
  }
  return out;
}

/** Reads an artifact written by serializeModel; checks magic, version and every shape, naming what differs. */
export function deserializeModel(bytes: Uint8Array, source = 'model artifact'): MFModel {
  checkHost();
  const fail = (msg: string): never => {
    throw new ModelFormatError(`${source}: ${msg}`);
  };
  if (bytes.length < 12) fail(`only ${bytes.length} bytes, too short to be a model artifact`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== MAGIC)
    fail(`not a movierec model (starts with ${JSON.stringify(magic)}, expected "${MAGIC}")`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== MODEL_FORMAT_VERSION)
    fail(
      `format version ${version}, this build reads version ${MODEL_FORMAT_VERSION}; retrain or export again`,
    );
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length)
    fail(`header claims ${headerLength} bytes but the file has ${bytes.length}`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as Header;
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  if (header.format !== 'movierec-mf')
    fail(`header format is ${JSON.stringify(header.format)}, expected "movierec-mf"`);
  if (header.version !== version)
    fail(`header says version ${header.version} but the preamble says ${version}`);
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

  const dataStart = align8(12 + headerLength);
  const expected: Record<string, [Dtype, number, string]> = {
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
  const found = new Map<string, Float32Array | Int32Array>();
  for (const blob of header.blobs ?? []) {
    const want = expected[blob.name];
    if (want) {
      if (blob.dtype !== want[0]) fail(`${blob.name} is ${blob.dtype}, expected ${want[0]}`);
      if (blob.length !== want[1])
        fail(`${blob.name} has ${blob.length} values but the shapes need ${want[2]} = ${want[1]}`);
    }
    const start = dataStart + blob.offset;
    const end = start + blob.length * 4;
    if (end > bytes.length)
      fail(`${blob.name} runs past the end of the file (needs ${end} bytes, has ${bytes.length})`);
    // a copy of exactly these bytes: `bytes` may be a Node Buffer (a database driver's), whose slice() is a view
    // into a shared pool, so slice().buffer would be the whole pool
    const copy = new Uint8Array(bytes.subarray(start, end)).buffer;
    found.set(blob.name, blob.dtype === 'int32' ? new Int32Array(copy) : new Float32Array(copy));
  }
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
  let rated: RatedIndex | undefined;
  if (found.has('ratedOffsets') || found.has('ratedItems')) {
    const offsets = get('ratedOffsets') as Int32Array;
    const items = get('ratedItems') as Int32Array;
    if (offsets[numUsers] !== items.length)
      fail(`ratedOffsets ends at ${offsets[numUsers]} but ratedItems has ${items.length} values`);
    rated = { offsets, items };
  }
  const idMap = (what: string, ids: string[]) => {
    try {
      return IdMap.fromJSON(ids);
    } catch (err) {
      return fail(`${what} ID map: ${(err as Error).message}`);
    }
  };
  let model: MFModel;
  try {
    model = new MFModel({
      params,
      users: idMap('user', header.users),
      items: idMap('item', header.items),
      config: header.config ?? {},
      log: header.log ?? { engine: 'unknown', epochs: [] },
      ...(rated ? { rated } : {}),
    });
  } catch (err) {
    if (err instanceof RangeError) return fail(err.message);
    throw err;
  }
  if (typeof header.foldInL2 === 'number') model.foldInL2 = header.foldInL2;
  return model;
}

/** Writes the artifact to `path` (via a temporary file and rename, so readers never see half a file). */
export async function saveModel(model: MFModel, path: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, serializeModel(model));
  await rename(tmp, path);
}

/** Reads an artifact written by saveModel. */
export async function loadModel(path: string): Promise<MFModel> {
  const bytes = await readFile(path);
  return deserializeModel(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}
