import { type HistoryWeighting, ItemItemModel, NO_WEIGHTING } from '@movierec/core';
import { checkField, type InteractionData, userRows, weightedHistory } from '../ranking/interactions.ts';
import { checkWeighting, type RankingFitOptions } from './ease.ts';

/**
 * Item-based kNN (Sarwar, Karypis, Konstan & Riedl, "Item-based collaborative filtering recommendation algorithms",
 * WWW 2001) on binary interactions with shrunk cosine similarity
 *   sim(i, j) = |U_i ∩ U_j| / (√|U_i|·√|U_j| + h)     (shrinkage h: Koren, "Factor in the neighbors", TKDD 2010)
 * keeping each item's top-K neighbours; s_ui = Σ_{j ∈ history(u) ∩ N_K(i)} sim(i, j)·x_uj.
 */
export interface ItemKnnConfig {
  /** K: neighbours kept per item. */
  neighbours: number;
  /** h in the denominator (0 = plain cosine). */
  shrinkage: number;
  /** Items with fewer interactions get no neighbours (and are nobody's neighbour). */
  minCount: number;
  weighting: HistoryWeighting;
}

export const ITEM_KNN_DEFAULTS: ItemKnnConfig = {
  neighbours: 100,
  shrinkage: 10,
  minCount: 2,
  weighting: NO_WEIGHTING,
};

