import { describe, expect, it } from 'vitest';
import { type EntryDeps, ResponseCache } from '../src/http/response-cache.ts';

const deps: EntryDeps = {
  users: [],
  catalogue: null,
  movies: new Int32Array(0),
  movieVersions: new Uint32Array(0),
};

describe('ResponseCache', () => {
  it('stores a copy that owns its bytes, not a slice that pins a slab of the shared Buffer pool', () => {
    const cache = new ResponseCache(1 << 20);
    const body = Buffer.from('{"data":{"movie":{"id":"1"}}}', 'utf8');
    // a small Buffer.from is a view into Node's 8 KiB pool: keeping it would keep the whole slab
    expect(body.buffer.byteLength).toBeGreaterThan(body.length);
    expect(cache.admits('k')).toBe(false); // the doorkeeper: a key is stored from its second miss on
    expect(cache.admits('k')).toBe(true);
    cache.set('k', body, 1, deps, 0);
    const stored = cache.get('k', 1, 0)!;
    expect(stored.toString()).toBe(body.toString());
    expect(stored.buffer.byteLength).toBe(body.length);
  });

  it('keeps within its byte budget counting each entry’s overhead, oldest out first', () => {
    const budget = 64 * 1024;
    const cache = new ResponseCache(budget);
    const body = Buffer.alloc(300, 'x');
    for (let j = 0; j < 1000; j++) cache.set(`key-${j}`, body, 1, deps, 0);
    // 300 B body + 2 B per key character + 256 B overhead ≈ 570 B an entry: at most 64 KiB / 570 ≈ 114 entries
    expect(cache.size).toBeLessThanOrEqual(Math.floor(budget / (300 + 2 * 'key-999'.length + 256)) + 1);
    expect(cache.size).toBeGreaterThan(100);
    expect(cache.get('key-999', 1, 0)).not.toBeNull();
    expect(cache.get('key-0', 1, 0)).toBeNull();
  });

  it('lets go of expired entries as new ones arrive, not only when full', () => {
    const cache = new ResponseCache(1 << 20, 1000);
    const body = Buffer.alloc(100, 'x');
    for (let t = 0; t < 5000; t += 10) cache.set(`key-${t}`, body, 1, deps, t);
    // one entry every 10 ms living 1 s: about 100 alive at any time, far below what the budget would hold
    expect(cache.size).toBeLessThanOrEqual(101);
    expect(cache.bytes).toBeLessThanOrEqual(101 * (100 + 2 * 'key-4990'.length + 256));
    expect(cache.get('key-4990', 1, 4990)).not.toBeNull();
  });
});
