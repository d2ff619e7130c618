#!/usr/bin/env node
/**
 * `postgres-strategies <command> …`: the package's command line (package.json `bin`).
 *
 * | command          | what it does                                                       | module              |
 * |------------------|--------------------------------------------------------------------|---------------------|
 * | `migrate`        | copies one database to another server and verifies the copy       | `src/migrate`       |
 * | `check-preview`  | fails a `pulumi preview --json` that would lose or break data      | `src/preview-guard` |
 * | `backup`         | dumps a database to an S3 bucket with a manifest to verify against | `src/backup`        |
 * | `backups list`   | lists the backups under an s3:// location                          | `src/backup`        |
 * | `restore`        | restores a backup into an empty database and verifies it           | `src/backup`        |
 *
 * Each command's module exports `main(argv): Promise<number>` (the exit code)
 * and is loaded only when its command runs, so `--help` of one never loads
 * another's dependencies.
 */

/** What a command's module exports. */
interface CommandModule {
  main: (argv: string[]) => Promise<number>;
}

/** A command of the CLI: its one-line summary and how to load it. */
interface Command {
  summary: string;
  /** The command's module (`main(argv)` resolves to the exit code), loaded only when it runs. */
  load: () => CommandModule;
}

const COMMANDS: Record<string, Command> = {
  migrate: {
    summary: 'copy a database to another server with pg_dump/pg_restore and verify the copy',
    load: () => require('../migrate/cli') as CommandModule,
  },
  'check-preview': {
    summary: 'read `pulumi preview --json` and fail on steps that would lose or break data',
    load: () => require('../preview-guard/cli') as CommandModule,
  },
  backup: {
    summary: 'dump a database to an S3-compatible bucket with a manifest restore verifies against',
    load: () => ({ main: (require('../backup/cli') as typeof import('../backup/cli')).backupMain }),
  },
  backups: {
    summary: '`backups list s3://bucket/prefix`: the backups there, with age and size',
    load: () => ({ main: (require('../backup/cli') as typeof import('../backup/cli')).listMain }),
  },
  restore: {
    summary: 'restore a backup into an empty database and verify it (--verify-only: the drill)',
    load: () => ({ main: (require('../backup/cli') as typeof import('../backup/cli')).restoreMain }),
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: postgres-strategies <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `postgres-strategies <command> --help` for the options of a command.',
  ].join('\n');
}

/** Runs the CLI with `argv` (without node and the script) and resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    process.stderr.write(`postgres-strategies: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  return command.load().main(rest);
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`postgres-strategies: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
