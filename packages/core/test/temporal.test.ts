/**
 * Time-aware terms (Koren, KDD 2009): prediction at a time, "now", clamping, fold-in without drift, and the
 * artifact storing them (older artifacts still load).
 */
import { describe, expect, it } from 'vitest';
import {
  deserializeModel,
  driftDeviation,
  MFModel,
  ModelFormatError,
  serializeModel,
  type TemporalParams,
  timeBin,
} from '../src/index.ts';
import { randomParams } from './helpers.ts';

const DAY = 86400;
const start = 10_000 * DAY; // 1997-05-19
const end = start + 100 * DAY;

/** 3 users × 4 movies, 10 bins over 100 days; user 0 drifts and has day terms on days start+10 and start+50. */
function temporalModel(): MFModel {
  const params = randomParams(3, 4, 2, 5);
  const tp: TemporalParams = {
    trainStart: start,
    trainEnd: end,
    binStart: start,
    binWidth: (end - start + 1) / 10,
    bins: 10,
    beta: 0.4,
    itemBinBias: Float32Array.from({ length: 4 * 10 }, (_, j) => 0.01 * j),
    userMeanDay: Float32Array.of(start / DAY + 30, start / DAY + 40, start / DAY + 60),
    userDrift: Float32Array.of(0.05, 0, -0.02),
    userLastTime: Int32Array.of(start + 60 * DAY, start + 40 * DAY, end),
    dayOffsets: Int32Array.of(0, 2, 2, 3),
    days: Int32Array.of(start / DAY + 10, start / DAY + 50, start / DAY + 99),
    dayBias: Float32Array.of(0.3, -0.2, 0.1),
  };
  params.temporal = tp;
  return new MFModel({ params });
}

describe('prediction at a time', () => {
  const model = temporalModel();
  const plain = new MFModel({ params: { ...model.params, temporal: undefined } as never });
  const tp = model.params.temporal!;

  it('adds b_{i,Bin(t)} + α_u·dev_u(t) + b_{u,day} to the static r̂ (Koren 2009 eq. 6–7)', () => {
    const t = start + 10 * DAY + 3600; // day start+10, bin 1
    const dev = driftDeviation(t / DAY - tp.userMeanDay![0]!, 0.4);
    const expected = plain.predict(0, 2) + tp.itemBinBias![2 * 10 + 1]! + 0.05 * dev + 0.3;
    expect(timeBin(tp, t)).toBe(1);
    expect(model.predict(0, 2, t)).toBeCloseTo(expected, 5);
    // a day the user did not rate on: no day term
    const t2 = start + 20 * DAY;
    const dev2 = driftDeviation(t2 / DAY - tp.userMeanDay![0]!, 0.4);
    expect(model.predict(0, 2, t2)).toBeCloseTo(
      plain.predict(0, 2) + tp.itemBinBias![20 + timeBin(tp, t2)]! + 0.05 * dev2,
      5,
    );
  });

  it('defaults to "now" = the newest training time; later times clamp to it; a user is held at their last rating', () => {
    expect(model.predict(1, 3)).toBe(model.predict(1, 3, end));
    expect(model.predict(1, 3, end + 365 * DAY)).toBe(model.predict(1, 3, end));
    expect(model.predict(1, 3, 2_000_000_000)).toBe(model.predict(1, 3, end));
    // user 0's drift and day terms stop at their last rating (start+60 days): now = as of that day, plus the
    // movie's latest bin
    const last = start + 60 * DAY;
    const userPart = model.predict(0, 1, last) - tp.itemBinBias![1 * 10 + timeBin(tp, last)]!;
    expect(model.predict(0, 1) - tp.itemBinBias![1 * 10 + 9]!).toBeCloseTo(userPart, 5);
    // before the oldest training time: as of the oldest
    expect(model.predict(2, 0, 0)).toBe(model.predict(2, 0, start));
    // predictMany predicts at now, as predict() without a time
    const many = model.predictMany(Int32Array.of(0, 1, 2), Int32Array.of(1, 2, 3));
    expect(many[0]).toBeCloseTo(model.predict(0, 1), 5);
    expect(many[2]).toBeCloseTo(model.predict(2, 3), 5);
  });

  it('refuses a time before 1970 or not a number, naming it', () => {
    expect(() => model.predict(0, 0, -1)).toThrow(/time -1 is not a Unix time in seconds at or after 1970/);
    expect(() => model.predict(0, 0, Number.NaN)).toThrow(/time NaN/);
    expect(() => plain.predict(0, 0, -5)).toThrow(/before|1970/);
    // a model without time terms predicts the same at every time
    expect(plain.predict(0, 0, start)).toBe(plain.predict(0, 0));
  });

  it('a folded-in user has no drift history: only the movie bin term varies with time', () => {
    const v = model.foldIn({ items: Int32Array.of(0, 1), values: Float32Array.of(4, 2) });
    const a = start + 10 * DAY;
    const b = start + 95 * DAY;
    const diff = model.predict(v, 3, b) - model.predict(v, 3, a);
    expect(diff).toBeCloseTo(
      tp.itemBinBias![30 + timeBin(tp, b)]! - tp.itemBinBias![30 + timeBin(tp, a)]!,
      5,
    );
  });

  it('checks the shapes of the time terms', () => {
    const p = randomParams(3, 4, 2, 5);
    p.temporal = { ...tp, itemBinBias: new Float32Array(7) };
    expect(() => new MFModel({ params: p })).toThrow(/temporal.itemBinBias has length 7, expected 40/);
    p.temporal = { ...tp, bins: 0 };
    expect(() => new MFModel({ params: p })).toThrow(/temporal.bins must be a positive integer/);
  });
});

describe('artifact with time terms', () => {
  it('round-trips them: predictions at several times are bit for bit the same', () => {
    const model = temporalModel();
    const loaded = deserializeModel(serializeModel(model));
    expect(loaded.params.temporal!.bins).toBe(10);
    expect(loaded.params.temporal!.userLastTime).toEqual(model.params.temporal!.userLastTime);
    for (const t of [start, start + 10 * DAY, start + 50 * DAY + 7, end, end + DAY])
      for (let u = 0; u < 3; u++)
        for (let i = 0; i < 4; i++) expect(loaded.predict(u, i, t)).toBe(model.predict(u, i, t));
  });

  it('an artifact without them (written before they existed) loads and predicts the static r̂ at any time', () => {
    const old = new MFModel({ params: randomParams(3, 4, 2, 9) });
    const loaded = deserializeModel(serializeModel(old));
    expect(loaded.params.temporal).toBeUndefined();
    expect(loaded.predict(1, 2, start)).toBe(old.predict(1, 2));
  });

  it('a damaged time-term blob is a ModelFormatError naming it', () => {
    const model = temporalModel();
    const bytes = serializeModel(model);
    const text = new TextDecoder().decode(
      bytes.subarray(12, 12 + new DataView(bytes.buffer).getUint32(8, true)),
    );
    const patched = text.replace(
      '"name":"temporal.userDrift","dtype":"float32","length":3',
      '"name":"temporal.userDrift","dtype":"float32","length":2',
    );
    expect(patched).not.toBe(text);
    const enc = new TextEncoder().encode(patched);
    const out = new Uint8Array(bytes.length);
    out.set(bytes);
    out.set(enc, 12);
    expect(() => deserializeModel(out)).toThrow(ModelFormatError);
    expect(() => deserializeModel(out)).toThrow(
      /temporal.userDrift has 2 values but the shapes need numUsers = 3/,
    );
  });
});
