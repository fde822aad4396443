import { closeSync, openSync, writeSync } from 'node:fs';
import type { Dataset } from './dataset.ts';

const BLOCK = 1 << 22;

/**
 * Writes a GroupLens-format ratings.csv (`userId,movieId,rating,timestamp`, LF line ends, ratings as "4.0"/"3.5")
 * with the dataset's external IDs. Streams through a 4 MB buffer; the columns are the only large memory.
 * Returns the bytes written; onProgress counts ratings written.
 */
export function writeRatingsCsv(
  dataset: Dataset,
  path: string,
  options: { onProgress?: (p: { done: number; total: number }) => void } = {},
): number {
  const { users, items, ratings, timestamps, length } = dataset.ratings;
  const userBytes = encodeIds(dataset.users.ids());
  const itemBytes = encodeIds(dataset.items.ids());
  const buf = Buffer.allocUnsafe(BLOCK + 256);
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    let p = buf.write('userId,movieId,rating,timestamp\n', 0, 'latin1');
    for (let r = 0; r < length; r++) {
      p = copyId(userBytes, users[r]!, buf, p);
      buf[p++] = 44;
      p = copyId(itemBytes, items[r]!, buf, p);
      buf[p++] = 44;
      const x = ratings[r]!;
      const twice = x * 2;
      if (Number.isInteger(twice) && twice >= 0 && twice <= 18) {
        // "4.0" / "3.5" as GroupLens writes them
        buf[p++] = 48 + Math.floor(x);
        buf[p++] = 46;
        buf[p++] = twice % 2 === 1 ? 53 : 48;
      } else p += buf.write(String(x), p, 'latin1');
      buf[p++] = 44;
      p += buf.write(String(timestamps[r]!), p, 'latin1');
      buf[p++] = 10;
      if (p >= BLOCK) {
        writeSync(fd, buf, 0, p);
        written += p;
        p = 0;
        options.onProgress?.({ done: r + 1, total: length });
      }
    }
    writeSync(fd, buf, 0, p);
    written += p;
    options.onProgress?.({ done: length, total: length });
  } finally {
    closeSync(fd);
  }
  return written;
}

interface EncodedIds {
  bytes: Buffer;
  offsets: Int32Array;
}

function encodeIds(ids: string[]): EncodedIds {
  for (const id of ids) {
    if (/[",\r\n]/.test(id))
      throw new Error(`writeRatingsCsv: ID ${JSON.stringify(id)} needs quoting in CSV`);
  }
  const bytes = Buffer.from(ids.join(''), 'utf8');
  const offsets = new Int32Array(ids.length + 1);
  for (let k = 0; k < ids.length; k++) offsets[k + 1] = offsets[k]! + Buffer.byteLength(ids[k]!, 'utf8');
  return { bytes, offsets };
}

function copyId(enc: EncodedIds, index: number, buf: Buffer, p: number): number {
  const s = enc.offsets[index]!;
  const e = enc.offsets[index + 1]!;
  for (let k = s; k < e; k++) buf[p++] = enc.bytes[k]!;
  return p;
}
