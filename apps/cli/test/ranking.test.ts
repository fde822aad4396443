import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson, runCli, tempDir } from './helpers.ts';

const dir = tempDir('ranking');
afterAll(() => dir.cleanup());

/** A small ratings CSV: `users` users, each rating `per` of 30 movies with `rating`, one per day. */
function ratingsFile(name: string, rating: (u: number, j: number) => number, users = 40, per = 10): string {
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= users; u++)
    for (let j = 0; j < per; j++)
      lines.push(`${u},${((u * 7 + j * 3) % 30) + 1},${rating(u, j)},${1_000_000 + j * 86_400}`);
  const path = join(dir.path, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('evaluate --task ranking', () => {
  it('no user with a relevant held-out item is a clear error (exit 1, one line)', async () => {
    const path = ratingsFile('low.csv', () => 2);
    const r = await runCli(['evaluate', path, '--task', 'ranking']);
    expect(r.code, r.stderr).toBe(1);
    // the error is one line (after the progress and log lines)
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(
      /no user of .* has a relevant held-out item .*held-out rating ≥ 4/,
    );
  });

  it('every protocol: the model next to popularity and item-kNN, with --json', async () => {
    const path = ratingsFile('ok.csv', (u, j) => ((u + j) % 3 === 0 ? 2 : 5));
    for (const protocol of ['temporal', 'loo-sampled', 'loo-full']) {
      const r = await runCli([
        'evaluate',
        path,
        '--task',
        'ranking',
        '--protocol',
        protocol,
        '--preset',
        'ease',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const j = parseJson(r) as Record<string, unknown> & {
        baselines: Record<string, Record<string, number>>;
      };
      expect(j).toMatchObject({ task: 'ranking', protocol, k: 10, preset: 'ease' });
      expect(typeof j['ndcg@10']).toBe('number');
      expect(typeof j.baselines.popularity!['ndcg@10']).toBe('number');
      expect(typeof j.baselines.itemKnn!['recall@10']).toBe('number');
      if (protocol !== 'loo-sampled') expect(typeof j['coverage@10']).toBe('number');
    }
  });

  it('rating-only flags and an unknown protocol are usage errors', async () => {
    for (const args of [
      ['evaluate', '--task', 'ranking', '--folds', '3'],
      ['evaluate', '--task', 'ranking', '--protocol', 'random'],
      ['evaluate', '--task', 'ranking', '--preset', 'nope'],
      ['evaluate', '--protocol', 'temporal'],
      ['evaluate', '--task', 'ordering'],
    ]) {
      const r = await runCli(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
    }
  });
});

describe('tune', () => {
  it('an empty or inverted search space is a clear usage error, before any data is read', async () => {
    const empty = await runCli(['tune', '--space', ',']);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('the search space for ease is empty');
    const inverted = await runCli(['tune', '--space', 'lambda=900:100']);
    expect(inverted.code).toBe(2);
    expect(inverted.stderr).toContain("lambda's range 900:100 is inverted (min > max)");
    const unknown = await runCli(['tune', '--model', 'ials', '--space', 'lambda=1:2']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('ials has no hyper-parameter "lambda"');
  });

  it('writes the best configuration, which train --task ranking --preset <file> accepts', async () => {
    const path = ratingsFile('tune.csv', (u, j) => ((u + j) % 3 === 0 ? 2 : 5), 60, 12);
    const out = join(dir.path, 'best.json');
    const r = await runCli(['tune', path, '--model', 'item-knn', '--trials', '3', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r) as { leaderboard: { score: number }[]; best: { family: string }; out: string };
    expect(j.leaderboard).toHaveLength(3);
    expect(j.best.family).toBe('item-knn');
    const saved = JSON.parse(readFileSync(out, 'utf8')) as { task: string; model: { family: string } };
    expect(saved).toMatchObject({ task: 'ranking', model: { family: 'item-knn' } });
    const model = join(dir.path, 'knn.mrm');
    const t = await runCli(['train', path, '--task', 'ranking', '--preset', out, '--out', model, '--json']);
    expect(t.code, t.stderr).toBe(0);
    expect(parseJson(t)).toMatchObject({ task: 'ranking', family: 'item-knn', preset: out });
    expect(existsSync(model)).toBe(true);
  });
});

describe('train --task ranking: the NCF family (GMF, MLP, NeuMF) behind the one Recommender path', () => {
  it('--preset gmf and a NeuMF preset file (pre-trained) save a model that recommend --model serves', async () => {
    const path = ratingsFile('ncf.csv', (u, j) => ((u + j) % 3 === 0 ? 2 : 5));
    const gmf = join(dir.path, 'gmf.mrm');
    const t = await runCli(['train', path, '--task', 'ranking', '--preset', 'gmf', '--out', gmf, '--json']);
    expect(t.code, t.stderr).toBe(0);
    const j = parseJson(t) as Record<string, unknown>;
    expect(j).toMatchObject({ task: 'ranking', family: 'ncf', preset: 'gmf', config: { kind: 'gmf' } });
    expect(typeof j['ndcg@10']).toBe('number');
    expect(typeof j['coverage@10']).toBe('number');
    // NeuMF with the paper's pre-training (GMF and MLP first), from a preset file as tune would write one
    const preset = join(dir.path, 'neumf.json');
    writeFileSync(
      preset,
      JSON.stringify({
        task: 'ranking',
        model: {
          family: 'ncf',
          kind: 'neumf',
          pretrain: true,
          pretrainEpochs: 1,
          epochs: 1,
          layers: [16, 8, 4],
        },
      }),
    );
    const neumf = join(dir.path, 'neumf.mrm');
    const n = await runCli([
      'train',
      path,
      '--task',
      'ranking',
      '--preset',
      preset,
      '--out',
      neumf,
      '--json',
    ]);
    expect(n.code, n.stderr).toBe(0);
    expect(parseJson(n)).toMatchObject({ family: 'ncf', config: { kind: 'neumf', layers: [16, 8, 4] } });
    for (const file of [gmf, neumf]) {
      const r = await runCli(['recommend', '1', '--model', file, '--k', '5', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const items = (parseJson(r) as { items: { movieId: string }[] }).items.map((x) => x.movieId);
      expect(items).toHaveLength(5);
      // user 1 rated movies ((7 + 3j) mod 30) + 1, j < 10: none of them is recommended back
      const rated = new Set(Array.from({ length: 10 }, (_, j) => String(((7 + j * 3) % 30) + 1)));
      for (const m of items) expect(rated.has(m), `movie ${m} was rated by user 1`).toBe(false);
    }
  });

  it('an NCF preset file with a bad field is refused naming it; tune does not take an NCF preset', async () => {
    const preset = join(dir.path, 'bad-ncf.json');
    writeFileSync(preset, JSON.stringify({ model: { family: 'ncf', layers: 'wide' } }));
    const r = await runCli([
      'train',
      '--task',
      'ranking',
      '--preset',
      preset,
      '--out',
      join(dir.path, 'x.mrm'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('layers must be a list of numbers');
    const t = await runCli(['tune', '--preset', 'neumf']);
    expect(t.code).toBe(2);
    expect(t.stderr).toContain('is an NCF model; tune searches');
  });
});
