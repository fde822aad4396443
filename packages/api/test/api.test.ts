/**
 * The real server over HTTP (fetch) against a real database — PostgreSQL and the embedded PGlite — with the bundled
 * dataset imported and a model trained on it active: every query and mutation, and every kind of bad input.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/index.ts';
import { gql, type Seeded, seededDatabase, serveSeeded } from './fixtures.ts';

const REC = `query Rec($userId: ID!, $limit: Int, $excludeRated: Boolean, $genres: [String!]) {
  recommendations(userId: $userId, limit: $limit, excludeRated: $excludeRated, genres: $genres) {
    userId source modelVersion { id active }
    items { rank score movie { id title year genres ratingCount averageRating } because(limit: 2) { id title } }
  }
}`;

/** A page folder standing in for apps/api/static (the package serves whatever folder it is given). */
const staticDir = mkdtempSync(join(tmpdir(), 'movierec-page-'));
writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>movierec</title>');

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`API on ${kind}`, () => {
    let seeded: Seeded;
    let server: RunningServer;
    let url: string;

    beforeAll(async () => {
      seeded = await seededDatabase(kind);
      server = await serveSeeded(seeded, { pollMs: 200, staticDir });
      url = server.url;
    }, 180_000);

    afterAll(async () => {
      await server?.close();
      await seeded?.db.close();
    });

    it('answers /health and /ready, and serves the web page with its content type', async () => {
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({
        status: 'ready',
        modelLoaded: true,
        databaseReachable: true,
        modelVersion: String(seeded.versionId),
      });
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect((await fetch(`${url}/no-such-page`)).status).toBe(404);
      expect((await fetch(`${url}/graphql`, { method: 'PUT' })).status).toBe(405);
      // GET /graphql works too (with Apollo's CSRF-prevention header)
      const get = await fetch(`${url}/graphql?query=${encodeURIComponent('{ activeModel { id } }')}`, {
        headers: { 'apollo-require-preflight': 'true' },
      });
      expect(get.status).toBe(200);
      expect(await get.json()).toEqual({ data: { activeModel: { id: String(seeded.versionId) } } });
      // a body that is not JSON is a 400 with a reason, not a crash
      const bad = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{',
      });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toContain('not valid JSON');
    });

    it('recommends for a known user from the model, without movies they rated, with "because"', async () => {
      const userId = seeded.dataset.users.externalId(0);
      const r = await gql(url, REC, { userId, limit: 10 });
      expect(r.errors).toBeUndefined();
      const rec = r.data!.recommendations;
      expect(rec.source).toBe('PERSONALIZED');
      expect(rec.userId).toBe(userId);
      expect(rec.modelVersion).toEqual({ id: String(seeded.versionId), active: true });
      expect(rec.items).toHaveLength(10);
      expect(rec.items.map((i: { rank: number }) => i.rank)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const scores = rec.items.map((i: { score: number }) => i.score);
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      // the scores are the model's predictions
      const first = rec.items[0];
      const u = seeded.model.users.indexOf(userId);
      expect(first.score).toBeCloseTo(seeded.model.predict(u, seeded.model.items.indexOf(first.movie.id)), 4);
      // nothing the user rated is recommended, and "because" names movies the user rated
      const rated = ratedBy(seeded, userId);
      for (const item of rec.items) {
        expect(rated.has(item.movie.id)).toBe(false);
        expect(item.because.length).toBe(2);
        for (const b of item.because) expect(rated.has(b.id)).toBe(true);
        expect(item.movie.ratingCount).toBeGreaterThan(0);
        expect(item.movie.averageRating).toBeGreaterThanOrEqual(0.5);
      }
      // the list IS MFModel.recommend's for the user's trained state with their rated movies excluded
      const history = Int32Array.from([...rated].map((id) => seeded.model.items.indexOf(id))).sort();
      const own = seeded.model.recommend(seeded.model.userState(u), { k: 10, exclude: history });
      expect(rec.items.map((i: { movie: { id: string } }) => i.movie.id)).toEqual(
        [...own.items].map((i) => seeded.model.items.externalId(i)),
      );
      expect(rec.items.map((i: { score: number }) => i.score)).toEqual([...own.scores]);
      // with excludeRated: false the list is the model's own unfiltered top-N
      const all = await gql(url, REC, { userId, limit: 10, excludeRated: false });
      const allIds = all.data!.recommendations.items.map((i: { movie: { id: string } }) => i.movie.id);
      const expected = seeded.model.recommend(u, { k: 10 });
      expect(allIds).toEqual([...expected.items].map((i) => seeded.dataset.items.externalId(i)));
    });

    it('filters recommendations by genre (any of the given genres)', async () => {
      const userId = seeded.dataset.users.externalId(3);
      const r = await gql(url, REC, { userId, limit: 20, genres: ['Documentary', 'Western'] });
      expect(r.errors).toBeUndefined();
      const items = r.data!.recommendations.items;
      expect(items.length).toBe(20);
      for (const i of items)
        expect(i.movie.genres.some((g: string) => g === 'Documentary' || g === 'Western')).toBe(true);
    });

    it('gives an unknown user the popularity fallback, flagged', async () => {
      const r = await gql(url, REC, { userId: 'nobody-at-all', limit: 5 });
      expect(r.errors).toBeUndefined();
      expect(r.data!.recommendations.source).toBe('POPULARITY');
      expect(r.data!.recommendations.items).toHaveLength(5);
      expect(r.data!.recommendations.items[0].because).toEqual([]);
    });

    it('predicts a rating, and falls back to the baseline for an unknown user', async () => {
      const userId = seeded.dataset.users.externalId(1);
      const movieId = seeded.dataset.items.externalId(5);
      const q = `query($u: ID!, $m: ID!) { predictRating(userId: $u, movieId: $m) { userId rating source movie { id } } }`;
      const r = await gql(url, q, { u: userId, m: movieId });
      expect(r.errors).toBeUndefined();
      const expected = seeded.model.predict(
        seeded.model.users.indexOf(userId),
        seeded.model.items.indexOf(movieId),
      );
      expect(r.data!.predictRating).toMatchObject({ userId, source: 'PERSONALIZED', movie: { id: movieId } });
      expect(r.data!.predictRating.rating).toBeCloseTo(expected, 4);
      const unknown = await gql(url, q, { u: 'stranger', m: movieId });
      const p = seeded.model.params;
      const i = seeded.model.items.indexOf(movieId);
      expect(unknown.data!.predictRating.source).toBe('POPULARITY');
      expect(unknown.data!.predictRating.rating).toBeCloseTo(p.globalMean + p.itemBias[i]!, 4);
    });

    it('finds similar movies by cosine of movie factors, best first, without the movie itself', async () => {
      const movieId = seeded.dataset.items.externalId(0);
      const r = await gql(
        url,
        `{ similarMovies(movieId: "${movieId}", limit: 5) { similarity movie { id title } } }`,
      );
      expect(r.errors).toBeUndefined();
      const list = r.data!.similarMovies;
      expect(list).toHaveLength(5);
      const sims = list.map((s: { similarity: number }) => s.similarity);
      expect([...sims].sort((a, b) => b - a)).toEqual(sims);
      expect(sims[0]).toBeLessThanOrEqual(1.0001);
      expect(list.map((s: { movie: { id: string } }) => s.movie.id)).not.toContain(movieId);
      const best = seeded.model.similarItems(0, 1).items[0]!;
      expect(list[0].movie.id).toBe(seeded.dataset.items.externalId(best));
    });

    it('looks up a movie, and searches movies by title and genre with cursor pagination', async () => {
      const r = await gql(url, `{ movie(id: "1") { id title year genres ratingCount averageRating } }`);
      expect(r.errors).toBeUndefined();
      expect(r.data!.movie).toMatchObject({ id: '1', title: 'Toy Story', year: 1995 });
      expect(r.data!.movie.genres).toContain('Animation');
      const q = `query($s: String, $g: String, $first: Int, $after: String) {
        movies(search: $s, genre: $g, first: $first, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id title genres } } } }`;
      const p1 = await gql(url, q, { s: 'star', first: 3 });
      expect(p1.errors).toBeUndefined();
      const c1 = p1.data!.movies;
      expect(c1.totalCount).toBeGreaterThan(6);
      expect(c1.edges).toHaveLength(3);
      expect(c1.pageInfo.hasNextPage).toBe(true);
      for (const e of c1.edges) expect(e.node.title.toLowerCase()).toContain('star');
      const p2 = await gql(url, q, { s: 'star', first: 3, after: c1.pageInfo.endCursor });
      const ids1 = c1.edges.map((e: { node: { id: string } }) => e.node.id);
      const ids2 = p2.data!.movies.edges.map((e: { node: { id: string } }) => e.node.id);
      expect(ids2).toHaveLength(3);
      expect(ids2.filter((id: string) => ids1.includes(id))).toEqual([]);
      const g = await gql(url, q, { s: 'star', g: 'Comedy', first: 50 });
      expect(g.data!.movies.totalCount).toBeLessThan(c1.totalCount);
      for (const e of g.data!.movies.edges) expect(e.node.genres).toContain('Comedy');
    });

    it('shows a user with their ratings, paginated newest first', async () => {
      const userId = seeded.dataset.users.externalId(0);
      const q = `query($id: ID!, $after: String) { user(id: $id) { id ratingCount
        ratings(first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { rating ratedAt movie { id } } } } } }`;
      const r1 = await gql(url, q, { id: userId });
      expect(r1.errors).toBeUndefined();
      const user = r1.data!.user;
      const count = ratedBy(seeded, userId).size;
      expect(user.ratingCount).toBe(count);
      expect(user.ratings.totalCount).toBe(count);
      expect(user.ratings.edges).toHaveLength(7);
      const r2 = await gql(url, q, { id: userId, after: user.ratings.pageInfo.endCursor });
      const all = [...user.ratings.edges, ...r2.data!.user.ratings.edges];
      const times = all.map((e: { node: { ratedAt: string } }) => Date.parse(e.node.ratedAt));
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(new Set(all.map((e: { node: { movie: { id: string } } }) => e.node.movie.id)).size).toBe(14);
      const none = await gql(url, `{ user(id: "no-such-user") { id } }`);
      expect(none.errors).toBeUndefined();
      expect(none.data!.user).toBeNull();
    });

    it('lists model versions and the active model with metrics and training log', async () => {
      const r = await gql(
        url,
        `{ modelVersions { id active engine factors numUsers numMovies config metrics { rmse mae }
             trainingRun { id epochs { epoch loss validationRmse } } }
           activeModel { id active } }`,
      );
      expect(r.errors).toBeUndefined();
      expect(r.data!.modelVersions).toHaveLength(1);
      const v = r.data!.modelVersions[0];
      expect(v).toMatchObject({
        id: String(seeded.versionId),
        active: true,
        engine: 'als',
        factors: seeded.model.params.factors,
        numUsers: seeded.dataset.users.size,
        metrics: { rmse: 0.9, mae: 0.7 },
      });
      expect(JSON.parse(v.config).optimizer).toBe('als');
      expect(v.trainingRun.epochs).toHaveLength(4);
      expect(v.trainingRun.epochs[0].epoch).toBe(1);
      expect(v.trainingRun.epochs[0].validationRmse).toBeGreaterThan(0);
      expect(r.data!.activeModel).toEqual({ id: String(seeded.versionId), active: true });
    });

    it('rateMovie creates a new user, folds them in, and personalises their next recommendations', async () => {
      const userId = `new-${kind}-${Date.now()}`;
      const before = await gql(url, REC, { userId, limit: 10 });
      expect(before.data!.recommendations.source).toBe('POPULARITY');
      const m = `mutation($u: ID!, $m: ID!, $r: Float!) { rateMovie(userId: $u, movieId: $m, rating: $r) {
        foldedInRatings rating { rating ratedAt movie { id } } user { id ratingCount } } }`;
      // a handful of horror ratings
      const horror = pickGenre(seeded, 'Horror', 5);
      let last: Record<string, unknown> | null = null;
      for (const movieId of horror) {
        const r = await gql(url, m, { u: userId, m: movieId, r: 5 });
        expect(r.errors).toBeUndefined();
        last = r.data!.rateMovie;
      }
      expect(last).toMatchObject({ foldedInRatings: 5, user: { id: userId, ratingCount: 5 } });
      const after = await gql(url, REC, { userId, limit: 10 });
      const rec = after.data!.recommendations;
      expect(rec.source).toBe('PERSONALIZED');
      const ids = rec.items.map((i: { movie: { id: string } }) => i.movie.id);
      for (const id of horror) expect(ids).not.toContain(id);
      const popIds = before.data!.recommendations.items.map((i: { movie: { id: string } }) => i.movie.id);
      expect(ids).not.toEqual(popIds);
      // "because" points at the horror movies the user just rated
      for (const item of rec.items) for (const b of item.because) expect(horror).toContain(b.id);
      // replacing a rating keeps one rating per movie and updates the movie's statistics
      const movieBefore = await gql(url, `{ movie(id: "${horror[0]}") { ratingCount averageRating } }`);
      const again = await gql(url, m, { u: userId, m: horror[0], r: 0.5 });
      expect(again.data!.rateMovie).toMatchObject({
        foldedInRatings: 5,
        user: { ratingCount: 5 },
        rating: { rating: 0.5 },
      });
      const movieAfter = await gql(url, `{ movie(id: "${horror[0]}") { ratingCount averageRating } }`);
      expect(movieAfter.data!.movie.ratingCount).toBe(movieBefore.data!.movie.ratingCount);
      expect(movieAfter.data!.movie.averageRating).toBeLessThan(movieBefore.data!.movie.averageRating);
      const u = await gql(
        url,
        `{ user(id: "${userId}") { ratingCount ratings(first: 1) { edges { node { rating movie { id } } } } } }`,
      );
      expect(u.data!.user.ratingCount).toBe(5);
      expect(u.data!.user.ratings.edges[0].node).toEqual({ rating: 0.5, movie: { id: horror[0] } });
    });

    it('rateMovie by a known user re-folds them and changes their recommendations', async () => {
      const userId = seeded.dataset.users.externalId(10);
      const before = await gql(url, REC, { userId, limit: 10 });
      const top = before.data!.recommendations.items[0].movie.id;
      const r = await gql(
        url,
        `mutation { rateMovie(userId: "${userId}", movieId: "${top}", rating: 1) { foldedInRatings user { ratingCount } } }`,
      );
      expect(r.errors).toBeUndefined();
      expect(r.data!.rateMovie.foldedInRatings).toBe(ratedBy(seeded, userId).size + 1);
      const after = await gql(url, REC, { userId, limit: 10 });
      expect(after.data!.recommendations.source).toBe('PERSONALIZED');
      const ids = after.data!.recommendations.items.map((i: { movie: { id: string } }) => i.movie.id);
      expect(ids).not.toContain(top);
    });

    describe('bad input', () => {
      it('unknown movie → NOT_FOUND naming the argument', async () => {
        for (const q of [
          `{ predictRating(userId: "1", movieId: "999999999") { rating } }`,
          `{ similarMovies(movieId: "999999999") { similarity } }`,
          `{ movie(id: "999999999") { id } }`,
          `mutation { rateMovie(userId: "1", movieId: "999999999", rating: 4) { foldedInRatings } }`,
        ]) {
          const r = await gql(url, q);
          expect(r.errors?.[0]?.extensions?.code, q).toBe('NOT_FOUND');
          expect(r.errors?.[0]?.message).toContain('999999999');
        }
      });

      it('limit / first outside 1..100 → BAD_USER_INPUT naming the argument', async () => {
        for (const [q, arg] of [
          [`{ recommendations(userId: "1", limit: 0) { source } }`, 'limit'],
          [`{ recommendations(userId: "1", limit: 101) { source } }`, 'limit'],
          [`{ similarMovies(movieId: "1", limit: -3) { similarity } }`, 'limit'],
          [`{ movies(first: 1000) { totalCount } }`, 'first'],
          [`{ user(id: "1") { ratings(first: 0) { totalCount } } }`, 'first'],
          [`{ recommendations(userId: "1") { items { because(limit: 50) { id } } } }`, 'limit'],
        ] as const) {
          const r = await gql(url, q);
          expect(r.errors?.[0]?.extensions, q).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: arg });
          expect(r.errors?.[0]?.message).toContain(arg);
        }
      });

      it('a rating outside 0.5..5 or not in half steps → BAD_USER_INPUT naming rating, nothing stored', async () => {
        for (const rating of [0, 5.5, -1, 3.3, 4.25]) {
          const r = await gql(
            url,
            `mutation($r: Float!) { rateMovie(userId: "bad-rater", movieId: "1", rating: $r) { foldedInRatings } }`,
            {
              r: rating,
            },
          );
          expect(r.errors?.[0]?.extensions, String(rating)).toMatchObject({
            code: 'BAD_USER_INPUT',
            argumentName: 'rating',
          });
        }
        const u = await gql(url, `{ user(id: "bad-rater") { id } }`);
        expect(u.data!.user).toBeNull();
      });

      it('IDs with NUL, control characters or lone surrogates → BAD_USER_INPUT naming the argument, nothing stored', async () => {
        const hostile = [
          '\u0000',
          'a\u0000b',
          '\ud800',
          '\udbff',
          'x\udc00',
          'bell\u0007',
          'line\nbreak',
          'c1\u0085',
        ];
        for (const id of hostile) {
          for (const [q, arg] of [
            [
              `mutation($id: ID!) { rateMovie(userId: $id, movieId: "1", rating: 4) { foldedInRatings } }`,
              'userId',
            ],
            [
              `mutation($id: ID!) { rateMovie(userId: "ok-user", movieId: $id, rating: 4) { foldedInRatings } }`,
              'movieId',
            ],
            [`query($id: ID!) { user(id: $id) { id } }`, 'id'],
            [`query($id: ID!) { recommendations(userId: $id) { source } }`, 'userId'],
            [`query($id: ID!) { predictRating(userId: "1", movieId: $id) { rating } }`, 'movieId'],
          ] as const) {
            const r = await gql(url, q, { id });
            expect(r.errors?.[0]?.extensions, `${JSON.stringify(id)} ${q}`).toMatchObject({
              code: 'BAD_USER_INPUT',
              argumentName: arg,
            });
            expect(r.errors?.[0]?.message).not.toMatch(/database/i);
          }
        }
        const u = await gql(url, `{ user(id: "ok-user") { id } }`);
        expect(u.data!.user).toBeNull();
      });

      it('unknown genre, malformed cursor, empty ID → BAD_USER_INPUT', async () => {
        const g = await gql(url, `{ recommendations(userId: "1", genres: ["Nope"]) { source } }`);
        expect(g.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'genres' });
        const c = await gql(url, `{ movies(after: "garbage") { totalCount } }`);
        expect(c.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'after' });
        const e = await gql(url, `{ recommendations(userId: "") { source } }`);
        expect(e.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argumentName: 'userId' });
      });

      it('refuses queries too deep or too costly before running them', async () => {
        // this schema has no cycles, so the deepest valid query nests 6 fields; a server with maxDepth 5 shows the rule
        const strict = await serveSeeded(seeded, { limits: { maxDepth: 5, maxCost: 10_000 } });
        try {
          const six = `{ user(id: "1") { ratings { edges { node { ...M } } } } } fragment M on Rating { movie { id } }`;
          const refused = await gql(strict.url, six);
          expect(refused.status).toBe(400);
          expect(refused.data).toBeNull();
          expect(refused.errors?.[0]?.extensions).toMatchObject({
            code: 'GRAPHQL_VALIDATION_FAILED',
            limit: 'depth',
            depth: 6,
          });
          expect(refused.errors?.[0]?.message).toContain('too deep');
          expect((await gql(url, six)).errors).toBeUndefined(); // the default limit allows it
        } finally {
          await strict.close();
        }
        // each pair ≈ 9.5k (two catalogue scans, 100 items with 10 `because` each): 12 pairs exceed 100,000
        const pair = (i: number) =>
          `a${i}: recommendations(userId: "${i}", limit: 100) { items { movie { id title year genres ratingCount averageRating }
               because(limit: 10) { id title year genres ratingCount averageRating } } }
             b${i}: similarMovies(movieId: "${i + 1}", limit: 100) { movie { id title year genres ratingCount averageRating } }`;
        const costly = await gql(url, `{ ${Array.from({ length: 12 }, (_, i) => pair(i)).join('\n')} }`);
        expect(costly.status).toBe(400);
        expect(costly.data).toBeNull();
        expect(costly.errors?.[0]?.extensions).toMatchObject({
          code: 'GRAPHQL_VALIDATION_FAILED',
          limit: 'cost',
        });
        expect(costly.errors?.[0]?.message).toContain('too costly');
        // a mutation refused for cost is not executed either
        const m = await gql(
          url,
          `mutation { rateMovie(userId: "cost-rater", movieId: "1", rating: 4) { foldedInRatings } }
           query Q { ${Array.from({ length: 12 }, (_, i) => pair(i)).join('\n')} }`,
        );
        expect(m.status).toBe(400);
        expect((await gql(url, `{ user(id: "cost-rater") { id } }`)).data!.user).toBeNull();
      }, 30_000);
    });
  });
}

function ratedBy(seeded: Seeded, userId: string): Set<string> {
  const cols = seeded.dataset.ratings;
  const u = seeded.dataset.users.indexOf(userId);
  const out = new Set<string>();
  for (let r = 0; r < cols.length; r++)
    if (cols.users[r] === u) out.add(seeded.dataset.items.externalId(cols.items[r]!));
  return out;
}

function pickGenre(seeded: Seeded, genre: string, n: number): string[] {
  const movies = seeded.dataset.movies!;
  const counts = new Int32Array(seeded.dataset.items.size);
  const cols = seeded.dataset.ratings;
  for (let r = 0; r < cols.length; r++) counts[cols.items[r]!]!++;
  const order = [...counts.keys()]
    .filter((i) => movies.genres[i]!.includes(genre))
    .sort((a, b) => counts[b]! - counts[a]!);
  return order.slice(0, n).map((i) => seeded.dataset.items.externalId(i));
}
