/**
 * A real recommendation model served beside the rating model (issue 15, serving): EASE (Steck 2019) fitted by the
 * trainer, stored as a ranking version in PostgreSQL and read back by the API — recommendations are EASE's own list,
 * `because` is EASE's own reasons (the rated movies with the largest B_ji·x_uj), predictRating is the rating model's,
 * and a user EASE cannot personalise (no interactions, or only movies it pruned) gets popularity, flagged.
 */
import type { ItemItemModel } from '@movierec/core';
import { saveModel } from '@movierec/db';
import { fitRanking } from '@movierec/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, similarModelFromEnv } from '../src/index.ts';
import { gql, type Seeded, seededDatabase, serveSeeded } from './fixtures.ts';

const REC = `query($u: ID!) { recommendations(userId: $u, limit: 5) {
  source modelVersion { id task family } items { score movie { id } because(limit: 2) { id } } } }`;
const PREDICT = `query($u: ID!, $m: ID!) { predictRating(userId: $u, movieId: $m) { rating source } }`;
const RATE = `mutation($u: ID!, $m: ID!) { rateMovie(userId: $u, movieId: $m, rating: 5) { foldedInRatings } }`;

type RecItem = { score: number; movie: { id: string }; because: { id: string }[] };

describe('the EASE recommendation model served beside the rating model (PostgreSQL)', {
  timeout: 60_000,
}, () => {
  let seeded: Seeded;
  let server: RunningServer;
  let ease: ItemItemModel;
  let easeId: number;

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    // minCount 5 keeps the movies with ≥ 5 raters among the test users and prunes the rest (used below)
    ease = fitRanking(seeded.dataset, { family: 'ease', lambda: 50, minCount: 5 }) as ItemItemModel;
    easeId = await saveModel(seeded.db, ease, {
      datasetFingerprint: 'api-test',
      activate: true,
      metrics: { ndcgAt10: 0.12, popularityNdcgAt10: 0.06, coverageAt10: 0.1, popularityCoverageAt10: 0.01 },
    });
    server = await serveSeeded(seeded, { pollMs: 200 });
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await seeded?.db.close();
  });

  it("recommendations are EASE's own list and `because` its own reasons; predictRating the rating model's", async () => {
    const u = 3;
    const userId = seeded.dataset.users.externalId(u);
    const r = await gql(server.url, REC, { u: userId });
    expect(r.errors).toBeUndefined();
    const rec = r.data!.recommendations;
    expect(rec.source).toBe('PERSONALIZED');
    expect(rec.modelVersion).toEqual({ id: String(easeId), task: 'RANKING', family: 'ease' });

    // what the model itself ranks for this trained user, the movies they rated left out
    const rated: number[] = [];
    const cols = seeded.dataset.ratings;
    for (let j = 0; j < cols.length; j++) if (cols.users[j] === u) rated.push(cols.items[j]!);
    const state = ease.userState(ease.users.indexOf(userId));
    const want = ease.recommend(state, { k: 5, exclude: Int32Array.from(rated).sort() });
    const items = rec.items as RecItem[];
    expect(items.map((i) => i.movie.id)).toEqual([...want.items].map((i) => ease.items.externalId(i)));
    for (const [j, item] of items.entries()) expect(item.score).toBeCloseTo(want.scores[j]!, 4);
    // `because`: the rated movies contributing most to each movie's score, B_ji·x_uj (the item-item model's reasons)
    for (const item of items) {
      const why = ease.explain(
        state,
        { items: state.items, values: state.weights },
        ease.items.indexOf(item.movie.id),
        2,
      );
      expect(item.because.map((m) => m.id)).toEqual([...why.items].map((i) => ease.items.externalId(i)));
    }
    expect(items.some((i) => i.because.length > 0)).toBe(true);

    const movie = 5;
    const p = await gql(server.url, PREDICT, { u: userId, m: seeded.model.items.externalId(movie) });
    expect(p.errors).toBeUndefined();
    expect(p.data!.predictRating.source).toBe('PERSONALIZED');
    expect(p.data!.predictRating.rating).toBeCloseTo(
      seeded.model.predict(seeded.model.userState(seeded.model.users.indexOf(userId)), movie),
      4,
    );
  });

  it('a user with no interactions gets the popularity fallback, flagged, from the ranking version', async () => {
    const r = await gql(server.url, REC, { u: 'nobody-rated-anything' });
    expect(r.errors).toBeUndefined();
    const rec = r.data!.recommendations;
    expect(rec.source).toBe('POPULARITY');
    expect(rec.modelVersion.id).toBe(String(easeId));
    expect(rec.items).toHaveLength(5);
    expect((rec.items as RecItem[]).every((i) => i.because.length === 0)).toBe(true);
  });

  it('a new user who rated only a movie EASE pruned is flagged POPULARITY; a kept movie makes it personal', async () => {
    const pop = ease.popularity;
    let pruned = -1;
    let kept = -1;
    for (let i = 0; i < ease.numItems && (pruned < 0 || kept < 0); i++) {
      if (pop[i]! >= 1 && pop[i]! < 5 && pruned < 0) pruned = i;
      if (pop[i]! >= 20 && kept < 0) kept = i;
    }
    expect(pruned).toBeGreaterThanOrEqual(0);
    expect(kept).toBeGreaterThanOrEqual(0);
    const userId = `pruned-only-${Date.now()}`;
    const m = await gql(server.url, RATE, { u: userId, m: ease.items.externalId(pruned) });
    expect(m.errors).toBeUndefined();
    const before = await gql(server.url, REC, { u: userId });
    expect(before.data!.recommendations.source).toBe('POPULARITY');
    // the rating model still folds the user in: predictRating is personal
    const p = await gql(server.url, PREDICT, { u: userId, m: ease.items.externalId(kept) });
    expect(p.data!.predictRating.source).toBe('PERSONALIZED');

    await gql(server.url, RATE, { u: userId, m: ease.items.externalId(kept) });
    const after = await gql(server.url, REC, { u: userId });
    expect(after.data!.recommendations.source).toBe('PERSONALIZED');
    const ids = (after.data!.recommendations.items as RecItem[]).map((i) => i.movie.id);
    expect(ids).not.toContain(ease.items.externalId(kept));
    expect(ids).not.toContain(ease.items.externalId(pruned));
  });

  it('modelVersions and activeModels show each version with its task and its ranking metrics beside popularity', async () => {
    const r = await gql(
      server.url,
      `{ activeModels { id task metrics { rmse ndcgAt10 popularityNdcgAt10 coverageAt10 popularityCoverageAt10 } }
         modelVersions { id task family } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.activeModels).toEqual([
      {
        id: String(seeded.versionId),
        task: 'RATING',
        metrics: {
          rmse: 0.9,
          ndcgAt10: null,
          popularityNdcgAt10: null,
          coverageAt10: null,
          popularityCoverageAt10: null,
        },
      },
      {
        id: String(easeId),
        task: 'RANKING',
        metrics: {
          rmse: null,
          ndcgAt10: 0.12,
          popularityNdcgAt10: 0.06,
          coverageAt10: 0.1,
          popularityCoverageAt10: 0.01,
        },
      },
    ]);
    expect(r.data!.modelVersions).toEqual([
      { id: String(easeId), task: 'RANKING', family: 'ease' },
      { id: String(seeded.versionId), task: 'RATING', family: 'mf' },
    ]);
  });

  it("similarMovies lists the ranking model's own neighbours by default; MOVIEREC_SIMILAR_MODEL=rating switches to the factor cosine", async () => {
    const SIMILAR = `query($m: ID!) { similarMovies(movieId: $m, limit: 5) { similarity movie { id } } }`;
    const ids = (r: Awaited<ReturnType<typeof gql>>) =>
      ((r.data as { similarMovies: unknown }).similarMovies as { movie: { id: string } }[]).map(
        (x) => x.movie.id,
      );
    const pop = ease.popularity;
    const kept = pop.findIndex((n) => n >= 20);
    const pruned = pop.findIndex((n) => n >= 1 && n < 5);
    const mf = seeded.model;
    const external = (model: { items: { externalId(i: number): string } }, items: Int32Array) =>
      [...items].map((i) => model.items.externalId(i));

    const byEase = await gql(server.url, SIMILAR, { m: ease.items.externalId(kept) });
    expect(byEase.errors).toBeUndefined();
    expect(ids(byEase)).toEqual(external(ease, ease.similarItems(kept, 100).items.subarray(0, 5)));
    // a movie EASE pruned has no neighbours there: the rating model answers for it
    const fallback = await gql(server.url, SIMILAR, { m: ease.items.externalId(pruned) });
    const j = mf.items.indexOf(ease.items.externalId(pruned));
    // (the API takes the 100 best servable movies once and cuts that list: the same here, so ties fall alike)
    const servable = server.service.snapshot!.rating!.space.servable;
    expect(ids(fallback)).toEqual(external(mf, mf.similarItems(j, 100, servable).items.subarray(0, 5)));
    expect(ids(fallback)).toHaveLength(5);

    const byRating = await serveSeeded(seeded, { similarModel: 'rating' });
    try {
      const r = await gql(byRating.url, SIMILAR, { m: ease.items.externalId(kept) });
      const i = mf.items.indexOf(ease.items.externalId(kept));
      expect(ids(r)).toEqual(external(mf, mf.similarItems(i, 100, servable).items.subarray(0, 5)));
      expect(ids(r)).not.toEqual(ids(byEase));
    } finally {
      await byRating.close();
    }
    expect(similarModelFromEnv({})).toBe('ranking');
    expect(similarModelFromEnv({ MOVIEREC_SIMILAR_MODEL: 'rating' })).toBe('rating');
    expect(() => similarModelFromEnv({ MOVIEREC_SIMILAR_MODEL: 'factors' })).toThrow(
      /MOVIEREC_SIMILAR_MODEL must be 'rating' .* or 'ranking' .*, got "factors"/,
    );
  });
});
