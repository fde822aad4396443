import { createReadStream } from 'node:fs';
import { open as openFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type * as yauzl from 'yauzl';
import { DataFormatError } from './errors.ts';

/** One readable file: a plain or gzipped file on disk, or a member of a zip archive. */
export interface SourceEntry {
  /** Lower-case file name with any .gz removed ("ratings.csv"), used to recognise formats. */
  readonly key: string;
  /** Name for messages ("ml-1m.zip/ml-1m/ratings.dat", "/data/ratings.csv.gz"). */
  readonly display: string;
  /** Uncompressed size in bytes when known cheaply, else undefined. */
  readonly size: number | undefined;
  /** Byte chunks in order. A chunk is only valid until the next one is requested (buffers are reused). */
  chunks(): AsyncIterable<Uint8Array>;
}

/** The files found at a path: a single file, a directory (and its one sub-folder level), or a zip archive. */
export interface Source {
  readonly entries: SourceEntry[];
  /** The file the caller named, when the path was a file (not a folder or archive): it holds the ratings. */
  readonly explicit?: SourceEntry;
  get(key: string): SourceEntry | undefined;
  close(): Promise<void>;
}

const CHUNK = 1 << 20;

export async function openSource(path: string): Promise<Source> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error(`${path}: no such file or directory`);
    throw err;
  }
  if (info.isDirectory()) return makeSource(await directoryEntries(path));
  if (path.toLowerCase().endsWith('.zip')) return openZip(path);
  const entry = await fileEntry(path, info.size);
  // a lone ratings file: pick up its GroupLens siblings (movies.csv beside ratings.csv, u.item beside u.data)
  const siblings: SourceEntry[] = [];
  if (RATINGS_KEYS.includes(entry.key)) {
    const dir = join(path, '..');
    for (const name of await readdir(dir)) {
      const key = name.toLowerCase().replace(/\.gz$/, '');
      const sibling = join(dir, name);
      if (SIBLINGS.includes(key) && (await stat(sibling)).isFile()) {
        siblings.push(await fileEntry(sibling, (await stat(sibling)).size));
      }
    }
  }
  return { ...makeSource([entry, ...siblings]), explicit: entry };
}

const SIBLINGS = ['movies.csv', 'movies.dat', 'u.item', 'u.genre'];

function makeSource(entries: SourceEntry[], close: () => Promise<void> = async () => {}): Source {
  return {
    entries,
    get: (key) => entries.find((e) => e.key === key),
    close,
  };
}

async function directoryEntries(dir: string, descend = true): Promise<SourceEntry[]> {
  const names = await readdir(dir, { withFileTypes: true });
  const out: SourceEntry[] = [];
  for (const d of names) {
    if (d.isFile()) {
      const path = join(dir, d.name);
      out.push(await fileEntry(path, (await stat(path)).size));
    }
  }
  if (descend && !out.some((e) => RATINGS_KEYS.includes(e.key))) {
    // an extracted archive: ml-1m/ratings.dat inside the folder given
    for (const d of names) {
      if (d.isDirectory()) {
        const inner = await directoryEntries(join(dir, d.name), false);
        if (inner.some((e) => RATINGS_KEYS.includes(e.key))) return inner;
      }
    }
  }
  return out;
}

export const RATINGS_KEYS = ['ratings.csv', 'ratings.dat', 'u.data'];

async function fileEntry(path: string, size: number): Promise<SourceEntry> {
  const gz = path.toLowerCase().endsWith('.gz');
  const key = basename(gz ? path.slice(0, -3) : path).toLowerCase();
  return {
    key,
    display: path,
    size: gz ? await gzipSize(path, size) : size,
    chunks: gz ? () => gunzipChunks(path) : () => fileChunks(path),
  };
}

async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const fh = await openFile(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) return;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

async function* gunzipChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = createReadStream(path, { highWaterMark: CHUNK });
  const gunzip = file.pipe(createGunzip({ chunkSize: 64 * 1024 }));
  file.on('error', (err) => gunzip.destroy(err));
  let bytes = 0;
  try {
    for await (const chunk of gunzip) {
      bytes += (chunk as Uint8Array).length;
      yield chunk as Uint8Array;
    }
  } catch (error) {
    throw compressedError(path, error, bytes);
  } finally {
    // also when the reader stops early (format detection reads one line)
    file.destroy();
    gunzip.destroy();
  }
}

