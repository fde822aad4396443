import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cliDir = fileURLToPath(new URL('..', import.meta.url));
const mainTs = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Called with each stderr chunk; may send a signal to the child. */
  onStderr?: (chunk: string, child: import('node:child_process').ChildProcess) => void;
  onStdout?: (chunk: string, child: import('node:child_process').ChildProcess) => void;
}

/** Runs the CLI as a child process through tsx, as a user would (stdout/stderr are pipes, not a TTY). */
export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...options.env, INIT_CWD: options.cwd ?? cliDir };
    delete env.DATABASE_URL;
    if (options.env?.DATABASE_URL) env.DATABASE_URL = options.env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], {
      cwd: cliDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      options.onStdout?.(s, child);
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      options.onStderr?.(s, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `movierec-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** The single JSON object a --json run printed (fails the test when stdout is anything else). */
export function parseJson(result: RunResult): Record<string, unknown> {
  const text = result.stdout.trim();
  if (!text.startsWith('{') || text.includes('\n')) {
    throw new Error(
      `expected one JSON object on stdout, got: ${JSON.stringify(result.stdout.slice(0, 500))}`,
    );
  }
  return JSON.parse(text) as Record<string, unknown>;
}
