/**
 * Hot loops of the serving path: scoring every movie for one user, top-k selection, cosine neighbours.
 * Plain typed-array loops, no allocation per item; everything around them lives in the other serving files.
 */
import type { MFParams } from '@movierec/core';

/**
 * out[i] = μ + b_u + b_i + p_u · q_i for every item i (biased MF, Koren, Bell & Volinsky 2009, eq. 4).
 * `userFactors` is p_u (length k).
 */
export function scoreAllItems(
  params: MFParams,
  userBias: number,
  userFactors: Float32Array,
  out: Float32Array,
): Float32Array {
  const k = params.factors;
  const n = params.numItems;
  const q = params.itemFactors;
  const bi = params.itemBias;
  const base = params.globalMean + userBias;
  for (let i = 0, off = 0; i < n; i++, off += k) {
    let dot = 0;
    for (let f = 0; f < k; f++) dot += userFactors[f]! * q[off + f]!;
    out[i] = base + bi[i]! + dot;
  }
  return out;
}

/**
 * out[i] = scores[i] + rankBias[i]: the ranking key of a model with the ranking-only per-movie term
 * (MFParams.itemRankBias, e.g. w·ln(1 + n_i) from the default engine); predictions stay `scores`.
 */
export function addRankBias(scores: Float32Array, rankBias: Float32Array, out: Float32Array): Float32Array {
  const n = scores.length;
  for (let i = 0; i < n; i++) out[i] = scores[i]! + rankBias[i]!;
  return out;
}

/** A ranked list of dense item indices with their scores, best first. */
export interface TopList {
  readonly items: Int32Array;
  readonly scores: Float32Array;
}

/**
 * The k best-scoring items among those with allowed[i] !== 0 (or all when `allowed` is null) and
 * excluded[i] === 0 (or none when null), by a size-k min-heap: O(n log k). Ties break to the lower index.
 */
export function topK(
  scores: Float32Array,
  k: number,
  allowed: Uint8Array | null,
  excluded: Uint8Array | null,
): TopList {
  const n = scores.length;
  const heapItems = new Int32Array(k);
  const heapScores = new Float32Array(k);
  let size = 0;
  for (let i = 0; i < n; i++) {
    if (allowed !== null && allowed[i] === 0) continue;
    if (excluded !== null && excluded[i] !== 0) continue;
    const s = scores[i]!;
    if (size < k) {
      // sift up
      let c = size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (heapScores[p]! <= s) break;
        heapScores[c] = heapScores[p]!;
        heapItems[c] = heapItems[p]!;
        c = p;
      }
      heapScores[c] = s;
      heapItems[c] = i;
    } else if (s > heapScores[0]!) {
      // replace the root (the worst of the k best) and sift down
      let c = 0;
      for (;;) {
        const l = 2 * c + 1;
        if (l >= k) break;
        const r = l + 1;
        const m = r < k && heapScores[r]! < heapScores[l]! ? r : l;
        if (heapScores[m]! >= s) break;
        heapScores[c] = heapScores[m]!;
        heapItems[c] = heapItems[m]!;
        c = m;
      }
      heapScores[c] = s;
      heapItems[c] = i;
    }
  }
  // order best first (stable on index for equal scores)
  const order = Array.from({ length: size }, (_, j) => j).sort(
    (a, b) => heapScores[b]! - heapScores[a]! || heapItems[a]! - heapItems[b]!,
  );
  const items = new Int32Array(size);
  const out = new Float32Array(size);
  for (let j = 0; j < size; j++) {
    items[j] = heapItems[order[j]!]!;
    out[j] = heapScores[order[j]!]!;
  }
  return { items, scores: out };
}

/** Rows of `factors` (n × k) scaled to unit length: q̂_i = q_i / ‖q_i‖ (zero rows stay zero). */
export function normalizeRows(factors: Float32Array, n: number, k: number): Float32Array {
  const out = new Float32Array(n * k);
  for (let i = 0, off = 0; i < n; i++, off += k) {
    let ss = 0;
    for (let f = 0; f < k; f++) ss += factors[off + f]! * factors[off + f]!;
    const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
    for (let f = 0; f < k; f++) out[off + f] = factors[off + f]! * inv;
  }
  return out;
}

/** cos(q_i, q_j) = q̂_i · q̂_j over unit-length rows (cosine similarity of movie factors). */
export function cosine(unit: Float32Array, k: number, i: number, j: number): number {
  const a = i * k;
  const b = j * k;
  let dot = 0;
  for (let f = 0; f < k; f++) dot += unit[a + f]! * unit[b + f]!;
  return dot;
}

/** out[j] = cos(q_i, q_j) for every item j, over unit-length rows. */
export function cosineToAll(
  unit: Float32Array,
  n: number,
  k: number,
  i: number,
  out: Float32Array,
): Float32Array {
  const a = i * k;
  for (let j = 0, b = 0; j < n; j++, b += k) {
    let dot = 0;
    for (let f = 0; f < k; f++) dot += unit[a + f]! * unit[b + f]!;
    out[j] = dot;
  }
  return out;
}
