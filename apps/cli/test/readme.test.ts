import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Every `pnpm --filter cli …` line of the root README's ```sh blocks, run as written through pnpm (so a command pnpm
// keeps for itself, like `import`, would fail here), in order, against a scratch embedded database. Only the
// training length is cut: a train/evaluate/main line runs with --epochs 1.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const lines = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
  .flatMap((m) => m[1]!.split('\n'))
  .map((l) => l.trim())
  .filter((l) => l.startsWith('pnpm --filter cli '));

/**
 * The README line as run: for commands that train, --epochs n → --epochs 1 (added when absent), and the quick SGD
 * engine unless the line names an engine or a preset (the default preset's Gibbs sampler needs its burn-in sweeps).
 */
function quick(line: string): string[] {
  const args = line.split(/\s+/).slice(1); // without 'pnpm'
  const command = args[2] === 'run' ? args[3] : args[2];
  // ranking models and tune have no epochs: as written
  if (!['train', 'evaluate', 'main'].includes(command ?? '') || args.includes('ranking')) return args;
  const at = args.indexOf('--epochs');
  if (at >= 0) args[at + 1] = '1';
  else args.push('--epochs', '1');
  if (!args.includes('--engine') && !args.includes('--preset')) args.push('--engine', 'sgd');
  return args;
}

// a scratch folder inside the workspace (pnpm must find it), gitignored; relative paths (reference.mfm) land here
const scratch = join(root, '.data', `readme-test-${process.pid}`);
mkdirSync(scratch, { recursive: true });
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function pnpm(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, MOVIEREC_DATA_DIR: join(scratch, 'pglite') };
    delete env.DATABASE_URL;
    delete env.INIT_CWD;
    const child = spawn('pnpm', args, { cwd: scratch, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const deadline = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("the README's CLI examples work as written", () => {
  it('runs the training examples short', () => {
    expect(quick('pnpm --filter cli evaluate --folds 5')).toEqual([
      '--filter',
      'cli',
      'evaluate',
      '--folds',
      '5',
      '--epochs',
      '1',
      '--engine',
      'sgd',
    ]);
    expect(quick('pnpm --filter cli train --preset reference --out r.mfm')).toContain('--epochs');
    expect(quick('pnpm --filter cli models list')).toEqual(['--filter', 'cli', 'models', 'list']);
  });

  it('finds the examples (import among them)', () => {
    expect(lines.length).toBeGreaterThanOrEqual(8);
    expect(lines.some((l) => /\bimport\b/.test(l))).toBe(true);
  });

  for (const line of lines) {
    it(line, async () => {
      const r = await pnpm(quick(line));
      expect(r.code, `${line}\n${r.stderr}`).toBe(0);
      expect(r.stdout.trim(), line).not.toBe('');
    });
  }
});
