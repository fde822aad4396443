import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NetworkUnreachableError } from './errors.ts';
import { DEFAULT_CACHE_DIR } from './paths.ts';

/** The GroupLens archives download() knows. */
export const DOWNLOADABLE = ['ml-100k', 'ml-1m', 'ml-latest-small', 'ml-25m', 'ml-32m'] as const;
export type DownloadableDataset = (typeof DOWNLOADABLE)[number];

export const GROUPLENS_BASE_URL = 'https://files.grouplens.org/datasets/movielens/';

/**
 * Published SHA-256 digests of the archives. GroupLens publishes an MD5 beside each zip (`<name>.zip.md5`), not a
 * SHA-256, and this project was written offline, so no digest is pinned here: each download is verified against the
 * .md5 fetched from the same base URL, and its SHA-256 is then recorded beside the cached file
 * (`<name>.zip.sha256`) and re-checked on every later use. Add a digest here to pin an archive.
 */
export const KNOWN_SHA256: Partial<Record<DownloadableDataset, string>> = {};

export interface DownloadOptions {
  /** Where archives are kept (default `.cache/datasets` under the repository root). */
  cacheDir?: string;
  /** Mirror or test server; the archive is fetched from `${baseUrl}${name}.zip`. */
  baseUrl?: string;
  /** Bytes received so far and the total (0 when the server does not say). */
  onProgress?: (p: { done: number; total: number }) => void;
  /** fetch implementation (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** Download again even when a verified copy is cached. */
  force?: boolean;
}

export interface DownloadResult {
  /** Path of the verified archive; load it with loadDataset(path) or loadDataset(name). */
  path: string;
  /** 'cache' when a verified copy was already there. */
  source: 'network' | 'cache';
  /** How the archive was checked. */
  verifiedBy: 'sha256' | 'md5';
  sha256: string;
}

const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
]);

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Downloads an official GroupLens archive into the cache and verifies it (SHA-256 when pinned in KNOWN_SHA256,
 * else the published .md5). Returns the cached path; a verified cached copy is reused without touching the network.
 * Offline, throws NetworkUnreachableError saying how to use a local copy instead.
 */
export async function download(name: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  if (!(DOWNLOADABLE as readonly string[]).includes(name)) {
    throw new RangeError(`download: unknown dataset "${name}"; known: ${DOWNLOADABLE.join(', ')}`);
  }
  const dataset = name as DownloadableDataset;
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const baseUrl = (options.baseUrl ?? GROUPLENS_BASE_URL).replace(/\/?$/, '/');
  const doFetch = options.fetch ?? globalThis.fetch;
  const target = join(cacheDir, `${dataset}.zip`);
  const sidecar = `${target}.sha256`;
  const pinned = KNOWN_SHA256[dataset];

  if (!options.force && existsSync(target)) {
    const expected = pinned ?? (existsSync(sidecar) ? (await readFile(sidecar, 'utf8')).trim() : undefined);
    if (expected) {
      const actual = await sha256File(target);
      if (actual === expected) {
        return { path: target, source: 'cache', verifiedBy: pinned ? 'sha256' : 'md5', sha256: actual };
      }
    }
  }

  const url = `${baseUrl}${dataset}.zip`;
  const get = async (what: string): Promise<Response> => {
    let res: Response;
    try {
      res = await doFetch(what);
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      const code = cause?.code ?? (err as { code?: string }).code;
      if (code === undefined || NETWORK_CODES.has(code) || err instanceof TypeError) {
        throw new NetworkUnreachableError(
          `cannot reach ${new URL(what).host} (${code ?? (err as Error).message}): the network is unreachable. ` +
            `Fetch ${url} on a connected machine, then load the local file with loadDataset('/path/to/${dataset}.zip'), ` +
            `or copy it to ${target}.`,
          { cause: err },
        );
      }
      throw err;
    }
    if (!res.ok) throw new Error(`GET ${what}: HTTP ${res.status} ${res.statusText}`);
    return res;
  };

  let md5: string | undefined;
  if (!pinned) {
    const text = await (await get(`${url}.md5`)).text();
    md5 = /\b([0-9a-f]{32})\b/i.exec(text)?.[1]?.toLowerCase();
    if (!md5)
      throw new Error(`${url}.md5 does not hold an MD5 digest: ${JSON.stringify(text.slice(0, 100))}`);
  }

  await mkdir(cacheDir, { recursive: true });
  const res = await get(url);
  const total = Number(res.headers.get('content-length') ?? 0);
  const part = `${target}.part`;
  const sha = createHash('sha256');
  const md = createHash('md5');
  const fh = await open(part, 'w');
  let done = 0;
  try {
    if (!res.body) throw new Error(`GET ${url}: empty body`);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      sha.update(chunk);
      md.update(chunk);
      await fh.write(chunk);
      done += chunk.length;
      options.onProgress?.({ done, total });
    }
  } catch (err) {
    await fh.close();
    await rm(part, { force: true });
    throw err;
  }
  await fh.close();
  const sha256 = sha.digest('hex');
  const gotMd5 = md.digest('hex');
  const expected = pinned ?? md5!;
  const actual = pinned ? sha256 : gotMd5;
  if (actual !== expected) {
    await rm(part, { force: true });
    throw new Error(
      `${url}: checksum mismatch (${pinned ? 'sha256' : 'md5'} ${actual}, expected ${expected}); the download was discarded`,
    );
  }
  await rename(part, target);
  await writeFile(sidecar, `${sha256}\n`);
  return { path: target, source: 'network', verifiedBy: pinned ? 'sha256' : 'md5', sha256 };
}
