import type { UserHistory } from '../recommender.ts';

/** Compressed sparse rows: row r's entries are [offsets[r], offsets[r+1]) of `items` (and `values`). */
export interface Csr {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
  readonly values: Float32Array;
}

export function csrRow(csr: Csr, row: number): { items: Int32Array; values: Float32Array } {
  const a = csr.offsets[row]!;
  const b = csr.offsets[row + 1]!;
  return { items: csr.items.subarray(a, b), values: csr.values.subarray(a, b) };
}

/**
 * How an item-item model weights a user's history before scoring, x_uj = g(v_j)·exp(−age_j/τ):
 * - recency: age_j = how many of the user's interactions came after j (0 = the latest), τ = `recencyTau`
 *   (0 = off) — the exponential time-decay of item-based CF (Ding & Li, "Time weight collaborative filtering",
 *   CIKM 2005), counted in interactions rather than seconds so that slow and busy users decay alike;
 * - value: g(v) = 1 when v ≥ `likeThreshold`, else `lowWeight` (a rating below the threshold still says the user
 *   chose the movie, but less that they want more like it); likeThreshold 0 = every interaction weighs 1
 *   (watch history).
 */
export interface HistoryWeighting {
  recencyTau: number;
  likeThreshold: number;
  lowWeight: number;
}

export const NO_WEIGHTING: HistoryWeighting = { recencyTau: 0, likeThreshold: 0, lowWeight: 1 };

/** x_uj for each history entry (same order as history.items); see HistoryWeighting. */
export function historyWeights(history: UserHistory, w: HistoryWeighting): Float32Array {
  const n = history.items.length;
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) out[j] = history.values[j]! >= w.likeThreshold ? 1 : w.lowWeight;
  const times = history.times;
  if (w.recencyTau > 0 && times && times.length === n && n > 1) {
    // age = rank from the latest by (time, position): later entries first
    const order = Int32Array.from({ length: n }, (_, j) => j);
    order.sort((a, b) => times[b]! - times[a]! || b - a);
    for (let age = 0; age < n; age++) out[order[age]!]! *= Math.exp(-age / w.recencyTau);
  }
  return out;
}

/** Checks a history: equal lengths, item indices in range, ascending without duplicates, finite values. */
export function checkHistory(history: UserHistory, numItems: number, who: string): void {
  const { items, values, times } = history;
  if (items.length !== values.length)
    throw new RangeError(`${who}: history has ${items.length} items but ${values.length} values`);
  if (times && times.length !== items.length)
    throw new RangeError(`${who}: history has ${items.length} items but ${times.length} times`);
  for (let j = 0; j < items.length; j++) {
    const i = items[j]!;
    if (!(i >= 0 && i < numItems))
      throw new RangeError(`${who}: history item ${i} (entry ${j}) is outside 0…${numItems - 1}`);
    if (j > 0 && i <= items[j - 1]!)
      throw new RangeError(`${who}: history items must be ascending without duplicates (entry ${j}: ${i})`);
    if (!Number.isFinite(values[j]!))
      throw new RangeError(`${who}: history value ${values[j]} (entry ${j}) is not a finite number`);
  }
}

/** Builds a CSR of (user → items, values) from columns; rows sorted by item, duplicates summed. */
export function buildHistoryCsr(
  users: Int32Array,
  items: Int32Array,
  values: Float32Array,
  length: number,
  numUsers: number,
): Csr {
  const counts = new Int32Array(numUsers + 1);
  for (let r = 0; r < length; r++) counts[users[r]! + 1]!++;
  for (let u = 0; u < numUsers; u++) counts[u + 1]! += counts[u]!;
  const cursor = counts.slice(0, numUsers);
  const order = new Int32Array(length);
  for (let r = 0; r < length; r++) order[cursor[users[r]!]!++] = r;
  const outItems = new Int32Array(length);
  const outValues = new Float32Array(length);
  const offsets = new Int32Array(numUsers + 1);
  let w = 0;
  for (let u = 0; u < numUsers; u++) {
    const rows = order.subarray(counts[u]!, counts[u + 1]!);
    rows.sort((a, b) => items[a]! - items[b]! || a - b);
    offsets[u] = w;
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j]!;
      if (w > offsets[u]! && outItems[w - 1] === items[r]) outValues[w - 1]! += values[r]!;
      else {
        outItems[w] = items[r]!;
        outValues[w] = values[r]!;
        w++;
      }
    }
  }
  offsets[numUsers] = w;
  return { offsets, items: outItems.slice(0, w), values: outValues.slice(0, w) };
}
