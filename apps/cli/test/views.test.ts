import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseJson, scratchPostgres, tempDir } from './helpers.ts';

// Watch history (issue 15): a file with no rating column through data info, import, and train/evaluate --task
// ranking, from the file and from the database (ratings + views), on a fresh PostgreSQL database.
const dir = tempDir('views');
const { cli } = scratchPostgres(dir.path);

function write(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

const USERS = 40;
const PER = 10;
/** u rates PER of 30 movies, one per day; ratings 2 or 5. */
const ratingsCsv = () => {
  const lines = ['userId,movieId,rating,timestamp'];
  for (let u = 1; u <= USERS; u++)
    for (let j = 0; j < PER; j++)
      lines.push(`${u},${((u * 7 + j * 3) % 30) + 1},${(u + j) % 3 === 0 ? 2 : 5},${1_000_000 + j * 86_400}`);
  return `${lines.join('\n')}\n`;
};
/** Watch history of the same movies: each user viewed 8 movies (a repeat counts twice), users v1…v40 new. */
const viewsCsv = () => {
  const lines = ['user_id,movie_id,viewed_at'];
  for (let u = 1; u <= USERS; u++)
    for (let j = 0; j < 8; j++) lines.push(`v${u},${((u * 5 + j * 4) % 30) + 1},${2_000_000 + j * 3_600}`);
  lines.push('v1,6,2999999');
  return `${lines.join('\n')}\n`;
};

afterAll(() => dir.cleanup());

describe('watch history through the CLI', () => {
  it('data info reports a file without a rating column as watch history', async () => {
    const path = write('views.csv', viewsCsv());
    const r = await cli('data', 'info', path, '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r);
    expect(j).toMatchObject({ kind: 'views', users: USERS, ratings: USERS * 8 });
    const text = await cli('data', 'info', path);
    expect(text.stdout).toContain('watch history');
    expect(text.stdout).toContain('Most-viewed movies');
  });

  it('bad watch history is one line naming file:line: a weight ≤ 0, a weight or rating that is not a number', async () => {
    for (const [name, text, want] of [
      [
        'zero.csv',
        'userId,movieId,weight\n1,2,1\n1,3,0\n',
        /zero\.csv:3: bad weight: weight 0 must be a number > 0/,
      ],
      ['nan.csv', 'userId,movieId,plays\n1,2,many\n', /nan\.csv:2: non-numeric weight: weight "many"/],
      [
        'rated.csv',
        'userId,movieId,rating\n1,2,seen\n',
        /rated\.csv:2: non-numeric rating: rating "seen" .*--kind views/,
      ],
    ] as const) {
      const r = await cli('data', 'info', write(name, text));
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(want);
    }
    const flag = await cli(
      'data',
      'info',
      write('plain.csv', 'a,b\n1,2\n'),
      '--kind',
      'views',
      '--scale',
      '1:5',
    );
    expect(flag.code).toBe(2);
  });

  it('imports ratings, then watch history into the views table; db status counts both', async () => {
    expect((await cli('db', 'migrate')).code).toBe(0);
    const ratings = await cli('import', write('ratings.csv', ratingsCsv()), '--json');
    expect(ratings.code, ratings.stderr).toBe(0);
    const views = await cli('import', join(dir.path, 'views.csv'), '--json');
    expect(views.code, views.stderr).toBe(0);
    expect(parseJson(views)).toMatchObject({
      kind: 'views',
      views: { inserted: USERS * 8 }, // 321 rows: v1 watched movie 6 twice (one pair, weight 2)
      ratings: { inserted: 0 },
      users: { inserted: USERS },
    });
    const text = await cli('import', join(dir.path, 'views.csv'));
    expect(text.stdout).toMatch(/views \(watch history\) 0 new, 0 updated, 320 unchanged/);
    const status = await cli('db', 'status', '--json');
    expect(parseJson(status).counts).toMatchObject({ ratings: USERS * PER, views: USERS * 8 });
  });

  it('train --task ranking --from-db trains on the ratings and the views; --interactions filters the ratings', async () => {
    const out = join(dir.path, 'ease.mrm');
    const easeFromDb = (...more: string[]) =>
      cli('train', '--task', 'ranking', '--from-db', '--preset', 'ease', ...more, '--out', out, '--json');
    const all = await easeFromDb();
    expect(all.code, all.stderr).toBe(0);
    expect(parseJson(all).interactions).toBe(USERS * PER + USERS * 8);
    let liked = 0;
    for (let u = 1; u <= USERS; u++) for (let j = 0; j < PER; j++) if ((u + j) % 3 !== 0) liked++;
    const some = await easeFromDb('--interactions', '>=4,binary');
    expect(some.code, some.stderr).toBe(0);
    expect(parseJson(some).interactions).toBe(liked + USERS * 8);
    expect(some.stderr).toContain('interactions >=4,binary');
  });

  it('recommend leaves out what the user rated and what they viewed, from either model, as the API does', async () => {
    // user 1 rated movies ((7 + 3j) mod 30) + 1, j < 10; now they also viewed three movies they did not rate
    const rated = Array.from({ length: PER }, (_, j) => String(((7 + j * 3) % 30) + 1));
    const viewed = ['2', '3', '5'].filter((m) => !rated.includes(m));
    expect(viewed.length).toBeGreaterThan(0);
    const imported = await cli(
      'import',
      write('views-1.csv', `user_id,movie_id\n${viewed.map((m) => `1,${m}`).join('\n')}\n`),
      '--json',
    );
    expect(imported.code, imported.stderr).toBe(0);
    const ranking = await cli('train', '--task', 'ranking', '--from-db', '--preset', 'item-knn', '--json');
    expect(ranking.code, ranking.stderr).toBe(0);
    const rating = await cli(
      'train',
      '--from-db',
      '--engine',
      'sgd',
      '--epochs',
      '2',
      '--validation',
      '0',
      '--json',
    );
    expect(rating.code, rating.stderr).toBe(0);
    for (const version of [parseJson(ranking).modelVersion, parseJson(rating).modelVersion]) {
      const r = await cli('recommend', '1', '--k', '30', '--model', String(version), '--json');
      expect(r.code, r.stderr).toBe(0);
      const items = (parseJson(r) as { items: { movieId: string }[] }).items.map((x) => x.movieId);
      expect(items.length).toBeGreaterThan(0);
      for (const m of [...rated, ...viewed]) expect(items, `version ${version}: movie ${m}`).not.toContain(m);
      const all = await cli(
        'recommend',
        '1',
        '--k',
        '30',
        '--model',
        String(version),
        '--include-rated',
        '--json',
      );
      const every = (parseJson(all) as { items: { movieId: string }[] }).items.map((x) => x.movieId);
      expect(every.some((m) => viewed.includes(m) || rated.includes(m))).toBe(true);
    }
  });

  it('train and evaluate --task ranking on a watch-history file: every held-out view is relevant', async () => {
    const path = join(dir.path, 'views.csv');
    const r = await cli('evaluate', path, '--task', 'ranking', '--preset', 'ease', '--json');
    expect(r.code, r.stderr).toBe(0);
    const j = parseJson(r) as Record<string, number>;
    expect(j.interactions).toBe(USERS * 8);
    expect(j.users).toBeGreaterThan(0);
    const t = await cli(
      'train',
      path,
      '--task',
      'ranking',
      '--preset',
      'ease',
      '--out',
      join(dir.path, 'v.mrm'),
    );
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toContain('relevant = every held-out interaction (watch history)');
  });

  it('--interactions: a threshold on watch history is a clear error; a malformed value and the rating task are usage errors', async () => {
    const path = join(dir.path, 'views.csv');
    const r = await cli('evaluate', path, '--task', 'ranking', '--interactions', '>=4');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/watch history: views have no rating/);
    const bad = await cli('evaluate', '--task', 'ranking', '--interactions', 'lots');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--interactions: expected all|>=<rating>[,weighted|,binary]');
    const rating = await cli('evaluate', '--interactions', 'all');
    expect(rating.code).toBe(2);
    expect(rating.stderr).toContain('--interactions applies to --task ranking');
  });
});
