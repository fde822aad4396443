import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdMap } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import {
  buildRatedIndex,
  deserializeModel,
  loadRecommender,
  MFModel,
  ModelFormatError,
  saveRecommender,
  serializeModel,
} from '../src/index.ts';
import { randomParams } from './helpers.ts';

function makeModel(): MFModel {
  const params = randomParams(5, 8, 3, 11);
  params.globalMean = 3.5123456789;
  const columns = {
    length: 4,
    users: Int32Array.from([0, 0, 4, 2]),
    items: Int32Array.from([7, 1, 3, 3]),
    ratings: Float32Array.from([4, 3, 5, 1]),
    timestamps: new Int32Array(4),
  };
  return new MFModel({
    params,
    users: IdMap.fromJSON(['a', 'b', 'c', 'd', 'e']),
    items: IdMap.fromJSON([10, 20, 30, 40, 50, 60, 70, 80]),
    config: { optimizer: 'adam', factors: 3, learningRate: 0.005 },
    log: { engine: 'adam', epochs: [{ epoch: 1, loss: 0.9, seconds: 0.1, ratingsPerSecond: 40 }] },
    rated: buildRatedIndex(columns, 5),
  });
}

describe('model artifact', () => {
  it('round-trips losslessly', async () => {
    const model = makeModel();
    model.foldInL2 = 0.25;
    const bytes = serializeModel(model);
    const back = deserializeModel(bytes);
    for (const key of ['userBias', 'itemBias', 'userFactors', 'itemFactors'] as const) {
      expect(back.params[key]).toEqual(model.params[key]);
    }
    expect(back.params.globalMean).toBe(3.5123456789);
    expect(back.users.ids()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(back.items.ids()).toEqual(model.items.ids());
    expect(back.config).toEqual(model.config);
    expect(back.log).toEqual(model.log);
    expect(back.foldInL2).toBe(0.25);
    expect(back.rated?.items).toEqual(model.rated?.items);
    expect(back.rated?.offsets).toEqual(model.rated?.offsets);
    expect(back.recommend(0, { k: 3, exclude: back.trainedHistory(0)! })).toEqual(
      model.recommend(0, { k: 3, exclude: model.trainedHistory(0)! }),
    );

    const dir = await mkdtemp(join(tmpdir(), 'movierec-core-'));
    try {
      const path = join(dir, 'model.mrmf');
      await saveRecommender(model, path);
      const loaded = (await loadRecommender(path)) as MFModel;
      expect(loaded.params.itemFactors).toEqual(model.params.itemFactors);
      expect(serializeModel(loaded)).toEqual(bytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects another format version, naming both', () => {
    const bytes = serializeModel(makeModel());
    new DataView(bytes.buffer).setUint32(4, 2, true);
    expect(() => deserializeModel(bytes)).toThrow(ModelFormatError);
    expect(() => deserializeModel(bytes)).toThrow(/format version 2, this build reads version 1/);
  });

  it('rejects mismatched shapes, naming the array and the expected size', () => {
    const bytes = serializeModel(makeModel());
    const view = new DataView(bytes.buffer);
    const headerLength = view.getUint32(8, true);
    const text = new TextDecoder().decode(bytes.subarray(12, 12 + headerLength));
    // claim 4 factors instead of 3 (same byte length so only the shape check can catch it)
    const tampered = new TextEncoder().encode(text.replace('"factors":3}', '"factors":4}'));
    expect(tampered.length).toBe(headerLength);
    bytes.set(tampered, 12);
    expect(() => deserializeModel(bytes)).toThrow(
      /userFactors has 15 values but the shapes need numUsers × factors/,
    );
  });

  it('rejects a duplicated ID in a map as a format error', () => {
    const bytes = serializeModel(makeModel());
    const view = new DataView(bytes.buffer);
    const headerLength = view.getUint32(8, true);
    const text = new TextDecoder().decode(bytes.subarray(12, 12 + headerLength));
    const tampered = new TextEncoder().encode(text.replace('"users":["a","b"', '"users":["a","a"'));
    bytes.set(tampered, 12);
    expect(() => deserializeModel(bytes, 'dup.mrmf')).toThrow(ModelFormatError);
    expect(() => deserializeModel(bytes, 'dup.mrmf')).toThrow(/dup.mrmf: user ID map: .*duplicate id "a"/);
  });

  it('rejects files that are not artifacts or are cut short', () => {
    expect(() => deserializeModel(new TextEncoder().encode('userId,movieId,rating'))).toThrow(
      /not a movierec model/,
    );
    const bytes = serializeModel(makeModel());
    expect(() => deserializeModel(bytes.subarray(0, bytes.length - 40), 'cut.mrmf')).toThrow(
      /cut.mrmf: .* runs past the end of the file/,
    );
  });
});
