// The per-row work of a BPMF Gibbs sweep (gibbs.ts), as plain JavaScript with no imports, so the same code runs on
// the main thread (one thread) and in the training pool's workers (../rows-worker.mjs) under node, tsx and vitest.
// Given the other side, every row's conditional is independent (Salakhutdinov & Mnih 2008, eq. 12–13), so a sweep
// splits rows into contiguous chunks fixed by the data (not by the thread count), and each row draws from its own
// random stream keyed by (seed, sweep, side, row): the result is the same whichever thread draws which chunk.
// Types: rows.d.mts.

/**
 * Chunk boundaries over rows 0…rows of a CSR (`start`, rows + 1 entries): `count` contiguous chunks of about equal
 * cost, cost(row) = nnz(row) + perRow (perRow: a row's fixed work — its d × d Cholesky factorisation, d³/3 flops —
 * in units of one rating's rank-one update, d²/2 flops: perRow ≈ 2d/3). Returns count + 1 boundaries.
 */
export function balancedChunks(start, rows, count, perRow) {
  const total = start[rows] + perRow * rows;
  const bounds = new Int32Array(count + 1);
  let r = 0;
  for (let c = 1; c < count; c++) {
    const target = (total * c) / count;
    while (r < rows && start[r] + perRow * r < target) r++;
    // the boundary whose cost before it is nearest the target (one row earlier when that is nearer)
    if (r > bounds[c - 1] && target - (start[r - 1] + perRow * (r - 1)) < start[r] + perRow * r - target) r--;
    bounds[c] = r;
  }
  bounds[count] = rows;
  return bounds;
}

/**
 * sfc32 (Doty-Humphrey, PractRand) keyed by (seed, sweep, side, row): the key words are mixed by the murmur3
 * finaliser (Appleby), expanded by splitmix32 (Vigna) into the 128-bit state, and 12 outputs are discarded —
 * the seeding of @movierec/data's Rng with a four-word key. normal() is Marsaglia's polar method.
 */
export class RowRng {
  constructor() {
    this.a = 0;
    this.b = 0;
    this.c = 0;
    this.d = 0;
    this.spare = Number.NaN;
  }

