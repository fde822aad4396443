import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from './helpers.ts';

const dir = tempDir('data');
afterAll(() => dir.cleanup());

describe('data info', () => {
  it('reports counts, rating scale, sparsity and top movies of a ratings file (path relative to the cwd)', async () => {
    mkdirSync(join(dir.path, 'small'));
    writeFileSync(
      join(dir.path, 'small', 'ratings.csv'),
      'userId,movieId,rating,timestamp\n1,10,4.0,100\n1,20,3.5,200\n2,10,5.0,300\n3,10,2.0,400\n3,30,1.0,500\n',
    );
    writeFileSync(
      join(dir.path, 'small', 'movies.csv'),
      'movieId,title,genres\n10,Heat (1995),Action\n20,Up (2009),Animation\n30,Cube (1997),Horror\n',
    );
    const r = await runCli(['data', 'info', 'small/ratings.csv', '--json'], { cwd: dir.path });
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r);
    expect(j).toMatchObject({ users: 3, movies: 3, ratings: 5, scale: { min: 1, max: 5, step: 0.5 } });
    // 1 − 5 / (3 users × 3 movies)
    expect(j.sparsity).toBeCloseTo(1 - 5 / 9, 6);
    expect(j.meanRating).toBeCloseTo(15.5 / 5, 6);
    const top = j.topMovies as { movieId: string; title: string; ratings: number; meanRating: number }[];
    expect(top[0]).toEqual({ movieId: '10', title: 'Heat', ratings: 3, meanRating: 11 / 3 });

    const human = await runCli(['data', 'info', join(dir.path, 'small')]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/ratings\s+5/);
    expect(human.stdout).toContain('sparsity  44.44%');
    expect(human.stdout).toMatch(/10\s+3\s+3\.67\s+Heat/);
  });

  it('reads the bundled dataset by name', async () => {
    const r = await runCli(['data', 'info', 'bundled', '--json', '--top', '1']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r);
    expect(j).toMatchObject({ name: 'ml-latest-small', ratings: 100_004, users: 671 });
    expect((j.topMovies as unknown[]).length).toBe(1);
  });

  it('a missing file or unknown dataset name is one clear line, exit 1', async () => {
    const missing = await runCli(['data', 'info', 'nope/ratings.csv'], { cwd: dir.path });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain(
      `no such file or dataset: 'nope/ratings.csv' (looked for ${join(dir.path, 'nope/ratings.csv')}`,
    );
    const name = await runCli(['data', 'info', 'ml-7k']);
    expect(name.code).toBe(1);
    expect(name.stderr).toContain("no such file or dataset: 'ml-7k'");
    expect(name.stderr).toContain('dataset names: bundled, ml-100k');
  });

  it('a malformed file names file and line, exit 1', async () => {
    writeFileSync(
      join(dir.path, 'bad.csv'),
      'userId,movieId,rating,timestamp\n1,10,4.0,100\n2,20,lots,200\n',
    );
    const r = await runCli(['data', 'info', 'bad.csv', '--json'], { cwd: dir.path });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir.path, 'bad.csv')}:3`);
    expect(parseJson(r)).toMatchObject({ exitCode: 1 });
  });

  it('usage errors exit 2', async () => {
    expect((await runCli(['data', 'info'])).code).toBe(2);
    expect((await runCli(['data', 'info', 'x', '--top', '0'])).code).toBe(2);
    expect((await runCli(['data', 'frob'])).code).toBe(2);
  });
});

describe('data fetch', () => {
  // A stand-in for files.grouplens.org on localhost: the archive and its published .md5.
  const archive = Buffer.from('PK\u0003\u0004 not really a zip, but download() only checks the digest');
  let server: Server;
  let baseUrl = '';
  const requests: string[] = [];

  afterAll(() => server?.close());

  it('downloads an archive into the cache, verifies it, and reuses the cached copy', async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      if (req.url === '/ml-100k.zip') res.end(archive);
      else if (req.url === '/ml-100k.zip.md5')
        res.end(`MD5 (ml-100k.zip) = ${createHash('md5').update(archive).digest('hex')}\n`);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const env = { MOVIEREC_CACHE_DIR: join(dir.path, 'cache') };
    const r = await runCli(['data', 'fetch', 'ml-100k', '--base-url', baseUrl, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r);
    expect(j).toMatchObject({ name: 'ml-100k', source: 'network', verifiedBy: 'md5' });
    expect(j.path).toBe(join(dir.path, 'cache', 'ml-100k.zip'));
    expect(readFileSync(join(dir.path, 'cache', 'ml-100k.zip'))).toEqual(archive);
    const again = await runCli(['data', 'fetch', 'ml-100k', '--base-url', baseUrl, '--json'], { env });
    expect(parseJson(again)).toMatchObject({ source: 'cache' });
  });

  it('an unknown name or an unreachable host is one clear line, exit 1', async () => {
    const env = { MOVIEREC_CACHE_DIR: join(dir.path, 'cache2') };
    const name = await runCli(['data', 'fetch', 'ml-7k'], { env });
    expect(name.code).toBe(1);
    expect(name.stderr.trim()).toBe(
      "movierec: unknown dataset 'ml-7k': GroupLens archives are ml-100k, ml-1m, ml-latest-small, ml-25m, ml-32m",
    );
    // port 9 (discard) is closed here: connection refused, as offline
    const offline = await runCli(['data', 'fetch', 'ml-1m', '--base-url', 'http://127.0.0.1:9/'], { env });
    expect(offline.code).toBe(1);
    expect(offline.stderr.trim().split('\n')).toHaveLength(1);
    expect(offline.stderr).toContain('cannot reach 127.0.0.1:9 to fetch ml-1m: offline? Copy ml-1m.zip into');
    expect(existsSync(join(dir.path, 'cache2', 'ml-1m.zip'))).toBe(false);
  });
});
