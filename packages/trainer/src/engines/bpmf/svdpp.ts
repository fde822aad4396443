import type { Rng } from '@movierec/data';
import type { Csr } from './csr.ts';
import { drawGaussian, sampleHyper } from './wishart.ts';
import { Workspace } from './workspace.ts';

/**
 * The implicit-feedback block of Bayesian SVD++: y_j for every movie, and per user the scaled sum
 * extra_u = c_u Σ_{j∈N(u)} y_j, c_u = |N(u)|^-½. Given everything else the y_j are Gaussian; one Gauss–Seidel
 * Gibbs pass draws each y_j from
 *   Λ* = Λ_Y + α Σ_{u∈R(j)} c_u² Q_u,  m* = Λ*⁻¹ (Λ_Y μ_Y + α Σ_{u∈R(j)} c_u (g_u + c_u Q_u y_j)),
 * with Q_u = Σ_{i∈R(u)} q_i q_iᵀ and g_u = Σ_{i∈R(u)} q_i e_ui (e = current residual), updating g_u and extra_u
 * after each draw — O(ratings · k²) per sweep.
 */
export class Implicit {
  readonly y: Float64Array;
  readonly extra: Float64Array;
  readonly #scale: Float64Array;
  readonly #Q: Float64Array;
  readonly #g: Float64Array;
  constructor(
    readonly byUser: Csr,
    readonly byItem: Csr,
    readonly k: number,
    initStd: number,
    rng: Rng,
  ) {
    const nu = byUser.rows;
    this.y = new Float64Array(byItem.rows * k);
    for (let i = 0; i < this.y.length; i++) this.y[i] = initStd * 0.1 * rng.normal();
    this.#scale = new Float64Array(nu);
    for (let u = 0; u < nu; u++) {
      const m = byUser.start[u + 1]! - byUser.start[u]!;
      this.#scale[u] = m > 0 ? 1 / Math.sqrt(m) : 0;
    }
    // on a SharedArrayBuffer: the pool's workers read it (sweeps.ts)
    this.extra = new Float64Array(new SharedArrayBuffer(8 * nu * k));
    this.#recomputeExtra();
    this.#Q = new Float64Array(nu * k * k);
    this.#g = new Float64Array(nu * k);
  }

  #recomputeExtra(): void {
    const { byUser, k, y, extra } = this;
    extra.fill(0);
    for (let u = 0; u < byUser.rows; u++) {
      const c = this.#scale[u]!;
      for (let e = byUser.start[u]!; e < byUser.start[u + 1]!; e++) {
        const o = byUser.cols[e]! * k;
        for (let a = 0; a < k; a++) extra[u * k + a]! += c * y[o + a]!;
      }
    }
  }

  sweep(
    U: Float64Array,
    V: Float64Array,
    d: number,
    mean: number,
    alpha: number,
    beta0: number,
    rng: Rng,
  ): void {
    const { byUser, byItem, k, y, extra } = this;
    const Q = this.#Q;
    const g = this.#g;
    const kk = k * k;
    Q.fill(0);
    g.fill(0);
    for (let u = 0; u < byUser.rows; u++) {
      const ou = u * d;
      for (let e = byUser.start[u]!; e < byUser.start[u + 1]!; e++) {
        const ov = byUser.cols[e]! * d;
        let p = mean + U[ou + k]! + V[ov + k]!;
        for (let a = 0; a < k; a++) p += (U[ou + a]! + extra[u * k + a]!) * V[ov + a]!;
        const err = byUser.values[e]! - p;
        for (let a = 0; a < k; a++) {
          const qa = V[ov + a]!;
          g[u * k + a]! += qa * err;
          for (let b = 0; b <= a; b++) Q[u * kk + a * k + b]! += qa * V[ov + b]!;
        }
      }
      for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) Q[u * kk + b * k + a] = Q[u * kk + a * k + b]!;
    }
    const ws = new Workspace(k);
    const h = sampleHyper(y, byItem.rows, k, beta0, rng, ws);
    const lmu = new Float64Array(k);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) lmu[a]! += h.lambda[a * k + b]! * h.mu[b]!;
    const prec = ws.prec;
    const rhs = ws.rhs;
    const qy = new Float64Array(k);
    const delta = new Float64Array(k);
    for (let j = 0; j < byItem.rows; j++) {
      prec.set(h.lambda);
      rhs.set(lmu);
      const oj = j * k;
      for (let e = byItem.start[j]!; e < byItem.start[j + 1]!; e++) {
        const u = byItem.cols[e]!;
        const c = this.#scale[u]!;
        const oq = u * kk;
        for (let a = 0; a < k; a++) {
          let s = 0;
          for (let b = 0; b < k; b++) s += Q[oq + a * k + b]! * y[oj + b]!;
          qy[a] = s;
        }
        const ac2 = alpha * c * c;
        for (let a = 0; a < k; a++) {
          rhs[a]! += alpha * c * (g[u * k + a]! + c * qy[a]!);
          for (let b = 0; b <= a; b++) prec[a * k + b]! += ac2 * Q[oq + a * k + b]!;
        }
      }
      for (let a = 0; a < k; a++) delta[a] = -y[oj + a]!;
      drawGaussian(prec, rhs, k, rng, ws.tmp, y, oj, 'Bayesian SVD++: implicit-factor precision');
      for (let a = 0; a < k; a++) delta[a]! += y[oj + a]!;
      for (let e = byItem.start[j]!; e < byItem.start[j + 1]!; e++) {
        const u = byItem.cols[e]!;
        const c = this.#scale[u]!;
        const oq = u * kk;
        for (let a = 0; a < k; a++) {
          extra[u * k + a]! += c * delta[a]!;
          let s = 0;
          for (let b = 0; b < k; b++) s += Q[oq + a * k + b]! * delta[b]!;
          g[u * k + a]! -= c * s;
        }
      }
    }
  }
}
