/**
 * Time-aware bias terms of a rating model (Koren, "Collaborative filtering with temporal dynamics", KDD 2009, §4):
 *   r̂(u,i,t) = μ + b_u + α_u·dev_u(t) + b_{u,day(t)} + b_i + b_{i,Bin(t)} + p_u·q_i
 * with dev_u(t) = sign(t − t_u)·|t − t_u|^β (t, t_u in days; t_u the user's mean rating day; eq. 7) and
 * Bin(t) = ⌊(t − binStart)/binWidth⌋ (eq. 6). Every term is optional: a model without one adds 0 for it.
 *
 * "Now": a time after the newest training rating (`trainEnd`) is clamped to it, and one before the oldest to
 * `trainStart` (a request today on a model trained on 2016 data predicts as of the end of 2016); the user terms
 * are further held at the user's own last training day, so no drift is extrapolated past a user's data and
 * "now" for a user means their state when last seen (their latest session's day bias included). A folded-in user
 * (index −1) has no drift history: α_u = 0, no day term — only the movie's bin bias applies.
 */
export interface TemporalParams {
  /** Oldest and newest training timestamps, Unix seconds. */
  trainStart: number;
  trainEnd: number;
  /** Bin layout: bin b covers [binStart + b·binWidth, binStart + (b+1)·binWidth), seconds; bins ≥ 1. */
  binStart: number;
  binWidth: number;
  bins: number;
  /** b_{i,bin}, numItems × bins row-major; absent when the movie-bias drift is off. */
  itemBinBias?: Float32Array;
  /** β of dev_u(t) (0.4 in Koren 2009). */
  beta: number;
  /** t_u, the user's mean rating day (days since 1970), and α_u; absent when the user-bias drift is off. */
  userMeanDay?: Float32Array;
  /**
   * The user's last training rating time (Unix seconds): the user terms (drift, day) are taken at
   * min(t, last_u) — a user's state as last seen, never a drift extrapolated past their own data. Present
   * whenever userDrift or dayBias is.
   */
  userLastTime?: Int32Array;
  userDrift?: Float32Array;
  /**
   * b_{u,day}: the days user u rated on are days[dayOffsets[u] … dayOffsets[u+1]) (ascending, days since 1970)
   * with biases dayBias at the same positions; absent when the day term is off.
   */
  dayOffsets?: Int32Array;
  days?: Int32Array;
  dayBias?: Float32Array;
}

/** The scalar part of TemporalParams (what a model file's header and a model version's row store as JSON). */
export type TemporalLayout = Pick<
  TemporalParams,
  'trainStart' | 'trainEnd' | 'binStart' | 'binWidth' | 'bins' | 'beta'
>;

/** The scalars of `tp`, its arrays left out. */
export function temporalLayout(tp: TemporalParams): TemporalLayout {
  return {
    trainStart: tp.trainStart,
    trainEnd: tp.trainEnd,
    binStart: tp.binStart,
    binWidth: tp.binWidth,
    bins: tp.bins,
    beta: tp.beta,
  };
}

const DAY = 86400;

/** Clamps a request time (Unix seconds) into the training span; throws a RangeError for NaN or before 1970. */
export function clampTime(tp: TemporalParams, at: number): number {
  if (!Number.isFinite(at) || at < 0)
    throw new RangeError(`time ${at} is not a Unix time in seconds at or after 1970-01-01`);
  return Math.max(tp.trainStart, Math.min(at, tp.trainEnd));
}

/** Bin(t) = ⌊(t − binStart)/binWidth⌋, clamped to [0, bins) (Koren 2009, eq. 6). */
export function timeBin(tp: TemporalParams, t: number): number {
  const b = Math.floor((t - tp.binStart) / tp.binWidth);
  return b < 0 ? 0 : b >= tp.bins ? tp.bins - 1 : b;
}

/** dev_u(t) = sign(t − t_u)·|t − t_u|^β, days (Koren 2009, eq. 7). */
export function driftDeviation(dayDelta: number, beta: number): number {
  return Math.sign(dayDelta) * Math.abs(dayDelta) ** beta;
}

/**
 * The temporal part of r̂ for user u (−1: a user outside the trained matrices), item i at Unix time `at` (already
 * clamped by clampTime): b_{i,Bin(t)} + α_u·dev_u(t) + b_{u,day(t)}.
 */
export function temporalOffset(tp: TemporalParams, u: number, i: number, at: number): number {
  let s = 0;
  if (tp.itemBinBias) s += tp.itemBinBias[i * tp.bins + timeBin(tp, at)]!;
  if (u < 0) return s;
  const day = (tp.userLastTime && at > tp.userLastTime[u]! ? tp.userLastTime[u]! : at) / DAY;
  if (tp.userDrift && tp.userMeanDay) {
    const a = tp.userDrift[u]!;
    if (a !== 0) s += a * driftDeviation(day - tp.userMeanDay[u]!, tp.beta);
  }
  if (tp.dayOffsets && tp.days && tp.dayBias) {
    const d = Math.floor(day);
    let lo = tp.dayOffsets[u]!;
    let hi = tp.dayOffsets[u + 1]!;
    // binary search for day d among the user's rating days
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (tp.days[mid]! < d) lo = mid + 1;
      else hi = mid;
    }
    if (lo < tp.dayOffsets[u + 1]! && tp.days[lo] === d) s += tp.dayBias[lo]!;
  }
  return s;
}

/** Checks the arrays' lengths against the model's shape; throws a RangeError naming the field. */
export function checkTemporal(tp: TemporalParams, numUsers: number, numItems: number): void {
  const expect = (what: string, got: number, want: number) => {
    if (got !== want) throw new RangeError(`temporal.${what} has length ${got}, expected ${want}`);
  };
  if (!(Number.isInteger(tp.bins) && tp.bins >= 1))
    throw new RangeError(`temporal.bins must be a positive integer, got ${tp.bins}`);
  if (!(tp.binWidth > 0)) throw new RangeError(`temporal.binWidth must be > 0, got ${tp.binWidth}`);
  if (!(tp.trainEnd >= tp.trainStart))
    throw new RangeError(`temporal.trainEnd (${tp.trainEnd}) is before trainStart (${tp.trainStart})`);
  if (tp.itemBinBias) expect('itemBinBias', tp.itemBinBias.length, numItems * tp.bins);
  if (tp.userDrift) expect('userDrift', tp.userDrift.length, numUsers);
  if (tp.userMeanDay) expect('userMeanDay', tp.userMeanDay.length, numUsers);
  if (tp.userDrift && !tp.userMeanDay) throw new RangeError('temporal.userDrift needs temporal.userMeanDay');
  if (tp.userLastTime) expect('userLastTime', tp.userLastTime.length, numUsers);
  if (tp.dayOffsets || tp.days || tp.dayBias) {
    if (!(tp.dayOffsets && tp.days && tp.dayBias))
      throw new RangeError('temporal: dayOffsets, days and dayBias come together');
    expect('dayOffsets', tp.dayOffsets.length, numUsers + 1);
    expect('dayBias', tp.dayBias.length, tp.days.length);
    if (tp.dayOffsets[numUsers] !== tp.days.length)
      throw new RangeError(
        `temporal.dayOffsets ends at ${tp.dayOffsets[numUsers]}, days has ${tp.days.length}`,
      );
  }
}
