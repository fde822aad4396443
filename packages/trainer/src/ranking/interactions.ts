import { type Csr, type HistoryWeighting, ItemItemModel } from '@movierec/core';
import type { IdMap, RatingColumns } from '@movierec/data';
import { TrainingInputError } from '../engines/common.ts';

/**
 * What the ranking trainers read: interaction columns (user, movie, value, time) with the ID maps. `ratings` holds
 * the rating for explicit data or the interaction weight (views, plays; 1 when unweighted) for watch history.
 */
export interface InteractionData {
  /** What `ratings` holds (a @movierec/data Dataset's kind): absent or 'ratings', 'views' (weights), 'mixed'. */
  readonly kind?: 'ratings' | 'views' | 'mixed';
  readonly ratings: RatingColumns;
  readonly users: IdMap;
  readonly items: IdMap;
}

/**
 * Which held-out interactions count as relevant when evaluating on `data`: a rating ≥ 4 (the definition),
 * or — for watch history, whose values are weights, not ratings — every held-out interaction (null).
 */
export function relevantThresholdFor(data: Pick<InteractionData, 'kind'>): number | null {
  return data.kind === 'views' ? null : 4;
}

/** The per-user view every ranking trainer starts from. */
export interface UserRows {
  numUsers: number;
  numItems: number;
  /** Each user's rows, in (timestamp, row) order: rows[offsets[u] … offsets[u+1]). */
  offsets: Int32Array;
  rows: Int32Array;
  /** Distinct training users per item (the popularity of the fallback and of novelty). */
  popularity: Float32Array;
}

/** Groups rows by user in time order (ties: file order) and counts each item's distinct users. */
export function userRows(data: InteractionData, who: string): UserRows {
  const cols = data.ratings;
  const numUsers = data.users.size;
  const numItems = data.items.size;
  if (cols.length === 0) throw new TrainingInputError(`${who}: no interactions to train on`);
  const offsets = new Int32Array(numUsers + 1);
  for (let r = 0; r < cols.length; r++) {
    const u = cols.users[r]!;
    const i = cols.items[r]!;
    if (!(u >= 0 && u < numUsers))
      throw new TrainingInputError(`${who}: row ${r} has user ${u} outside 0…${numUsers - 1}`);
    if (!(i >= 0 && i < numItems))
      throw new TrainingInputError(`${who}: row ${r} has item ${i} outside 0…${numItems - 1}`);
    if (!Number.isFinite(cols.ratings[r]!))
      throw new TrainingInputError(`${who}: row ${r} has value ${cols.ratings[r]}`);
    offsets[u + 1]!++;
  }
  for (let u = 0; u < numUsers; u++) offsets[u + 1]! += offsets[u]!;
  const cursor = offsets.slice(0, numUsers);
  const rows = new Int32Array(cols.length);
  for (let r = 0; r < cols.length; r++) rows[cursor[cols.users[r]!]!++] = r;
  const ts = cols.timestamps;
  for (let u = 0; u < numUsers; u++)
    rows.subarray(offsets[u]!, offsets[u + 1]!).sort((a, b) => ts[a]! - ts[b]! || a - b);
  const popularity = new Float32Array(numItems);
  const last = new Int32Array(numItems).fill(-1);
  for (let u = 0; u < numUsers; u++) {
    for (let e = offsets[u]!; e < offsets[u + 1]!; e++) {
      const i = cols.items[rows[e]!]!;
      if (last[i] !== u) {
        last[i] = u;
        popularity[i]!++;
      }
    }
  }
  return { numUsers, numItems, offsets, rows, popularity };
}

/**
 * Each user's history as a CSR sorted by item, with value(row, age) per entry, age = how many of the user's rows
 * come later (0 = latest). A (user, item) pair seen twice keeps its latest row.
 */
export function historyCsr(
  data: InteractionData,
  ur: UserRows,
  value: (row: number, age: number) => number,
): Csr {
  const cols = data.ratings;
  const { numUsers, numItems, offsets, rows } = ur;
  const outOffsets = new Int32Array(numUsers + 1);
  const items = new Int32Array(rows.length);
  const values = new Float32Array(rows.length);
  const seen = new Int32Array(numItems).fill(-1);
  let w = 0;
  for (let u = 0; u < numUsers; u++) {
    outOffsets[u] = w;
    const a = offsets[u]!;
    const b = offsets[u + 1]!;
    const start = w;
    // latest first, so a repeated item keeps its latest row
    for (let e = b - 1; e >= a; e--) {
      const r = rows[e]!;
      const i = cols.items[r]!;
      if (seen[i] === u) continue;
      seen[i] = u;
      items[w] = i;
      values[w] = value(r, b - 1 - e);
      w++;
    }
    // sort the user's entries by item
    const idx = Int32Array.from({ length: w - start }, (_, j) => start + j);
    idx.sort((x, y) => items[x]! - items[y]!);
    const si = Int32Array.from(idx, (x) => items[x]!);
    const sv = Float32Array.from(idx, (x) => values[x]!);
    items.set(si, start);
    values.set(sv, start);
  }
  outOffsets[numUsers] = w;
  return { offsets: outOffsets, items: items.slice(0, w), values: values.slice(0, w) };
}

/** x_uj = g(value)·exp(−age/τ), the HistoryWeighting of @movierec/core (see its formula and source). */
export function weightedHistory(data: InteractionData, ur: UserRows, w: HistoryWeighting): Csr {
  const values = data.ratings.ratings;
  return historyCsr(data, ur, (r, age) => {
    const g = values[r]! >= w.likeThreshold ? 1 : w.lowWeight;
    return w.recencyTau > 0 ? g * Math.exp(-age / w.recencyTau) : g;
  });
}

/** The raw values (ratings or interaction weights) per (user, item). */
export function rawHistory(data: InteractionData, ur: UserRows): Csr {
  const values = data.ratings.ratings;
  return historyCsr(data, ur, (r) => values[r]!);
}

/** The popularity baseline as a Recommender: an item-item model without weights, so every user falls back. */
export function popularityModel(data: InteractionData): ItemItemModel {
  const ur = userRows(data, 'popularity');
  return new ItemItemModel({
    family: 'popularity',
    users: data.users,
    items: data.items,
    weights: {
      kind: 'sparse',
      rows: {
        offsets: new Int32Array(ur.numItems + 1),
        items: new Int32Array(0),
        values: new Float32Array(0),
      },
    },
    history: rawHistory(data, ur),
    popularity: ur.popularity,
    config: {},
    log: { engine: 'popularity', epochs: [] },
  });
}

/** Checks a number field of a ranking config: finite and within [min, max] (inclusive unless said). */
export function checkField(
  who: string,
  name: string,
  v: unknown,
  min: number,
  max = Number.POSITIVE_INFINITY,
  integer = false,
): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    throw new TrainingInputError(
      `${who}: ${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`,
    );
}
