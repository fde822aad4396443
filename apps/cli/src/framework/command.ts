import { isAbsolute, resolve } from 'node:path';
import { idProblem } from '@movierec/data';
import { UsageError } from './errors.ts';
import { ProgressBar, type ProgressMode } from './progress.ts';

export interface Writable {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** One flag of a command, as node:util parseArgs takes it, plus what --help says about it. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  description: string;
  /** Placeholder shown in help, e.g. 'n' for `--epochs <n>`. */
  valueName?: string;
  /** Shown in help only; commands apply their own defaults (so "not given" stays distinguishable). */
  defaultText?: string;
}

export interface ArgSpec {
  name: string;
  description: string;
  required?: boolean;
}

export type Values = Record<string, string | boolean | undefined>;

export interface CommandInput {
  values: Values;
  /** Named positionals, by ArgSpec.name. */
  args: Record<string, string | undefined>;
}

/** What a command receives besides its arguments. */
export interface Context {
  readonly json: boolean;
  readonly verbose: boolean;
  /** Aborted on Ctrl-C (SIGINT): long work must stop and leave nothing half-written. */
  readonly signal: AbortSignal;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The user's working directory (pnpm runs scripts in apps/cli, but sets INIT_CWD to where it was called). */
  readonly cwd: string;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** Human output on stdout; nothing with --json. */
  print(line?: string): void;
  /** A log line on stderr (also with --json: stdout stays one JSON object). */
  log(line: string): void;
  /** A progress renderer on stderr: a bar on a TTY, plain lines otherwise, silent with --json. */
  progress(label: string, unit?: string): ProgressBar;
  /** A user-given path, resolved against the user's working directory. */
  resolvePath(path: string): string;
  /** For commands that keep running (serve): print the one JSON result now instead of at the end. */
  emit(result: object): void;
}

export interface Command {
  /** Full name, e.g. 'train' or 'data info'. */
  name: string;
  summary: string;
  args?: ArgSpec[];
  options?: Record<string, OptionSpec>;
  /** Extra paragraphs for --help. */
  details?: string;
  examples?: string[];
  /** Returns the command's result: printed as the one JSON object with --json. */
  run(ctx: Context, input: CommandInput): Promise<object>;
}

/** Flags every command takes. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  json: {
    type: 'boolean',
    description: 'print exactly one JSON object on stdout (logs go to stderr, no bars)',
  },
  verbose: { type: 'boolean', short: 'v', description: 'more detail, and stack traces on errors' },
};

export function makeContext(io: {
  json: boolean;
  verbose: boolean;
  signal: AbortSignal;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  stdout: Writable;
  stderr: Writable;
  onEmit: (result: object) => void;
}): Context {
  const mode: ProgressMode = io.json ? 'silent' : io.stderr.isTTY ? 'tty' : 'lines';
  return {
    json: io.json,
    verbose: io.verbose,
    signal: io.signal,
    env: io.env,
    cwd: io.cwd,
    stdout: io.stdout,
    stderr: io.stderr,
    print(line = '') {
      if (!io.json) io.stdout.write(`${line}\n`);
    },
    log(line) {
      io.stderr.write(`${line}\n`);
    },
    progress(label, unit) {
      return new ProgressBar(io.stderr, mode, label, unit === undefined ? {} : { unit });
    },
    resolvePath(path) {
      return isAbsolute(path) ? path : resolve(io.cwd, path);
    },
    emit(result) {
      if (io.json) io.onEmit(result);
    },
  };
}

// ---- typed access to parsed flags, each failing with the flag's name ----

export function stringFlag(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function intFlag(values: Values, name: string, min = Number.MIN_SAFE_INTEGER): number | undefined {
  const v = stringFlag(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^[+-]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name}: expected an integer${min > 0 ? ` ≥ ${min}` : ''}, got '${v}'`);
  }
  return n;
}

export function numberFlag(
  values: Values,
  name: string,
  range: { min?: number; max?: number; exclusiveMin?: boolean } = {},
): number | undefined {
  const v = stringFlag(values, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  const { min = -Infinity, max = Infinity, exclusiveMin = false } = range;
  const ok = v.trim() !== '' && Number.isFinite(n) && (exclusiveMin ? n > min : n >= min) && n <= max;
  if (!ok) {
    const bounds =
      Number.isFinite(min) || Number.isFinite(max)
        ? ` in ${exclusiveMin ? '(' : '['}${min}, ${Number.isFinite(max) ? max : '∞'}]`
        : '';
    throw new UsageError(`--${name}: expected a number${bounds}, got '${v}'`);
  }
  return n;
}

export function choiceFlag<T extends string>(
  values: Values,
  name: string,
  choices: readonly T[],
): T | undefined {
  const v = stringFlag(values, name);
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) {
    throw new UsageError(`--${name}: expected one of ${choices.join(', ')}, got '${v}'`);
  }
  return v as T;
}

export function requireArg(input: CommandInput, name: string): string {
  const v = input.args[name];
  if (v === undefined || v === '') throw new UsageError(`missing argument <${name}>`);
  return v;
}

/** A required user or movie ID argument, checked by the rule the import and the API apply (@movierec/data). */
export function idArg(input: CommandInput, name: string): string {
  const v = requireArg(input, name);
  const problem = idProblem(v);
  if (problem !== undefined) throw new UsageError(`<${name}>: ${problem}`);
  return v;
}

/**
 * Lets the event loop turn once (through its poll phase), so a pending Ctrl-C reaches our SIGINT handler. CPU-bound
 * loops that only await promises (training epochs, the embedded database) otherwise starve signal delivery.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