/** Uncompressed size from the gzip trailer (ISIZE, size mod 2^32); undefined when that cannot be right. */
async function gzipSize(path: string, compressed: number): Promise<number | undefined> {
  if (compressed < 18) return undefined;
  const fh = await openFile(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    await fh.read(buf, 0, 4, compressed - 4);
    const isize = buf.readUInt32LE(0);
    return isize >= compressed / 2 ? isize : undefined;
  } finally {
    await fh.close();
  }
}

async function openZip(path: string): Promise<Source> {
  // loaded on first use: importing the package costs ~0.1 s of start-up for every command that never opens a zip
  const { default: zipReader } = await import('yauzl');
  return new Promise((resolve, reject) => {
    zipReader.open(path, { lazyEntries: true, autoClose: false }, (err, zip) => {
      if (err || !zip) {
        reject(new Error(`${path}: not a readable zip archive (${err?.message ?? 'unknown error'})`));
        return;
      }
      const entries: SourceEntry[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        if (!e.fileName.endsWith('/')) {
          const inner = e.fileName.toLowerCase();
          const gz = inner.endsWith('.gz');
          const key = basename(gz ? inner.slice(0, -3) : inner);
          entries.push({
            key,
            display: `${path}/${e.fileName}`,
            size: gz ? undefined : e.uncompressedSize,
            chunks: () => zipChunks(zip, e, gz),
          });
        }
        zip.readEntry();
      });
      zip.on('end', () => {
        // prefer the shallowest copy of a name (GroupLens zips hold one folder; macOS adds __MACOSX/ copies)
        const real = entries.filter((e) => !e.display.includes('__MACOSX/'));
        resolve(makeSource(real, async () => zip.close()));
      });
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

async function* zipChunks(zip: yauzl.ZipFile, entry: yauzl.Entry, gz: boolean): AsyncGenerator<Uint8Array> {
  const stream = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
    zip.openReadStream(entry, (err, s) => (err || !s ? reject(err ?? new Error('no stream')) : resolve(s))),
  );
  const body = gz ? stream.pipe(createGunzip()) : stream;
  if (gz)
    stream.on('error', (err) => (body as NodeJS.ReadWriteStream & { destroy(e: Error): void }).destroy(err));
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += (chunk as Uint8Array).length;
      yield chunk as Uint8Array;
    }
  } catch (error) {
    throw compressedError(`${zipPath(zip)}/${entry.fileName}`, error, bytes);
  }
}

function zipPath(zip: yauzl.ZipFile): string {
  return (zip as unknown as { fileName?: string }).fileName ?? 'archive';
}

/**
 * A read error of compressed data as a DataFormatError naming the file: a gzip stream or zip member that ends
 * early is "truncated", other inflate errors are "corrupt".
 */
function compressedError(display: string, error: unknown, bytes: number): unknown {
  if (error instanceof DataFormatError) return error;
  const e = error as { code?: string; message?: string };
  const message = e.message ?? String(error);
  const truncated =
    e.code === 'Z_BUF_ERROR' ||
    /unexpected end of file|premature close|too few bytes|unexpected EOF|truncated/i.test(message);
  const isZlib = typeof e.code === 'string' && e.code.startsWith('Z_');
  if (!truncated && !isZlib && !/invalid|corrupt|checksum|mismatch|signature/i.test(message)) return error;
  return new DataFormatError(
    display,
    0,
    '',
    truncated ? 'truncated file' : 'corrupt file',
    truncated
      ? `the compressed data ends early (after ${bytes} uncompressed bytes): the file is truncated — download or copy it again`
      : `the compressed data cannot be read (${message.split('\n')[0]}): download or copy it again`,
  );
}

/** Reads a whole (small) entry into memory: movie metadata files. */
export async function readAll(entry: SourceEntry): Promise<Uint8Array> {
  const parts: Buffer[] = [];
  for await (const chunk of entry.chunks()) parts.push(Buffer.from(chunk));
  return Buffer.concat(parts);
}
