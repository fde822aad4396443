import { presets, resolveConfig } from '@movierec/trainer';
import { describe, expect, it } from 'vitest';
import { trainingChoice } from '../src/training.ts';

// --engine without --epochs and friends: an engine other than the preset's optimizer starts from its own defaults
// (engineDefaults), not from values tuned for another optimizer (the default preset's 120 BPMF sweeps).
describe('trainingChoice: per-engine defaults', () => {
  it('sgd and als get their own epochs and L2 instead of the preset’s', () => {
    const sgd = trainingChoice({ engine: 'sgd' }).config;
    expect(sgd).toMatchObject({ optimizer: 'sgd', epochs: 30, learningRate: 0.007, l2: 0.05, l2Bias: 0.02 });
    expect(trainingChoice({ engine: 'sgd', preset: 'reference' }).config).toMatchObject({
      optimizer: 'sgd',
      epochs: 30,
      l2: 0.05,
    });
    const als = trainingChoice({ engine: 'als' }).config;
    expect(als).toMatchObject({ optimizer: 'als', epochs: 10, l2: 15, l2Bias: 0.02 });
  });

  it('adam and tfjs on the default preset train like presets.reference', () => {
    const { seed: _seed, ...reference } = presets.reference;
    for (const engine of ['adam', 'tfjs']) {
      const choice = trainingChoice({ engine });
      expect(choice.config, engine).toMatchObject({ ...reference, l2Bias: 0 });
      expect(choice.engineName).toBe(engine);
    }
  });

  it('flags still win over the engine’s defaults', () => {
    const config = trainingChoice({ engine: 'sgd', epochs: '7', 'learning-rate': '0.01', l2: '0.2' }).config;
    expect(config).toMatchObject({ optimizer: 'sgd', epochs: 7, learningRate: 0.01, l2: 0.2 });
    expect(trainingChoice({ engine: 'als', l2: '3' }).config.l2).toBe(3);
  });

  it('the preset’s own optimizer (or no --engine) keeps the preset unchanged', () => {
    const own = presets.default.optimizer;
    expect(trainingChoice({}).config).toEqual(resolveConfig({ preset: 'default' }));
    expect(trainingChoice({ engine: own }).config).toEqual(resolveConfig({ preset: 'default' }));
    expect(trainingChoice({ engine: 'adam', preset: 'reference' }).config).toEqual(
      resolveConfig({ preset: 'reference' }),
    );
    expect(trainingChoice({ engine: 'tfjs', preset: 'reference' }).overrides).toEqual({ optimizer: 'adam' });
  });
});
