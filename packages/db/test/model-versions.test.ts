import {
  allocParams,
  buildRatedIndex,
  deserializeModel,
  MFModel,
  PopularityModel,
  serializeModel,
} from '@movierec/core';
import { IdMap } from '@movierec/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  activateModelVersion,
  activeModelVersionId,
  activeModelVersionIds,
  failTrainingRun,
  listModelVersions,
  loadActiveMFModel,
  loadActiveModel,
  loadActiveModels,
  loadModelVersion,
  ModelVersionNotFoundError,
  recordEpoch,
  saveModel,
  saveModelVersion,
  startTrainingRun,
  toMFModel,
  toRecommender,
} from '../src/index.ts';
import { createTestDatabase, type TestDatabase } from '../src/testing.ts';
import { kinds } from './helpers.ts';

function trainedPieces(numUsers: number, numItems: number, factors: number, seed: number) {
  const params = allocParams(numUsers, numItems, factors, 3.5 + seed / 10);
  let x = seed;
  // A small linear congruential generator (Numerical Recipes constants) for reproducible values.
  const next = () => ((x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  for (const array of [params.userBias, params.itemBias, params.userFactors, params.itemFactors]) {
    for (let j = 0; j < array.length; j++) array[j] = next();
  }
  const users = IdMap.fromJSON(Array.from({ length: numUsers }, (_, u) => `user-${u}`));
  const items = IdMap.fromJSON(Array.from({ length: numItems }, (_, i) => String(1000 + i)));
  return { params, users, items };
}

/** A model with every optional field set: rank bias, rated index, fold-in λ, a log with early stopping. */
function fullModel(): MFModel {
  const { params, users, items } = trainedPieces(6, 9, 3, 4);
  params.itemRankBias = Float32Array.from({ length: 9 }, (_, i) => 0.1 * i);
  const rated = buildRatedIndex(
    {
      length: 5,
      users: Int32Array.from([0, 0, 2, 5, 5]),
      items: Int32Array.from([1, 4, 8, 0, 3]),
      ratings: new Float32Array(5),
      timestamps: new Int32Array(5),
    },
    6,
  );
  const model = new MFModel({
    params,
    users,
    items,
    config: { optimizer: 'bpmf', factors: 3, epochs: 2, bayes: { burnIn: 1 }, seed: 7 },
    log: { engine: 'bpmf', epochs, numRatings: 5, bestEpoch: 2, stoppedEarly: false },
    rated,
  });
  model.foldInL2 = 0.25;
  return model;
}

/** Every field a model file and a database row carry. */
function expectSameModel(actual: MFModel, expected: MFModel): void {
  const a = actual.params;
  const e = expected.params;
  expect([a.numUsers, a.numItems, a.factors, a.globalMean]).toEqual([
    e.numUsers,
    e.numItems,
    e.factors,
    e.globalMean,
  ]);
  for (const key of ['userBias', 'itemBias', 'userFactors', 'itemFactors', 'itemRankBias'] as const)
    expect(a[key], key).toEqual(e[key]);
  expect(actual.users.toJSON()).toEqual(expected.users.toJSON());
  expect(actual.items.toJSON()).toEqual(expected.items.toJSON());
  expect(actual.config).toEqual(expected.config);
  expect(actual.log).toEqual(expected.log);
  expect(actual.rated).toEqual(expected.rated);
  expect(actual.foldInL2).toBe(expected.foldInL2);
}

const epochs = [
  { epoch: 1, loss: 0.9, seconds: 0.5, ratingsPerSecond: 1e6, validationRmse: 0.95 },
  { epoch: 2, loss: 0.8, seconds: 0.5, ratingsPerSecond: 1e6, validationRmse: 0.91 },
];

for (const kind of kinds) {
  describe(`model versions on ${kind}`, () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase(kind);
    });
    afterAll(async () => {
      await db?.close();
    });

    it('starts with no active model', async () => {
      expect(await activeModelVersionId(db)).toBeNull();
      expect(await loadActiveModel(db)).toBeNull();
      expect(await listModelVersions(db)).toEqual([]);
    });

    it('saves, lists, activates and loads a version bit for bit', async () => {
      const pieces = trainedPieces(7, 11, 4, 1);
      const id = await saveModelVersion(db, {
        ...pieces,
        engine: 'adam',
        config: { optimizer: 'adam', factors: 4, learningRate: 0.01 },
        metrics: { rmse: 0.87, ndcgAt10: 0.31 },
        trainingLog: { engine: 'adam', epochs, bestEpoch: 2 },
        datasetFingerprint: 'sha256:abc',
      });
      expect(await activeModelVersionId(db)).toBeNull();
      await activateModelVersion(db, id);
      expect(await activeModelVersionId(db)).toBe(id);

      const stored = await loadActiveModel(db);
      expect(stored).not.toBeNull();
      const { version, log, metrics, config } = stored!;
      const params = stored!.params!;
      const users = stored!.users!;
      const items = stored!.items!;
      expect(params.factors).toBe(4);
      expect(params.globalMean).toBeCloseTo(pieces.params.globalMean, 12);
      expect(params.userBias).toEqual(pieces.params.userBias);
      expect(params.itemBias).toEqual(pieces.params.itemBias);
      expect(params.userFactors).toEqual(pieces.params.userFactors);
      expect(params.itemFactors).toEqual(pieces.params.itemFactors);
      // Saved without the ranking-only term: it comes back without one (NULL column), not as zeros.
      expect(params.itemRankBias).toBeUndefined();
      expect('itemRankBias' in params).toBe(false);
      expect(users.ids()).toEqual(pieces.users.ids());
      expect(items.ids()).toEqual(pieces.items.ids());
      expect(version).toMatchObject({
        id,
        engine: 'adam',
        active: true,
        numUsers: 7,
        numMovies: 11,
        factors: 4,
      });
      expect(version.createdAt).toBeInstanceOf(Date);
      expect(Math.abs(version.createdAt.getTime() - Date.now())).toBeLessThan(10 * 60_000);
      expect(version.trainingRun?.epochs).toEqual(epochs);
      expect(log).toMatchObject({ engine: 'adam', epochs, bestEpoch: 2 });
      expect(metrics).toEqual({ rmse: 0.87, ndcgAt10: 0.31 });
      expect(config).toEqual({ optimizer: 'adam', factors: 4, learningRate: 0.01 });

      const listed = await listModelVersions(db);
      expect(listed.map((v) => [v.id, v.active])).toEqual([[id, true]]);
      expect(listed[0]?.trainingRun?.epochs).toHaveLength(2);
    });

    it('activating another version deactivates the first; at most one is ever active', async () => {
      const [firstId] = (await listModelVersions(db)).map((v) => v.id);
      const second = await saveModelVersion(db, {
        ...trainedPieces(3, 5, 2, 2),
        engine: 'sgd',
        config: { factors: 2 },
        trainingLog: epochs,
        datasetFingerprint: 'sha256:def',
      });
      await activateModelVersion(db, String(second));
      expect(await activeModelVersionId(db)).toBe(second);
      const listed = await listModelVersions(db);
      expect(listed.map((v) => [v.id, v.active])).toEqual([
        [second, true],
        [firstId, false],
      ]);
      // The partial unique index refuses a second active row even from raw SQL.
      await expect(
        db.query('UPDATE model_versions SET active = true WHERE id = $1', [firstId]),
      ).rejects.toThrow(/model_versions_one_active|duplicate key/);
      expect((await loadActiveModel(db))?.version.engine).toBe('sgd');
    });

    it('activating a version that does not exist: clear error, active model unchanged', async () => {
      const active = await activeModelVersionId(db);
      const error = await activateModelVersion(db, 424242).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelVersionNotFoundError);
      expect((error as Error).message).toMatch(
        /Model version 424242 does not exist .*unchanged \(rating version \d+\)/,
      );
      await expect(activateModelVersion(db, 'latest')).rejects.toThrow(ModelVersionNotFoundError);
      expect(await activeModelVersionId(db)).toBe(active);
    });

    it('round-trips an MFModel: the loaded model predicts exactly like the saved one', async () => {
      const pieces = trainedPieces(6, 9, 3, 5);
      const model = new MFModel({ ...pieces, config: { factors: 3 }, log: { engine: 'als', epochs } });
      const id = await saveModel(db, model, { datasetFingerprint: 'fp', activate: true });
      expect(await activeModelVersionId(db)).toBe(id);
      const loaded = await loadActiveMFModel(db);
      expect(loaded?.version.id).toBe(id);
      for (let u = 0; u < 6; u++) {
        for (let i = 0; i < 9; i++) expect(loaded!.model.predict(u, i)).toBe(model.predict(u, i));
      }
      expect(loaded!.model.userIndex('user-4')).toBe(4);
      expect(loaded!.model.recommend(2, { k: 3 })).toEqual(model.recommend(2, { k: 3 }));
      expect(loaded!.model.params.itemRankBias).toBeUndefined();
    });

    it('round-trips the ranking-only itemRankBias bit for bit; recommend() ranks the same after loading', async () => {
      const pieces = trainedPieces(6, 9, 3, 7);
      // w·ln(1 + n_i)-like values, plus one large term that must move movie 8 to the top of every list.
      const itemRankBias = Float32Array.from({ length: 9 }, (_, i) => 0.1 * Math.log1p(i) + 1e-7 * i);
      itemRankBias[8] = 50;
      const params = { ...pieces.params, itemRankBias };
      const model = new MFModel({
        ...pieces,
        params,
        config: { factors: 3 },
        log: { engine: 'bpmf', epochs },
      });
      const id = await saveModel(db, model, { datasetFingerprint: 'fp-rank', activate: true });

      const active = await loadActiveModel(db);
      expect(active?.version.id).toBe(id);
      expect(active!.params!.itemRankBias).toEqual(itemRankBias);
      const byId = await loadModelVersion(db, id);
      expect(byId.params!.itemRankBias).toEqual(itemRankBias);
      const loaded = toMFModel(byId);
      for (let u = 0; u < 6; u++) {
        expect(loaded.recommend(u, { k: 4 })).toEqual(model.recommend(u, { k: 4 }));
        expect(loaded.recommend(u, { k: 1 }).items[0]).toBe(8);
        for (let i = 0; i < 9; i++) expect(loaded.predict(u, i)).toBe(model.predict(u, i));
      }

      // A term of the wrong length is refused before anything is written.
      const before = (await listModelVersions(db)).length;
      await expect(
        saveModelVersion(db, {
          ...pieces,
          params: { ...pieces.params, itemRankBias: new Float32Array(3) },
          engine: 'bpmf',
          config: {},
          datasetFingerprint: 'fp-bad',
        }),
      ).rejects.toThrow(/itemRankBias holds 3 values, expected one per movie \(9\)/);
      expect(await listModelVersions(db)).toHaveLength(before);
    });

    it('round-trips the time-aware terms (Koren 2009) and still loads a version saved without them', async () => {
      const DAY = 86400;
      const start = 9_000 * DAY;
      const end = start + 60 * DAY;
      const pieces = trainedPieces(3, 4, 2, 9);
      const withoutTime = await saveModel(db, new MFModel({ ...pieces, log: { engine: 'bpmf', epochs } }), {
        datasetFingerprint: 'fp-static',
      });
      const temporal = {
        trainStart: start,
        trainEnd: end,
        binStart: start,
        binWidth: (end - start + 1) / 3,
        bins: 3,
        beta: 0.4,
        itemBinBias: Float32Array.from({ length: 12 }, (_, j) => 0.01 * j - 0.05),
        userMeanDay: Float32Array.of(start / DAY + 10, start / DAY + 20, start / DAY + 30),
        userDrift: Float32Array.of(0.02, -0.01, 0),
        userLastTime: Int32Array.of(start + 20 * DAY, end, start + 30 * DAY),
        dayOffsets: Int32Array.of(0, 1, 3, 3),
        days: Int32Array.of(start / DAY + 5, start / DAY + 7, start / DAY + 59),
        dayBias: Float32Array.of(0.2, -0.1, 0.05),
      };
      const model = new MFModel({
        ...pieces,
        params: { ...pieces.params, temporal },
        log: { engine: 'bpmf', epochs },
      });
      const id = await saveModel(db, model, { datasetFingerprint: 'fp-temporal' });
      const loaded = toMFModel(await loadModelVersion(db, id));
      expect(loaded.params.temporal).toEqual(temporal);
      for (const t of [start, start + 5 * DAY + 60, start + 7 * DAY, end, end + 400 * DAY])
        for (let u = 0; u < 3; u++)
          for (let i = 0; i < 4; i++) expect(loaded.predict(u, i, t)).toBe(model.predict(u, i, t));
      // the older version has null temporal columns: it loads and predicts the static r̂ at any time
      const old = toMFModel(await loadModelVersion(db, withoutTime));
      expect(old.params.temporal).toBeUndefined();
      expect(old.predict(1, 2, start)).toBe(old.predict(1, 2));
    });

    it('loads any version by id, active or not; an unknown id is a clear error', async () => {
      const versions = await listModelVersions(db);
      const inactive = versions.find((v) => !v.active)!;
      const stored = await loadModelVersion(db, inactive.id);
      expect(stored.version).toMatchObject({ id: inactive.id, active: false, engine: inactive.engine });
      expect(toMFModel(stored).numUsers).toBe(inactive.numUsers);
      await expect(loadModelVersion(db, 99_999)).rejects.toThrow(
        /Model version 99999 does not exist \(known: /,
      );
    });

    it('logs a training run epoch by epoch, then links it to the saved version; a failed run keeps its epochs', async () => {
      const run = await startTrainingRun(db, {
        engine: 'adam',
        config: { factors: 2 },
        datasetFingerprint: 'fp2',
      });
      for (const epoch of epochs) await recordEpoch(db, run, epoch);
      const id = await saveModelVersion(db, {
        ...trainedPieces(2, 3, 2, 9),
        engine: 'adam',
        config: { factors: 2 },
        datasetFingerprint: 'fp2',
        trainingRunId: run,
      });
      const saved = (await listModelVersions(db)).find((v) => v.id === id);
      expect(saved?.trainingRun).toMatchObject({ id: run, status: 'finished', epochs });
      await expect(
        saveModelVersion(db, {
          ...trainedPieces(2, 3, 2, 9),
          engine: 'adam',
          config: {},
          datasetFingerprint: 'fp2',
          trainingRunId: run,
        }),
      ).rejects.toThrow(/already belongs to a model version; nothing was saved/);
      expect((await listModelVersions(db)).filter((v) => v.datasetFingerprint === 'fp2')).toHaveLength(1);

      const failed = await startTrainingRun(db, { engine: 'sgd', config: {}, datasetFingerprint: 'fp3' });
      await recordEpoch(db, failed, epochs[0]!);
      await failTrainingRun(db, failed, 'loss became NaN at epoch 2');
      const row = await db.prisma.trainingRun.findUnique({ where: { id: failed } });
      expect(row).toMatchObject({
        status: 'failed',
        epochs: [epochs[0]],
        summary: { error: 'loss became NaN at epoch 2' },
      });
      await expect(recordEpoch(db, 987654, epochs[0]!)).rejects.toThrow(/Training run 987654 does not exist/);
    });

    it('one active version per task: a ranking model of another family is stored, activated and loaded beside the rating model', async () => {
      const ratingId = await activeModelVersionId(db);
      expect(ratingId).not.toBeNull();
      const items = IdMap.fromJSON(['1000', '1001', '1002']);
      const pop = new PopularityModel({ scores: Float32Array.from([0.5, 2, 1]), items });
      const first = await saveModel(db, pop, { datasetFingerprint: 'fp-pop', activate: true });
      const second = await saveModel(db, pop, { datasetFingerprint: 'fp-pop2' });
      expect(await activeModelVersionIds(db)).toEqual({ rating: ratingId, ranking: first });
      expect(await activateModelVersion(db, second)).toBe('ranking');
      // activating a ranking model leaves the rating model active
      expect(await activeModelVersionIds(db)).toEqual({ rating: ratingId, ranking: second });
      const listed = await listModelVersions(db);
      expect(listed.find((v) => v.id === second)).toMatchObject({
        task: 'ranking',
        family: 'popularity',
        active: true,
      });
      expect(listed.find((v) => v.id === first)).toMatchObject({ task: 'ranking', active: false });
      expect(listed.find((v) => v.id === ratingId)).toMatchObject({
        task: 'rating',
        family: 'mf',
        active: true,
      });
      // the index allows one active row per task, not two
      await expect(
        db.query('UPDATE model_versions SET active = true WHERE id = $1', [first]),
      ).rejects.toThrow(/model_versions_one_active_per_task|duplicate key/);
      const loaded = await loadActiveModels(db);
      expect(loaded.map((l) => [l.version.task, l.version.id, l.model.family])).toEqual([
        ['rating', ratingId, 'mf'],
        ['ranking', second, 'popularity'],
      ]);
      const model = loaded[1]!.model;
      expect([
        ...model.recommend(model.foldIn({ items: new Int32Array(0), values: new Float32Array(0) }), { k: 3 })
          .items,
      ]).toEqual([1, 2, 0]);
      const stored = await loadModelVersion(db, second);
      expect(stored.params).toBeUndefined();
      expect(toRecommender(stored).items.ids()).toEqual(['1000', '1001', '1002']);
      expect(() => toMFModel(stored)).toThrow(/is a popularity model, not biased MF/);
    });

    it('loadActiveModels hands back a model the caller holds instead of reading it again', async () => {
      const rating = await saveModel(db, new MFModel(trainedPieces(4, 5, 2, 3)), {
        datasetFingerprint: 'reuse',
        activate: true,
      });
      const items = IdMap.fromJSON(['1000', '1001']);
      const ranking = await saveModel(db, new PopularityModel({ scores: Float32Array.from([1, 2]), items }), {
        datasetFingerprint: 'reuse-pop',
        activate: true,
      });
      const first = await loadActiveModels(db);
      const held = new Map(first.map((l) => [l.version.id, l.model]));
      const again = await loadActiveModels(db, held);
      expect(again.map((l) => l.version.id)).toEqual([rating, ranking]);
      expect(again[0]!.model).toBe(first[0]!.model);
      expect(again[1]!.model).toBe(first[1]!.model);
      // a newly activated version is read; the one that stays active is not
      const next = await saveModel(db, new MFModel(trainedPieces(4, 5, 2, 4)), {
        datasetFingerprint: 'reuse-2',
        activate: true,
      });
      const after = await loadActiveModels(db, held);
      expect(after.map((l) => l.version.id)).toEqual([next, ranking]);
      expect(after[0]!.model).not.toBe(first[0]!.model);
      expect(after[1]!.model).toBe(first[1]!.model);
    });

    it('parameters and artifacts over 1 MiB are read in pieces and come back identical', async () => {
      // user factors 2,700 × 100 × 4 B = 1.08 MB: two pieces
      const big = new MFModel(trainedPieces(2700, 100, 100, 9));
      const id = await saveModel(db, big, { datasetFingerprint: 'big' });
      expectSameModel(toMFModel(await loadModelVersion(db, id)), big);
      // an artifact: popularity scores of 100,000 movies with 14-character IDs (1.8 MB)
      const items = IdMap.fromJSON(
        Array.from({ length: 100_000 }, (_, i) => `movie-${String(i).padStart(8, '0')}`),
      );
      const scores = Float32Array.from({ length: 100_000 }, (_, i) => Math.sin(i));
      const popId = await saveModel(db, new PopularityModel({ scores, items }), {
        datasetFingerprint: 'big-pop',
      });
      const back = toRecommender(await loadModelVersion(db, popId));
      expect(back.items.size).toBe(100_000);
      const top = back.recommend(back.foldIn({ items: new Int32Array(0), values: new Float32Array(0) }), {
        k: 5,
      });
      const expected = Array.from(scores.keys())
        .sort((a, b) => scores[b]! - scores[a]! || a - b)
        .slice(0, 5);
      expect([...top.items]).toEqual(expected);
    });

    it('a database migrated before tasks existed: its versions read as rating models of family mf', async () => {
      const id = await saveModel(db, new MFModel(trainedPieces(2, 3, 2, 5)), { datasetFingerprint: 'old' });
      // as the old code wrote it: no task, family or artifact given, so the migration's defaults apply
      await db.query(
        'UPDATE model_versions SET task = DEFAULT, family = DEFAULT, artifact = NULL WHERE id = $1',
        [id],
      );
      const back = await loadModelVersion(db, id);
      expect(back.version).toMatchObject({ task: 'rating', family: 'mf' });
      expect(toRecommender(back).family).toBe('mf');
    });

    it('round-trips a model identically through the database and through its file (the same fields in both)', async () => {
      const model = fullModel();
      const meta = { datasetFingerprint: 'sha256:roundtrip', metrics: { rmse: 0.9, ndcgAt10: 0.1 } };
      const id = await saveModel(db, model, meta);
      const stored = await loadModelVersion(db, id);
      expect(stored.metrics).toEqual(meta.metrics);
      const fromDb = toMFModel(stored);
      expectSameModel(fromDb, model);
      expectSameModel(deserializeModel(serializeModel(model)), model);
      // database → file → database
      const again = await saveModel(db, deserializeModel(serializeModel(fromDb)), meta);
      expectSameModel(toMFModel(await loadModelVersion(db, again)), model);
      // a version saved without the new fields (as older code did) still loads: no rated index, λ from config
      const old = await saveModelVersion(db, {
        ...trainedPieces(6, 9, 3, 4),
        engine: 'sgd',
        config: {},
        datasetFingerprint: 'old',
      });
      const legacy = toMFModel(await loadModelVersion(db, old));
      expect(legacy.rated).toBeUndefined();
      expect(legacy.foldInL2).toBe(1);
    });
  });
}
