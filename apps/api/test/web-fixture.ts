/**
 * The small model the web test serves: biased MF trained on the bundled data with a 10 % holdout, so the stored
 * training run has a loss and a validation RMSE per epoch for the page's chart.
 */
import type { EpochRecord, MFParams } from '@movierec/core';
import { allocParams } from '@movierec/core';
import { type Dataset, takeRows } from '@movierec/data';
import type { SaveModelVersionInput } from '@movierec/db';

const CONFIG = { factors: 16, epochs: 8, learningRate: 0.01, l2: 0.05, seed: 7 };

/** Mulberry32, a 32-bit seeded PRNG (Tommy Ettinger, public domain), uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** r̂(u,i) = μ + b_u + b_i + p_u·q_i (Koren, Bell & Volinsky 2009). */
function predict(p: MFParams, u: number, i: number): number {
  let dot = 0;
  for (let f = 0; f < p.factors; f++)
    dot += p.userFactors[u * p.factors + f]! * p.itemFactors[i * p.factors + f]!;
  return p.globalMean + p.userBias[u]! + p.itemBias[i]! + dot;
}

export async function trainSmallModel(dataset: Dataset): Promise<Omit<SaveModelVersionInput, 'activate'>> {
  const random = mulberry32(CONFIG.seed);
  const all = dataset.ratings;
  const trainRows: number[] = [];
  const testRows: number[] = [];
  for (let r = 0; r < all.length; r++) (random() < 0.1 ? testRows : trainRows).push(r);
  const train = takeRows(all, trainRows);
  const test = takeRows(all, testRows);
  const k = CONFIG.factors;
  const params = allocParams(dataset.users.size, dataset.items.size, k);
  let sum = 0;
  for (let r = 0; r < train.length; r++) sum += train.ratings[r]!;
  params.globalMean = sum / train.length;
  for (let j = 0; j < params.userFactors.length; j++) params.userFactors[j] = (random() - 0.5) * 0.1;
  for (let j = 0; j < params.itemFactors.length; j++) params.itemFactors[j] = (random() - 0.5) * 0.1;

  const epochs: EpochRecord[] = [];
  const { learningRate: gamma, l2: lambda } = CONFIG;
  for (let epoch = 1; epoch <= CONFIG.epochs; epoch++) {
    const started = performance.now();
    let squared = 0;
    for (let n = 0; n < train.length; n++) {
      const r = Math.floor(random() * train.length);
      const u = train.users[r]!;
      const i = train.items[r]!;
      // SGD on e = r − r̂: b_u += γ(e − λb_u), b_i += γ(e − λb_i), p_u += γ(e·q_i − λp_u), q_i += γ(e·p_u − λq_i)
      // (Funk 2006; Koren, Bell & Volinsky 2009, eq. 5).
      const e = train.ratings[r]! - predict(params, u, i);
      squared += e * e;
      params.userBias[u]! += gamma * (e - lambda * params.userBias[u]!);
      params.itemBias[i]! += gamma * (e - lambda * params.itemBias[i]!);
      for (let f = 0; f < k; f++) {
        const pu = params.userFactors[u * k + f]!;
        const qi = params.itemFactors[i * k + f]!;
        params.userFactors[u * k + f] = pu + gamma * (e * qi - lambda * pu);
        params.itemFactors[i * k + f] = qi + gamma * (e * pu - lambda * qi);
      }
    }
    // Validation RMSE = √(Σ (r − r̂)² / n) and MAE = Σ |r − r̂| / n over the holdout.
    let se = 0;
    let ae = 0;
    for (let r = 0; r < test.length; r++) {
      const e = test.ratings[r]! - predict(params, test.users[r]!, test.items[r]!);
      se += e * e;
      ae += Math.abs(e);
    }
    const seconds = (performance.now() - started) / 1000;
    epochs.push({
      epoch,
      loss: squared / train.length,
      seconds,
      ratingsPerSecond: train.length / seconds,
      validationRmse: Math.sqrt(se / test.length),
      validationMae: ae / test.length,
    });
  }
  const last = epochs[epochs.length - 1]!;
  return {
    params,
    users: dataset.users,
    items: dataset.items,
    engine: 'sgd',
    config: { ...CONFIG, optimizer: 'sgd' },
    metrics: { rmse: last.validationRmse, mae: last.validationMae },
    trainingLog: { engine: 'sgd', epochs, numRatings: train.length },
    datasetFingerprint: `${dataset.name}:${all.length}`,
  };
}
