import { driftDeviation, type TemporalParams } from '@movierec/core';
import type { RatingColumns, Rng } from '@movierec/data';

/**
 * Time-aware bias terms sampled inside the Gibbs sampler (Bayesian timeSVD++ biases: Koren, KDD 2009 §4 for the
 * model; Rendle, Zhang & Koren 2019 for sampling it), added to r̂ = μ + b_u + b_i + p_u·q_i:
 *   b_{i,Bin(t)}      movie bias per time bin,            b_{i,b} ~ N(0, λ_I⁻¹)
 *   α_u·dev_u(t)      user bias drift, dev_u(t) = sign(t − t_u)|t − t_u|^β (days), α_u ~ N(0, λ_A⁻¹)
 *   b_{u,day}         user bias on one day,               b_{u,d} ~ N(0, λ_D⁻¹)
 * with each precision λ ~ Gamma(a0, b0). Given everything else each term is a conjugate Gaussian: for a term x
 * shared by the ratings R(x) with coefficient c_r (1, or dev_u(t_r) for α_u) and partial residual e_r,
 *   x | rest ~ N(m, 1/P),  P = λ + α Σ c_r²,  m = α Σ c_r e_r / P          (α the noise precision),
 * and λ | x ~ Gamma(a0 + G/2, b0 + Σ x²/2) over the G values of that term that some rating informs (a value no
 * rating informs is left at its posterior mean 0).
 * dev is divided by its RMS over the training ratings while sampling (so one hyper-prior fits all three terms);
 * α_u is stored on the unscaled dev.
 */
export interface TemporalSettings {
  /** Number of time bins over the training span for b_{i,Bin(t)} (Koren used 30); 0 turns the term off. */
  itemBins: number;
  /** The user-bias drift α_u·dev_u(t). */
  userDrift: boolean;
  /** β of dev_u(t), default 0.4 (Koren 2009, picked on Netflix validation). */
  beta?: number;
  /** The day-specific user bias b_{u,day}. */
  userDay: boolean;
  /** Day terms only for users who rated on at least this many days (a single day is b_u itself); default 1. */
  userDayMinDays?: number;
  /** Gamma(a0, b0) hyper-prior on the terms' precisions; default a0 = 1, b0 = 1. */
  priorShape?: number;
  priorRate?: number;
}

export interface TemporalSample {
  itemBinBias?: Float32Array;
  userDrift?: Float32Array;
  dayBias?: Float32Array;
}

const DAY = 86400;

/** What `prepareTemporal` decided, for the training log (one line each). */
export interface TemporalNotes {
  notes: string[];
}

/**
 * The per-rating layout (bin, dev, day group) and the current values of the terms. Ratings with timestamp 0 (a
 * file without timestamps) take no temporal term; if no rating has one, `create` returns undefined and says so.
 */
export class TemporalBlock {
  readonly n: number;
  readonly numUsers: number;
  readonly numItems: number;
  readonly layout: Omit<TemporalParams, 'itemBinBias' | 'userDrift' | 'dayBias'>;
  /** Per rating: index into itemBinBias (item·bins + bin) or −1. */
  readonly #binIndex: Int32Array;
  /** Per rating: dev_u(t)/s (s = RMS of dev), 0 when untimed. */
  readonly #dev: Float64Array;
  readonly #devScale: number;
  /** Per rating: its (user, day) group or −1. */
  readonly #group: Int32Array;
  readonly #users: Int32Array;
  readonly binBias: Float64Array | undefined;
  readonly drift: Float64Array | undefined;
  readonly dayBias: Float64Array | undefined;
  readonly offset: Float64Array;
  #lambdaBin = 100;
  #lambdaDrift = 100;
  #lambdaDay = 25;
  readonly #a0: number;
  readonly #b0: number;

