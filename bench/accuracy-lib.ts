/**
 * Shared pieces of the accuracy benches: load the bundled ratings, seeded k-fold split, RMSE/MAE of an MF model.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { MFParams } from '@movierec/core';
import { type RatingColumns, takeRows } from '@movierec/data';
import { Rng } from '../packages/trainer/src/algorithms/rng.ts';

export interface Loaded {
  ratings: RatingColumns;
  numUsers: number;
  numItems: number;
  /** Movie ID → dense item index. */
  itemIndex: Map<string, number>;
}

const here = dirname(fileURLToPath(import.meta.url));

/** Parses ml-latest-small/ratings.csv.gz (userId,movieId,rating,timestamp) into dense columns. */
export function loadSmall(): Loaded {
  const text = gunzipSync(
    readFileSync(join(here, '../packages/data/datasets/ml-latest-small/ratings.csv.gz')),
  ).toString('utf8');
  const lines = text.split('\n');
  const users = new Map<string, number>();
  const items = new Map<string, number>();
  const n = lines.length;
  const u = new Int32Array(n);
  const i = new Int32Array(n);
  const r = new Float32Array(n);
  const t = new Int32Array(n);
  let m = 0;
  for (let l = 1; l < n; l++) {
    const line = lines[l]!;
    if (line.length === 0) continue;
    const [us, is, rs, ts] = line.split(',');
    let ui = users.get(us!);
    if (ui === undefined) users.set(us!, (ui = users.size));
    let ii = items.get(is!);
    if (ii === undefined) items.set(is!, (ii = items.size));
    u[m] = ui;
    i[m] = ii;
    r[m] = Number(rs);
    t[m] = Number(ts);
    m++;
  }
  return {
    ratings: { length: m, users: u, items: i, ratings: r, timestamps: t },
    numUsers: users.size,
    numItems: items.size,
    itemIndex: items,
  };
}

/** Movie side features from movies.csv.gz: one-hot genres and release decade (row-major numItems × count). */
export function movieFeatures(data: Loaded): { count: number; values: Float32Array } {
  const text = gunzipSync(
    readFileSync(join(here, '../packages/data/datasets/ml-latest-small/movies.csv.gz')),
  ).toString('utf8');
  const rows: { item: number; genres: string[]; year: number }[] = [];
  const genreIndex = new Map<string, number>();
  for (const line of text.split('\n').slice(1)) {
    if (line.length === 0) continue;
    const first = line.indexOf(',');
    const last = line.lastIndexOf(',');
    const item = data.itemIndex.get(line.slice(0, first));
    if (item === undefined) continue;
    const title = line.slice(first + 1, last);
    const m = /\((\d{4})\)\s*"?\s*$/.exec(title);
    const genres = line
      .slice(last + 1)
      .split('|')
      .filter((g) => g !== '(no genres listed)');
    for (const g of genres) if (!genreIndex.has(g)) genreIndex.set(g, genreIndex.size);
    rows.push({ item, genres, year: m ? Number(m[1]) : 0 });
  }
  const decades = ['<1950', '1950s', '1960s', '1970s', '1980s', '1990s', '2000s', '2010s'];
  const count = genreIndex.size + decades.length;
  const values = new Float32Array(data.numItems * count);
  for (const r of rows) {
    for (const g of r.genres) values[r.item * count + genreIndex.get(g)!] = 1;
    if (r.year > 0) {
      const d = Math.max(0, Math.min(decades.length - 1, Math.floor((r.year - 1940) / 10)));
      values[r.item * count + genreIndex.size + d] = 1;
    }
  }
  return { count, values };
}

/** Seeded random k-fold: a shuffle of the rows, fold f = rows at positions ≡ f (mod k). */
export function kFoldSplits(
  cols: RatingColumns,
  k: number,
  seed: number,
): { train: RatingColumns; test: RatingColumns }[] {
  const perm = new Rng(seed).permutation(cols.length);
  const out: { train: RatingColumns; test: RatingColumns }[] = [];
  for (let f = 0; f < k; f++) {
    const tr: number[] = [];
    const te: number[] = [];
    for (let j = 0; j < perm.length; j++) (j % k === f ? te : tr).push(perm[j]!);
    out.push({ train: takeRows(cols, tr), test: takeRows(cols, te) });
  }
  return out;
}

/** RMSE = √(mean (r − r̂)²), MAE = mean |r − r̂|, with r̂ = μ + b_u + b_i + p_u·q_i clipped to [lo, hi]. */
export function rmseMae(p: MFParams, test: RatingColumns, lo = 0.5, hi = 5): { rmse: number; mae: number } {
  const k = p.factors;
  let se = 0;
  let ae = 0;
  for (let r = 0; r < test.length; r++) {
    const u = test.users[r]!;
    const i = test.items[r]!;
    let y = p.globalMean + p.userBias[u]! + p.itemBias[i]!;
    const ou = u * k;
    const oi = i * k;
    for (let a = 0; a < k; a++) y += p.userFactors[ou + a]! * p.itemFactors[oi + a]!;
    y = Math.min(hi, Math.max(lo, y));
    const e = test.ratings[r]! - y;
    se += e * e;
    ae += Math.abs(e);
  }
  return { rmse: Math.sqrt(se / test.length), mae: ae / test.length };
}

export function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1);
  return { mean, std: Math.sqrt(v) };
}
