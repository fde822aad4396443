import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.ts';

// The main job's training output when stderr is not a terminal: one progress bar (plain lines on stderr) and a
// summary line instead of a line per epoch, which --verbose brings back. On a fresh embedded PGlite database.
const dir = tempDir('main-job');
afterAll(() => dir.cleanup());
const env = { MOVIEREC_DATA_DIR: join(dir.path, 'pglite') };
const quick = ['main', '--engine', 'sgd', '--epochs', '3', '--factors', '4', '--no-serve'];
const epochLine = /^epoch [1-3]\/3 {2}loss \d\.\d{4}/m;

describe('main job training output', () => {
  it('prints a summary and the bar, not a line per epoch', async () => {
    const r = await runCli(quick, { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(epochLine);
    expect(r.stdout).toMatch(
      /^trained 3 epochs in \d+\.\d s: last loss \d\.\d{4}, validation RMSE \d\.\d{4} MAE \d\.\d{4}$/m,
    );
    // the bar's closing plain line (stderr is a pipe here)
    expect(r.stderr).toMatch(/^train: done, 3 epochs in /m);
    // the rating model and the recommendation model, one version each
    expect(r.stdout).toContain(
      '5/5  saved and activated model versions 1 (rating: predictRating) and 2 (ranking, ease: recommendations)',
    );
  });

  it('--verbose keeps the per-epoch lines', async () => {
    const r = await runCli([...quick, '--verbose'], { env });
    expect(r.code, r.stderr).toBe(0);
    for (const epoch of [1, 2, 3]) expect(r.stdout).toMatch(new RegExp(`^epoch ${epoch}/3 {2}loss `, 'm'));
    expect(r.stdout).not.toMatch(/^trained 3 epochs/m);
    expect(r.stdout).toContain('5/5  saved and activated model versions 3 (rating: predictRating) and 4');
  });
});