  private constructor(
    train: RatingColumns,
    numUsers: number,
    numItems: number,
    s: TemporalSettings,
    span: { start: number; end: number },
    notes: string[],
  ) {
    const n = train.length;
    this.n = n;
    this.numUsers = numUsers;
    this.numItems = numItems;
    this.#users = train.users;
    this.#a0 = s.priorShape ?? 1;
    this.#b0 = s.priorRate ?? 1;
    const ts = train.timestamps;
    const beta = s.beta ?? 0.4;
    // Bins over [start, end]: width = (end − start + 1)/bins seconds, so the newest rating falls in the last bin.
    let bins = Math.max(0, Math.floor(s.itemBins));
    const width = bins > 0 ? (span.end - span.start + 1) / bins : 1;
    if (bins > 0 && span.end - span.start < bins) {
      notes.push(
        `temporal: the ratings span ${span.end - span.start} s, too short for ${bins} movie-bias bins; that term is off`,
      );
      bins = 0;
    }
    const useBins = bins > 0;
    this.#binIndex = new Int32Array(n).fill(-1);
    if (useBins)
      for (let r = 0; r < n; r++) {
        const t = ts[r]!;
        if (t <= 0) continue;
        const b = Math.min(bins - 1, Math.floor((t - span.start) / width));
        this.#binIndex[r] = train.items[r]! * bins + b;
      }
    this.binBias = useBins ? new Float64Array(numItems * bins) : undefined;

    // t_u: mean rating day of the user (timed ratings only).
    const meanDay = new Float64Array(numUsers);
    const timed = new Float64Array(numUsers);
    const lastTime = new Int32Array(numUsers);
    for (let r = 0; r < n; r++) {
      if (ts[r]! <= 0) continue;
      lastTime[train.users[r]!] = Math.max(lastTime[train.users[r]!]!, ts[r]!);
      // summed as whole seconds after the span start (exact in float64), so equal times give dev exactly 0
      meanDay[train.users[r]!]! += ts[r]! - span.start;
      timed[train.users[r]!]!++;
    }
    for (let u = 0; u < numUsers; u++)
      meanDay[u] = timed[u]! > 0 ? (span.start + meanDay[u]! / timed[u]!) / DAY : 0;
    this.#dev = new Float64Array(n);
    let ss = 0;
    if (s.userDrift) {
      for (let r = 0; r < n; r++) {
        if (ts[r]! <= 0) continue;
        const dv = driftDeviation(ts[r]! / DAY - meanDay[train.users[r]!]!, beta);
        this.#dev[r] = dv;
        ss += dv * dv;
      }
    }
    const rms = Math.sqrt(ss / Math.max(1, n));
    const useDrift = s.userDrift && rms > 1e-6;
    if (s.userDrift && !useDrift)
      notes.push('temporal: every user rated on a single instant; the user-bias drift is off');
    this.#devScale = useDrift ? rms : 1;
    if (useDrift) for (let r = 0; r < n; r++) this.#dev[r]! /= rms;
    this.drift = useDrift ? new Float64Array(numUsers) : undefined;

    // (user, day) groups, numbered user by user with days ascending.
    this.#group = new Int32Array(n).fill(-1);
    let dayOffsets: Int32Array | undefined;
    let days: Int32Array | undefined;
    if (s.userDay) {
      const keyOf = (r: number) => train.users[r]! * 1e6 + Math.floor(ts[r]! / DAY);
      const all: number[] = [];
      for (let r = 0; r < n; r++) if (ts[r]! > 0) all.push(r);
      all.sort((a, b) => keyOf(a) - keyOf(b));
      // distinct rating days per user, to leave out users below userDayMinDays
      const dayCount = new Int32Array(numUsers);
      for (let j = 0; j < all.length; j++)
        if (j === 0 || keyOf(all[j]!) !== keyOf(all[j - 1]!)) dayCount[train.users[all[j]!]!]!++;
      const minDays = s.userDayMinDays ?? 1;
      const rows = all.filter((r) => dayCount[train.users[r]!]! >= minDays);
      const dayList: number[] = [];
      dayOffsets = new Int32Array(numUsers + 1);
      let prev = -1;
      for (const r of rows) {
        const key = keyOf(r);
        if (key !== prev) {
          dayList.push(Math.floor(ts[r]! / DAY));
          dayOffsets[train.users[r]! + 1]!++;
          prev = key;
        }
        this.#group[r] = dayList.length - 1;
      }
      for (let u = 0; u < numUsers; u++) dayOffsets[u + 1]! += dayOffsets[u]!;
      days = Int32Array.from(dayList);
    }
    this.dayBias = days ? new Float64Array(days.length) : undefined;
    this.offset = new Float64Array(n);
    this.layout = {
      trainStart: span.start,
      trainEnd: span.end,
      binStart: span.start,
      binWidth: width,
      bins: Math.max(1, bins),
      beta,
      ...(useDrift ? { userMeanDay: Float32Array.from(meanDay) } : {}),
      ...(dayOffsets && days ? { dayOffsets, days } : {}),
      ...(useDrift || days ? { userLastTime: lastTime } : {}),
    };
  }

  /**
   * The block for these ratings, or undefined with a note when no term can be fitted (no timestamps, every term
   * off). Throws a RangeError naming the row for a timestamp before 1970.
   */
  static create(
    train: RatingColumns,
    shape: { numUsers: number; numItems: number },
    settings: TemporalSettings,
    notes: string[],
  ): TemporalBlock | undefined {
    if (!(settings.itemBins > 0 || settings.userDrift || settings.userDay)) return undefined;
    let start = Number.POSITIVE_INFINITY;
    let end = Number.NEGATIVE_INFINITY;
    for (let r = 0; r < train.length; r++) {
      const t = train.timestamps[r]!;
      if (t < 0)
        throw new RangeError(
          `temporal: rating row ${r} has timestamp ${t}, before 1970 (timestamps are Unix seconds; 0 means none)`,
        );
      if (t === 0) continue;
      if (t < start) start = t;
      if (t > end) end = t;
    }
    if (!(end >= start)) {
      notes.push('temporal: the ratings have no timestamps; the time-aware terms are off');
      return undefined;
    }
    const block = new TemporalBlock(train, shape.numUsers, shape.numItems, settings, { start, end }, notes);
    if (!block.binBias && !block.drift && !block.dayBias) return undefined;
    return block;
  }

