/**
 * Argument parsing shared by the commands (`migrate`, `backup`, `restore`):
 * node's `parseArgs`, strict (an unknown option or a stray argument is a
 * usage error, which each command reports with its usage text), plus the
 * options every command takes.
 */
import { ParseArgsConfig, parseArgs } from 'node:util';

/** `--json` (one JSON document on stdout) and `--help` / `-h`, taken by every command. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** `--pg-bin <dir>` (where pg_dump/pg_restore are) and `--row-hash md5`: the commands that run PostgreSQL's tools. */
export const PG_TOOL_OPTIONS = {
  'pg-bin': { type: 'string' },
  'row-hash': { type: 'string' },
} as const;

/** The options of a command, as `parseArgs` takes them. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/** What {@link parseCommand} returns for `options`: each option's value (strings, booleans, defaults applied). */
export type CommandValues<O extends CommandOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof COMMON_OPTIONS; strict: true; allowPositionals: false }>
>['values'];

/**
 * Parses `argv` (after the command's name) with `options` and
 * {@link COMMON_OPTIONS}. With `--help`, writes `usage` to stdout and returns
 * undefined (the command exits 0).
 * @throws TypeError (node's `ERR_PARSE_ARGS_*`) on an unknown option, a missing value or a positional argument.
 */
export function parseCommand<O extends CommandOptions>(argv: string[], options: O, usage: string): CommandValues<O> | undefined {
  const { values } = parseArgs({ args: argv, options: { ...options, ...COMMON_OPTIONS }, strict: true as const, allowPositionals: false as const });
  if ((values as { help?: boolean }).help === true) {
    process.stdout.write(usage);
    return undefined;
  }
  return values as CommandValues<O>;
}
