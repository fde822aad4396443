/**
 * The user-state cache's bounds: by bytes (histories, model states, cached top-N lists) and by count, oldest out,
 * evicted states marked stale — and an estimate that does not undercount what a state really holds in memory.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { TopItems } from '@movierec/core';
import { describe, expect, it } from 'vitest';
import { type ModelUser, UserState } from '../src/serving/snapshot.ts';
import { stateBytes, UserStateCache } from '../src/serving/user-cache.ts';
import { byteBudgetFromEnv } from '../src/start.ts';

/** A user as a model sees them, with `n` interactions and a k-factor state (the shapes the snapshot builds). */
function modelUser(n: number, k: number): ModelUser {
  const items = new Int32Array(n).map((_, j) => j * 3);
  return {
    history: { items, values: new Float32Array(n).fill(4) },
    exclude: items.slice(),
    state: { index: -1, factors: new Float32Array(k), bias: 0 } as ModelUser['state'],
    source: 'PERSONALIZED',
    foldedIn: n,
  };
}

function userState(id: string, n = 40, k = 32): UserState {
  const user = modelUser(n, k);
  return new UserState(id, true, n, user, user);
}

const top = (k = 100): TopItems => ({ items: new Int32Array(k), scores: new Float32Array(k) });

describe('UserStateCache', () => {
  it('holds states within its byte budget, oldest out, evicted ones marked stale', () => {
    const one = stateBytes(userState('u0'));
    const cache = new UserStateCache(10 * one + one / 2, 1000);
    const states = Array.from({ length: 25 }, (_, j) => userState(`u${j}`));
    for (const s of states) cache.remember(s);
    expect(cache.size).toBe(10);
    expect(cache.bytes).toBeLessThanOrEqual(cache.maxBytes);
    expect(cache.get('u14')).toBeUndefined();
    expect(states[14]!.valid).toBe(false);
    expect(cache.get('u24')).toBe(states[24]);
    expect(states[24]!.valid).toBe(true);
  });

  it('counts top-N lists cached on a state against the budget', () => {
    const one = stateBytes(userState('u0'));
    const cache = new UserStateCache(4 * one, 1000);
    const states = Array.from({ length: 4 }, (_, j) => userState(`u${j}`));
    for (const s of states) cache.remember(s);
    expect(cache.size).toBe(4);
    const list = top();
    states[3]!.tops.set('1|', list);
    cache.charge(states[3]!, '1|', list);
    // one list (800 bytes of arrays) pushes the oldest state out
    expect(cache.size).toBe(3);
    expect(cache.get('u0')).toBeUndefined();
    expect(cache.bytes).toBeLessThanOrEqual(cache.maxBytes);
    // a state no longer held is not charged
    const before = cache.bytes;
    cache.charge(states[0]!, '1|', list);
    expect(cache.bytes).toBe(before);
  });

  it('replaces a user’s state (the old one stale, its bytes given back) and forgets', () => {
    const cache = new UserStateCache();
    const a = userState('u');
    const b = userState('u', 80);
    cache.remember(a);
    cache.remember(b);
    expect(cache.size).toBe(1);
    expect(a.valid).toBe(false);
    expect(cache.bytes).toBe(stateBytes(b));
    cache.forget('u');
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    expect(b.valid).toBe(false);
  });

  it('bounds by count too, and refuses a state larger than the whole budget', () => {
    const cache = new UserStateCache(Number.POSITIVE_INFINITY, 3);
    for (let j = 0; j < 5; j++) cache.remember(userState(`u${j}`));
    expect(cache.size).toBe(3);
    const small = new UserStateCache(100, 10);
    const big = userState('big');
    small.remember(big);
    expect(small.size).toBe(0);
    expect(big.valid).toBe(false);
    expect(() => new UserStateCache(-1)).toThrow(/non-negative/);
  });

  it('does not estimate a state below what it adds to the V8 heap and array buffers', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = () => {
      gc();
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const n = 4000;
    const cache = new UserStateCache(Number.POSITIVE_INFINITY, n);
    const before = used();
    for (let j = 0; j < n; j++) {
      const s = userState(`user-${j.toString().padStart(8, '0')}`);
      cache.remember(s);
      for (const key of ['1|', '1|drama', '1|comedy']) {
        const list = top();
        s.tops.set(key, list);
        cache.charge(s, key, list);
      }
    }
    const grown = used() - before;
    expect(cache.size).toBe(n);
    // the accounting may overcount (it is a budget), but must not undercount by more than a few percent
    expect(cache.bytes).toBeGreaterThanOrEqual(0.95 * grown);
  });
});

describe('the cache budgets from the environment', () => {
  it('takes whole numbers of bytes and refuses anything else, naming the variable', () => {
    expect(byteBudgetFromEnv({ MOVIEREC_USER_CACHE_BYTES: '1048576' }, 'MOVIEREC_USER_CACHE_BYTES')).toBe(
      1048576,
    );
    expect(byteBudgetFromEnv({ MOVIEREC_RESPONSE_CACHE_BYTES: '0' }, 'MOVIEREC_RESPONSE_CACHE_BYTES')).toBe(
      0,
    );
    for (const bad of ['16MiB', '-1', '1.5', 'abc'])
      expect(() =>
        byteBudgetFromEnv({ MOVIEREC_USER_CACHE_BYTES: bad }, 'MOVIEREC_USER_CACHE_BYTES'),
      ).toThrow(
        `MOVIEREC_USER_CACHE_BYTES must be a whole number of bytes (0 turns the cache off), got "${bad}"`,
      );
  });
});