  /** Recomputes offset_r = b_{i,Bin} + α_u dev + b_{u,day} for every rating. */
  #refresh(): void {
    const { n, offset } = this;
    const bins = this.binBias;
    const drift = this.drift;
    const day = this.dayBias;
    for (let r = 0; r < n; r++) {
      let o = 0;
      const b = this.#binIndex[r]!;
      if (bins && b >= 0) o += bins[b]!;
      if (drift) o += drift[this.#users[r]!]! * this.#dev[r]!;
      const g = this.#group[r]!;
      if (day && g >= 0) o += day[g]!;
      offset[r] = o;
    }
  }

  /**
   * One Gibbs pass over the three terms given z_r = r − (every non-temporal part of r̂), per rating in row order,
   * and the noise precision α; leaves `offset` holding the new temporal part of each rating.
   */
  sample(z: Float64Array, alpha: number, rng: Rng): void {
    this.#refresh();
    const { n, offset } = this;
    // Each term in turn: remove it from the offset, draw it from its conditional, put it back.
    const drawGroups = (
      values: Float64Array,
      index: (r: number) => number,
      coef: (r: number) => number,
      lambda: number,
    ): number => {
      const sumCe = new Float64Array(values.length);
      const sumCc = new Float64Array(values.length);
      for (let r = 0; r < n; r++) {
        const g = index(r);
        if (g < 0) continue;
        const c = coef(r);
        const e = z[r]! - (offset[r]! - c * values[g]!);
        sumCe[g]! += c * e;
        sumCc[g]! += c * c;
      }
      let sq = 0;
      let used = 0;
      for (let g = 0; g < values.length; g++) {
        const old = values[g]!;
        if (sumCc[g] === 0) {
          // no rating informs this value (an empty bin, a user with no spread in time): its posterior mean 0,
          // so a term without data never moves a prediction; λ is drawn from the informed values only
          values[g] = 0;
          sumCe[g] = -old;
          continue;
        }
        // x | rest ~ N(α Σ c e / P, 1/P), P = λ + α Σ c²
        const P = lambda + alpha * sumCc[g]!;
        const x = (alpha * sumCe[g]!) / P + rng.normal() / Math.sqrt(P);
        values[g] = x;
        sumCe[g] = x - old;
        sq += x * x;
        used++;
      }
      for (let r = 0; r < n; r++) {
        const g = index(r);
        if (g >= 0) offset[r]! += coef(r) * sumCe[g]!;
      }
      // λ | x ~ Gamma(a0 + G/2, rate b0 + Σ x²/2)
      return rng.gamma(this.#a0 + used / 2) / (this.#b0 + sq / 2);
    };
    const one = () => 1;
    if (this.binBias)
      this.#lambdaBin = drawGroups(this.binBias, (r) => this.#binIndex[r]!, one, this.#lambdaBin);
    if (this.drift)
      this.#lambdaDrift = drawGroups(
        this.drift,
        (r) => this.#users[r]!,
        (r) => this.#dev[r]!,
        this.#lambdaDrift,
      );
    if (this.dayBias)
      this.#lambdaDay = drawGroups(this.dayBias, (r) => this.#group[r]!, one, this.#lambdaDay);
  }

  /** The current values, α_u on the unscaled dev (α_u = α'_u / s). */
  snapshot(): TemporalSample {
    const out: TemporalSample = {};
    if (this.binBias) out.itemBinBias = Float32Array.from(this.binBias);
    if (this.drift) {
      const s = this.#devScale;
      out.userDrift = Float32Array.from(this.drift, (a) => a / s);
    }
    if (this.dayBias) out.dayBias = Float32Array.from(this.dayBias);
    return out;
  }
}

/** Running mean of temporal samples → TemporalParams (the terms enter r̂ linearly, so the mean is exact). */
export class TemporalMean {
  #sum: { itemBinBias?: Float64Array; userDrift?: Float64Array; dayBias?: Float64Array } = {};
  #count = 0;
  constructor(readonly layout: TemporalBlock['layout']) {}
  add(s: TemporalSample): void {
    this.#count++;
    for (const key of ['itemBinBias', 'userDrift', 'dayBias'] as const) {
      const v = s[key];
      if (!v) continue;
      const acc = (this.#sum[key] ??= new Float64Array(v.length));
      for (let j = 0; j < v.length; j++) acc[j]! += v[j]!;
    }
  }
  get count(): number {
    return this.#count;
  }
  mean(): TemporalParams {
    const w = 1 / Math.max(1, this.#count);
    const out: TemporalParams = { ...this.layout };
    for (const key of ['itemBinBias', 'userDrift', 'dayBias'] as const) {
      const acc = this.#sum[key];
      if (acc) out[key] = Float32Array.from(acc, (x) => x * w);
    }
    return out;
  }
}
