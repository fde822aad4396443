import { readFile, rename, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { IdMap } from '@movierec/data';
import { ModelFormatError } from './errors.ts';
import type { RatedIndex } from './rated-index.ts';

/**
 * The container every model artifact shares (little-endian):
 *   bytes 0–3   4 ASCII characters, the family's magic ("MRMF" MF, "MREA" EASE, "MRNC" NCF, …)
 *   bytes 4–7   uint32 format version
 *   bytes 8–11  uint32 byte length H of the header
 *   12 … 12+H   header, UTF-8 JSON, whose `blobs: [{ name, dtype, length, offset }]` lists the arrays
 *   then, from the next multiple of 8, the blobs (offset relative to that point, each 8-byte aligned): float32 or
 *   int32 typed arrays, copied bit for bit.
 * What the header holds besides `blobs`, and which blobs there are, is each family's own (artifact.ts,
 * models/codec.ts, models/ncf.ts).
 */
export type Blob = Float32Array | Int32Array;
export type BlobDtype = 'float32' | 'int32';
export interface BlobEntry {
  name: string;
  dtype: BlobDtype;
  length: number;
  offset: number;
}

export const align8 = (n: number) => (n + 7) & ~7;

/** Artifacts are little-endian typed arrays copied as bytes: a big-endian host would read them wrongly. */
export function checkLittleEndian(): void {
  if (endianness() !== 'LE')
    throw new ModelFormatError('model artifacts are little-endian; this host is big-endian');
}

/**
 * The container's bytes. `header` receives the blob table and returns the whole JSON header (so each family keeps
 * its own key order, and its files stay byte for byte what they were).
 */
export function encodeContainer(
  magic: string,
  version: number,
  arrays: readonly (readonly [string, Blob])[],
  header: (blobs: BlobEntry[]) => object,
): Uint8Array {
  checkLittleEndian();
  const blobs: BlobEntry[] = [];
  let dataBytes = 0;
  for (const [name, a] of arrays) {
    blobs.push({
      name,
      dtype: a instanceof Int32Array ? 'int32' : 'float32',
      length: a.length,
      offset: dataBytes,
    });
    dataBytes = align8(dataBytes + a.byteLength);
  }
  const json = new TextEncoder().encode(JSON.stringify(header(blobs)));
  const dataStart = align8(12 + json.length);
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(new TextEncoder().encode(magic), 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, version, true);
  view.setUint32(8, json.length, true);
  out.set(json, 12);
  arrays.forEach(([, a], j) => {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), dataStart + blobs[j]!.offset);
  });
  return out;
}

export interface DecodedContainer<H> {
  magic: string;
  header: H;
  /** The blobs by name, each a copy (aligned, independent of the input bytes). */
  blobs: Map<string, Blob>;
  /** Throws ModelFormatError prefixed with the source. */
  fail: (message: string) => never;
}

export interface DecodeOptions<H> {
  /** The magics this reader accepts. */
  magics: readonly string[];
  /** What a wrong magic is said not to be, e.g. 'movierec model'. */
  kind: string;
  version: number;
  /** Checked once the header is parsed, before any blob is read (a family's format name and shapes). */
  checkHeader?: (header: H, fail: (message: string) => never) => void;
  /** Checked on each blob's entry before it is read (a family's expected dtype and length). */
  checkBlob?: (entry: BlobEntry, header: H, fail: (message: string) => never) => void;
}

/**
 * Reads the container: checks the magic, the version, the header's length and JSON, and that every blob lies
 * inside the bytes; each failure is a ModelFormatError naming `source` and what differs.
 */
