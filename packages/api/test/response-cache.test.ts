import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EntryDeps, ResponseCache } from '../src/http/response-cache.ts';
import type { Catalogue } from '../src/serving/catalogue.ts';
import { gql, type Seeded, seededDatabase, serveSeeded } from './fixtures.ts';

const deps: EntryDeps = { users: [], catalogue: null, movieStats: [] };

describe('ResponseCache', () => {
  it('stores a copy that owns its bytes, not a slice that pins a slab of the shared Buffer pool', () => {
    const cache = new ResponseCache(1 << 20);
    const body = Buffer.from('{"data":{"movie":{"id":"1"}}}', 'utf8');
    // a small Buffer.from is a view into Node's 8 KiB pool: keeping it would keep the whole slab
    expect(body.buffer.byteLength).toBeGreaterThan(body.length);
    expect(cache.admits('k', 0)).toBe(false); // the doorkeeper: a key is stored from its second miss on
    expect(cache.admits('k', 0)).toBe(true);
    cache.set('k', body, 1, deps, 0);
    const stored = cache.get('k', 1, 0)!;
    expect(stored.toString()).toBe(body.toString());
    expect(stored.buffer.byteLength).toBe(body.length);
  });

  it("answers until a movie whose statistics it shows changes, the body read back from behind the movies' pairs", () => {
    const cache = new ResponseCache(1 << 20);
    const catalogue = { statsVersion: new Uint32Array([5, 0, 7]) } as unknown as Catalogue;
    const body = Buffer.from('{"data":{"movie":{"ratingCount":2}}}', 'utf8');
    const valid = { valid: true };
    cache.set('k', body, 1, { users: [valid], catalogue, movieStats: [0, 5, 2, 7] }, 0);
    expect(cache.get('k', 1, 0)?.toString()).toBe(body.toString());
    expect(cache.get('k', 2, 0)).toBeNull(); // another model epoch
    cache.set('k', body, 1, { users: [valid], catalogue, movieStats: [0, 5, 2, 7] }, 0);
    catalogue.statsVersion[2] = 8; // a rating of movie 2 since
    expect(cache.get('k', 1, 0)).toBeNull();
    cache.set('k', body, 1, { users: [valid], catalogue, movieStats: [0, 5, 2, 8] }, 0);
    valid.valid = false; // the user's state went stale
    expect(cache.get('k', 1, 0)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('admits a key seen again within one to two TTLs, not one last seen longer ago', () => {
    const ttl = 1000;
    const cache = new ResponseCache(1 << 20, ttl);
    // windows of one TTL, each opened by the first call a TTL or more after the last one opened: [0, 1500), [1500, 3100), …
    expect(cache.admits('soon', 0)).toBe(false);
    expect(cache.admits('late', 200)).toBe(false);
    expect(cache.admits('next', 500)).toBe(false);
    expect(cache.admits('soon', 900)).toBe(true); // same window
    expect(cache.admits('next', 1500)).toBe(true); // the next window: still in the previous set
    expect(cache.admits('late', 3100)).toBe(false); // two windows on: forgotten, and seen afresh
    expect(cache.admits('late', 3200)).toBe(true);
    expect(cache.refused).toBe(4);
  });

  it('keeps within its byte budget counting each entry’s overhead, oldest out first', () => {
    const budget = 64 * 1024;
    const cache = new ResponseCache(budget);
    const body = Buffer.alloc(300, 'x');
    for (let j = 0; j < 1000; j++) cache.set(`key-${j}`, body, 1, deps, 0);
    // 300 B body + 2 B per key character + 256 B overhead + 112 B for its buffer ≈ 682 B an entry: at most
    // 64 KiB / 682 ≈ 96 entries
    const entry = 300 + 2 * 'key-999'.length + 256 + 112;
    expect(cache.size).toBeLessThanOrEqual(Math.floor(budget / entry) + 1);
    expect(cache.size).toBeGreaterThan(90);
    expect(cache.get('key-999', 1, 0)).not.toBeNull();
    expect(cache.get('key-0', 1, 0)).toBeNull();
  });

  it('lets go of expired entries as new ones arrive, not only when full', () => {
    const cache = new ResponseCache(1 << 20, 1000);
    const body = Buffer.alloc(100, 'x');
    for (let t = 0; t < 5000; t += 10) cache.set(`key-${t}`, body, 1, deps, t);
    // one entry every 10 ms living 1 s: about 100 alive at any time, far below what the budget would hold
    expect(cache.size).toBeLessThanOrEqual(101);
    expect(cache.bytes).toBeLessThanOrEqual(101 * (100 + 2 * 'key-4990'.length + 256 + 112));
    expect(cache.get('key-4990', 1, 4990)).not.toBeNull();
  });
});

describe('the response cache in the server', () => {
  let seeded: Seeded;
  beforeAll(async () => {
    seeded = await seededDatabase('pglite');
  }, 180_000);
  afterAll(async () => {
    await seeded?.db.close();
  });

  it('keeps only a flag of the user states its answers read, so an evicted state is freed', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const server = await serveSeeded(seeded);
    try {
      const query = 'query($u: ID!) { recommendations(userId: $u, limit: 5) { items { movie { id } } } }';
      const user = seeded.dataset.users.ids()[3]!;
      const first = await gql(server.url, query, { u: user });
      expect(first.errors).toBeUndefined();
      await gql(server.url, query, { u: user }); // the doorkeeper: stored from the second miss on
      const hits = async () => {
        const text = await (await fetch(server.metricsUrl)).text();
        return Number(
          /^movierec_cache_requests_total\{cache="response",result="hit"\} (\d+)/m.exec(text)?.[1] ?? 0,
        );
      };
      const hitsBefore = await hits();
      const snapshot = server.service.snapshot!;
      const state = new WeakRef(snapshot.users.get(user)!);
      expect(state.deref()).toBeDefined();
      // the answer is cached: a third request is a hit (the same bytes)
      const third = await gql(server.url, query, { u: user });
      expect(third.data).toEqual(first.data);
      expect(await hits()).toBe(hitsBefore + 1);
      // the user cache lets the state go (as under memory pressure from other users); the cached answer must not
      // keep it alive — before, each entry held its states with their histories, model states and top-N lists
      snapshot.users.forget(user);
      await new Promise((done) => setTimeout(done, 0));
      gc();
      gc();
      expect(state.deref()).toBeUndefined();
      // and the entry is stale: the next request computes the answer again, the same as before
      const again = await gql(server.url, query, { u: user });
      expect(again.data).toEqual(first.data);
      expect(snapshot.users.get(user)).toBeDefined();
    } finally {
      await server.close();
    }
  }, 120_000);
});
