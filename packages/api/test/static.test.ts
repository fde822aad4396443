/** Static file serving: content types, index.html, extension-less pages, and no way out of the folder. */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveStatic } from '../src/http/static.ts';

let root: string;
let outside: string;
let server: Server;
let port: number;

/** GET with the path sent exactly as written (fetch would normalise `..`). */
function get(path: string): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', fail);
    req.end();
  });
}

beforeAll(async () => {
  const base = await mkdtemp(join(tmpdir(), 'movierec-static-'));
  root = join(base, 'static');
  outside = join(base, 'secret.txt');
  await mkdir(join(root, 'console'), { recursive: true });
  await writeFile(join(root, 'index.html'), '<h1>home</h1>');
  await writeFile(join(root, 'app.js'), 'console.log(1)');
  await writeFile(join(root, 'style.css'), 'body{}');
  await writeFile(join(root, 'console', 'index.html'), '<h1>console</h1>');
  await writeFile(join(root, 'about.html'), '<h1>about</h1>');
  await writeFile(join(root, '.env'), 'SECRET=1');
  await writeFile(outside, 'secret');
  await symlink(outside, join(root, 'leak.txt'));
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    serveStatic(root, path, req, res).then((served) => {
      if (!served) res.writeHead(404).end('not found');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((done) => server.close(done));
  await rm(join(root, '..'), { recursive: true, force: true });
});

describe('static files', () => {
  it('serves index.html at /, folders and extension-less pages, with content types', async () => {
    expect(await get('/')).toMatchObject({
      status: 200,
      type: 'text/html; charset=utf-8',
      body: '<h1>home</h1>',
    });
    expect(await get('/app.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(await get('/style.css')).toMatchObject({ status: 200, type: 'text/css; charset=utf-8' });
    expect(await get('/console')).toMatchObject({ status: 200, body: '<h1>console</h1>' });
    expect(await get('/about')).toMatchObject({ status: 200, body: '<h1>about</h1>' });
    expect((await get('/missing.js')).status).toBe(404);
  });

  it('never serves anything outside the folder, nor dot-files', async () => {
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/console/../../secret.txt',
      '/..\\secret.txt',
      '/leak.txt',
      '/.env',
      '/%00index.html',
      '/%E0%A4%A',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain('secret');
    }
  });
});
