import { compileWasm } from '@movierec/core';
import { generateSynthetic, Rng } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import { type BpmfConfig, type BpmfResult, fitBpmf } from '../src/engines/bpmf/gibbs.ts';
import {
  drawGaussian,
  RowRng,
  type RowSide,
  type RowStep,
  rowScratch,
  rowSums,
  sampleRows,
  sseRows,
} from '../src/engines/bpmf/rows.mjs';
import { BPMF_ROWS_WASM_BASE64 } from '../src/engines/bpmf/rows-wasm.ts';
import { kernelPlace, rowFactors } from '../src/engines/bpmf/sweeps.ts';

// The BPMF row kernel (wasm/bpmf-rows.wat through rows.mjs's simdSums) against the scalar loops of rows.mjs, in its
// two forms: rows gathered by JavaScript (`syrk`; any Y, and the SVD++ rows), and by the kernel itself
// (`gather_syrk`; plain rows whose Y lives in the kernel's memory, as rowFactors lays the engine's U and V out).
const kernel = compileWasm(BPMF_ROWS_WASM_BASE64);

/** The kernel scratch that gathers by JavaScript, and a copy of `c`'s Y in a kernel memory with its scratch there. */
function kernelForms(c: Case) {
  const { d } = c.step;
  const others = c.side.Y.length / d;
  const placed = rowFactors(1, others, d, 1, true);
  placed.V.set(c.side.Y);
  expect(placed.kernel?.memory).toBeDefined();
  return [
    ['rows gathered by JavaScript', c.side, rowScratch(d, { module: kernel! })],
    [
      'rows gathered by the kernel',
      { ...c.side, Y: placed.V },
      rowScratch(d, kernelPlace(placed.kernel!, 0)),
    ],
  ] as const;
}

// Ratings per row: none, fewer than the scalar loop's unroll of 4, exactly 4, one over, and past the kernel's batch
// of 256 (one, two and three batches).
const COUNTS = [0, 1, 3, 4, 5, 17, 255, 256, 257, 600];

interface Case {
  side: RowSide;
  step: RowStep;
  rows: number;
}

function makeCase(
  k: number,
  extras: { self?: boolean; other?: boolean; shift?: boolean },
  seed: number,
): Case {
  const rng = new Rng(seed);
  const d = k + 1;
  const rows = COUNTS.length;
  const others = 400;
  const start = new Int32Array(rows + 1);
  COUNTS.forEach((n, r) => {
    start[r + 1] = start[r]! + n;
  });
  const nnz = start[rows]!;
  const cols = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let e = 0; e < nnz; e++) {
    cols[e] = rng.int(others);
    values[e] = 0.5 + 0.5 * rng.int(10);
  }
  const normals = (n: number, sd: number) => Float64Array.from({ length: n }, () => sd * rng.normal());
  // Λ = I + W Wᵀ / d: symmetric positive definite, eigenvalues ≥ 1
  const w = normals(d * d, 1);
  const lambda = new Float64Array(d * d);
  for (let a = 0; a < d; a++)
    for (let b = 0; b < d; b++) {
      let s = a === b ? 1 : 0;
      for (let m = 0; m < d; m++) s += (w[a * d + m]! * w[b * d + m]!) / d;
      lambda[a * d + b] = s;
    }
  const side: RowSide = {
    start,
    cols,
    values,
    X: new Float64Array(rows * d),
    Y: normals(others * d, 0.4),
    selfExtra: extras.self ? normals(rows * k, 0.2) : undefined,
    otherExtra: extras.other ? normals(others * k, 0.2) : undefined,
    priorShift: extras.shift ? normals(rows * d, 0.3) : undefined,
  };
  const step: RowStep = {
    d,
    k,
    mean: 3.4,
    alpha: 1.7,
    lambda,
    lmu: normals(d, 1),
    seed: 11,
    sweep: 2,
    sideIndex: 1,
  };
  return { side, step, rows };
}

/**
 * Σ of the absolute values of the terms each entry of Λ* and of the right-hand side sums, computed here from the
 * definition (f_j = (y_j + e_j, 1), t_j = r_j − μ − y_j bias − f_j·s_r): the scale of that sum's rounding error.
 */
function magnitudes({ side, step }: Case, r: number) {
  const { d, k, mean, alpha, lambda, lmu } = step;
  const { start, cols, values, Y, selfExtra, otherExtra, priorShift } = side;
  const prec = Float64Array.from(lambda, Math.abs);
  const rhs = Float64Array.from(lmu, Math.abs);
  if (priorShift)
    for (let a = 0; a < d; a++)
      for (let b = 0; b < d; b++) rhs[a]! += Math.abs(lambda[a * d + b]! * priorShift[r * d + b]!);
  const f = new Float64Array(d);
  for (let e = start[r]!; e < start[r + 1]!; e++) {
    const c = cols[e]!;
    for (let a = 0; a < k; a++) f[a] = Y[c * d + a]! + (otherExtra ? otherExtra[c * k + a]! : 0);
    f[k] = 1;
    let off = 0;
    if (selfExtra) for (let a = 0; a < k; a++) off += f[a]! * selfExtra[r * k + a]!;
    const t = values[e]! - mean - Y[c * d + k]! - off;
    for (let a = 0; a < d; a++) {
      rhs[a]! += Math.abs(alpha * f[a]! * t);
      for (let b = 0; b < d; b++) prec[a * d + b]! += Math.abs(alpha * f[a]! * f[b]!);
    }
  }
  return { prec, rhs };
}

