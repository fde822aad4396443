/**
 * The ranking-only per-movie term MFParams.itemRankBias (the default engine's w·ln(1 + n_i)) through the real server
 * and a real database: personalised top-N lists (trained and folded-in users) rank by r̂(u,i) + itemRankBias_i as
 * MFModel.recommend does, the returned scores and predictRating stay r̂, and the popularity fallback ignores it.
 */
import { MFModel } from '@movierec/core';
import { popularityRankBias } from '@movierec/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/index.ts';
import { bundledDataset, gql, type Seeded, seededDatabase, serveSeeded, trainAls } from './fixtures.ts';

const REC = `query Rec($userId: ID!, $limit: Int, $excludeRated: Boolean) {
  recommendations(userId: $userId, limit: $limit, excludeRated: $excludeRated) {
    source items { rank score movie { id } }
  }
}`;
const PREDICT = `query($u: ID!, $m: ID!) { predictRating(userId: $u, movieId: $m) { rating source } }`;
const RATE = `mutation($u: ID!, $m: ID!, $r: Float!) { rateMovie(userId: $u, movieId: $m, rating: $r) { foldedInRatings } }`;

type Item = { rank: number; score: number; movie: { id: string } };

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`itemRankBias in the API on ${kind}`, () => {
    let seeded: Seeded;
    let server: RunningServer;
    let url: string;
    /** The same parameters without the ranking-only term: what the ranking would be without it. */
    let plain: MFModel;
    /** A movie rated once in the data, not by user 0, and predicted lowest for user 0: given a huge term. */
    let target: number;
    let targetId: string;

    beforeAll(async () => {
      const dataset = await bundledDataset();
      plain = await trainAls(dataset);
      const counts = new Int32Array(dataset.items.size);
      const ratedBy0 = new Set<number>();
      for (let r = 0; r < dataset.ratings.length; r++) {
        counts[dataset.ratings.items[r]!]!++;
        if (dataset.ratings.users[r] === 0) ratedBy0.add(dataset.ratings.items[r]!);
      }
      target = -1;
      for (let i = 0; i < dataset.items.size; i++) {
        if (counts[i] !== 1 || ratedBy0.has(i)) continue;
        if (target < 0 || plain.predict(0, i) < plain.predict(0, target)) target = i;
      }
      targetId = dataset.items.externalId(target);
      // itemRankBias_i = 0.1·ln(1 + n_i) (the default engine's term), plus 100 on the target movie
      const itemRankBias = popularityRankBias(dataset.ratings, dataset.items.size, 0.1);
      itemRankBias[target] = 100;
      const model = new MFModel({
        params: { ...plain.params, itemRankBias },
        users: plain.users,
        items: plain.items,
        config: plain.config,
        log: plain.log,
      });
      seeded = await seededDatabase(kind, model);
      server = await serveSeeded(seeded, { pollMs: 200 });
      url = server.url;
    }, 180_000);

    afterAll(async () => {
      await server?.close();
      await seeded?.db.close();
    });

    it('a trained user: the movie with a big term moves to the top, its score and predictRating stay r̂', async () => {
      const userId = seeded.dataset.users.externalId(0);
      // without the term the target is near the bottom of user 0's list
      const plainTop = [...plain.recommend(0, { k: 100 }).items];
      expect(plainTop).not.toContain(target);

      const r = await gql(url, REC, { userId, limit: 10, excludeRated: false });
      expect(r.errors).toBeUndefined();
      expect(r.data!.recommendations.source).toBe('PERSONALIZED');
      const items: Item[] = r.data!.recommendations.items;
      expect(items[0]!.movie.id).toBe(targetId);
      const predicted = plain.predict(0, target);
      expect(items[0]!.score).toBeCloseTo(predicted, 4);
      const p = await gql(url, PREDICT, { u: userId, m: targetId });
      expect(p.data!.predictRating).toEqual({ rating: expect.any(Number), source: 'PERSONALIZED' });
      expect(p.data!.predictRating.rating).toBeCloseTo(predicted, 4);
      // the whole list is MFModel.recommend's (ranked by r̂ + term), every score is r̂ of its movie
      const expected = seeded.model.recommend(0, { k: 10 });
      expect(items.map((i) => i.movie.id)).toEqual(
        [...expected.items].map((i) => seeded.dataset.items.externalId(i)),
      );
      for (const item of items) {
        expect(item.score).toBeCloseTo(plain.predict(0, seeded.dataset.items.indexOf(item.movie.id)), 4);
      }
      // and it differs from the plain r̂ order beyond the target (the popularity part of the term counts too)
      expect(items.slice(1).map((i) => i.movie.id)).not.toEqual(
        plainTop.slice(0, 9).map((i) => seeded.dataset.items.externalId(i)),
      );
    });

    it('a folded-in user is ranked with the term as well; the popularity fallback is not', async () => {
      const userId = `rank-bias-${kind}`;
      const before = await gql(url, REC, { userId, limit: 100 });
      expect(before.data!.recommendations.source).toBe('POPULARITY');
      const popular: Item[] = before.data!.recommendations.items;
      // the fallback ranks by μ + b_i among well-rated movies: the once-rated target is not there
      expect(popular.map((i) => i.movie.id)).not.toContain(targetId);
      const p = seeded.model.params;
      for (const item of popular.slice(0, 5)) {
        const i = seeded.dataset.items.indexOf(item.movie.id);
        expect(item.score).toBeCloseTo(p.globalMean + p.itemBias[i]!, 4);
      }

      for (const [j, item] of popular.slice(0, 3).entries()) {
        const r = await gql(url, RATE, { u: userId, m: item.movie.id, r: 4 + j / 2 });
        expect(r.errors).toBeUndefined();
      }
      const after = await gql(url, REC, { userId, limit: 5 });
      expect(after.data!.recommendations.source).toBe('PERSONALIZED');
      const items: Item[] = after.data!.recommendations.items;
      expect(items[0]!.movie.id).toBe(targetId);
      const predicted = await gql(url, PREDICT, { u: userId, m: targetId });
      expect(predicted.data!.predictRating.source).toBe('PERSONALIZED');
      expect(items[0]!.score).toBeCloseTo(predicted.data!.predictRating.rating, 4);
      // r̂ is a rating, not r̂ + 100
      expect(items[0]!.score).toBeLessThan(10);
    });
  });
}
