/**
 * The caches of shared top-N lists (similar movies, popularity fallback) hold least recently used lists out first
 * within a byte budget, counted as the user cache counts its lists.
 */
import type { TopItems } from '@movierec/core';
import { describe, expect, it } from 'vitest';
import { ListCache } from '../src/serving/list-cache.ts';
import { listBytes } from '../src/serving/user-cache.ts';

const list = (n: number): TopItems => ({ items: new Int32Array(n), scores: new Float32Array(n) });

describe('ListCache', () => {
  it('keeps within its budget, letting the least recently used go first', () => {
    const one = listBytes(list(100)); // 800 B of arrays + the objects' overhead
    const cache = new ListCache<number>(10 * one);
    for (let m = 0; m < 10; m++) cache.set(m, list(100));
    expect(cache.size).toBe(10);
    expect(cache.bytes).toBe(10 * one);
    cache.get(0); // 0 is now the most recently used, 1 the least
    cache.set(10, list(100));
    expect(cache.size).toBe(10);
    expect(cache.bytes).toBeLessThanOrEqual(10 * one);
    expect(cache.get(1)).toBeUndefined();
    expect(cache.get(0)).toBeDefined();
    expect(cache.get(10)).toBeDefined();
  });

  it('holds a copy whose items and scores share one buffer of their own, and hands that copy out', () => {
    const cache = new ListCache<number>(1 << 20);
    const top: TopItems = { items: Int32Array.of(7, 3, 9), scores: Float32Array.of(0.9, 0.5, 0.25) };
    const held = cache.set(1, top);
    expect(held).not.toBe(top);
    expect(Array.from(held.items)).toEqual([7, 3, 9]);
    expect(Array.from(held.scores)).toEqual([0.9, 0.5, 0.25].map(Math.fround));
    expect(held.items.buffer).toBe(held.scores.buffer);
    expect(held.items.buffer.byteLength).toBe(8 * 3);
    expect(cache.get(1)).toBe(held);
    // over the budget: not held, and the caller keeps its own list
    const tiny = new ListCache<number>(16);
    expect(tiny.set(1, top)).toBe(top);
    expect(tiny.size).toBe(0);
  });

  it('counts a string key, replaces a key without counting it twice, and holds nothing with a budget of 0', () => {
    const cache = new ListCache<string>(1 << 20);
    cache.set('1|drama', list(10));
    cache.set('1|drama', list(10));
    expect(cache.size).toBe(1);
    expect(cache.bytes).toBe(listBytes(list(10)) + 16 + 2 * '1|drama'.length);
    const none = new ListCache<number>(0);
    none.set(1, list(10));
    expect(none.size).toBe(0);
    expect(none.bytes).toBe(0);
    expect(() => new ListCache(-1)).toThrow(/maxBytes must be a non-negative number, got -1/);
  });
});
