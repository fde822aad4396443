import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScratchDatabase, type ScratchDatabase } from '@movierec/db/testing';
import { afterAll, beforeAll, expect } from 'vitest';

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
    // A safety net: a run that never ends must not outlive the test and eat the machine.
    const deadline = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stdout, stderr });
    });
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

/** Runs the CLI and sends SIGINT (Ctrl-C) once `ready(stdout, stderr)` holds; resolves with how it ended. */
export function interruptWhen(
  args: string[],
  ready: (stdout: string, stderr: string) => boolean,
  options: RunOptions = {},
): Promise<RunResult & { interrupted: boolean }> {
  let out = '';
  let err = '';
  let interrupted = false;
  const check = (child: import('node:child_process').ChildProcess) => {
    if (!interrupted && ready(out, err)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  };
  return runCli(args, {
    ...options,
    onStdout: (s, child) => {
      out += s;
      check(child);
    },
    onStderr: (s, child) => {
      err += s;
      check(child);
    },
  }).then((r) => ({ ...r, interrupted }));
}

/**
 * Ctrl-C during `movierec import` once it has written its users (options: the database and folder); checks that the
 * run took the rollback path — interrupted, exit 130, saying so — and returns it.
 */
export async function interruptImport(options: RunOptions): Promise<RunResult> {
  const r = await interruptWhen(['import'], (_out, err) => err.includes('import users: done'), options);
  expect(r.interrupted, r.stderr).toBe(true);
  expect(r.code, r.stderr).toBe(130);
  expect(r.stderr).toContain('interrupted');
  return r;
}

/**
 * A fresh, empty PostgreSQL database for the test file that calls this (created before its tests, dropped after
 * them: createScratchDatabase of @movierec/db/testing), with `env` holding its DATABASE_URL once created and `cli`
 * running the CLI on it from `cwd`.
 */
export function scratchPostgres(cwd: string): {
  env: Record<string, string>;
  cli: (...args: string[]) => Promise<RunResult>;
} {
  const env: Record<string, string> = {};
  let scratch: ScratchDatabase | undefined;
  beforeAll(async () => {
    scratch = await createScratchDatabase();
    env.DATABASE_URL = scratch.url;
  });
  afterAll(async () => {
    await scratch?.drop();
  });
  return { env, cli: (...args) => runCli(args, { env, cwd }) };
}

/** Ratings and movies of a tiny dataset in GroupLens CSV form (4 users, 5 movies). */
export const TINY_RATINGS =
  'userId,movieId,rating,timestamp\n' +
  '1,10,4.0,100\n1,20,3.5,200\n1,30,5.0,250\n' +
  '2,10,5.0,300\n2,40,2.0,310\n2,50,4.5,320\n' +
  '3,10,2.0,400\n3,30,1.0,500\n3,40,4.0,510\n' +
  '4,20,4.0,600\n4,30,4.5,610\n4,50,3.0,620\n';
export const TINY_MOVIES =
  'movieId,title,genres\n10,Heat (1995),Action|Crime\n20,Up (2009),Animation\n30,Cube (1997),Horror\n' +
  '40,Alien (1979),Horror|Sci-Fi\n50,Amélie (2001),Comedy|Romance\n';
