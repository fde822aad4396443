/**
 * A user whose ratings changed after training is folded in from the database with each rating's time, so a ranking
 * model that weights recent interactions more (the default EASE preset's recency weighting) weights them as it did
 * in training — not as if every rating were the newest.
 */
import type { ItemItemModel } from '@movierec/core';
import { saveModel, upsertRating } from '@movierec/db';
import { fitRanking } from '@movierec/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/index.ts';
import { gql, type Seeded, seededDatabase, serveSeeded } from './fixtures.ts';

const REC = `query($u: ID!) { recommendations(userId: $u, limit: 10) { source items { movie { id } } } }`;

describe('fold-in with rating times (PostgreSQL)', { timeout: 60_000 }, () => {
  let seeded: Seeded;
  let server: RunningServer;
  let ease: ItemItemModel;

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    // a short recency scale: the order of a user's ratings matters a lot
    ease = fitRanking(seeded.dataset, {
      family: 'ease',
      lambda: 50,
      minCount: 5,
      weighting: { recencyTau: 1.5, likeThreshold: 3.5, lowWeight: 0.5 },
    }) as ItemItemModel;
    await saveModel(seeded.db, ease, { datasetFingerprint: 'recency-test', activate: true });
    server = await serveSeeded(seeded);
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await seeded?.db.close();
  });

  it("ranks a new user's stored ratings by their times, as the model does in training", async () => {
    const pop = ease.popularity;
    const movies: number[] = [];
    for (let i = 0; i < ease.numItems && movies.length < 6; i++) if (pop[i]! >= 30) movies.push(i);
    expect(movies).toHaveLength(6);
    const userId = `recency-${Date.now()}`;
    // rated in the reverse of the movies' index order, a day apart: the newest is the first movie
    const t0 = Date.UTC(2020, 0, 1) / 1000;
    for (const [j, i] of movies.entries()) {
      await upsertRating(seeded.db, userId, ease.items.externalId(i), 5);
      await seeded.db.query(
        `UPDATE ratings SET rated_at = to_timestamp($3) FROM users u, movies m
          WHERE ratings.user_id = u.id AND ratings.movie_id = m.id AND u.external_id = $1 AND m.external_id = $2`,
        [userId, ease.items.externalId(i), t0 + (movies.length - j) * 86_400],
      );
    }
    const items = Int32Array.from(movies);
    const values = new Float32Array(movies.length).fill(5);
    const times = Int32Array.from(movies, (_, j) => t0 + (movies.length - j) * 86_400);
    const ids = (top: { items: Int32Array }) => [...top.items].map((i) => ease.items.externalId(i));
    const timed = ids(ease.recommend(ease.foldIn({ items, values, times }), { k: 10, exclude: items }));
    const untimed = ids(ease.recommend(ease.foldIn({ items, values }), { k: 10, exclude: items }));
    expect(timed).not.toEqual(untimed); // the times matter for this user, so the check below can fail

    const r = await gql(server.url, REC, { u: userId });
    expect(r.errors).toBeUndefined();
    expect(r.data!.recommendations.source).toBe('PERSONALIZED');
    expect((r.data!.recommendations.items as { movie: { id: string } }[]).map((x) => x.movie.id)).toEqual(
      timed,
    );
  });
});
