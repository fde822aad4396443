import { IdMap } from './id-map.ts';

/** Largest external integer ID kept in the direct lookup table (4M entries = 16 MB); larger ones go to a Map. */
const DIRECT_LIMIT = 1 << 22;

/**
 * Assigns dense indices to external IDs while a file is parsed, without making a string per row: canonical decimal
 * integers ("7", not "07") are looked up in a typed table; anything else by string. Both kinds share one first-seen
 * numbering, and an integer and its decimal string are the same ID (as in IdMap, which compares strings).
 */
export class IdRegistry {
  #table: Int32Array = new Int32Array(1024).fill(-1);
  readonly #big = new Map<number, number>();
  readonly #strings = new Map<string, number>();
  readonly #ids: (string | number)[] = [];

  constructor(seed?: IdMap) {
    if (seed) for (const id of seed.ids()) this.addString(id);
  }

  get size(): number {
    return this.#ids.length;
  }

  /** Index of a non-negative integer ID, assigning the next one when new. */
  addInt(id: number): number {
    const table = this.#table;
    if (id < table.length) {
      const index = table[id]!;
      if (index >= 0) return index;
    }
    return this.#addIntSlow(id);
  }

  #addIntSlow(id: number): number {
    if (id >= DIRECT_LIMIT) {
      let index = this.#big.get(id);
      if (index === undefined) {
        index = this.#ids.length;
        this.#big.set(id, index);
        this.#ids.push(id);
      }
      return index;
    }
    if (id >= this.#table.length) {
      let length = this.#table.length;
      while (length <= id) length *= 2;
      const grown = new Int32Array(length).fill(-1);
      grown.set(this.#table);
      this.#table = grown;
    }
    const index = this.#ids.length;
    this.#table[id] = index;
    this.#ids.push(id);
    return index;
  }

  /** Index of an ID given as text; canonical non-negative integers share the integer numbering. */
  addString(id: string): number {
    if (isCanonicalInt(id)) return this.addInt(Number(id));
    let index = this.#strings.get(id);
    if (index === undefined) {
      index = this.#ids.length;
      this.#strings.set(id, index);
      this.#ids.push(id);
    }
    return index;
  }

  /** Index of an ID without adding it; -1 when unknown. */
  indexOf(id: string): number {
    if (isCanonicalInt(id)) {
      const n = Number(id);
      if (n < DIRECT_LIMIT) return n < this.#table.length ? this.#table[n]! : -1;
      return this.#big.get(n) ?? -1;
    }
    return this.#strings.get(id) ?? -1;
  }

  toIdMap(): IdMap {
    return IdMap.fromJSON(this.#ids);
  }
}

/** "0", "7", "123456789012": digits only, no leading zero, exactly representable. */
export function isCanonicalInt(s: string): boolean {
  const n = s.length;
  if (n === 0 || n > 15) return false;
  if (n > 1 && s.charCodeAt(0) === 48) return false;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(k);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
