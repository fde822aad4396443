/**
 * An activation's new snapshot takes over the similar-movie lists of the models that stay active (Snapshot.keepFrom)
 * instead of computing and allocating them again; a model that changed starts afresh.
 */
import type { ModelVersionInfo } from '@movierec/db';
import { describe, expect, it } from 'vitest';
import { Catalogue } from '../src/serving/catalogue.ts';
import { Snapshot } from '../src/serving/snapshot.ts';
import { bundledDataset, trainAls } from './fixtures.ts';

const version = (id: number, task: 'rating' | 'ranking'): ModelVersionInfo => ({
  id,
  engine: 'als',
  task,
  family: 'mf',
  active: true,
  createdAt: new Date(),
  factors: 8,
  numUsers: 0,
  numMovies: 0,
  config: {},
  metrics: {},
  datasetFingerprint: 'test',
  trainingRun: null,
});

const catalogueOf = (ids: string[]) =>
  new Catalogue({
    externalIds: ids,
    titles: ids.map((id) => `movie ${id}`),
    years: new Int16Array(ids.length),
    genres: ids.map(() => ['Drama']),
    ratingCounts: new Int32Array(ids.length).fill(5),
    ratingSums: new Float64Array(ids.length).fill(20),
  });

describe('Snapshot.keepFrom', () => {
  it('keeps the lists of a model that stays active, not of one that changed', async () => {
    const dataset = await bundledDataset();
    const [a, b, c] = await Promise.all([
      trainAls(dataset, 8, 2, 1),
      trainAls(dataset, 8, 2, 2),
      trainAls(dataset, 8, 2, 3),
    ]);
    const ids = dataset.items.ids();
    const catalogue = catalogueOf(ids);
    // similarMovies asks the ranking model first, the rating model where it cannot place a movie
    const ranking = Snapshot.serve(version(1, 'ranking'), a, catalogue);
    const before = new Snapshot(Snapshot.serve(version(2, 'rating'), b, catalogue), ranking, catalogue);
    const listed = before.similar(3)!;
    expect(listed.served.model).toBe(a);
    expect(listed.top.items.length).toBeGreaterThan(0);

    // the rating model changes, the ranking model stays (a new Served of the same model and item space)
    const kept = { ...ranking, version: { ...ranking.version } };
    const after = new Snapshot(Snapshot.serve(version(3, 'rating'), c, catalogue), kept, catalogue);
    after.keepFrom(before);
    expect(after.similar(3)!.top).toBe(listed.top);

    // the ranking model changes: its lists are computed from it, not taken over
    const changed = new Snapshot(
      before.rating,
      Snapshot.serve(version(4, 'ranking'), c, catalogue),
      catalogue,
    );
    changed.keepFrom(before);
    const fresh = changed.similar(3)!;
    expect(fresh.served.model).toBe(c);
    expect(fresh.top).not.toBe(listed.top);
    expect(Array.from(fresh.top.items)).toEqual(
      Array.from(c.similarItems(c.items.indexOf(ids[3]!), 100).items),
    );
  });

  it('holds similar-movie lists within the list-cache budget, the least recently asked out first', async () => {
    const dataset = await bundledDataset();
    const model = await trainAls(dataset, 8, 2, 1);
    const ids = dataset.items.ids();
    const catalogue = catalogueOf(ids);
    const budget = 64 * 1024; // ~50 lists of 100
    const snapshot = new Snapshot(
      Snapshot.serve(version(1, 'rating'), model, catalogue),
      null,
      catalogue,
      undefined,
      'rating',
      budget,
    );
    const first = snapshot.similar(0)!.top;
    for (let m = 1; m < 500; m++) snapshot.similar(m);
    const { bytes, entries } = snapshot.lists;
    expect(bytes).toBeLessThanOrEqual(budget);
    expect(entries).toBeGreaterThan(40);
    expect(entries).toBeLessThan(100);
    // movie 0's list was let go: asked again, it is computed afresh (the same neighbours, a new list)
    const again = snapshot.similar(0)!.top;
    expect(again).not.toBe(first);
    expect(Array.from(again.items)).toEqual(Array.from(first.items));
    // the most recently asked is still held
    expect(snapshot.similar(499)!.top).toBe(snapshot.similar(499)!.top);
  });
});
