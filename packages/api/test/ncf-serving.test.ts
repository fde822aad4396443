/**
 * The NCF family served through the one Recommender path (issue 15): a GMF trained by the trainer's trainRanking
 * (TF.js layers), stored as a ranking version in PostgreSQL through core's model-family registry, read back by the
 * API — recommendations are the network's own list, and a new user's view folds them into it at once.
 */
import type { NcfModel } from '@movierec/core';
import { viewValue } from '@movierec/data';
import { saveModel } from '@movierec/db';
import { trainRanking } from '@movierec/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/index.ts';
import { gql, type Seeded, seededDatabase, silentLogger } from './fixtures.ts';

const REC = `query($u: ID!) { recommendations(userId: $u, limit: 5) {
  source modelVersion { task family } items { movie { id } } } }`;
const VIEW = `mutation($u: ID!, $m: ID!) { recordView(userId: $u, movieId: $m) { foldedInInteractions source } }`;

describe('an NCF (GMF) ranking version served by the API (PostgreSQL)', { timeout: 120_000 }, () => {
  let seeded: Seeded;
  let server: RunningServer;
  let gmf: NcfModel;

  beforeAll(async () => {
    seeded = await seededDatabase('postgres');
    // one epoch of a small GMF: enough for a servable network, cheap on a loaded machine
    gmf = (await trainRanking(seeded.dataset, {
      family: 'ncf',
      kind: 'gmf',
      epochs: 1,
      batchSize: 4096,
    })) as NcfModel;
    await saveModel(seeded.db, gmf, { datasetFingerprint: 'ncf-test', task: 'ranking', activate: true });
    server = await startServer({ db: seeded.db, port: 0, logger: silentLogger, pollMs: 60_000 });
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    await seeded?.db.close();
  });

  it("a trained user's list is the network's own, the rated movies left out", async () => {
    const u = 5;
    const userId = seeded.dataset.users.externalId(u);
    const rec = (await gql(server.url, REC, { u: userId })).data!.recommendations;
    expect(rec.source).toBe('PERSONALIZED');
    expect(rec.modelVersion).toEqual({ task: 'RANKING', family: 'ncf' });
    const rated: number[] = [];
    const cols = seeded.dataset.ratings;
    for (let j = 0; j < cols.length; j++) if (cols.users[j] === u) rated.push(cols.items[j]!);
    const want = gmf.recommend(gmf.userState(gmf.users.indexOf(userId)), {
      k: 5,
      exclude: Int32Array.from(rated).sort(),
    });
    expect(rec.items.map((i: { movie: { id: string } }) => i.movie.id)).toEqual(
      Array.from(want.items, (i) => gmf.items.externalId(i)),
    );
  });

  it("a new user's view is folded into the network at once (PERSONALIZED, the viewed movie left out)", async () => {
    const userId = `ncf-viewer-${Date.now()}`;
    const movie = seeded.dataset.items.externalId(seeded.dataset.ratings.items[0]!);
    const v = (await gql(server.url, VIEW, { u: userId, m: movie })).data!.recordView;
    expect(v).toEqual({ foldedInInteractions: 1, source: 'PERSONALIZED' });
    const rec = (await gql(server.url, REC, { u: userId })).data!.recommendations;
    expect(rec.source).toBe('PERSONALIZED');
    const ids = rec.items.map((i: { movie: { id: string } }) => i.movie.id);
    expect(ids).not.toContain(movie);
    // the model's own fold-in of that one view, valued as training values views (viewValue)
    const item = gmf.items.indexOf(movie);
    const state = gmf.foldIn({ items: Int32Array.of(item), values: Float32Array.of(viewValue(1)) });
    const want = gmf.recommend(state, { k: 5, exclude: Int32Array.of(item) });
    expect(ids).toEqual(Array.from(want.items, (i) => gmf.items.externalId(i)));
  });
});