export function decodeContainer<H extends { blobs?: BlobEntry[] }>(
  bytes: Uint8Array,
  source: string,
  options: DecodeOptions<H>,
): DecodedContainer<H> {
  checkLittleEndian();
  const fail = (message: string): never => {
    throw new ModelFormatError(`${source}: ${message}`);
  };
  if (bytes.length < 12) fail(`only ${bytes.length} bytes, too short to be a model artifact`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (!options.magics.includes(magic))
    fail(
      `not a ${options.kind} (starts with ${JSON.stringify(magic)}, expected ${
        options.magics.length === 1 ? `"${options.magics[0]}"` : `one of ${options.magics.join(', ')}`
      })`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== options.version)
    fail(`format version ${version}, this build reads version ${options.version}; retrain or export again`);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length)
    fail(`header claims ${headerLength} bytes but the file has ${bytes.length}`);
  let header: H;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as H;
  } catch (err) {
    return fail(`header is not valid JSON (${(err as Error).message})`);
  }
  options.checkHeader?.(header, fail);
  const dataStart = align8(12 + headerLength);
  // A blob is a view of `bytes` when `bytes` owns its whole buffer (a file read, a value the database driver decoded
  // for us): copying a 21 MB EASE matrix cost ~200 ms, nearly all of it first touches of fresh pages, on a serving
  // process's event loop at every activation. Otherwise a copy of exactly these bytes: `bytes` may be a Node Buffer
  // from the shared pool, whose .buffer is the whole pool, or sit at an offset a Float32Array cannot start at.
  const owned =
    bytes.byteOffset === 0 &&
    bytes.buffer.byteLength === bytes.byteLength &&
    bytes.buffer instanceof ArrayBuffer;
  const blobOf = (entry: BlobEntry, start: number, end: number): Blob => {
    const Type = entry.dtype === 'int32' ? Int32Array : Float32Array;
    if (owned && start % 4 === 0) return new Type(bytes.buffer as ArrayBuffer, start, (end - start) / 4);
    return new Type(new Uint8Array(bytes.subarray(start, end)).buffer);
  };
  const blobs = new Map<string, Blob>();
  for (const entry of header.blobs ?? []) {
    options.checkBlob?.(entry, header, fail);
    const start = dataStart + entry.offset;
    const end = start + entry.length * 4;
    if (
      !(Number.isInteger(entry.offset) && entry.offset >= 0) ||
      !(Number.isInteger(entry.length) && entry.length >= 0)
    )
      fail(`${entry.name} has offset ${entry.offset} and length ${entry.length}, expected whole numbers ≥ 0`);
    if (end > bytes.length)
      fail(`${entry.name} runs past the end of the file (needs ${end} bytes, has ${bytes.length})`);
    blobs.set(entry.name, blobOf(entry, start, end));
  }
  return { magic, header, blobs, fail };
}

/** A family whose artifacts have one magic, one format version and one header format name (MF, NCF). */
export interface FamilyFormat {
  readonly magic: string;
  readonly version: number;
  readonly format: string;
}

/** What a FamilyFormat artifact holds: the family's own, and what encodeFamily adds for every family. */
export interface FamilyContent<H> {
  /** The weights, before the rated index. */
  blobs: [string, Blob][];
  /** Blobs after the rated index (ones a family added later, so that older files keep their bytes). */
  laterBlobs?: [string, Blob][];
  /** The header's fields after `format`, before the identity fields. */
  header: Omit<H, 'format'>;
  /** Header fields after the identity fields (added later, as laterBlobs). */
  laterHeader?: Partial<H>;
}

/**
 * encodeContainer for a FamilyFormat: blobs = content.blobs, the model's rated index (ratedIndexBlobs), laterBlobs;
 * header = { format, ...content.header, config, log, users, items, blobs (identityHeader), ...laterHeader }.
 */
export function encodeFamily<H>(
  family: FamilyFormat,
  model: ModelIdentity<unknown>,
  content: FamilyContent<H>,
): Uint8Array {
  const arrays = [...content.blobs, ...ratedIndexBlobs(model.rated), ...(content.laterBlobs ?? [])];
  return encodeContainer(family.magic, family.version, arrays, (blobs) => ({
    format: family.format,
    ...content.header,
    ...identityHeader(model, blobs),
    ...content.laterHeader,
  }));
}

/** decodeFamily's answer: the container, and the identity fields read back for the family's constructor. */
export interface DecodedFamily<H, L> extends DecodedContainer<H & Partial<IdentityHeader<L>>> {
  /** The config, log (`log` when the header has none), ID maps and rated index of a model of numUsers users. */
  identity(numUsers: number, log: L): ModelIdentity<L> & { config: Record<string, unknown> };
}

/**
 * decodeContainer for a FamilyFormat: a 'movierec model' of that magic and version whose header.format is the
 * family's, then the family's own checks. H is the family's own header fields, L its training log.
 */
