import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interruptWhen, runCli, tempDir } from './helpers.ts';

// --threads on the training commands (parallel SGD, packages/trainer/src/engines/sgd-parallel.ts; the default
// preset's BPMF sweeps by rows, engines/bpmf/sweeps.ts), on the bundled ml-latest-small ratings (100,004: enough for
// two worker threads; `train --task ranking` with iALS, engines/ials.ts' trainIals).
const dir = tempDir('threads');
afterAll(() => dir.cleanup());

describe('--threads', () => {
  it('--threads 0 is a usage error naming the flag', async () => {
    for (const command of ['train', 'evaluate', 'main']) {
      const r = await runCli([command, '--threads', '0'], { cwd: dir.path });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("--threads: expected an integer ≥ 1, got '0'");
    }
  });

  it('more threads than cores is allowed, with a warning', async () => {
    const threads = os.availableParallelism() + 1;
    const out = join(dir.path, 'many.mfm');
    const r = await runCli(
      ['train', '--engine', 'sgd', '--epochs', '2', '--threads', String(threads), '--out', out],
      { cwd: dir.path },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `warning: --threads ${threads} is more than the ${os.availableParallelism()} cores available`,
    );
    expect(existsSync(out)).toBe(true);
  });

  it.each([
    { what: 'parallel training (SGD)', engine: ['--engine', 'sgd'], file: 'interrupted.mfm' },
    { what: 'the default preset parallel sweeps (BPMF)', engine: [], file: 'bpmf-interrupted.mfm' },
  ])('Ctrl-C during $what stops every worker and writes nothing: exit 130', async ({ engine, file }) => {
    const out = join(dir.path, file);
    const r = await interruptWhen(
      ['train', ...engine, '--epochs', '100000', '--threads', '2', '--out', out],
      (stdout) => /epoch +3\//.test(stdout),
      { cwd: dir.path },
    );
    expect(r.interrupted, r.stderr).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('interrupted');
    expect(existsSync(out)).toBe(false);
  });

  it('the default preset (BPMF) on more threads than cores: allowed, warned, saved', async () => {
    const threads = os.availableParallelism() + 1;
    const out = join(dir.path, 'bpmf-many.mfm');
    const r = await runCli(['train', '--epochs', '22', '--threads', String(threads), '--out', out], {
      cwd: dir.path,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: --threads ${threads} is more than the`);
    expect(existsSync(out)).toBe(true);
  });

  it('train --task ranking: --threads 0 is a usage error; iALS on more threads than cores is warned and saved', async () => {
    const zero = await runCli(['train', '--task', 'ranking', '--preset', 'ials', '--threads', '0'], {
      cwd: dir.path,
    });
    expect(zero.code, zero.stderr).toBe(2);
    expect(zero.stderr).toContain("--threads: expected an integer ≥ 1, got '0'");
    const preset = join(dir.path, 'small-ials.json');
    writeFileSync(
      preset,
      JSON.stringify({ task: 'ranking', model: { family: 'ials', factors: 8, sweeps: 2 } }),
    );
    const threads = os.availableParallelism() + 1;
    const out = join(dir.path, 'ials.mrm');
    const r = await runCli(
      [
        'train',
        '--task',
        'ranking',
        '--preset',
        preset,
        '--validation',
        '0',
        '--threads',
        String(threads),
        '--out',
        out,
      ],
      { cwd: dir.path },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: --threads ${threads} is more than the`);
    expect(existsSync(out)).toBe(true);
  });
});
