import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocParams, MFModel, PopularityModel, saveRecommender } from '@movierec/core';
import { IdMap } from '@movierec/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from './helpers.ts';

// A hand-made 3-user × 4-movie model: predictions are known in closed form.
const dir = tempDir('query');
const modelPath = join(dir.path, 'tiny.mfm');

beforeAll(async () => {
  const params = allocParams(3, 4, 2, 3.5);
  params.userBias.set([0.1, -0.2, 0]);
  params.itemBias.set([0.5, 0, -0.5, 0.2]);
  params.userFactors.set([1, 0, 0, 1, 1, 1]);
  params.itemFactors.set([1, 0, 0, 1, 0.9, 0.1, 0.5, 0.5]);
  const model = new MFModel({
    params,
    users: IdMap.fromJSON(['u1', 'u2', 'u3']),
    items: IdMap.fromJSON(['10', '20', '30', '40']),
  });
  await saveRecommender(model, modelPath);
  // a ranking model of another family (not a factor model), from a file like any other
  const items = IdMap.fromJSON(['10', '20', '30', '40']);
  const pop = new PopularityModel({ scores: Float32Array.from([1, 4, 2, 3]), items, users: model.users });
  await saveRecommender(pop, join(dir.path, 'pop.model'));
  writeFileSync(join(dir.path, 'not-a-model.mfm'), 'hello');
});
afterAll(() => dir.cleanup());

describe('recommend / similar / predict with --model <file>', () => {
  it('predict prints r̂ = μ + b_u + b_i + p_u·q_i', async () => {
    const r = await runCli(['predict', 'u1', '30', '--model', modelPath, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r);
    // 3.5 + 0.1 − 0.5 + (1·0.9 + 0·0.1) = 4.0
    expect(j.rating).toBeCloseTo(4.0, 5);
    expect(j).toMatchObject({ userId: 'u1', movieId: '30', model: { file: modelPath } });
  });

  it('an ID with a control character is a usage error naming the argument, as in the import and the API', async () => {
    const r = await runCli(['predict', 'u\u0007', '30', '--model', modelPath, '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(parseJson(r).error).toMatch(/<userId>: an ID must not contain control characters, found U\+0007/);
    const m = await runCli(['similar', ' 10', '--model', modelPath]);
    expect(m.code, m.stderr).toBe(2);
    expect(m.stderr).toMatch(/<movieId>: an ID must not start or end with spaces/);
  });

  it('recommend ranks movies by predicted rating, as a table or one JSON object', async () => {
    const r = await runCli(['recommend', 'u1', '--k', '2', '--model', modelPath, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const items = parseJson(r).items as { movieId: string; rank: number }[];
    // u1 scores: 10 → 3.5+.1+.5+1 = 5.1, 30 → 4.0, 40 → 3.5+.1+.2+.5 = 4.3, 20 → 3.6
    expect(items.map((i) => i.movieId)).toEqual(['10', '40']);
    const human = await runCli(['recommend', 'u1', '--k', '2', '--model', modelPath]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/rank\s+movieId\s+predicted/);
    expect(human.stdout).toMatch(/1\s+10\s+5\.10/);
  });

  it('similar ranks by cosine of movie factors', async () => {
    const r = await runCli(['similar', '10', '--k', '1', '--model', modelPath, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const items = parseJson(r).items as { movieId: string; similarity: number }[];
    expect(items[0]?.movieId).toBe('30');
    expect(items[0]?.similarity).toBeCloseTo(0.9 / Math.hypot(0.9, 0.1), 5);
  });

  it('an unknown user or movie is one clear line and exit 1', async () => {
    const user = await runCli(['recommend', 'nobody', '--model', modelPath]);
    expect(user.code).toBe(1);
    expect(user.stderr.trim().split('\n')).toHaveLength(1);
    expect(user.stderr).toContain('unknown user "nobody"');
    const movie = await runCli(['predict', 'u1', '999', '--model', modelPath]);
    expect(movie.code).toBe(1);
    expect(movie.stderr).toContain('unknown item "999"');
    expect(movie.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a ranking model recommends through the same command; predict with it is one clear line and exit 1', async () => {
    const pop = join(dir.path, 'pop.model');
    const r = await runCli(['recommend', 'u1', '--k', '2', '--model', pop, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((parseJson(r).items as { movieId: string }[]).map((i) => i.movieId)).toEqual(['20', '40']);
    const p = await runCli(['predict', 'u1', '10', '--model', pop]);
    expect(p.code).toBe(1);
    expect(p.stderr.trim().split('\n')).toHaveLength(1);
    expect(p.stderr).toContain('is a ranking model (family popularity) and does not predict ratings');
  });

  it('a missing or unreadable model file is one clear line and exit 1', async () => {
    const missing = await runCli(['predict', 'u1', '10', '--model', join(dir.path, 'nope', 'x.mfm')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such model file');
    const bad = await runCli(['predict', 'u1', '10', '--model', join(dir.path, 'not-a-model.mfm')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('unknown flags and missing arguments are usage errors (exit 2)', async () => {
    const flag = await runCli(['predict', 'u1', '10', '--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('Usage: movierec predict <userId> <movieId>');
    const missing = await runCli(['predict', 'u1']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing argument <movieId>');
    const cmd = await runCli(['frobnicate']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("unknown command 'frobnicate'");
  });
});