export function decodeFamily<H, L>(
  bytes: Uint8Array,
  source: string,
  family: FamilyFormat,
  checks: Pick<DecodeOptions<H & Partial<IdentityHeader<L>>>, 'checkHeader' | 'checkBlob'> = {},
): DecodedFamily<H, L> {
  const decoded = decodeContainer<H & Partial<IdentityHeader<L>> & { format?: string }>(bytes, source, {
    magics: [family.magic],
    kind: 'movierec model',
    version: family.version,
    checkHeader(header, fail) {
      if (header.format !== family.format)
        fail(`header format is ${JSON.stringify(header.format)}, expected "${family.format}"`);
      checks.checkHeader?.(header, fail);
    },
    ...(checks.checkBlob ? { checkBlob: checks.checkBlob } : {}),
  });
  const { header, blobs, fail } = decoded;
  return { ...decoded, identity: (numUsers, log) => identityFromHeader(header, blobs, numUsers, log, fail) };
}

/** A model's rated index as the blobs every family stores it in: ratedOffsets, ratedItems (int32); none without. */
export function ratedIndexBlobs(rated: RatedIndex | undefined): [string, Blob][] {
  return rated
    ? [
        ['ratedOffsets', rated.offsets],
        ['ratedItems', rated.items],
      ]
    : [];
}

/** The rated index read back from ratedIndexBlobs' blobs (undefined when neither is there), checked for numUsers. */
export function ratedIndexFromBlobs(
  blobs: Map<string, Blob>,
  numUsers: number,
  fail: (message: string) => never,
): RatedIndex | undefined {
  if (!blobs.has('ratedOffsets') && !blobs.has('ratedItems')) return undefined;
  const offsets = blobs.get('ratedOffsets');
  const items = blobs.get('ratedItems');
  if (!(offsets instanceof Int32Array)) return fail('int32 blob ratedOffsets is missing');
  if (!(items instanceof Int32Array)) return fail('int32 blob ratedItems is missing');
  if (offsets.length !== numUsers + 1)
    fail(`ratedOffsets has ${offsets.length} values but the shapes need numUsers + 1 = ${numUsers + 1}`);
  if (offsets[numUsers] !== items.length)
    fail(`ratedOffsets ends at ${offsets[numUsers]} but ratedItems has ${items.length} values`);
  return { offsets, items };
}

/** What a trained model carries besides its weights, and every family saves alike (MF and NCF artifacts). */
export interface ModelIdentity<L> {
  readonly config: Readonly<Record<string, unknown>>;
  readonly log: L;
  readonly users: IdMap;
  readonly items: IdMap;
  readonly rated?: RatedIndex | undefined;
}

/** The header fields a family writes after its own: config, training log, the two ID lists and the blob table. */
export interface IdentityHeader<L> {
  config: Record<string, unknown>;
  log: L;
  users: string[];
  items: string[];
  blobs: BlobEntry[];
}

/** A model's config, log and ID maps as its header's last fields, then `blobs` (the family's own fields go first). */
function identityHeader<L>(model: ModelIdentity<L>, blobs: BlobEntry[]): IdentityHeader<L> {
  return {
    config: { ...model.config },
    log: model.log,
    users: model.users.toJSON(),
    items: model.items.toJSON(),
    blobs,
  };
}

/**
 * The config, log, ID maps and rated index read back from identityHeader's fields and ratedIndexBlobs' blobs: what a
 * family's constructor takes beside its weights (`log` when the header has none; no `rated` when there is none).
 */
function identityFromHeader<L>(
  header: Partial<IdentityHeader<L>>,
  blobs: Map<string, Blob>,
  numUsers: number,
  log: L,
  fail: (message: string) => never,
): ModelIdentity<L> & { config: Record<string, unknown> } {
  const rated = ratedIndexFromBlobs(blobs, numUsers, fail);
  return {
    users: idMapFromHeader('user', header.users ?? [], fail),
    items: idMapFromHeader('item', header.items ?? [], fail),
    config: header.config ?? {},
    log: header.log ?? log,
    ...(rated ? { rated } : {}),
  };
}

/** An ID map from a header's list; a bad list (a duplicate ID, say) fails naming which map. */
export function idMapFromHeader(what: string, ids: string[], fail: (message: string) => never): IdMap {
  try {
    return IdMap.fromJSON(ids);
  } catch (err) {
    return fail(`${what} ID map: ${(err as Error).message}`);
  }
}

/** Writes bytes to `path` through a temporary file and a rename, so readers never see half a file. */
export async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/** A file's bytes as a Uint8Array (for the deserialisers). */
export async function readBytes(path: string): Promise<Uint8Array> {
  const bytes = await readFile(path);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
