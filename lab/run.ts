/** Runs a command to its end and collects what it printed. */
import { execFileSync, spawn, SpawnOptions } from 'node:child_process';

export interface RunResult {
  /** Exit code (-1 when killed by a signal). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Spawns `command` with `args`, writes `input` to its stdin (if given; else stdin is /dev/null), and resolves when it exits. */
export function run(command: string, args: string[], options: SpawnOptions & { input?: string } = {}): Promise<RunResult> {
  const { input, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    // Without input the child's stdin is /dev/null: a pipe nobody reads fails with EPIPE when the child exits first.
    const child = spawn(command, args, { ...spawnOptions, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (input !== undefined) {
      // A child that exits without reading all of it (its exit code says why) is not an error of ours.
      child.stdin!.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? undefined : reject(e)));
      child.stdin!.end(input);
    }
  });
}

/**
 * {@link run}, and throws unless the command exits 0; the error carries the
 * command and the end of what it printed.
 */
export async function runOk(command: string, args: string[], options: SpawnOptions & { input?: string } = {}): Promise<RunResult> {
  const r = await run(command, args, options);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}:\n${r.stdout.slice(-4000)}${r.stderr.slice(-4000)}`);
  return r;
}

/**
 * The uid and gid of the OS user `postgres` (what initdb, PostgreSQL and
 * PgBouncer run as when the tests run as root), or undefined when there is
 * no such user.
 */
export function postgresOsUser(): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { stdio: 'pipe' }).toString().trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    return undefined;
  }
}
