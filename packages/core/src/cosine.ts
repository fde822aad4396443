import type { RecommendQuery, TopItems } from './recommender.ts';
import { DotScorer } from './score.ts';
import { topK } from './top-k.ts';

/**
 * Cosine similarity between the rows of a fixed row-major float32 matrix (item or user factors):
 * cos(m_a, m_b) = m_a·m_b / (‖m_a‖‖m_b‖), 0 for a zero row. All-rows scans use the SIMD `DotScorer`; the inverse
 * norms are computed once. The one cosine of core: `similarItems`, `similarUsers` and factor models' `explain`.
 */
export class CosineIndex {
  readonly #m: Float32Array;
  readonly #k: number;
  readonly #rows: number;
  readonly #scorer: DotScorer;
  readonly #invNorms: Float32Array;

  constructor(matrix: Float32Array, k: number, rows: number, scorer?: DotScorer) {
    this.#m = matrix;
    this.#k = k;
    this.#rows = rows;
    this.#scorer = scorer ?? new DotScorer(matrix, k, rows);
    this.#invNorms = inverseRowNorms(matrix, k, rows);
  }

  /** cos(m_a, m_b). */
  pair(a: number, b: number): number {
    const m = this.#m;
    const k = this.#k;
    let dot = 0;
    for (let f = 0, x = a * k, y = b * k; f < k; f++) dot += m[x + f]! * m[y + f]!;
    return dot * this.#invNorms[a]! * this.#invNorms[b]!;
  }

  /** out[j] = cos(m_row, m_j) for every row j (out is reused by the next call unless given). */
  toAll(row: number, out?: Float32Array): Float32Array {
    const k = this.#k;
    const dots = this.#scorer.dots(this.#m.subarray(row * k, (row + 1) * k));
    const inv = this.#invNorms;
    const scale = inv[row]!;
    const result = out ?? dots;
    for (let j = 0; j < this.#rows; j++) result[j] = dots[j]! * inv[j]! * scale;
    return result;
  }

  /** The rows most similar to `row` (itself excluded, plus `query.exclude`), by the one top-k. */
  nearest(row: number, query: RecommendQuery): TopItems {
    const exclude = query.exclude === undefined ? Int32Array.of(row) : withItem(query.exclude, row);
    return topK(this.toAll(row), { k: query.k, exclude, allowed: query.allowed });
  }

  /** The entries of `candidates` most similar to `row` (itself left out): items = the candidates, scores = cosines. */
  among(row: number, candidates: Int32Array, k: number): TopItems {
    const sims = new Float32Array(candidates.length);
    for (let j = 0; j < candidates.length; j++)
      sims[j] = candidates[j] === row ? Number.NEGATIVE_INFINITY : this.pair(row, candidates[j]!);
    const top = topK(sims, { k });
    const items = new Int32Array(top.items.length);
    for (let j = 0; j < items.length; j++) items[j] = candidates[top.items[j]!]!;
    return { items, scores: top.scores };
  }
}

/** 1/‖m_r‖ per row (0 for a zero row, so it scores 0). */
export function inverseRowNorms(m: Float32Array, k: number, rows: number): Float32Array {
  const inv = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let f = r * k, end = f + k; f < end; f++) s += m[f]! * m[f]!;
    inv[r] = s > 0 ? 1 / Math.sqrt(s) : 0;
  }
  return inv;
}

function withItem(list: Int32Array, item: number): Int32Array {
  const out = new Int32Array(list.length + 1);
  out.set(list);
  out[list.length] = item;
  return out.sort();
}
