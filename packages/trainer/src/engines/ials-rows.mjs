// The per-row work of implicit ALS (ials.ts), as plain JavaScript with no imports, so the same code runs on the main
// thread (one thread) and in the training pool's workers (rows-worker.mjs) under node, tsx and vitest. A half-sweep
// is two steps: the Gram matrix OᵀO of the fixed side, split by rows of the Gram (each entry still sums over the
// other side's rows in order, so the split does not change a bit), then every row's CG solve given OᵀO, split by
// contiguous chunks of rows (each row reads only the other side): the result is the same for every thread count.
// Types: ials-rows.d.mts.

/**
 * Rows a0…a1 of the lower triangle of gram = OᵀO, O the numOther × k row-major `other` (float32):
 *   gram[a, b] = Σ_j o_ja·o_jb  for b ≤ a, summed over j in order (Hu, Koren & Volinsky 2008, §4: YᵀY once per sweep).
 */
export function ialsGramRows(other, k, gram, a0, a1) {
  for (let a = a0; a < a1; a++) gram.fill(0, a * k, a * k + a + 1);
  const numOther = other.length / k;
  for (let j = 0; j < numOther; j++) {
    const base = j * k;
    for (let a = a0; a < a1; a++) {
      const oa = other[base + a];
      if (oa === 0) continue;
      const ga = a * k;
      for (let b = 0; b <= a; b++) gram[ga + b] += oa * other[base + b];
    }
  }
}

/** gram's upper triangle from its lower one (gram[a, b] = gram[b, a]). */
export function ialsGramMirror(gram, k) {
  for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) gram[a * k + b] = gram[b * k + a];
}

/**
 * `count` chunks of the Gram's rows 0…k of about equal work (row a of the lower triangle costs a + 1): count + 1
 * ascending boundaries (a chunk may be empty when count > k).
 */
export function gramChunks(k, count) {
  const bounds = new Int32Array(count + 1).fill(k);
  bounds[0] = 0;
  const total = (k * (k + 1)) / 2;
  let c = 1;
  let done = 0;
  for (let a = 0; a < k && c < count; a++) {
    done += a + 1;
    // rows 0…a cost (a + 1)(a + 2)/2: close chunk c once that reaches c/count of the triangle
    while (c < count && done >= (total * c) / count) bounds[c++] = a + 1;
  }
  return bounds;
}

/** Scratch vectors of one thread's CG for k factors. */
export function ialsScratch(k) {
  return {
    x: new Float64Array(k),
    r: new Float64Array(k),
    p: new Float64Array(k),
    ap: new Float64Array(k),
  };
}

/**
 * Solves rows u0…u1 of `target` (x_u, float32, numRows × k) against the fixed `other` (o_j): the normal equations
 *   A x_u = b,  A = OᵀO + Σ_{j∈h(u)} (c_uj − 1) o_j o_jᵀ + λI,  b = Σ_{j∈h(u)} c_uj o_j   (Hu et al. 2008, eq. 4)
 * by `cgSteps` conjugate-gradient steps from the current x_u (Takács, Pilászy & Tikk 2011, alg. 2). `rows` =
 * { offsets, items } (the CSR of each row's history), `conf` its c_uj, `gram` OᵀO (full k × k). A row without
 * interactions gets x = 0 (the minimiser of Σ_i (0 − xᵀy_i)² + λ‖x‖²).
 */
export function ialsRows(target, other, rows, conf, gram, k, l2, cgSteps, u0, u1, scratch) {
  const { offsets, items } = rows;
  const { x, r, p, ap } = scratch;
  // A·v for the row's system (history from…to), into out
  const apply = (from, to, v, out) => {
    for (let a = 0; a < k; a++) {
      let t = l2 * v[a];
      const ga = a * k;
      for (let b = 0; b < k; b++) t += gram[ga + b] * v[b];
      out[a] = t;
    }
    for (let e = from; e < to; e++) {
      const base = items[e] * k;
      let d = 0;
      for (let a = 0; a < k; a++) d += other[base + a] * v[a];
      d *= conf[e] - 1;
      for (let a = 0; a < k; a++) out[a] += d * other[base + a];
    }
  };
  for (let u = u0; u < u1; u++) {
    const from = offsets[u];
    const to = offsets[u + 1];
    const tb = u * k;
    if (from === to) {
      target.fill(0, tb, tb + k);
      continue;
    }
    for (let a = 0; a < k; a++) x[a] = target[tb + a];
    // r = b − A·x
    apply(from, to, x, ap);
    for (let a = 0; a < k; a++) r[a] = -ap[a];
    for (let e = from; e < to; e++) {
      const base = items[e] * k;
      const ce = conf[e];
      for (let a = 0; a < k; a++) r[a] += ce * other[base + a];
    }
    for (let a = 0; a < k; a++) p[a] = r[a];
    let rr = 0;
    for (let a = 0; a < k; a++) rr += r[a] * r[a];
    for (let step = 0; step < cgSteps && rr > 1e-20; step++) {
      apply(from, to, p, ap);
      let pap = 0;
      for (let a = 0; a < k; a++) pap += p[a] * ap[a];
      const alpha = rr / pap;
      let rrNew = 0;
      for (let a = 0; a < k; a++) {
        x[a] += alpha * p[a];
        r[a] -= alpha * ap[a];
        rrNew += r[a] * r[a];
      }
      const beta = rrNew / rr;
      for (let a = 0; a < k; a++) p[a] = r[a] + beta * p[a];
      rr = rrNew;
    }
    for (let a = 0; a < k; a++) target[tb + a] = x[a];
  }
}
