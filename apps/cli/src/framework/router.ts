import { parseArgs } from 'node:util';
import {
  type Command,
  type CommandInput,
  GLOBAL_OPTIONS,
  makeContext,
  type OptionSpec,
  type Values,
  type Writable,
} from './command.ts';
import {
  CliError,
  EXIT_FAILED,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_USAGE,
  isAbortError,
  oneLine,
  UsageError,
} from './errors.ts';

export interface Io {
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  signal: AbortSignal;
}

export interface Program {
  bin: string;
  summary: string;
  commands: Command[];
  /** Text after the command list in the top-level help (environment, exit codes). */
  epilogue?: string;
}

function optionLine(name: string, spec: OptionSpec): [string, string] {
  const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.type === 'string' ? ` <${spec.valueName ?? 'value'}>` : ''}`;
  const text = `${spec.description}${spec.defaultText !== undefined ? ` (default: ${spec.defaultText})` : ''}`;
  return [flag, text];
}

function columns(rows: [string, string][], indent = '  '): string {
  const width = Math.min(34, Math.max(...rows.map(([a]) => a.length)));
  return rows
    .map(([a, b]) =>
      a.length > width
        ? `${indent}${a}\n${indent}${' '.repeat(width + 2)}${b}`
        : `${indent}${a.padEnd(width + 2)}${b}`,
    )
    .join('\n');
}

/** Greedy word wrap for help paragraphs. */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

export function synopsis(program: Program, command: Command): string {
  const args = (command.args ?? []).map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`)).join(' ');
  return `${program.bin} ${command.name}${args ? ` ${args}` : ''} [options]`;
}

export function commandHelp(program: Program, command: Command): string {
  const parts = [`Usage: ${synopsis(program, command)}`, '', command.summary];
  if (command.details) parts.push('', wrap(command.details, 100));
  if (command.args?.length) {
    parts.push('', 'Arguments:', columns(command.args.map((a) => [a.name, a.description])));
  }
  const own = Object.entries(command.options ?? {});
  if (own.length) parts.push('', 'Options:', columns(own.map(([n, s]) => optionLine(n, s))));
  parts.push(
    '',
    'Global options:',
    columns(Object.entries(GLOBAL_OPTIONS).map(([n, s]) => optionLine(n, s))),
  );
  if (command.examples?.length) parts.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return `${parts.join('\n')}\n`;
}

export function programHelp(program: Program, prefix?: string): string {
  const list = program.commands.filter((c) => prefix === undefined || c.name.startsWith(`${prefix} `));
  const parts = [
    `Usage: ${program.bin} ${prefix ?? '<command>'}${prefix ? ' <subcommand>' : ''} [options]`,
    '',
    program.summary,
    '',
    'Commands:',
    columns(
      list.map((c) => [
        c.name + (c.args ?? []).map((a) => (a.required ? ` <${a.name}>` : ` [${a.name}]`)).join(''),
        c.summary,
      ]),
    ),
    '',
    `Run '${program.bin} <command> --help' for a command's flags.`,
  ];
  if (program.epilogue && prefix === undefined) parts.push('', program.epilogue);
  return `${parts.join('\n')}\n`;
}

function findCommand(
  program: Program,
  argv: string[],
): { command?: Command; rest: string[]; group?: string } {
  const [first, second] = argv;
  if (first !== undefined && second !== undefined) {
    const two = program.commands.find((c) => c.name === `${first} ${second}`);
    if (two) return { command: two, rest: argv.slice(2) };
  }
  if (first !== undefined) {
    const one = program.commands.find((c) => c.name === first);
    if (one) return { command: one, rest: argv.slice(1) };
    if (program.commands.some((c) => c.name.startsWith(`${first} `)))
      return { group: first, rest: argv.slice(1) };
  }
  return { rest: argv };
}

/**
 * `--epochs -1`: parseArgs takes a value that starts with '-' for a flag and calls the option "ambiguous". A
 * negative number after a flag that takes a value is that flag's value (`--epochs=-1`), so the flag's own check
 * can say what is wrong with it.
 */
function joinNegativeValues(
  args: string[],
  options: Record<string, { type: 'string' | 'boolean' }>,
): string[] {
  const out: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const arg = args[k]!;
    const next = args[k + 1];
    const name = arg.startsWith('--') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      k++;
    } else out.push(arg);
  }
  return out;
}