const VARIANTS = [
  ['plain', {}],
  ['plain with a prior shift (the item side with movie features)', { shift: true }],
  ['SVD++, user side (selfExtra)', { self: true }],
  ['SVD++, item side (otherExtra) with a prior shift', { other: true, shift: true }],
] as const;

describe.skipIf(kernel === null)('BPMF row kernel (WebAssembly SIMD) against the scalar loops', () => {
  // d = 4 (F padded to 8 columns), 11 (the default preset's 10 factors: d + 1 = 12, no padding), 33 (32 factors)
  describe.each([3, 10, 32])('k = %i', (k) => {
    it.each(VARIANTS)(
      "gives each row's Λ* and right-hand side within float reassociation (%s)",
      (_, extras) => {
        const c = makeCase(k, extras, 100 + k);
        const { d } = c.step;
        const scalar = rowScratch(d);
        expect(scalar.simd).toBeUndefined();
        for (const [form, side, simd] of kernelForms(c))
          for (let r = 0; r < c.rows; r++) {
            expect(simd.simd, form).toBeDefined();
            rowSums(c.side, c.step, r, scalar);
            rowSums(side, c.step, r, simd);
            const m = magnitudes(c, r);
            // A sum of n terms in any order is within (n − 1)·u·Σ|terms| of the exact one (Higham 2002, §4.2;
            // u = 2⁻⁵³ ≈ 1.1e-16); n ≤ 600 here, so both orders are within 6.7e-14·Σ|terms| and of each other
            // within 1.4e-13·Σ|terms|, under the 1e-12 asserted.
            for (let a = 0; a < d; a++) {
              for (let b = 0; b <= a; b++) {
                const i = a * d + b;
                expect(Math.abs(simd.prec[i]! - scalar.prec[i]!)).toBeLessThanOrEqual(1e-12 * m.prec[i]!);
              }
              expect(Math.abs(simd.rhs[a]! - scalar.rhs[a]!)).toBeLessThanOrEqual(1e-12 * m.rhs[a]!);
            }
            if (COUNTS[r] === 0) {
              // no ratings: Λ* = Λ and the right-hand side Λμ (+ Λ s_r) exactly, in both
              for (let a = 0; a < d; a++)
                for (let b = 0; b <= a; b++) expect(simd.prec[a * d + b]).toBe(c.step.lambda[a * d + b]);
              expect(simd.rhs).toEqual(scalar.rhs);
            }
            // the kernel's sums were really added (Λ*'s bias entry gains α·n)
            if (COUNTS[r]! > 0) expect(simd.prec[d * d - 1]).not.toBe(c.step.lambda[d * d - 1]);
          }
      },
    );

    it.each(VARIANTS)('draws the same rows within the conditioning of Λ* (%s)', (_, extras) => {
      const c = makeCase(k, extras, 200 + k);
      const { d } = c.step;
      const Xs = new Float64Array(c.rows * d);
      sampleRows({ ...c.side, X: Xs }, c.step, 0, c.rows, rowScratch(d));
      const [[, sideJs, scratchJs], [, sideKernel, scratchKernel]] = kernelForms(c);
      const Xv = new Float64Array(c.rows * d);
      const Xk = new Float64Array(c.rows * d);
      sampleRows({ ...sideJs, X: Xv }, c.step, 0, c.rows, scratchJs);
      sampleRows({ ...sideKernel, X: Xk }, c.step, 0, c.rows, scratchKernel);
      // the same F either way (copies, and t_j's subtractions in the same order): the same draws, bit for bit
      expect(Xk).toEqual(Xv);
      // Both draws use the row's one random stream, so they differ only by the sums' rounding (≤ 1e-12 relative,
      // above) carried through the Cholesky factor and the solves, which amplify it by at most κ(Λ*) — below 10⁴
      // here (Λ ⪰ I; the largest eigenvalue ≤ α·n·|f|² ≈ 1.7·600·(0.16k + 1)): within 1e-8 of the row's scale.
      for (let r = 0; r < c.rows; r++) {
        let scale = 1;
        for (let a = 0; a < d; a++) scale = Math.max(scale, Math.abs(Xs[r * d + a]!));
        for (let a = 0; a < d; a++)
          expect(Math.abs(Xv[r * d + a]! - Xs[r * d + a]!)).toBeLessThanOrEqual(1e-8 * scale);
      }
      expect(Xv.some((x) => x !== 0)).toBe(true);
    });
  });

  it("draws as the scalar Cholesky factor and solves do, bit for bit, from the kernel's own sums", () => {
    // the kernel's system and draw repeat drawGaussian's operations in order (no fused multiply-add): the same x
    const c = makeCase(10, { shift: true }, 400);
    const { d } = c.step;
    const scratch = rowScratch(d, { module: kernel! });
    const rng = new RowRng();
    for (let r = 0; r < c.rows; r++) {
      rowSums(c.side, c.step, r, scratch);
      const prec = Float64Array.from(scratch.prec);
      const rhs = Float64Array.from(scratch.rhs);
      const expected = new Float64Array(d);
      rng.reset(1, 2, 3, r);
      drawGaussian(prec, rhs, d, rng, new Float64Array(d), expected, 0);
      const X = new Float64Array(c.rows * d);
      sampleRows({ ...c.side, X }, { ...c.step, seed: 1, sweep: 2, sideIndex: 3 }, r, r + 1, scratch);
      expect(X.subarray(r * d, (r + 1) * d)).toEqual(expected);
    }
  });

  it("sums the training SSE as sseRows' scalar loop does, bit for bit", () => {
    // users = the case's rows, items = its other side; U and V laid out in a kernel memory as the engine does
    const c = makeCase(10, {}, 500);
    const { d, k, mean } = c.step;
    const items = c.side.Y.length / d;
    const placed = rowFactors(c.rows, items, d, 1, true);
    const rng = new Rng(7);
    for (let i = 0; i < placed.U.length; i++) placed.U[i] = 0.3 * rng.normal();
    placed.V.set(c.side.Y);
    const scratch = rowScratch(d, kernelPlace(placed.kernel!, 0));
    const pu = new Float64Array(k);
    const byUser = { start: c.side.start, cols: c.side.cols, values: c.side.values };
    const scalar = sseRows(byUser, placed.U, placed.V, undefined, d, k, mean, 0, c.rows, pu);
    const kernelSum = sseRows(byUser, placed.U, placed.V, undefined, d, k, mean, 0, c.rows, pu, scratch.simd);
    expect(kernelSum).toBe(scalar);
    expect(scalar).toBeGreaterThan(0);
  });

  it('refuses a precision that is not positive definite on either path', () => {
    const c = makeCase(10, {}, 300);
    const { d } = c.step;
    // Λ = 0 and no ratings in row 0: Λ* = 0
    const step = { ...c.step, lambda: new Float64Array(d * d) };
    for (const scratch of [rowScratch(d), rowScratch(d, { module: kernel! })])
      expect(() => sampleRows(c.side, step, 0, 1, scratch)).toThrow(
        'BPMF: conditional precision is not positive definite',
      );
  });

  it('keeps the whole sampler on the scalar path with simd: false, and close to it with the kernel', async () => {
    // 60,000 ratings on two threads: the workers instantiate the kernel (or not) too
    const data = generateSynthetic({ users: 400, items: 250, ratings: 60_000, seed: 9 });
    const shape = { numUsers: data.users.size, numItems: data.items.size };
    const config: BpmfConfig = {
      factors: 10,
      burnIn: 1,
      samples: 2,
      alpha: 'sample',
      seed: 5,
      popularityFeatures: true,
      keepSamples: true,
      threads: 2,
    };
    const run = async (extra: Partial<BpmfConfig>) => {
      const mse: number[] = [];
      const result: BpmfResult = await fitBpmf(data.ratings, shape, { ...config, ...extra }, (s) => {
        mse.push(s.trainMse);
        return undefined;
      });
      return { mse, result };
    };
    const simd = await run({});
    const scalar = await run({ simd: false });
    const scalarOne = await run({ simd: false, threads: 1 });
    // the scalar path is deterministic across thread counts, as before
    expect(scalarOne.mse).toEqual(scalar.mse);
    expect(scalarOne.result.samples[1]!.itemFactors).toEqual(scalar.result.samples[1]!.itemFactors);
    // The kernel's rounding differs from the scalar loops' (≤ 1e-12 relative per sum, above); three sweeps feed each
    // draw into the next side's sums and α's draw, growing the difference but not to the float32 samples' 6e-8.
    const close = (a: Float32Array, b: Float32Array) => {
      let worst = 0;
      for (let i = 0; i < a.length; i++)
        worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
      return worst;
    };
    for (let s = 0; s < 2; s++) {
      expect(close(simd.result.samples[s]!.userFactors, scalar.result.samples[s]!.userFactors)).toBeLessThan(
        1e-5,
      );
      expect(close(simd.result.samples[s]!.itemBias, scalar.result.samples[s]!.itemBias)).toBeLessThan(1e-5);
    }
    for (let i = 0; i < 3; i++) expect(simd.mse[i]!).toBeCloseTo(scalar.mse[i]!, 9);
  }, 120_000);
});
