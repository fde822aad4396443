import cluster from 'node:cluster';
import { EXIT_INTERRUPTED } from './framework/errors.ts';
import { runProgram } from './framework/router.ts';
import { program } from './program.ts';

// Ctrl-C: the first SIGINT (or SIGTERM) aborts the running command through its AbortSignal (import and training roll
// back and stop); a separate Ctrl-C a second or more later exits at once. One Ctrl-C in a terminal often arrives two
// or three times within a moment — from the terminal to the whole process group, relayed again by pnpm, then pnpm's
// SIGTERM — and must still take the rollback path, so repeats within a second are the same interruption.
const controller = new AbortController();
const REPEAT_MS = 1000;
let interruptedAt = 0;
function interrupt(signal: 'SIGINT' | 'SIGTERM'): void {
  const now = Date.now();
  if (controller.signal.aborted) {
    if (signal === 'SIGINT' && now - interruptedAt >= REPEAT_MS) process.exit(EXIT_INTERRUPTED);
    return;
  }
  interruptedAt = now;
  // a `serve --workers` worker gets the terminal's Ctrl-C too; its primary speaks for it
  if (signal === 'SIGINT' && !cluster.isWorker)
    process.stderr.write('\ninterrupting… (Ctrl-C again to exit at once)\n');
  controller.abort(
    new DOMException(signal === 'SIGINT' ? 'interrupted by SIGINT' : 'terminated by SIGTERM', 'AbortError'),
  );
}
process.on('SIGINT', () => interrupt('SIGINT'));
process.on('SIGTERM', () => interrupt('SIGTERM'));

const code = await runProgram(program, process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // pnpm runs package scripts in apps/cli; INIT_CWD is where the user typed the command.
  cwd: process.env.INIT_CWD ?? process.cwd(),
  signal: controller.signal,
});

// Let stdout drain (it may be a pipe), then exit: open database handles must not keep a finished command alive.
process.stdout.write('', () => process.exit(code));
