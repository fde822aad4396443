/** Scratch vectors and matrices of one Gibbs step over d-dimensional latent rows (reused across rows). */
export class Workspace {
  readonly prec: Float64Array;
  readonly rhs: Float64Array;
  readonly tmp: Float64Array;
  readonly mean: Float64Array;
  readonly cov: Float64Array;
  /** Packed lower triangle of a d×d symmetric matrix, d(d+1)/2 entries. */
  readonly tri: Float64Array;
  /** One feature row f_j of d entries. */
  readonly feat: Float64Array;
  constructor(d: number) {
    this.prec = new Float64Array(d * d);
    this.rhs = new Float64Array(d);
    this.tmp = new Float64Array(d);
    this.mean = new Float64Array(d);
    this.cov = new Float64Array(d * d);
    this.tri = new Float64Array((d * (d + 1)) / 2);
    this.feat = new Float64Array(d);
  }
}
