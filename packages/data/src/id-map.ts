/**
 * Bidirectional map between external IDs (as found in files and databases, always compared as strings) and dense
 * indices 0…size-1 in first-seen order. Serialisable and stable: `fromJSON(toJSON())` gives the same indices, and
 * adding new IDs never renumbers existing ones, so a model trained today and a row written tomorrow agree.
 */
export class IdMap {
  readonly #toIndex = new Map<string, number>();
  readonly #toExternal: string[] = [];

  get size(): number {
    return this.#toExternal.length;
  }

  /** Index of `id`, assigning the next free index when it is new. */
  add(id: string | number): number {
    const key = String(id);
    let index = this.#toIndex.get(key);
    if (index === undefined) {
      index = this.#toExternal.length;
      this.#toIndex.set(key, index);
      this.#toExternal.push(key);
    }
    return index;
  }

  /** Index of `id`, or -1 when unknown. */
  indexOf(id: string | number): number {
    return this.#toIndex.get(String(id)) ?? -1;
  }

  has(id: string | number): boolean {
    return this.#toIndex.has(String(id));
  }

  /** External ID of a dense index; throws RangeError for an index outside 0…size-1. */
  externalId(index: number): string {
    const id = this.#toExternal[index];
    if (id === undefined) throw new RangeError(`index ${index} is outside 0…${this.size - 1}`);
    return id;
  }

  /** External IDs in index order (a copy). */
  ids(): string[] {
    return this.#toExternal.slice();
  }

  toJSON(): string[] {
    return this.#toExternal.slice();
  }

  /** The map 0 ↔ "0", 1 ↔ "1", …, size − 1 (a model or dataset built from dense indices alone). */
  static identity(size: number): IdMap {
    const map = new IdMap();
    for (let j = 0; j < size; j++) map.add(j);
    return map;
  }

  static fromJSON(ids: readonly (string | number)[]): IdMap {
    const map = new IdMap();
    for (const id of ids) {
      const before = map.size;
      if (map.add(id) !== before) throw new Error(`IdMap.fromJSON: duplicate id ${JSON.stringify(id)}`);
    }
    return map;
  }
}