/** Runs one command line; returns the exit code. Never throws. */
export async function runProgram(program: Program, argv: string[], io: Io): Promise<number> {
  const wantsJson = argv.includes('--json');
  const wantsVerbose = argv.includes('--verbose') || argv.includes('-v');
  const wantsHelp = argv.includes('--help') || argv.includes('-h');
  let printedJson = false;
  const printJson = (value: object) => {
    if (printedJson) return;
    printedJson = true;
    io.stdout.write(`${JSON.stringify(value)}\n`);
  };
  const fail = (error: unknown, usageText?: string): number => {
    const code =
      error instanceof CliError ? error.exitCode : isAbortError(error) ? EXIT_INTERRUPTED : EXIT_FAILED;
    const message =
      code === EXIT_INTERRUPTED && !(error instanceof CliError)
        ? 'interrupted: stopped before anything was written'
        : oneLine(error);
    io.stderr.write(`${program.bin}: ${message}\n`);
    if (wantsVerbose && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
    if (usageText && !wantsJson) io.stderr.write(`\n${usageText}`);
    if (wantsJson) printJson({ error: message, exitCode: code });
    return code;
  };
  const showHelp = (text: string): number => {
    if (wantsJson) printJson({ help: text });
    else io.stdout.write(text);
    return EXIT_OK;
  };

  const positionalsFirst = argv.filter((a) => !a.startsWith('-'));
  const found = findCommand(program, argv[0]?.startsWith('-') ? positionalsFirst : argv);
  if (!found.command) {
    if (found.group !== undefined) {
      const sub = found.rest[0];
      if (wantsHelp && (sub === undefined || sub.startsWith('-')))
        return showHelp(programHelp(program, found.group));
      return fail(
        new UsageError(
          sub === undefined || sub.startsWith('-')
            ? `'${found.group}' needs a subcommand`
            : `unknown command '${found.group} ${sub}'`,
        ),
        programHelp(program, found.group),
      );
    }
    if (argv.length === 0 || argv[0] === 'help' || (wantsHelp && positionalsFirst.length === 0)) {
      if (argv.length === 0) {
        io.stderr.write(programHelp(program));
        if (wantsJson) printJson({ error: 'missing command', exitCode: EXIT_USAGE });
        return EXIT_USAGE;
      }
      return showHelp(programHelp(program));
    }
    const name = positionalsFirst[0] ?? argv[0] ?? '';
    return fail(new UsageError(`unknown command '${name}'`), programHelp(program));
  }
  const command = found.command;
  // A command given after global flags (`--json train`) is not supported by parseArgs: flags follow the command.
  if (argv[0]?.startsWith('-')) {
    return fail(
      new UsageError(`put options after the command: ${program.bin} ${command.name} [options]`),
      programHelp(program),
    );
  }

  let input: CommandInput;
  try {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
    for (const [name, spec] of Object.entries({ ...GLOBAL_OPTIONS, ...command.options })) {
      options[name] = spec.short ? { type: spec.type, short: spec.short } : { type: spec.type };
    }
    const parsed = parseArgs({
      args: joinNegativeValues(found.rest, options),
      options,
      allowPositionals: true,
      strict: true,
    });
    const values = parsed.values as Values;
    if (values.help) return showHelp(commandHelp(program, command));
    const specs = command.args ?? [];
    if (parsed.positionals.length > specs.length) {
      throw new UsageError(`unexpected argument '${parsed.positionals[specs.length]}'`);
    }
    const args: Record<string, string | undefined> = {};
    specs.forEach((spec, i) => {
      const value = parsed.positionals[i];
      if (value === undefined && spec.required) throw new UsageError(`missing argument <${spec.name}>`);
      args[spec.name] = value;
    });
    input = { values, args };
  } catch (error) {
    // parseArgs reports unknown flags and missing values as TypeError with an ERR_PARSE_ARGS_* code.
    const usage = error instanceof UsageError ? error : new UsageError(oneLine(error));
    return fail(usage, commandHelp(program, command));
  }

  const ctx = makeContext({
    json: wantsJson,
    verbose: wantsVerbose,
    signal: io.signal,
    env: io.env,
    cwd: io.cwd,
    stdout: io.stdout,
    stderr: io.stderr,
    onEmit: printJson,
  });
  try {
    const result = await command.run(ctx, input);
    if (wantsJson) printJson(result);
    return EXIT_OK;
  } catch (error) {
    return fail(error, error instanceof UsageError ? commandHelp(program, command) : undefined);
  }
}
