import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { distIsFresh } from '../scripts/build.mjs';
import { tempDir } from './helpers.ts';

// The `movierec` binary runs the precompiled bundle (scripts/build.mjs → dist/), rebuilding it when a source changed.
const bin = fileURLToPath(new URL('../bin/movierec.mjs', import.meta.url));
const dir = tempDir('bin');
afterAll(() => dir.cleanup());

function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir.path,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bin/movierec.mjs', () => {
  it('--help from the bundle (built if stale) and from the source say the same', async () => {
    const bundled = await run(['--help']);
    expect(bundled.code, bundled.stderr).toBe(0);
    expect(bundled.stdout).toContain('Usage: movierec <command>');
    expect(distIsFresh()).toBe(true);
    const source = await run(['--help'], { MOVIEREC_NO_DIST: '1' });
    expect(source.code, source.stderr).toBe(0);
    expect(source.stdout).toBe(bundled.stdout);
  });

  it('trains on worker threads from the bundle (the worker script and data paths resolve as in the source)', async () => {
    const out = join(dir.path, 'bundle.mfm');
    const r = await run(['train', '--engine', 'sgd', '--epochs', '2', '--threads', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).size).toBeGreaterThan(0);
    expect(existsSync(join(dir.path, 'dist'))).toBe(false);
  });
});
