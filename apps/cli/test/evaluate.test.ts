import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from './helpers.ts';

const dir = tempDir('evaluate');
afterAll(() => dir.cleanup());
/** A quick rating model: 2 SGD epochs of 8 factors. */
const QUICK_SGD = ['--engine', 'sgd', '--epochs', '2', '--factors', '8'];

describe('evaluate', () => {
  it('k-fold: --json has the mean metrics at the top level, per-fold values and the baselines beside', async () => {
    const r = await runCli(['evaluate', '--folds', '2', ...QUICK_SGD, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r) as Record<string, unknown> & {
      folds: Record<string, number>[];
      baselines: Record<string, Record<string, number>>;
    };
    for (const key of ['rmse', 'mae', 'precision@10', 'recall@10', 'ndcg@10']) {
      expect(typeof j[key], key).toBe('number');
    }
    expect(j.folds).toHaveLength(2);
    // the top level is the mean of the folds
    expect(j.rmse as number).toBeCloseTo((j.folds[0]!.rmse! + j.folds[1]!.rmse!) / 2, 10);
    expect(j.folds[0]!['ndcg@10']).toBeGreaterThan(0);
    expect(j.baselines.biases!.rmse).toBeGreaterThan(0.8);
    expect(j.baselines.globalMean!.rmse).toBeGreaterThan(j.baselines.biases!.rmse!);
    expect(j.baselines.popularity!['ndcg@10']).toBeGreaterThan(0);
    expect(j).toMatchObject({ method: { folds: 2 }, ratings: 100_004, engine: 'sgd', k: 10 });
  });

  it('holdout: a table with the model next to the baselines', async () => {
    const r = await runCli(['evaluate', '--holdout', '0.2', '--engine', 'sgd', '--epochs', '2', '--k', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/model\s+RMSE\s+MAE\s+P@5\s+R@5\s+NDCG@5/);
    expect(r.stdout).toMatch(/MF \(sgd, default\)\s+0\.\d{4}\s+0\.\d{4}/);
    expect(r.stdout).toMatch(/baseline: user\+movie biases\s+0\.\d{4}/);
    expect(r.stdout).toMatch(/baseline: global mean\s+1\.\d{4}/);
  });

  it('bad flags are usage errors (exit 2)', async () => {
    for (const args of [
      ['evaluate', '--folds', '3', '--holdout', '0.2'],
      ['evaluate', '--folds', '1'],
      ['evaluate', '--holdout', '1.5'],
      ['evaluate', '--engine', 'magic'],
      ['evaluate', '--preset', 'best'],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('Usage: movierec evaluate');
    }
  });
});

describe('train --out', () => {
  it('writes a model file usable by the query commands', async () => {
    const out = join(dir.path, 'm.mfm');
    const r = await runCli(['train', ...QUICK_SGD, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r) as { out: string; epochs: { validationRmse: number }[]; rmse: number };
    expect(j.out).toBe(out);
    expect(j.epochs).toHaveLength(2);
    expect(j.epochs[1]!.validationRmse).toBeCloseTo(j.rmse, 6);
    expect(existsSync(out)).toBe(true);
    const rec = await runCli(['recommend', '1', '--model', out, '--k', '3', '--json']);
    expect(rec.code, rec.stderr).toBe(0);
    expect((parseJson(rec).items as unknown[]).length).toBe(3);
  });

  it('an unknown dataset or a bad flag writes nothing', async () => {
    const out = join(dir.path, 'never.mfm');
    const unknown = await runCli(['train', 'ml-9z', '--out', out]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    const flag = await runCli(['train', '--learning-rate=0', '--out', out]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("--learning-rate: expected a number in (0, ∞], got '0'");
    expect(existsSync(out)).toBe(false);
  });
});
