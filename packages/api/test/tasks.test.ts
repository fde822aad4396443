/**
 * One active model per task (issue 15, serving): a ranking model of another family (core's PopularityModel, not a
 * factor model) served beside the rating model through the Recommender contract alone — recommendations from the
 * ranking model, predictRating from the rating model, a clear error when only a ranking model is active, and a
 * rating folded into every active model at once.
 */
import { PopularityModel } from '@movierec/core';
import { activateModelVersion, saveModel, upsertRating } from '@movierec/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/index.ts';
import { gql, type Seeded, seededDatabase, serveSeeded } from './fixtures.ts';

const REC = `query($u: ID!) { recommendations(userId: $u, limit: 5) {
  source modelVersion { id task family } items { score movie { id } because(limit: 2) { id } } } }`;
const PREDICT = `query($u: ID!, $m: ID!) { predictRating(userId: $u, movieId: $m) { rating source } }`;

describe('a rating model and a ranking model active at once (PostgreSQL)', { timeout: 60_000 }, () => {
  let seeded: Seeded;
  let server: RunningServer;
  let rankingId: number;
  let ranking: PopularityModel;

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    // a ranking model whose order is plainly not the rating model's: by movie index, descending
    const items = seeded.model.items;
    ranking = new PopularityModel({ scores: Float32Array.from({ length: items.size }, (_, i) => i), items });
    rankingId = await saveModel(seeded.db, ranking, { datasetFingerprint: 'api-test', activate: true });
    server = await serveSeeded(seeded, { pollMs: 200 });
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await seeded?.db.close();
  });

  it('recommendations come from the ranking model, predictRating from the rating model', async () => {
    const userId = seeded.dataset.users.externalId(2);
    const r = await gql(server.url, REC, { u: userId });
    expect(r.errors).toBeUndefined();
    const rec = r.data!.recommendations;
    expect(rec.modelVersion).toEqual({ id: String(rankingId), task: 'RANKING', family: 'popularity' });
    // the ranking model did not train on this user: it folds them in from their stored ratings (its own way)
    expect(rec.source).toBe('PERSONALIZED');
    const n = seeded.model.items.size;
    const rated = new Set<number>();
    const cols = seeded.dataset.ratings;
    for (let j = 0; j < cols.length; j++) if (cols.users[j] === 2) rated.add(cols.items[j]!);
    const want: string[] = [];
    for (let i = n - 1; want.length < 5; i--) if (!rated.has(i)) want.push(seeded.model.items.externalId(i));
    expect(rec.items.map((i: { movie: { id: string } }) => i.movie.id)).toEqual(want);

    const movieId = seeded.model.items.externalId(5);
    const p = await gql(server.url, PREDICT, { u: userId, m: movieId });
    expect(p.errors).toBeUndefined();
    expect(p.data!.predictRating.source).toBe('PERSONALIZED');
    expect(p.data!.predictRating.rating).toBeCloseTo(
      seeded.model.predict(seeded.model.userState(seeded.model.users.indexOf(userId)), 5),
      4,
    );
  });

  it('lists each version with its task; activeModels names both', async () => {
    const r = await gql(
      server.url,
      `{ modelVersions { id task family active } activeModel { id } activeModels { id task } }`,
    );
    expect(r.errors).toBeUndefined();
    expect(r.data!.modelVersions).toEqual([
      { id: String(rankingId), task: 'RANKING', family: 'popularity', active: true },
      { id: String(seeded.versionId), task: 'RATING', family: 'mf', active: true },
    ]);
    expect(r.data!.activeModel).toEqual({ id: String(rankingId) });
    expect(r.data!.activeModels).toEqual([
      { id: String(seeded.versionId), task: 'RATING' },
      { id: String(rankingId), task: 'RANKING' },
    ]);
  });

  it('a rating folds the new user into every active model at once', async () => {
    const userId = `folded-${Date.now()}`;
    const movieId = seeded.model.items.externalId(0);
    const m = await gql(
      server.url,
      `mutation($u: ID!, $m: ID!) { rateMovie(userId: $u, movieId: $m, rating: 5) { foldedInRatings } }`,
      { u: userId, m: movieId },
    );
    expect(m.errors).toBeUndefined();
    // the state as the service serves it: a poll (every 200 ms here) may already have dropped the cached one on
    // seeing this rating in the change feed, and then it is rebuilt from the database the same way
    const state = await server.service.userState(server.service.snapshot!, userId);
    // the rating model folded the user in (a state of its own) …
    expect(state.rating?.foldedIn).toBe(1);
    expect(state.rating?.state).not.toBeNull();
    // … and the ranking model got the same history (its own fold-in), from the same single read
    expect([...state.recommending!.history.items]).toEqual([0]);
    const p = await gql(server.url, PREDICT, { u: userId, m: seeded.model.items.externalId(3) });
    expect(p.data!.predictRating.source).toBe('PERSONALIZED');
    // the rated movie is excluded from the ranking model's list
    const r = await gql(server.url, REC, { u: userId });
    expect(r.data!.recommendations.items.map((i: { movie: { id: string } }) => i.movie.id)).not.toContain(
      movieId,
    );
  });

  it('with only a ranking model active, predictRating is a clear error naming the missing rating model', async () => {
    const rankingModel = server.service.snapshot!.ranking!.model;
    const { catalogue, ranking } = server.service.snapshot!;
    // a rating stored behind the server's back (another process): an activation takes the fresh statistics
    const movie = catalogue.rows.externalIds[0]!;
    const before = catalogue.rows.ratingCounts[0]!;
    const version = catalogue.statsVersion[0]!;
    await upsertRating(seeded.db, 'stats-elsewhere', movie, 4);
    await seeded.db.query('UPDATE model_versions SET active = false WHERE task = $1', ['rating']);
    // a deactivation alone sends no pushed event (only activations do): poll now rather than wait for the safety poll
    await server.service.requestPoll();
    await expect
      .poll(async () => (await gql(server.url, `{ activeModels { id } }`)).data!.activeModels.length, {
        timeout: 20_000,
      })
      .toBe(1);
    const p = await gql(server.url, PREDICT, {
      u: seeded.dataset.users.externalId(1),
      m: seeded.model.items.externalId(5),
    });
    expect(p.errors?.[0]?.extensions).toMatchObject({ code: 'MODEL_NOT_READY', missingTask: 'rating' });
    expect(p.errors?.[0]?.message).toMatch(
      new RegExp(
        `predictRating needs an active rating model .*only ranking model version ${rankingId} \\(popularity\\)`,
      ),
    );
    // … and says how to get one
    expect(p.errors?.[0]?.message).toContain('train one with `movierec train --activate`');
    // recommendations keep working from the ranking model
    const r = await gql(server.url, REC, { u: seeded.dataset.users.externalId(1) });
    expect(r.errors).toBeUndefined();
    expect(r.data!.recommendations.items).toHaveLength(5);
    // the ranking model that stayed active through both changes was reused, not read and built again
    expect(server.service.snapshot!.ranking!.model).toBe(rankingModel);
    // the movies did not change: the catalogue and the ranking model's item space are kept, statistics refreshed
    expect(server.service.snapshot!.catalogue).toBe(catalogue);
    expect(server.service.snapshot!.ranking!.space).toBe(ranking!.space);
    expect(catalogue.rows.ratingCounts[0]).toBe(before + 1);
    expect(catalogue.statsVersion[0]).toBeGreaterThan(version);
    await activateModelVersion(seeded.db, seeded.versionId);
    await expect
      .poll(() => server.service.snapshot!.rating?.version.id, { timeout: 20_000 })
      .toBe(seeded.versionId);
    expect(server.service.snapshot!.ranking!.model).toBe(rankingModel);
  });
});
