/** The bench scripts' command line, as each script's header documents it: `--name value` flags and switches. */
export const args = process.argv.slice(2);

/** The value given after the flag `name` (e.g. '--runs'), or undefined when it is absent. */
export function flag(name: string): string | undefined {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
}
