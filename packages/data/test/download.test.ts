import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, KNOWN_SHA256, loadDataset, NetworkUnreachableError } from '../src/index.ts';
import { fixtureBytes, tempDir } from './helpers.ts';
import { makeZip } from './zip.ts';

// A small ml-1m-shaped archive, served with its .md5 the way files.grouplens.org serves them.
const zip = makeZip([
  { name: 'ml-1m/' },
  { name: 'ml-1m/movies.dat', data: fixtureBytes('ml-1m', 'movies.dat') },
  { name: 'ml-1m/ratings.dat', data: fixtureBytes('ml-1m', 'ratings.dat') },
]);
const md5 = createHash('md5').update(zip).digest('hex');
let server: Server;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === '/ml-1m.zip') {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length });
      // in two parts, so progress is reported more than once
      res.write(zip.subarray(0, 100));
      setTimeout(() => res.end(zip.subarray(100)), 200);
    } else if (req.url === '/ml-1m.zip.md5') {
      res.end(`${md5}  ml-1m.zip\n`);
    } else if (req.url === '/ml-100k.zip') {
      res.end(zip);
    } else if (req.url === '/ml-100k.zip.md5') {
      res.end(`MD5 (ml-100k.zip) = ${'0'.repeat(32)}\n`);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('download', () => {
  it('fetches, verifies against the published .md5, reports progress, caches, and loads by name', async () => {
    const cacheDir = tempDir();
    const progress: { done: number; total: number }[] = [];
    const r = await download('ml-1m', { cacheDir, baseUrl: base, onProgress: (p) => progress.push(p) });
    expect(r.source).toBe('network');
    expect(r.verifiedBy).toBe('md5');
    expect(r.path).toBe(join(cacheDir, 'ml-1m.zip'));
    expect(readFileSync(r.path).equals(zip)).toBe(true);
    expect(r.sha256).toBe(createHash('sha256').update(zip).digest('hex'));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toEqual({ done: zip.length, total: zip.length });

    const before = requests.length;
    const again = await download('ml-1m', { cacheDir, baseUrl: base });
    expect(again.source).toBe('cache');
    expect(requests.length).toBe(before);

    const d = await loadDataset('ml-1m', { cacheDir });
    expect(d.name).toBe('ml-1m');
    expect(d.ratings.length).toBe(6);
  });

  it('verifies against a pinned SHA-256 without fetching the .md5', async () => {
    const sha = createHash('sha256').update(zip).digest('hex');
    KNOWN_SHA256['ml-1m'] = sha;
    try {
      const before = requests.length;
      const r = await download('ml-1m', { cacheDir: tempDir(), baseUrl: base });
      expect(r.verifiedBy).toBe('sha256');
      expect(requests.slice(before)).toEqual(['/ml-1m.zip']);
      KNOWN_SHA256['ml-1m'] = '0'.repeat(64);
      await expect(download('ml-1m', { cacheDir: tempDir(), baseUrl: base })).rejects.toThrow(
        /checksum mismatch \(sha256/,
      );
    } finally {
      delete KNOWN_SHA256['ml-1m'];
    }
  });

  it('discards a download whose checksum does not match', async () => {
    const cacheDir = tempDir();
    await expect(download('ml-100k', { cacheDir, baseUrl: base })).rejects.toThrow(/checksum mismatch/);
    expect(existsSync(join(cacheDir, 'ml-100k.zip'))).toBe(false);
    expect(existsSync(join(cacheDir, 'ml-100k.zip.part'))).toBe(false);
  });

  it('says the network is unreachable and how to load a local file instead', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await download('ml-25m', { cacheDir: tempDir(), baseUrl: `http://127.0.0.1:${port}/` }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NetworkUnreachableError);
    expect((err as Error).message).toContain('network is unreachable');
    expect((err as Error).message).toContain("loadDataset('/path/to/ml-25m.zip')");
  });

  it('rejects unknown names, and loading a name that was never downloaded says how to get it', async () => {
    await expect(download('ml-7m')).rejects.toThrow(/unknown dataset "ml-7m"/);
    await expect(loadDataset('ml-32m', { cacheDir: tempDir() })).rejects.toThrow(/download\('ml-32m'\)/);
  });
});
