/**
 * predictRating(…, at:) on a time-aware model (Koren 2009 terms stored in the database): the model's own
 * prediction at that time, "now" by default, the day bias on the user's rating day, bad times refused, and a
 * folded-in user with no drift history (only the movie's bin term moves with time).
 */
import { MFModel, type TemporalParams, timeBin } from '@movierec/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/index.ts';
import { bundledDataset, gql, type Seeded, seededDatabase, serveSeeded, trainAls } from './fixtures.ts';

const PREDICT = `query($u: ID!, $m: ID!, $at: String) { predictRating(userId: $u, movieId: $m, at: $at) { rating source } }`;
const RATE = `mutation($u: ID!, $m: ID!, $r: Float!) { rateMovie(userId: $u, movieId: $m, rating: $r) { foldedInRatings } }`;
const DAY = 86400;
const iso = (t: number) => new Date(t * 1000).toISOString();

describe('predictRating at a time (PGlite)', () => {
  let seeded: Seeded;
  let server: RunningServer;
  let url: string;
  let model: MFModel;
  let firstDay: number;
  let userId: string;
  let movieId: string;
  const item = 0;

  beforeAll(async () => {
    const dataset = await bundledDataset();
    const plain = await trainAls(dataset);
    const { ratings } = dataset;
    let start = Number.POSITIVE_INFINITY;
    let end = 0;
    let first0 = Number.POSITIVE_INFINITY;
    const last = new Int32Array(dataset.users.size);
    for (let r = 0; r < ratings.length; r++) {
      const t = ratings.timestamps[r]!;
      start = Math.min(start, t);
      end = Math.max(end, t);
      last[ratings.users[r]!] = Math.max(last[ratings.users[r]!]!, t);
      if (ratings.users[r] === 0) first0 = Math.min(first0, t);
    }
    firstDay = Math.floor(first0 / DAY);
    // user 0's terms run to the end of the data (so a later day is a day without their day bias)
    last[0] = end;
    const numUsers = dataset.users.size;
    const bins = 4;
    // movie 0's bias rises by 0.1 per bin; user 0 has a +0.5 day bias on the day of their first rating
    const itemBinBias = new Float32Array(dataset.items.size * bins);
    for (let b = 0; b < bins; b++) itemBinBias[item * bins + b] = 0.1 * (b + 1);
    const dayOffsets = new Int32Array(numUsers + 1).fill(1);
    dayOffsets[0] = 0;
    const temporal: TemporalParams = {
      trainStart: start,
      trainEnd: end,
      binStart: start,
      binWidth: (end - start + 1) / bins,
      bins,
      beta: 0.4,
      itemBinBias,
      userLastTime: last,
      dayOffsets,
      days: Int32Array.of(firstDay),
      dayBias: Float32Array.of(0.5),
    };
    model = new MFModel({
      params: { ...plain.params, temporal },
      users: plain.users,
      items: plain.items,
      config: plain.config,
      log: plain.log,
    });
    userId = dataset.users.externalId(0);
    movieId = dataset.items.externalId(item);
    seeded = await seededDatabase('pglite', model);
    server = await serveSeeded(seeded, { pollMs: 200 });
    url = server.url;
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    await seeded?.db.close();
  });

  it('predicts at the given time as the model does: the day bias on the user’s rating day, the movie’s bin', async () => {
    const onDay = firstDay * DAY + 3600;
    const r = await gql(url, PREDICT, { u: userId, m: movieId, at: iso(onDay) });
    expect(r.errors).toBeUndefined();
    expect(r.data!.predictRating.rating).toBeCloseTo(model.predict(0, item, onDay), 4);
    const otherDay = onDay + 3 * DAY;
    const s = await gql(url, PREDICT, { u: userId, m: movieId, at: iso(otherDay) });
    const tp = model.params.temporal!;
    // the two differ by the day bias (0.5) and by the movie's bin change, if any
    const binDiff = 0.1 * (timeBin(tp, onDay) - timeBin(tp, otherDay));
    expect(r.data!.predictRating.rating - s.data!.predictRating.rating).toBeCloseTo(0.5 + binDiff, 4);
  });

  it('without `at`: now, i.e. as of the newest training rating (the user as of their last rating)', async () => {
    const r = await gql(url, PREDICT, { u: userId, m: movieId });
    expect(r.errors).toBeUndefined();
    expect(r.data!.predictRating.rating).toBeCloseTo(model.predict(0, item), 4);
    // a time far after the data is the same as now
    const later = await gql(url, PREDICT, { u: userId, m: movieId, at: '2100-01-01T00:00:00Z' });
    expect(later.data!.predictRating.rating).toBeCloseTo(r.data!.predictRating.rating, 6);
  });

  it('refuses a time that is not ISO-8601 or before 1970, naming the argument', async () => {
    for (const at of ['yesterday', '1969-12-31T23:59:59Z', 'x'.repeat(100)]) {
      const r = await gql(url, PREDICT, { u: userId, m: movieId, at });
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(r.errors?.[0]?.extensions?.argumentName).toBe('at');
    }
  });

  it('a folded-in new user has no drift history: only the movie’s bin term changes with time', async () => {
    const newUser = 'temporal-new-user';
    const rated = await gql(url, RATE, { u: newUser, m: seeded.dataset.items.externalId(5), r: 4.5 });
    expect(rated.errors).toBeUndefined();
    const tp = model.params.temporal!;
    const early = tp.trainStart + DAY;
    const late = tp.trainEnd - DAY;
    const a = await gql(url, PREDICT, { u: newUser, m: movieId, at: iso(early) });
    const b = await gql(url, PREDICT, { u: newUser, m: movieId, at: iso(late) });
    expect(a.errors).toBeUndefined();
    expect(b.data!.predictRating.rating - a.data!.predictRating.rating).toBeCloseTo(
      0.1 * (timeBin(tp, late) - timeBin(tp, early)),
      4,
    );
  });
});
