/**
 * recordView (watch history, issue 15): a view is stored, folds the user into the active ranking model at once (a new
 * user's list turns PERSONALIZED), reaches another replica by LISTEN/NOTIFY, and is refused for an unknown movie, a
 * weight ≤ 0 and another user's token — on PostgreSQL, with a real ranking model (EASE) beside the rating model.
 */
import { viewValue } from '@movierec/data';
import { saveModel, userRatings } from '@movierec/db';
import { fitRanking, RANKING_PRESETS } from '@movierec/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type RunningServer } from '../src/index.ts';
import { gql, type Seeded, seededDatabase, serveSeeded } from './fixtures.ts';

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long';
const VIEW = `mutation($u: ID!, $m: ID!, $w: Float) { recordView(userId: $u, movieId: $m, weight: $w) {
  view { movie { id } weight viewedAt } user { id ratingCount } foldedInInteractions source } }`;
const REC = `query($u: ID!) { recommendations(userId: $u, limit: 10) {
  source modelVersion { task family } items { movie { id } because(limit: 1) { id } } } }`;

describe('recordView on PostgreSQL with an active ranking model', { timeout: 120_000 }, () => {
  let seeded: Seeded;
  let a: RunningServer;
  let b: RunningServer;
  let popular: string[];

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    const ease = fitRanking(seeded.dataset, RANKING_PRESETS.default);
    await saveModel(seeded.db, ease, { datasetFingerprint: 'views-test', task: 'ranking', activate: true });
    // the most-rated movies: sure to be inside EASE's item-item matrix (items with ≥ minCount interactions)
    const counts = new Int32Array(seeded.dataset.items.size);
    for (let r = 0; r < seeded.dataset.ratings.length; r++) counts[seeded.dataset.ratings.items[r]!]!++;
    popular = Array.from(counts.keys())
      .sort((x, y) => counts[y]! - counts[x]! || x - y)
      .slice(0, 5)
      .map((i) => seeded.dataset.items.externalId(i));
    a = await serveSeeded(seeded, { pollMs: 60_000 });
    b = await serveSeeded(seeded, { pollMs: 60_000 });
    for (let t = 0; t < 200 && !(a.service.listening && b.service.listening); t++)
      await new Promise((done) => setTimeout(done, 50));
  }, 300_000);

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await seeded?.db.close();
  });

  it("a new user's view makes their recommendations PERSONALIZED from the ranking model, at once", async () => {
    const userId = `viewer-${Date.now()}`;
    const before = await gql(a.url, REC, { u: userId });
    expect(before.data!.recommendations.source).toBe('POPULARITY');
    const r = await gql(a.url, VIEW, { u: userId, m: popular[0] });
    expect(r.errors).toBeUndefined();
    const out = r.data!.recordView;
    expect(out.view).toMatchObject({ movie: { id: popular[0] }, weight: 1 });
    expect(Number.isNaN(Date.parse(out.view.viewedAt))).toBe(false);
    expect(out.user).toEqual({ id: userId, ratingCount: 0 });
    expect(out.foldedInInteractions).toBe(1);
    expect(out.source).toBe('PERSONALIZED');
    const rec = (await gql(a.url, REC, { u: userId })).data!.recommendations;
    expect(rec.source).toBe('PERSONALIZED');
    expect(rec.modelVersion).toEqual({ task: 'RANKING', family: 'ease' });
    const ids = rec.items.map((i: { movie: { id: string } }) => i.movie.id);
    // the viewed movie is the user's history: excluded from the list, and the reason for what is on it
    expect(ids).not.toContain(popular[0]);
    expect(rec.items[0].because).toEqual([{ id: popular[0] }]);
    // the list is the model's fold-in of that history, not the popularity chart
    const snapshot = a.service.snapshot!;
    const model = snapshot.ranking!.model;
    const state = model.foldIn({
      items: Int32Array.of(model.items.indexOf(popular[0]!)),
      values: Float32Array.of(viewValue(1)),
    });
    const want = model.recommend(state, { k: 10, exclude: Int32Array.of(model.items.indexOf(popular[0]!)) });
    expect(ids).toEqual(Array.from(want.items, (i) => model.items.externalId(i)));
  });

  it('a second view adds its weight; the stored history has both movies; a rated movie counts by its rating', async () => {
    const userId = `viewer2-${Date.now()}`;
    await gql(a.url, VIEW, { u: userId, m: popular[1], w: 2 });
    const again = await gql(a.url, VIEW, { u: userId, m: popular[1], w: 0.5 });
    expect(again.data!.recordView.view.weight).toBe(2.5);
    const other = await gql(a.url, VIEW, { u: userId, m: popular[2] });
    expect(other.data!.recordView.foldedInInteractions).toBe(2);
    const stored = await userRatings(seeded.db, userId);
    expect(new Set(stored.viewedMovieIds)).toEqual(new Set([popular[1], popular[2]]));
    // the rating model predicts from ratings only: a view is not a rating
    // (its own NOTIFY may have dropped the cached state already: load it as a request would)
    const state = await a.service.userState(a.service.snapshot!, userId);
    expect(state.rating?.history.items.length).toBe(0);
    expect(state.recommending?.history.items.length).toBe(2);
    // the ranking model reads each view on the rating scale, viewValue(w) = 4 + log10 w, as it was trained
    // (readInteractions): a single view counts as a relevant rating (4), not as a low one
    const ranking = a.service.snapshot!.ranking!.model;
    const h = state.recommending!.history;
    const viewed = (movie: string) => h.values[Array.from(h.items).indexOf(ranking.items.indexOf(movie))];
    expect(viewed(popular[1]!)).toBeCloseTo(viewValue(2.5), 6);
    expect(viewed(popular[2]!)).toBeCloseTo(4, 6);
    // whichever model ranks, a viewed movie is left out of the list, like a rated one
    const rater = a.service.snapshot!.rating!.model;
    expect(
      Array.from(state.rating!.exclude)
        .map((i) => rater.items.externalId(i))
        .sort(),
    ).toEqual([popular[1], popular[2]].sort());
  });

  it('a view through one replica reaches the other replica’s recommendations without a poll', async () => {
    const userId = `pushed-view-${Date.now()}`;
    expect((await gql(b.url, REC, { u: userId })).data!.recommendations.source).toBe('POPULARITY');
    expect((await gql(a.url, VIEW, { u: userId, m: popular[3] })).errors).toBeUndefined();
    await expect
      .poll(async () => (await gql(b.url, REC, { u: userId })).data!.recommendations.source, {
        timeout: 5_000,
        interval: 20,
      })
      .toBe('PERSONALIZED');
  });

  it('an unknown movie is NOT_FOUND and a weight ≤ 0 is BAD_USER_INPUT naming the argument; nothing is stored', async () => {
    const userId = `refused-${Date.now()}`;
    const missing = await gql(a.url, VIEW, { u: userId, m: 'no-such-movie' });
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', argumentName: 'movieId' });
    expect(missing.errors?.[0]?.message).toContain('movie "no-such-movie" not found');
    for (const w of [0, -1]) {
      const bad = await gql(a.url, VIEW, { u: userId, m: popular[0], w });
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'weight' });
      expect(bad.errors?.[0]?.message).toMatch(/^weight: must be a number > 0/);
    }
    expect((await userRatings(seeded.db, userId)).exists).toBe(false);
  });

  it('with tokens: a view only in the token’s own name (or an admin’s); another user’s token is FORBIDDEN', async () => {
    const secure = await serveSeeded(seeded, { auth: { mode: 'jwt', secret: SECRET } });
    try {
      const ask = async (userId: string, token?: string) => {
        const res = await fetch(`${secure.url}/graphql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify({ query: VIEW, variables: { u: userId, m: popular[0] } }),
        });
        // biome-ignore lint/suspicious/noExplicitAny: asserted field by field
        return (await res.json()) as any;
      };
      const alice = await mintToken(SECRET, 'alice-views');
      const code = (r: { errors?: { extensions?: { code?: string } }[] }) => r.errors?.[0]?.extensions?.code;
      expect(code(await ask('bob-views'))).toBe('UNAUTHENTICATED');
      const forbidden = await ask('bob-views', alice);
      expect(code(forbidden)).toBe('FORBIDDEN');
      expect(forbidden.errors[0].message).toContain('recording a view in the name');
      expect((await userRatings(seeded.db, 'bob-views')).exists).toBe(false);
      expect((await ask('alice-views', alice)).data.recordView.source).toBe('PERSONALIZED');
      const admin = await mintToken(SECRET, 'ops', { scope: 'read admin' });
      expect((await ask('bob-views', admin)).errors).toBeUndefined();
    } finally {
      await secure.close();
    }
  });
});
