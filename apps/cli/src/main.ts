import { EXIT_INTERRUPTED } from './framework/errors.ts';
import { runProgram } from './framework/router.ts';
import { program } from './program.ts';

// Ctrl-C: the first SIGINT aborts the running command through its AbortSignal (import and training roll back and
// stop); a second one exits at once.
const controller = new AbortController();
process.on('SIGINT', () => {
  if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
  process.stderr.write('\ninterrupting… (Ctrl-C again to exit at once)\n');
  controller.abort(new DOMException('interrupted by SIGINT', 'AbortError'));
});
process.on('SIGTERM', () => controller.abort(new DOMException('terminated by SIGTERM', 'AbortError')));

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
