import { describe, expect, it } from 'vitest';
import { type Command, intFlag, numberFlag } from '../src/framework/command.ts';
import { CliError } from '../src/framework/errors.ts';
import { type Program, runProgram } from '../src/framework/router.ts';

const echo: Command = {
  name: 'tools echo',
  summary: 'echo a word',
  args: [{ name: 'word', required: true, description: 'what to echo' }],
  options: { times: { type: 'string', description: 'repeat', valueName: 'n' } },
  async run(ctx, { values, args }) {
    const times = intFlag(values, 'times', 1) ?? 1;
    ctx.log('a log line');
    ctx.print(args.word!.repeat(times));
    return { word: args.word, times };
  },
};
const boom: Command = {
  name: 'boom',
  summary: 'fails',
  options: { rate: { type: 'string', description: 'a rate' } },
  async run(_ctx, { values }) {
    numberFlag(values, 'rate', { min: 0, exclusiveMin: true });
    throw new CliError('no such thing: /x/y.csv\nsecond line');
  },
};
const program: Program = { bin: 't', summary: 'test program', commands: [echo, boom] };

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runProgram(program, argv, {
    stdout: { write: (s: string) => out.push(s) },
    stderr: { write: (s: string) => err.push(s) },
    env: {},
    cwd: '/',
    signal: new AbortController().signal,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('runProgram', () => {
  it('runs a two-word command with positionals and flags', async () => {
    const r = await run('tools', 'echo', 'ab', '--times', '2');
    expect(r).toMatchObject({ code: 0, stdout: 'abab\n', stderr: 'a log line\n' });
  });

  it('--json prints exactly one JSON object on stdout and logs on stderr', async () => {
    const r = await run('tools', 'echo', 'ab', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ word: 'ab', times: 1 });
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('a log line\n');
  });

  it('unknown command, unknown flag, missing argument and bad values exit 2 with usage', async () => {
    for (const argv of [
      ['nope'],
      ['tools', 'nope'],
      ['tools'],
      ['tools', 'echo', 'x', '--bogus'],
      ['tools', 'echo'],
      ['tools', 'echo', 'x', 'y'],
      ['tools', 'echo', 'x', '--times', 'two'],
      ['boom', '--rate', '-1'],
      [],
    ]) {
      const r = await run(...argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toContain('Usage: t');
      expect(r.stdout, argv.join(' ')).toBe('');
    }
    expect((await run('tools', 'echo', 'x', '--bogus')).stderr).toContain("Unknown option '--bogus'");
    expect((await run('tools', 'echo', 'x', '--times', 'two')).stderr).toContain(
      "--times: expected an integer ≥ 1, got 'two'",
    );
  });

  it('a failure is one line on stderr and exit 1; --json also prints an error object', async () => {
    const r = await run('boom');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('t: no such thing: /x/y.csv\n');
    const j = await run('boom', '--json');
    expect(JSON.parse(j.stdout)).toEqual({ error: 'no such thing: /x/y.csv', exitCode: 1 });
  });

  it('--verbose adds the stack', async () => {
    const r = await run('boom', '--verbose');
    expect(r.stderr).toContain('at ');
  });

  it('--help works on every command and at the top, exit 0', async () => {
    const top = await run('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('tools echo <word>');
    const sub = await run('tools', 'echo', '--help');
    expect(sub.code).toBe(0);
    expect(sub.stdout).toContain('Usage: t tools echo <word> [options]');
    expect(sub.stdout).toContain('--times <n>');
    const group = await run('tools', '--help');
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('tools echo');
  });
});
