import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '@movierec/db';
import { afterAll, describe, expect, it } from 'vitest';
import {
  interruptWhen,
  parseJson,
  type RunResult,
  runCli,
  scratchPostgres,
  TINY_RATINGS,
  tempDir,
} from './helpers.ts';

// Ctrl-C as it really arrives: through pnpm (to the whole process group, or to pnpm alone), and on PostgreSQL a
// statement that would run on in the server. Every case must take the rollback path and exit 130.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** Runs `pnpm --filter cli run <args>` in its own process group; `when` decides when to send `signal` and to whom. */
function viaPnpm(
  args: string[],
  env: Record<string, string>,
  cwd: string,
  ready: (stderr: string) => boolean,
  target: 'group' | 'pnpm',
): Promise<RunResult & { interrupted: boolean }> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete childEnv.DATABASE_URL;
    delete childEnv.INIT_CWD; // pnpm sets it to where it runs, as for a user's shell
    const child = spawn('pnpm', ['--filter', 'cli', 'run', ...args], {
      cwd,
      env: childEnv,
      detached: true, // its own process group, as a terminal's foreground job
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (!interrupted && ready(stderr)) {
        interrupted = true;
        // a terminal's Ctrl-C goes to every process of the foreground group: pnpm, which relays it, and the CLI
        process.kill(target === 'group' ? -child.pid! : child.pid!, 'SIGINT');
      }
    });
    const deadline = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stdout, stderr, interrupted });
    });
  });
}

