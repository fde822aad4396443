/**
 * Serves a folder (apps/api/static: the web page and its assets) read-only over GET/HEAD, with content types by
 * extension, `index.html` for directories, and no way out of the folder (no `..`, no encoded separators, no
 * symlinks leading outside).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Resolves a URL path to a file inside `root`, or null when it is not a servable path. `/console` maps to
 * `console.html` or `console/index.html` (extension-less pages), `/` to `index.html`.
 */
export async function resolveStatic(root: string, urlPath: string): Promise<string | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const parts = decoded.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '..' || p === '.' || p.startsWith('.'))) return null;
  const base = resolve(root);
  const candidate = join(base, ...parts);
  const candidates = [candidate];
  if (extname(candidate) === '') candidates.push(`${candidate}.html`);
  for (const c of candidates) {
    try {
      let s = await stat(c);
      let file = c;
      if (s.isDirectory()) {
        file = join(c, 'index.html');
        s = await stat(file);
      }
      if (!s.isFile()) continue;
      // symlinks must not lead outside the folder
      const real = await realpath(file);
      const realBase = await realpath(base);
      if (real !== realBase && !real.startsWith(realBase + sep)) return null;
      return real;
    } catch {}
  }
  return null;
}

/** Serves `urlPath` from `root`; returns false (nothing written) when there is no such file. */
export async function serveStatic(
  root: string,
  urlPath: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const file = await resolveStatic(root, urlPath);
  if (file === null) return false;
  const s = await stat(file);
  const etag = `W/"${s.size.toString(16)}-${Math.floor(s.mtimeMs).toString(16)}"`;
  res.setHeader('content-type', contentType(file));
  res.setHeader('etag', etag);
  res.setHeader('cache-control', 'no-cache');
  res.setHeader('x-content-type-options', 'nosniff');
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304).end();
    return true;
  }
  res.setHeader('content-length', s.size);
  if (req.method === 'HEAD') {
    res.writeHead(200).end();
    return true;
  }
  res.writeHead(200);
  await new Promise<void>((done, fail) => {
    createReadStream(file).on('error', fail).on('end', done).pipe(res);
  });
  return true;
}
