/**
 * Top-N lists a snapshot shares between users — each movie's similar movies, the popularity fallback's lists per
 * filter — held least recently used first within a byte budget. They had been plain Maps capped by count (20,000
 * lists of 100 per model, 4,096 fallback lists): up to ~60 MB outside every budget and invisible in /metrics, and
 * under a soak's random similarMovies they kept filling for the whole run (each list ~1.2 KB with its two arrays),
 * so resident memory crept on long after the other caches had levelled off.
 */
import type { TopItems } from '@movierec/core';
import { listBytes } from './user-cache.ts';

/** Default byte budget of each of a snapshot's three list caches (MOVIEREC_LIST_CACHE_BYTES, listCacheBytes). */
export const DEFAULT_LIST_CACHE_BYTES = 4 * 1024 * 1024;

/** A key's bytes beyond the list: a number is a Smi in the Map slot; a string its UTF-16 payload and header. */
const keyBytes = (key: string | number) => (typeof key === 'number' ? 0 : 16 + 2 * key.length);

/**
 * A list as held: its items and scores in one ArrayBuffer of their own (two views on it), so a held list is three
 * heap objects and one allocation outside the heap, not a model's TopItems with two arrays of two objects each.
 * Lists live until the budget pushes them out and then die in V8's old generation, each object leaving a hole: in
 * the soak's heap profile the similar-movie lists were a fifth of that churn (bench/results/session9.txt). A user's
 * own lists (Snapshot.topFor) are held the same way.
 */
export function packed(top: TopItems): TopItems {
  const n = top.items.length;
  const buffer = new ArrayBuffer(8 * n);
  const items = new Int32Array(buffer, 0, n);
  const scores = new Float32Array(buffer, 4 * n, n);
  items.set(top.items);
  scores.set(top.scores);
  return { items, scores };
}

export class ListCache<K extends string | number> {
  /** Least recently used first (a hit moves its list to the end). */
  readonly #entries = new Map<K, TopItems>();
  #bytes = 0;

  constructor(readonly maxBytes = DEFAULT_LIST_CACHE_BYTES) {
    if (!(maxBytes >= 0))
      throw new RangeError(`list cache: maxBytes must be a non-negative number, got ${maxBytes}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Bytes the held lists are estimated to take (listBytes, and the key). */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: K): TopItems | undefined {
    const top = this.#entries.get(key);
    if (top === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, top);
    return top;
  }

  /**
   * Holds a copy of a list (replacing the key's), then lets the least recently used go until within the budget.
   * Returns the list to use from now on: the held copy, or the list itself when it is not held (over the budget).
   */
  set(key: K, top: TopItems): TopItems {
    const old = this.#entries.get(key);
    if (old !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= listBytes(old) + keyBytes(key);
    }
    const bytes = listBytes(top) + keyBytes(key);
    if (bytes > this.maxBytes) return top;
    const held = packed(top);
    this.#entries.set(key, held);
    this.#bytes += bytes;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= listBytes(e) + keyBytes(k);
    }
    return held;
  }
}