describe('Ctrl-C through pnpm during an import into the embedded database', () => {
  // pnpm must find the workspace from where it runs: a scratch folder inside it (gitignored .data/)
  const path = join(repoRoot, '.data', `interrupt-test-${process.pid}`);
  mkdirSync(path, { recursive: true });
  const dir = { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
  afterAll(() => dir.cleanup());

  for (const target of ['group', 'pnpm'] as const) {
    it(`SIGINT to ${target === 'group' ? 'the process group' : 'pnpm alone'} rolls back and exits 130`, async () => {
      const env = { MOVIEREC_DATA_DIR: join(dir.path, `pglite-${target}`) };
      const migrate = await runCli(['db', 'migrate'], { env, cwd: dir.path });
      expect(migrate.code, migrate.stderr).toBe(0);
      const r = await viaPnpm(['import'], env, dir.path, (err) => err.includes('import users: done'), target);
      expect(r.interrupted, r.stderr).toBe(true);
      expect(r.signal, r.stderr).toBeNull(); // not killed: it exited through the rollback path
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toContain('interrupted');
      const status = await runCli(['db', 'status', '--json'], { env, cwd: dir.path });
      expect(status.code, status.stderr).toBe(0);
      expect(parseJson(status).counts).toMatchObject({ users: 0, movies: 0, ratings: 0 });
    });
  }
});

describe('Ctrl-C during an import into PostgreSQL', () => {
  const dir = tempDir('interrupt-pg');
  afterAll(() => dir.cleanup());
  const { env } = scratchPostgres(dir.path);

  it('cancels the statement on the server: after the exit no backend still runs it, and nothing was written', async () => {
    const ratingsFile = join(dir.path, 'ratings.csv');
    writeFileSync(ratingsFile, TINY_RATINGS);
    const first = await runCli(['import', ratingsFile], { env, cwd: dir.path });
    expect(first.code, first.stderr).toBe(0);

    // Another session holds a row the next import must update: the import's merge waits on it for as long as that
    // session lives, a statement that only a cancel on the server can end.
    const holder = await openDatabase({ url: env.DATABASE_URL! });
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holding = holder
      .transaction(async (sql) => {
        await sql.query('SELECT * FROM ratings FOR UPDATE');
        locked();
        await released;
        throw new Error('roll back the holder');
      })
      .catch(() => {});
    try {
      await isLocked;
      const newer = TINY_RATINGS.replace('1,10,4.0,100', '1,10,2.0,9999');
      const second = join(dir.path, 'newer.csv');
      writeFileSync(second, newer);
      const r = await interruptWhen(['import', second], (_out, err) => err.includes('import ratings: done'), {
        env,
        cwd: dir.path,
      });
      expect(r.interrupted, r.stderr).toBe(true);
      expect(r.code, r.stderr).toBe(130);
      // Right after the exit: no backend of this database runs a statement (the holder only waits, idle).
      const active = await holder.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`,
      );
      expect(active[0]?.n).toBe(0);
    } finally {
      release();
      await holding;
    }
    const rows = await holder.query<{ rating: number }>(
      `SELECT r.rating FROM ratings r JOIN users u ON u.id = r.user_id JOIN movies m ON m.id = r.movie_id
       WHERE u.external_id = '1' AND m.external_id = '10'`,
    );
    expect(rows[0]?.rating).toBe(4); // the interrupted import changed nothing
    await holder.close();
  });
});

describe('flags checked before any data is read', () => {
  it('--epochs -1 says what is wrong with it (not "ambiguous")', async () => {
    const r = await runCli(['train', '--epochs', '-1', '--out', 'x.mfm']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--epochs: expected an integer ≥ 1, got '-1'");
    expect(r.stderr).not.toMatch(/ambiguous/);
    const lr = await runCli(['evaluate', '--learning-rate', '-0.5']);
    expect(lr.code).toBe(2);
    expect(lr.stderr).toContain("--learning-rate: expected a number in (0, ∞], got '-0.5'");
  });

  it('--validation 1.5 is refused before the dataset is read (a missing file is not even looked for)', async () => {
    for (const args of [
      ['train', '/no/such/ratings.csv', '--validation', '1.5', '--out', 'x.mfm'],
      ['main', '--validation', '1.5', '--no-serve'],
    ]) {
      const r = await runCli(args, { env: { MOVIEREC_DATA_DIR: '/nonexistent/never-created' } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("--validation: expected a number in [0, 0.9], got '1.5'");
      expect(r.stderr.split('\n')[0]).not.toMatch(/no such file|database/i);
    }
  });

  it('--encoding and --scale: bad values are usage errors; good ones reach the reader', async () => {
    const bad = await runCli(['data', 'info', 'bundled', '--encoding', 'utf16']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--encoding: expected one of utf8, latin1, got 'utf16'");
    const scale = await runCli(['import', 'bundled', '--scale', '5:1']);
    expect(scale.code).toBe(2);
    expect(scale.stderr).toContain('--scale: expected min:max[:step]');
    const dir = tempDir('encoding');
    try {
      writeFileSync(
        join(dir.path, 'ratings.csv'),
        'userId,movieId,rating,timestamp\n1,50,4.5,100\n1,60,3.3,100\n',
      );
      writeFileSync(
        join(dir.path, 'movies.csv'),
        Buffer.from('movieId,title,genres\n50,Am\xe9lie (2001),Comedy\n60,Heat (1995),Action\n', 'latin1'),
      );
      const latin = await runCli(['data', 'info', '.'], { cwd: dir.path });
      expect(latin.code).toBe(1);
      expect(latin.stderr).toMatch(/movies\.csv:2: invalid UTF-8: .*--encoding latin1/);
      const off = await runCli(['data', 'info', '.', '--encoding', 'latin1'], { cwd: dir.path });
      expect(off.code).toBe(1);
      expect(off.stderr).toMatch(
        /ratings\.csv:3: rating out of scale: rating 3\.3 is not on the scale 0\.5–5/,
      );
      const ok = await runCli(
        ['data', 'info', '.', '--encoding', 'latin1', '--scale', '0.1:5:0.1', '--json'],
        {
          cwd: dir.path,
        },
      );
      expect(ok.code, ok.stderr).toBe(0);
      expect(parseJson(ok).ratings).toBe(2);
    } finally {
      dir.cleanup();
    }
  });
});
