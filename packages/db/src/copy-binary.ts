/**
 * PostgreSQL's binary COPY format for rows of int4/float4/timestamp (PostgreSQL docs, "COPY — Binary Format"):
 * 11-byte signature "PGCOPY\n\377\r\n\0", int32 flags, int32 header-extension length, then per row an int16 field
 * count and, per field, an int32 byte length (-1 = NULL) and the value in network byte order; an int16 -1 ends it.
 * Hot path: typed arrays in, bytes out (and back), no row objects, no strings.
 */

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00];
const HEADER_BYTES = 19;

/** A column of 4-byte int4 values; `map`, when given, translates each value (e.g. dense index → database id). */
export type Int4Column = { kind: 'int4'; values: Int32Array; map?: Int32Array };
export type Float4Column = { kind: 'float4'; values: Float32Array };
/** Unix seconds, sent as a PostgreSQL `timestamp`: int64 microseconds since 2000-01-01 00:00 UTC. */
export type TimestampColumn = { kind: 'timestamp'; values: Int32Array };
export type BinaryColumn = Int4Column | Float4Column | TimestampColumn;

/** Seconds from the Unix epoch to PostgreSQL's epoch, 2000-01-01 00:00 UTC. */
const PG_EPOCH_SECONDS = 946_684_800;
const TWO_32 = 4_294_967_296;

/** COPY header: signature, flags 0, no extension. */
export function binaryHeader(): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES);
  bytes.set(SIGNATURE, 0);
  return bytes;
}

/** COPY trailer: field count -1. */
export function binaryTrailer(): Uint8Array {
  return new Uint8Array([0xff, 0xff]);
}

/**
 * Encodes rows [start, end) of the columns (none NULL). `rowIndex`, when given, maps output row j to source row
 * rowIndex[j] (to skip or reorder rows).
 */
export function encodeRows(
  columns: readonly BinaryColumn[],
  start: number,
  end: number,
  rowIndex?: Int32Array,
): Uint8Array {
  const fields = columns.length;
  let rowBytes = 2;
  for (const column of columns) rowBytes += column.kind === 'timestamp' ? 12 : 8;
  const bytes = new Uint8Array((end - start) * rowBytes);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (let j = start; j < end; j++) {
    const r = rowIndex ? rowIndex[j]! : j;
    view.setInt16(offset, fields);
    offset += 2;
    for (let f = 0; f < fields; f++) {
      const column = columns[f]!;
      if (column.kind === 'int4') {
        const value = column.values[r]!;
        view.setInt32(offset, 4);
        view.setInt32(offset + 4, column.map ? column.map[value]! : value);
        offset += 8;
      } else if (column.kind === 'float4') {
        view.setInt32(offset, 4);
        view.setFloat32(offset + 4, column.values[r]!);
        offset += 8;
      } else {
        // µs since 2000-01-01 = (unix seconds − 946684800) · 10⁶, exact in a double; split into int64 hi/lo words.
        const micros = (column.values[r]! - PG_EPOCH_SECONDS) * 1e6;
        const hi = Math.floor(micros / TWO_32);
        view.setInt32(offset, 8);
        view.setInt32(offset + 4, hi);
        view.setUint32(offset + 8, micros - hi * TWO_32);
        offset += 12;
      }
    }
  }
  return bytes;
}

/**
 * Streaming decoder of binary COPY output whose fields are all 4-byte int4/float4 and never NULL.
 * `onRow(view, offset)` gets the byte offset of the row's first field value; field f's value sits at
 * offset + f*8 (each field is preceded by its 4-byte length). Rows split across chunks are reassembled.
 */
export class BinaryRowDecoder {
  readonly #rowBytes: number;
  readonly #fields: number;
  #pending: Uint8Array = new Uint8Array(0);
  #headerDone = false;
  #ended = false;
  rows = 0;

  constructor(fields: number) {
    this.#fields = fields;
    this.#rowBytes = 2 + fields * 8;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(chunk: Uint8Array, onRow: (view: DataView, offset: number) => void): void {
    let bytes = chunk;
    if (this.#pending.length > 0) {
      bytes = new Uint8Array(this.#pending.length + chunk.length);
      bytes.set(this.#pending, 0);
      bytes.set(chunk, this.#pending.length);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let offset = 0;
    if (!this.#headerDone) {
      if (bytes.length < HEADER_BYTES) {
        this.#pending = bytes.slice();
        return;
      }
      for (let k = 0; k < SIGNATURE.length; k++) {
        if (bytes[k] !== SIGNATURE[k]) throw new Error('COPY output is not in binary format (bad signature)');
      }
      const extension = view.getInt32(15);
      offset = HEADER_BYTES + extension;
      this.#headerDone = true;
    }
    const fields = this.#fields;
    const rowBytes = this.#rowBytes;
    while (offset + 2 <= bytes.length) {
      const count = view.getInt16(offset);
      if (count === -1) {
        this.#ended = true;
        offset += 2;
        break;
      }
      if (count !== fields) throw new Error(`COPY row has ${count} fields, expected ${fields}`);
      if (offset + rowBytes > bytes.length) break;
      for (let f = 0; f < fields; f++) {
        if (view.getInt32(offset + 2 + f * 8) !== 4) {
          throw new Error(`COPY field ${f} of row ${this.rows} is NULL or not 4 bytes wide`);
        }
      }
      onRow(view, offset + 6);
      this.rows++;
      offset += rowBytes;
    }
    this.#pending = offset < bytes.length ? bytes.slice(offset) : new Uint8Array(0);
  }
}
