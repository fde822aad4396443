/** Exit codes of every command: 0 done, 1 failed, 2 usage (unknown command or flag, bad argument), 130 interrupted. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** 128 + SIGINT(2), the shell's convention for a run stopped by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

/** A failure the user can act on: printed as one line on stderr, exit 1. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = EXIT_FAILED) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/** Bad command line: the message, then the command's usage, exit 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** True for the error an aborted AbortSignal produces (DOMException 'AbortError' or an Error named so). */
export function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    ((error as { name: unknown }).name === 'AbortError' ||
      (error as { name: unknown }).name === 'AbortedError')
  );
}

/** One line for the user: the message's first line (the rest, and the stack, only with --verbose). */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n').find((line) => line.trim() !== '') ?? message;
  return first.trim() || (error instanceof Error ? error.name : 'unknown error');
}
