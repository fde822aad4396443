import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSynthetic } from '@movierec/data';
import { describe, expect, it } from 'vitest';
import type { Engine, TrainConfig } from '../src/engine.ts';
import { createAdamEngine } from '../src/engines/adam.ts';
import { KERNELS_WASM_BASE64 } from '../src/engines/kernels-wasm.ts';
import { createSgdEngine } from '../src/engines/sgd.ts';
import { wasmAvailable } from '../src/engines/wasm.ts';
import { compileKernels } from '../wasm/build.ts';
import { fitWithLosses, maxAbsDiff } from './helpers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const data = generateSynthetic({ users: 200, items: 90, ratings: 6000, seed: 3 });
const shape = { numUsers: data.users.size, numItems: data.items.size };

const run = (engine: Engine, config: TrainConfig) => fitWithLosses(engine, data.ratings, shape, config);

describe('wasm SIMD kernels', () => {
  it('are available here and the committed module is the compiled kernels.wat', async () => {
    expect(wasmAvailable()).toBe(true);
    expect(readFileSync(join(here, '../wasm/kernels.wat'), 'utf8')).toContain('adam_dense');
    const bytes = await compileKernels();
    expect(Buffer.from(bytes).toString('base64')).toBe(KERNELS_WASM_BASE64);
  });

  it.each([
    ['adam, no L2', 0, undefined],
    ['adam, L2 on factors and biases', 0.01, 0.002],
  ])(
    '%s: float32 wasm and float64 JS kernels agree per epoch and in the weights',
    async (_name, l2, l2Bias) => {
      const config: TrainConfig = {
        optimizer: 'adam',
        factors: 8,
        epochs: 4,
        batchSize: 500,
        learningRate: 0.01,
        l2,
        ...(l2Bias === undefined ? {} : { l2Bias }),
        initStd: 0.05,
        seed: 9,
      };
      const js = await run(createAdamEngine({ kernels: 'js' }), config);
      const wasm = await run(createAdamEngine({ kernels: 'wasm' }), config);
      for (let e = 0; e < 4; e++) expect(Math.abs(wasm.losses[e]! / js.losses[e]! - 1)).toBeLessThan(1e-4);
      expect(maxAbsDiff(wasm.params.itemFactors, js.params.itemFactors)).toBeLessThan(1e-3);
      expect(maxAbsDiff(wasm.params.userBias, js.params.userBias)).toBeLessThan(1e-3);
    },
  );

  const sgd: TrainConfig = {
    optimizer: 'sgd',
    factors: 12,
    epochs: 4,
    batchSize: 1000,
    learningRate: 0.01,
    l2: 0.05,
    initStd: 0.1,
    seed: 4,
  };

  it('sgd: float32 wasm and float64 JS kernels agree per epoch', async () => {
    const config = sgd;
    const js = await run(createSgdEngine({ kernels: 'js' }), config);
    const wasm = await run(createSgdEngine({ kernels: 'wasm' }), config);
    for (let e = 0; e < 4; e++) expect(Math.abs(wasm.losses[e]! / js.losses[e]! - 1)).toBeLessThan(1e-4);
    expect(maxAbsDiff(wasm.params.userFactors, js.params.userFactors)).toBeLessThan(1e-3);
  });

  it('refuses the wasm kernels for a factor count they cannot run, and auto falls back to JS', async () => {
    const config: TrainConfig = { ...sgd, factors: 6, epochs: 1 };
    await expect(createSgdEngine({ kernels: 'wasm' }).fit(data.ratings, shape, config)).rejects.toThrow(
      /divisible by 4 \(got 6\)/,
    );
    const auto = await run(createSgdEngine(), config);
    const js = await run(createSgdEngine({ kernels: 'js' }), config);
    expect(auto.losses).toEqual(js.losses);
  });
});
