/**
 * Runs psql, the real libpq client, against a connection URL: scripts from
 * the SQL renderer, and the checks that the generated URLs work.
 */
import { spawnSync } from 'node:child_process';
import { run } from './run';
import { CHANGE_NOTICE_PREFIX } from '../src/core/render-sql';

export interface PsqlResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The bootstrap's change notices ("created role vw_blog", ...). */
  changes: string[];
  /** WARNING lines. */
  warnings: string[];
}

/** Whether psql is on the PATH. */
export function havePsql(): boolean {
  return spawnSync('psql', ['--version']).status === 0;
}

/**
 * Runs psql with `url` as its only connection argument (so the URL alone must
 * carry everything) and `input` on stdin. No psqlrc, no password prompt, no
 * PG* variables from the environment leak in.
 */
export async function psql(url: string, input: string, extraArgs: string[] = []): Promise<PsqlResult> {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8' };
  const r = await run('psql', [url, '-X', '-w', '-v', 'ON_ERROR_STOP=1', '-At', ...extraArgs], { env, input });
  const lines = r.stderr.split('\n');
  return {
    ...r,
    changes: lines.filter((l) => l.includes(`NOTICE:  ${CHANGE_NOTICE_PREFIX}`)).map((l) => l.slice(l.indexOf(CHANGE_NOTICE_PREFIX) + CHANGE_NOTICE_PREFIX.length + 1)),
    warnings: lines.filter((l) => l.includes('WARNING:')),
  };
}

/** Runs psql and throws with its stderr unless it exits 0. */
export async function psqlOk(url: string, input: string, extraArgs: string[] = []): Promise<PsqlResult> {
  const r = await psql(url, input, extraArgs);
  if (r.code !== 0) throw new Error(`psql exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}