  /** Restarts the stream for one row. */
  reset(seed, sweep, side, row) {
    let h = seed >>> 0;
    h = fmix(h ^ Math.imul(sweep + 1, 0x9e3779b1));
    h = fmix(h ^ Math.imul(side + 1, 0x85ebca77));
    h = fmix(h ^ Math.imul(row + 1, 0xc2b2ae3d));
    let s = h;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    this.spare = Number.NaN;
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32() {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Standard normal by the Marsaglia polar method: z = u·√(−2 ln s / s), s = u² + v² < 1. */
  normal() {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      return z;
    }
    let u;
    let v;
    let s;
    do {
      u = (2 * this.uint32()) / 4294967296 - 1;
      v = (2 * this.uint32()) / 4294967296 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v * f;
    return u * f;
  }
}

/** murmur3's 32-bit finaliser (Appleby): avalanches every input bit. */
function fmix(h) {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Ratings per batch of the SIMD path: F is BATCH × dq float64s (24 KiB at d = 11, so it stays in L1). */
const BATCH = 256;

/** F's columns: f_j (d), t_j, zeros up to a multiple of 4 (the kernel's 4 × 4 blocks). */
const columns = (d) => (d + 4) & ~3;

/** 8-byte entries of one thread's kernel scratch after G, F and the batch: Λ, Λμ, P, B, Z, s and one drawn row. */
const tail = (d) => 2 * d * d + 5 * d;

/**
 * Bytes of one thread's kernel scratch (rowScratch's `at`, 16-aligned): G (dq²), F (BATCH × dq), a batch of cols
 * and values, then the draw's Λ, Λμ, P = Λ*, B, Z, s (the prior shift) and the drawn row.
 */
export function rowScratchBytes(d) {
  const dq = columns(d);
  return (8 * dq * dq + 8 * BATCH * dq + 8 * BATCH + 8 * tail(d) + 15) & ~15;
}

/**
 * Scratch arrays of one thread for d-dimensional rows. `kernel` ({ module, memory?, at? }): the compiled
 * wasm/bpmf-rows.wat (./rows-wasm.ts) and where this thread's kernel scratch lives — rowScratchBytes(d) bytes at
 * byte `at` of `memory` (a shared WebAssembly.Memory that may also hold the factors, sweeps.ts's rowFactors), or,
 * without memory, a small memory of its own; undefined: the scalar path. With the kernel, prec, rhs and z are views
 * of its memory.
 */
export function rowScratch(d, kernel) {
  const simd = kernel ? simdScratch(d, kernel) : undefined;
  return {
    tri: new Float64Array((d * (d + 1)) / 2),
    prec: simd ? simd.P : new Float64Array(d * d),
    rhs: simd ? simd.B : new Float64Array(d),
    z: simd ? simd.Z : new Float64Array(d),
    f: new Float64Array(d),
    rng: new RowRng(),
    simd,
  };
}

function simdScratch(d, { module, memory, at = 0 }) {
  const dq = columns(d);
  // a fixed size, never grown: the views below are never detached
  const pages = Math.ceil(rowScratchBytes(d) / 65536);
  const mem = memory ?? new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const { syrk, gather_syrk, system, draw, sse_row } = new WebAssembly.Instance(module, {
    env: { memory: mem },
  }).exports;
  const gAt = at;
  const fAt = gAt + 8 * dq * dq;
  const cAt = fAt + 8 * BATCH * dq;
  const vAt = cAt + 4 * BATCH;
  const lamAt = vAt + 4 * BATCH;
  const lmuAt = lamAt + 8 * d * d;
  const pAt = lmuAt + 8 * d;
  const bAt = pAt + 8 * d * d;
  const zAt = bAt + 8 * d;
  const sAt = zAt + 8 * d;
  const outAt = sAt + 8 * d;
  const f64 = (from, length) => new Float64Array(mem.buffer, from, length);
  const F = f64(fAt, BATCH * dq);
  F.fill(0);
  // column d - 1 = k is f_j's constant 1 (the bias), set once; columns after d stay 0
  for (let q = d - 1; q < F.length; q += dq) F[q] = 1;
  return {
    dq,
    syrk,
    gatherSyrk: gather_syrk,
    system,
    draw,
    sseRow: sse_row,
    buffer: mem.buffer,
    G: f64(gAt, dq * dq),
    F,
    C: new Int32Array(mem.buffer, cAt, BATCH),
    values: new Float32Array(mem.buffer, vAt, BATCH),
    lambda: f64(lamAt, d * d),
    lmu: f64(lmuAt, d),
    P: f64(pAt, d * d),
    B: f64(bAt, d),
    Z: f64(zAt, d),
    S: f64(sAt, d),
    out: f64(outAt, d),
    gAt,
    fAt,
    cAt,
    vAt,
    lamAt,
    lmuAt,
    pAt,
    bAt,
    zAt,
    sAt,
    outAt,
    touched: 0,
  };
}

/**
 * Draws rows r0…r1 of X given the other side Y (gibbs.ts's sampleSide): with features f_j = (y_j factors, 1) and
 * target t = r − μ − (y_j bias),
 *   Λ* = Λ + α Σ_j f_j f_jᵀ,  m* = Λ*⁻¹ (α Σ_j f_j t_j + Λ μ),  x ~ N(m*, Λ*⁻¹)   (Salakhutdinov & Mnih 2008, eq. 12–13).
 * `side` = { start, cols, values, X, Y, selfExtra?, otherExtra?, priorShift? }, `step` = { d, k, mean, alpha,
 * lambda (d×d), lmu (Λμ), seed, sweep, sideIndex }. Throws when a conditional precision is not positive definite.
 * With `scratch.simd` (rowScratch given the kernel) the whole row runs on the WebAssembly kernel — its sums
 * (simdSums), its system and the draw — but for the random numbers; the scalar loops below are the reference it is
 * tested against (test/bpmf-simd.test.ts).
 */
export function sampleRows(side, step, r0, r1, scratch) {
  const { X } = side;
  const { d, seed, sweep, sideIndex } = step;
  const { prec, rhs, z, rng, simd } = scratch;
  if (!simd) {
    for (let r = r0; r < r1; r++) {
      systemOf(side, step, r, scratch);
      rng.reset(seed, sweep, sideIndex, r);
      drawGaussian(prec, rhs, d, rng, z, X, r * d);
    }
    return;
  }
  loadPrior(step, simd);
  // X in the kernel's memory (rowFactors' U and V): the kernel writes the drawn row in place
  const inPlace = X.buffer === simd.buffer;
  for (let r = r0; r < r1; r++) {
    systemOf(side, step, r, scratch);
    rng.reset(seed, sweep, sideIndex, r);
    for (let a = 0; a < d; a++) z[a] = rng.normal();
    if (!simd.draw(simd.pAt, simd.bAt, simd.zAt, inPlace ? X.byteOffset + 8 * r * d : simd.outAt, d))
      throw new Error('BPMF: conditional precision is not positive definite');
    if (!inPlace) X.set(simd.out, r * d);
  }
}

/** Λ and Λμ into the kernel's scratch (once per call of sampleRows: they change between steps, not rows). */
function loadPrior(step, simd) {
  simd.lambda.set(step.lambda);
  simd.lmu.set(step.lmu);
}

/**
 * Row r's conditional: Λ* = Λ + α Σ_j f_j f_jᵀ into the lower triangle of scratch.prec (d × d row-major) and
 * α Σ_j f_j t_j + Λμ (+ Λ s_r with a prior shift) into scratch.rhs — on the kernel when scratch.simd is set
 * (simdSums, then its `system`), else by the scalar loops (the reference).
 */
export function rowSums(side, step, r, scratch) {
  if (scratch.simd) loadPrior(step, scratch.simd);
  systemOf(side, step, r, scratch);
}

function systemOf(side, step, r, scratch) {
  const { start, cols, values, Y, selfExtra, otherExtra, priorShift } = side;
  const { d, k, mean, alpha, lambda, lmu } = step;
  const { tri, prec, rhs, f, simd } = scratch;
  if (simd) {
    simdSums(side, step, r, simd);
    // Λ* = Λ + α Σ f fᵀ, rhs = Λμ + α Σ f t (+ Λ s_r): G's lower triangle and its row d
    if (priorShift) for (let a = 0, os = r * d; a < d; a++) simd.S[a] = priorShift[os + a];
    simd.system(
      simd.gAt,
      simd.dq,
      simd.lamAt,
      simd.lmuAt,
      alpha,
      priorShift ? simd.sAt : 0,
      simd.pAt,
      simd.bAt,
      d,
    );
    return;
  }
  const plain = otherExtra === undefined && selfExtra === undefined;
  // Λ* accumulates in the packed lower triangle `tri` (entry (a, b), b ≤ a, at a(a+1)/2 + b), starting from Λ.
  let p = 0;
  for (let a = 0; a < d; a++) {
    const row = a * d;
    for (let b = 0; b <= a; b++) tri[p++] = lambda[row + b];
  }
  for (let a = 0; a < d; a++) rhs[a] = lmu[a];
  if (priorShift) addPriorShift(lambda, priorShift, r, d, rhs);
  const e0 = start[r];
  const e1 = start[r + 1];
  if (plain) {
    // f_j = (y_j factors, 1) read straight from Y: Λ* += α f_j f_jᵀ, rhs += α f_j t_j (t_j = r − μ − y_j bias).
    // Four ratings per pass over the triangle: one load/store of each Λ* entry per four rank-one updates.
    let e = e0;
    for (; e + 4 <= e1; e += 4) {
      const o0 = cols[e] * d;
      const o1 = cols[e + 1] * d;
      const o2 = cols[e + 2] * d;
      const o3 = cols[e + 3] * d;
      const t0 = alpha * (values[e] - mean - Y[o0 + k]);
      const t1 = alpha * (values[e + 1] - mean - Y[o1 + k]);
      const t2 = alpha * (values[e + 2] - mean - Y[o2 + k]);
      const t3 = alpha * (values[e + 3] - mean - Y[o3 + k]);
      p = 0;
      for (let a = 0; a < k; a++) {
        const y0 = Y[o0 + a];
        const y1 = Y[o1 + a];
        const y2 = Y[o2 + a];
        const y3 = Y[o3 + a];
        rhs[a] += y0 * t0 + y1 * t1 + y2 * t2 + y3 * t3;
        const f0 = alpha * y0;
        const f1 = alpha * y1;
        const f2 = alpha * y2;
        const f3 = alpha * y3;
        for (let b = 0; b <= a; b++)
          tri[p++] += f0 * Y[o0 + b] + f1 * Y[o1 + b] + f2 * Y[o2 + b] + f3 * Y[o3 + b];
      }
      rhs[k] += t0 + t1 + t2 + t3;
      for (let b = 0; b < k; b++) tri[p++] += alpha * (Y[o0 + b] + Y[o1 + b] + Y[o2 + b] + Y[o3 + b]);
      tri[p] += 4 * alpha;
    }
    for (; e < e1; e++) {
      const o = cols[e] * d;
      const t = alpha * (values[e] - mean - Y[o + k]);
      p = 0;
      for (let a = 0; a < k; a++) {
        const ya = Y[o + a];
        rhs[a] += ya * t;
        const fa = alpha * ya;
        for (let b = 0; b <= a; b++) tri[p++] += fa * Y[o + b];
      }
      rhs[k] += t;
      for (let b = 0; b < k; b++) tri[p++] += alpha * Y[o + b];
      tri[p] += alpha;
    }
  } else {
    for (let e = e0; e < e1; e++) {
      const c = cols[e];
      const o = c * d;
      for (let a = 0; a < k; a++) f[a] = Y[o + a];
      if (otherExtra) for (let a = 0; a < k; a++) f[a] += otherExtra[c * k + a];
      f[k] = 1;
      let off = 0;
      if (selfExtra) for (let a = 0; a < k; a++) off += f[a] * selfExtra[r * k + a];
      const t = alpha * (values[e] - mean - Y[o + k] - off);
      p = 0;
      for (let a = 0; a < d; a++) {
        const fa = alpha * f[a];
        rhs[a] += f[a] * t;
        for (let b = 0; b <= a; b++) tri[p++] += fa * f[b];
      }
    }
  }
  p = 0;
  for (let a = 0; a < d; a++) {
    const row = a * d;
    for (let b = 0; b <= a; b++) prec[row + b] = tri[p++];
  }
}

/** Prior mean μ + s_r (s_r = Bᵀ g_r, row r of `priorShift`): Λ(μ + s_r) = Λμ + Λ s_r, so rhs += Λ s_r. */
function addPriorShift(lambda, priorShift, r, d, rhs) {
  const os = r * d;
  for (let a = 0; a < d; a++) {
    let t = 0;
    for (let b = 0; b < d; b++) t += lambda[a * d + b] * priorShift[os + b];
    rhs[a] += t;
  }
}

/**
 * Row r's sums on the kernel: G = Σ_j (f_j, t_j)(f_j, t_j)ᵀ (lower triangle, dq × dq) with f_j = (y_j + e_j, 1)
 * (e_j: row j of otherExtra, the SVD++ part, when given) and t_j = r_j − μ − (y_j bias) − f_j·s (s: this row's
 * selfExtra, when given) — the scalar loops' f and t before α. The row's ratings are gathered BATCH at a time into
 * F (O(n·d) copies against the kernel's O(n·d²/2) products): by the kernel itself (gather_syrk) for plain rows whose
 * Y lives in its memory, else here.
 */
function simdSums(side, step, r, simd) {
  const { start, cols, values, Y, selfExtra, otherExtra } = side;
  const { d, k, mean } = step;
  const { dq, G, F, fAt, gAt } = simd;
  G.fill(0);
  const e1 = start[r + 1];
  if (otherExtra === undefined && selfExtra === undefined && Y.buffer === simd.buffer) {
    // Y in the kernel's memory: the kernel gathers the rows itself from a copy of the batch's cols and values
    const { C, cAt, vAt, gatherSyrk } = simd;
    for (let e = start[r]; e < e1; ) {
      const n = Math.min(BATCH, e1 - e);
      C.set(cols.subarray(e, e + n));
      simd.values.set(values.subarray(e, e + n));
      simd.touched = gatherSyrk(Y.byteOffset, cAt, vAt, n, d, dq, mean, fAt, gAt);
      e += n;
    }
    return;
  }
  const os = r * k;
  for (let e = start[r]; e < e1; ) {
    const n = Math.min(BATCH, e1 - e);
    // touch the batch's rows of Y first: independent loads, so their cache misses overlap (the gather's own loop
    // keeps few ratings in flight); the sum only keeps the loads from being dropped
    let touch = 0;
    for (let x = e, last = e + n; x < last; x++) {
      const o = cols[x] * d;
      touch += Y[o] + Y[o + k];
    }
    simd.touched = touch;
    for (let q = 0, last = e + n; e < last; e++, q += dq) {
      const c = cols[e];
      const o = c * d;
      for (let a = 0; a < k; a++) F[q + a] = Y[o + a];
      if (otherExtra) for (let a = 0, oe = c * k; a < k; a++) F[q + a] += otherExtra[oe + a];
      let off = 0;
      if (selfExtra) for (let a = 0; a < k; a++) off += F[q + a] * selfExtra[os + a];
      F[q + d] = values[e] - mean - Y[o + k] - off;
    }
    simd.syrk(fAt, n, dq, gAt);
  }
}

/**
 * x ~ N(Λ⁻¹ b, Λ⁻¹) given the precision Λ (lower triangle of `prec`, factored in place) and b (`rhs`): with
 * Λ = L Lᵀ, x = L⁻ᵀ L⁻¹ b + L⁻ᵀ z, z ~ N(0, I) (Rue 2001, alg. 2.5); written into out[at … at+d).
 */
export function drawGaussian(l, rhs, d, rng, z, out, at) {
  if (!cholesky(l, d)) throw new Error('BPMF: conditional precision is not positive definite');
  solve(l, d, rhs);
  // Lᵀ w = z: w ~ N(0, Λ⁻¹).
  for (let a = 0; a < d; a++) z[a] = rng.normal();
  for (let i = d - 1; i >= 0; i--) {
    let s = z[i];
    for (let m = i + 1; m < d; m++) s -= l[m * d + i] * z[m];
    z[i] = s / l[i * d + i];
  }
  for (let a = 0; a < d; a++) out[at + a] = rhs[a] + z[a];
}

/**
 * Cholesky–Banachiewicz in place on the lower triangle of the d × d row-major `l` (core's choleskyInPlace):
 * L_jj = √(A_jj − Σ_m L_jm²), L_ij = (A_ij − Σ_m L_im L_jm) / L_jj. False when A is not positive definite.
 */
function cholesky(l, d) {
  for (let j = 0; j < d; j++) {
    let s = l[j * d + j];
    for (let m = 0; m < j; m++) s -= l[j * d + m] * l[j * d + m];
    if (!(s > 0)) return false;
    const ljj = Math.sqrt(s);
    l[j * d + j] = ljj;
    for (let i = j + 1; i < d; i++) {
      let t = l[i * d + j];
      for (let m = 0; m < j; m++) t -= l[i * d + m] * l[j * d + m];
      l[i * d + j] = t / ljj;
    }
  }
  return true;
}

/** L Lᵀ x = b in place in b: L y = b (forward), then Lᵀ x = y (back) (core's choleskySolveInPlace). */
function solve(l, d, b) {
  for (let i = 0; i < d; i++) {
    let s = b[i];
    for (let m = 0; m < i; m++) s -= l[i * d + m] * b[m];
    b[i] = s / l[i * d + i];
  }
  for (let i = d - 1; i >= 0; i--) {
    let s = b[i];
    for (let m = i + 1; m < d; m++) s -= l[m * d + i] * b[m];
    b[i] = s / l[i * d + i];
  }
}

/**
 * ALS rows r0…r1 (als.ts's alsHalfStep, the arithmetic of core's solveBiasedRidge): each row x with ratings solves
 *   (AᵀA + diag(λ…λ, λ_b)) [f_x, b_x] = Aᵀy,  A's rows [g_j, 1], y_j = r_j − μ − b_other(j)
 * (Zhou et al. 2008; biases as in Koren 2009). Rows without ratings, or whose system is not positive definite,
 * keep their values. `rows` = { offsets, others, ratings }; `gram` (k+1)², `rhs` and `row` k+1 entries of scratch.
 */
export function alsRows(
  rows,
  factors,
  bias,
  otherFactors,
  otherBias,
  k,
  mu,
  lambda,
  lambdaBias,
  r0,
  r1,
  scratch,
) {
  const { offsets, others, ratings } = rows;
  const { gram, rhs, row } = scratch;
  const n = k + 1;
  for (let x = r0; x < r1; x++) {
    const from = offsets[x];
    const to = offsets[x + 1];
    if (from === to) continue;
    gram.fill(0);
    rhs.fill(0);
    row[k] = 1;
    for (let j = from; j < to; j++) {
      const o = others[j];
      const base = o * k;
      const y = ratings[j] - mu - otherBias[o];
      for (let a = 0; a < k; a++) row[a] = otherFactors[base + a];
      // lower triangle of Σ a·aᵀ and Σ a·y
      for (let a = 0; a < n; a++) {
        const fa = row[a];
        rhs[a] += fa * y;
        const rowA = a * n;
        for (let b = 0; b <= a; b++) gram[rowA + b] += fa * row[b];
      }
    }
    for (let a = 0; a < k; a++) gram[a * n + a] += lambda;
    gram[k * n + k] += lambdaBias;
    if (!cholesky(gram, n)) continue;
    solve(gram, n, rhs);
    for (let f = 0; f < k; f++) factors[x * k + f] = rhs[f];
    bias[x] = rhs[k];
  }
}

/** Scratch arrays of alsRows for k factors. */
export function alsScratch(k) {
  return {
    gram: new Float64Array((k + 1) * (k + 1)),
    rhs: new Float64Array(k + 1),
    row: new Float64Array(k + 1),
  };
}

/**
 * Σ (r_ui − μ − b_u − b_i − p'_u·q_i)² over the ratings of users r0…r1 (p'_u = p_u + the implicit part when
 * `extra` is given): the training SSE that α's Gamma posterior reads. `simd` (a scratch's): on the kernel when U and
 * V live in its memory and there is no implicit part — the same operations in the same order, so the same sum.
 */
export function sseRows(byUser, U, V, extra, d, k, mean, r0, r1, pu, simd) {
  const { start, cols, values } = byUser;
  let sse = 0;
  if (simd && extra === undefined && U.buffer === simd.buffer && V.buffer === simd.buffer) {
    // U and V in the kernel's memory: the same sum on the kernel (sse_row), the ratings copied in BATCH at a time
    const { C, cAt, vAt, sseRow } = simd;
    for (let u = r0; u < r1; u++) {
      const e1 = start[u + 1];
      for (let e = start[u]; e < e1; ) {
        const n = Math.min(BATCH, e1 - e);
        C.set(cols.subarray(e, e + n));
        simd.values.set(values.subarray(e, e + n));
        sse = sseRow(U.byteOffset + 8 * u * d, V.byteOffset, d, cAt, vAt, n, mean, sse);
        e += n;
      }
    }
    return sse;
  }
  for (let u = r0; u < r1; u++) {
    const ou = u * d;
    for (let a = 0; a < k; a++) pu[a] = U[ou + a] + (extra ? extra[u * k + a] : 0);
    const bu = U[ou + k];
    const e1 = start[u + 1];
    for (let e = start[u]; e < e1; e++) {
      const ov = cols[e] * d;
      let p = mean + bu + V[ov + k];
      for (let a = 0; a < k; a++) p += pu[a] * V[ov + a];
      const err = values[e] - p;
      sse += err * err;
    }
  }
  return sse;
}