export function fitItemKnn(
  data: InteractionData,
  config: Partial<ItemKnnConfig> = {},
  options: RankingFitOptions = {},
): ItemItemModel {
  const c: ItemKnnConfig = {
    ...ITEM_KNN_DEFAULTS,
    ...config,
    weighting: { ...ITEM_KNN_DEFAULTS.weighting, ...config.weighting },
  };
  checkField('item-knn', 'neighbours', c.neighbours, 1, 10_000, true);
  checkField('item-knn', 'shrinkage', c.shrinkage, 0);
  checkField('item-knn', 'minCount', c.minCount, 1, Number.POSITIVE_INFINITY, true);
  checkWeighting('item-knn', c.weighting);
  const started = performance.now();
  const ur = userRows(data, 'item-knn');
  const { numUsers, numItems, popularity } = ur;
  const cols = data.ratings;
  // item → users (distinct), and user → items (distinct, eligible only)
  const binary = weightedHistory(data, ur, {
    recencyTau: 0,
    likeThreshold: Number.NEGATIVE_INFINITY,
    lowWeight: 1,
  });
  const eligible = (i: number) => popularity[i]! >= c.minCount;
  const itemOffsets = new Int32Array(numItems + 1);
  for (let e = 0; e < binary.items.length; e++) itemOffsets[binary.items[e]! + 1]!++;
  for (let i = 0; i < numItems; i++) itemOffsets[i + 1]! += itemOffsets[i]!;
  const itemUsers = new Int32Array(binary.items.length);
  const cursor = itemOffsets.slice(0, numItems);
  for (let u = 0; u < numUsers; u++)
    for (let e = binary.offsets[u]!; e < binary.offsets[u + 1]!; e++)
      itemUsers[cursor[binary.items[e]!]!++] = u;
  // per item i: co-counts with every j through the users of i, then the top-K by shrunk cosine
  const co = new Float64Array(numItems);
  const touched = new Int32Array(numItems);
  const nbrItems: Int32Array[] = [];
  const nbrSims: Float32Array[] = [];
  const heapItems = new Int32Array(c.neighbours);
  const heapSims = new Float64Array(c.neighbours);
  for (let i = 0; i < numItems; i++) {
    if (!eligible(i)) {
      nbrItems.push(new Int32Array(0));
      nbrSims.push(new Float32Array(0));
      continue;
    }
    let nt = 0;
    for (let e = itemOffsets[i]!; e < itemOffsets[i + 1]!; e++) {
      const u = itemUsers[e]!;
      for (let f = binary.offsets[u]!; f < binary.offsets[u + 1]!; f++) {
        const j = binary.items[f]!;
        if (co[j] === 0) touched[nt++] = j;
        co[j]! += 1;
      }
    }
    // bounded selection of the K largest sims (min-heap by sim, ties: lower index wins)
    let size = 0;
    const ni = Math.sqrt(popularity[i]!);
    for (let t = 0; t < nt; t++) {
      const j = touched[t]!;
      const n = co[j]!;
      co[j] = 0;
      if (j === i || !eligible(j)) continue;
      // sim(i, j) = |U_i ∩ U_j| / (√|U_i|·√|U_j| + h)
      const sim = n / (ni * Math.sqrt(popularity[j]!) + c.shrinkage);
      size = heapPush(heapItems, heapSims, size, c.neighbours, j, sim);
    }
    const order = Array.from({ length: size }, (_, x) => x).sort(
      (a, b) => heapSims[b]! - heapSims[a]! || heapItems[a]! - heapItems[b]!,
    );
    nbrItems.push(Int32Array.from(order, (x) => heapItems[x]!));
    nbrSims.push(Float32Array.from(order, (x) => heapSims[x]!));
    if ((i & 255) === 0) {
      options.onProgress?.({ done: i, total: numItems });
      options.signal?.throwIfAborted();
    }
  }
  // transpose to contribution rows: row j lists (i, sim(i, j)) for every i with j ∈ N_K(i), sorted by i
  const rowOffsets = new Int32Array(numItems + 1);
  for (let i = 0; i < numItems; i++) for (const j of nbrItems[i]!) rowOffsets[j + 1]!++;
  for (let j = 0; j < numItems; j++) rowOffsets[j + 1]! += rowOffsets[j]!;
  const nnz = rowOffsets[numItems]!;
  const rowItems = new Int32Array(nnz);
  const rowValues = new Float32Array(nnz);
  const at = rowOffsets.slice(0, numItems);
  for (let i = 0; i < numItems; i++) {
    const js = nbrItems[i]!;
    const ss = nbrSims[i]!;
    for (let x = 0; x < js.length; x++) {
      const slot = at[js[x]!]!++;
      rowItems[slot] = i; // i ascending, so each row ends up sorted by target
      rowValues[slot] = ss[x]!;
    }
  }
  return new ItemItemModel({
    family: 'item-knn',
    users: data.users,
    items: data.items,
    weights: { kind: 'sparse', rows: { offsets: rowOffsets, items: rowItems, values: rowValues } },
    history: weightedHistory(data, ur, c.weighting),
    popularity,
    weighting: c.weighting,
    config: { ...c },
    log: {
      engine: 'item-knn',
      epochs: [],
      neighbourLinks: nnz,
      seconds: (performance.now() - started) / 1000,
      numInteractions: cols.length,
    },
  });
}

/** Pushes (item, sim) into a bounded min-heap of capacity k (root = weakest kept); returns the new size. */
function heapPush(
  items: Int32Array,
  sims: Float64Array,
  size: number,
  k: number,
  item: number,
  sim: number,
): number {
  const weaker = (a: number, b: number) =>
    sims[a]! < sims[b]! || (sims[a] === sims[b] && items[a]! > items[b]!);
  const swap = (a: number, b: number) => {
    const ti = items[a]!;
    items[a] = items[b]!;
    items[b] = ti;
    const ts = sims[a]!;
    sims[a] = sims[b]!;
    sims[b] = ts;
  };
  if (size < k) {
    items[size] = item;
    sims[size] = sim;
    let j = size;
    while (j > 0) {
      const p = (j - 1) >> 1;
      if (!weaker(j, p)) break;
      swap(j, p);
      j = p;
    }
    return size + 1;
  }
  if (sim < sims[0]! || (sim === sims[0] && item > items[0]!)) return size;
  items[0] = item;
  sims[0] = sim;
  let j = 0;
  for (;;) {
    const l = 2 * j + 1;
    if (l >= size) break;
    const r = l + 1;
    const child = r < size && weaker(r, l) ? r : l;
    if (!weaker(child, j)) break;
    swap(child, j);
    j = child;
  }
  return size;
}
