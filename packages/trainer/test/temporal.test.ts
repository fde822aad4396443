/**
 * Time-aware terms in the Bayesian engine (Koren, KDD 2009 §4): they are learnt from planted time effects, and bad
 * input — no timestamps, a timestamp before 1970, every rating in one bin, a request time after the data — is
 * handled with a clear line or error.
 */
import { deserializeModel, serializeModel } from '@movierec/core';
import { type RatingColumns, Rng } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import type { TemporalSettings } from '../src/engines/bpmf/temporal.ts';
import { evaluate } from '../src/evaluate.ts';
import { train } from '../src/train.ts';

const DAY = 86400;
const T0 = 1_000_000_000; // 2001-09-09

/**
 * r = 3.5 + b_u + b_i + (day effect of the user's session) + (movie trend over time) + ε: each user rates in 4
 * sessions (days) spread over 400 days; each session has its own bias N(0, 0.6²); half the movies rise by 1 over the
 * span, half fall by 1. Split 80/20 at random.
 */
function plantedTemporal(seed: number, opts: { noTimes?: boolean; oneInstant?: boolean } = {}) {
  const rng = new Rng(seed);
  const nu = 60;
  const ni = 40;
  const bu = Array.from({ length: nu }, () => 0.4 * rng.normal());
  const bi = Array.from({ length: ni }, () => 0.4 * rng.normal());
  const rows: [number, number, number, number][] = [];
  for (let u = 0; u < nu; u++)
    for (let s = 0; s < 4; s++) {
      const day = Math.floor(rng.uniform() * 400);
      const session = 0.6 * rng.normal();
      for (let i = 0; i < ni; i++) {
        if (rng.uniform() > 0.3) continue;
        const trend = (i % 2 === 0 ? 1 : -1) * (day / 400 - 0.5);
        const t = opts.noTimes ? 0 : opts.oneInstant ? T0 : T0 + day * DAY + Math.floor(rng.uniform() * 3600);
        rows.push([u, i, 3.5 + bu[u]! + bi[i]! + session + trend + 0.3 * rng.normal(), t]);
      }
    }
  const order = rng.permutation(rows.length);
  const cols = (idx: ArrayLike<number>): RatingColumns => ({
    length: idx.length,
    users: Int32Array.from(idx, (j) => rows[j]![0]),
    items: Int32Array.from(idx, (j) => rows[j]![1]),
    ratings: Float32Array.from(idx, (j) => rows[j]![2]),
    timestamps: Int32Array.from(idx, (j) => rows[j]![3]),
  });
  const cut = Math.floor(rows.length * 0.8);
  return {
    train: cols(order.subarray(0, cut)),
    test: cols(order.subarray(cut)),
    shape: { numUsers: nu, numItems: ni },
  };
}

const ALL: TemporalSettings = { itemBins: 4, userDrift: true, userDay: true };
const config = (temporal?: TemporalSettings) => ({
  epochs: 40,
  factors: 4,
  bayes: {
    sampleFactors: 3,
    burnIn: 10,
    movieFeatures: false,
    popularityFeatures: false,
    ...(temporal ? { temporal } : {}),
  },
});

describe('time-aware terms in the Bayesian engine', () => {
  it('learn planted session and trend effects: test RMSE at the ratings’ own times drops well below the static model', async () => {
    const { train: tr, test, shape } = plantedTemporal(3);
    const plain = await train(tr, { config: config(), shape });
    const timed = await train(tr, { config: config(ALL), shape });
    expect(plain.model.params.temporal).toBeUndefined();
    const tp = timed.model.params.temporal!;
    expect(tp.bins).toBe(4);
    expect(tp.dayBias!.length).toBe(tp.days!.length);
    const a = evaluate(plain.model, test, tr, { skipRanking: true });
    const b = evaluate(timed.model, test, tr, { skipRanking: true });
    expect(b.rmse).toBeLessThan(0.85 * a.rmse);
    // at "now" the session terms of past days do not apply: worse than at the ratings' times
    const now = evaluate(timed.model, test, tr, { skipRanking: true, at: 'now' });
    expect(now.rmse).toBeGreaterThan(b.rmse);
    // the artifact keeps them: same predictions at the test times after a round trip
    const loaded = deserializeModel(serializeModel(timed.model));
    for (let r = 0; r < 20; r++) {
      const [u, i, t] = [test.users[r]!, test.items[r]!, test.timestamps[r]!];
      expect(loaded.predict(u, i, t)).toBe(timed.model.predict(u, i, t));
    }
  }, 120_000);

  it('ratings without timestamps: the terms are off, with one line saying so, and the model is the static one', async () => {
    const { train: tr, shape } = plantedTemporal(4, { noTimes: true });
    const lines: string[] = [];
    const { model, log } = await train(tr, { config: config(ALL), shape, onNote: (l) => lines.push(l) });
    expect(lines).toEqual(['temporal: the ratings have no timestamps; the time-aware terms are off']);
    expect(log.notes).toEqual(lines);
    expect(model.params.temporal).toBeUndefined();
    expect(model.predict(0, 0, T0)).toBe(model.predict(0, 0));
  }, 120_000);

  it('every rating at one instant (one bin): bins and drift are off with a line each, the day term still fits', async () => {
    const { train: tr, shape } = plantedTemporal(5, { oneInstant: true });
    const { model, log } = await train(tr, { config: config(ALL), shape });
    expect(log.notes).toEqual([
      'temporal: the ratings span 0 s, too short for 4 movie-bias bins; that term is off',
      'temporal: every user rated on a single instant; the user-bias drift is off',
    ]);
    const tp = model.params.temporal!;
    expect(tp.itemBinBias).toBeUndefined();
    expect(tp.userDrift).toBeUndefined();
    expect(tp.days!.length).toBe(shape.numUsers);
    expect(Number.isFinite(model.predict(3, 7, T0))).toBe(true);
    // the training span is one instant: any request time is clamped to it
    expect(model.predict(3, 7, T0 + 5 * DAY)).toBe(model.predict(3, 7, T0));
    expect(model.predict(3, 7, T0 - 5 * DAY)).toBe(model.predict(3, 7, T0));
  }, 120_000);

  it('a training timestamp before 1970 is refused naming the row; a request time after the data predicts as at its end', async () => {
    const { train: tr, shape } = plantedTemporal(6);
    const bad = { ...tr, timestamps: tr.timestamps.slice() };
    bad.timestamps[17] = -86400;
    await expect(train(bad, { config: config(ALL), shape })).rejects.toThrow(
      /rating row 17 has timestamp -86400, before 1970/,
    );
    const { model } = await train(tr, { config: config(ALL), shape });
    const end = model.params.temporal!.trainEnd;
    expect(model.predict(2, 5, end + 3650 * DAY)).toBe(model.predict(2, 5, end));
    expect(model.predict(2, 5)).toBe(model.predict(2, 5, end));
    expect(() => model.predict(2, 5, -1)).toThrow(/before|1970/);
    // fold-in of a new user: no drift history, so predictions move with the movie's bins only
    const v = model.foldIn({ items: Int32Array.of(1, 2, 3), values: Float32Array.of(4, 3, 5) });
    const tp = model.params.temporal!;
    const early = tp.trainStart;
    const d = model.predict(v, 4, end) - model.predict(v, 4, early);
    expect(d).toBeCloseTo(tp.itemBinBias![4 * tp.bins + tp.bins - 1]! - tp.itemBinBias![4 * tp.bins]!, 5);
  }, 120_000);
});
