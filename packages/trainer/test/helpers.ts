import type { MFParams } from '@movierec/core';
import { type RatingColumns, Rng } from '@movierec/data';
import type { Engine, FitOptions, TrainConfig } from '../src/engine.ts';

/** Fits `engine` on `columns`, keeping each epoch's training loss beside the parameters. */
export async function fitWithLosses(
  engine: Engine,
  columns: RatingColumns,
  shape: { numUsers: number; numItems: number },
  config: TrainConfig,
  options: FitOptions = {},
): Promise<{ losses: number[]; params: MFParams }> {
  const losses: number[] = [];
  const params = await engine.fit(columns, shape, config, {
    ...options,
    onEpoch: (s) => {
      losses.push(s.loss);
      return undefined;
    },
  });
  return { losses, params };
}

/** max_j |a_j − b_j|. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let j = 0; j < a.length; j++) m = Math.max(m, Math.abs(a[j]! - b[j]!));
  return m;
}

/** Deterministic uniform numbers in [0, 1) from the engines' seeded generator (@movierec/data Rng). */
export function uniform(seed: number): () => number {
  const random = new Rng(seed);
  return () => random.uniform();
}
