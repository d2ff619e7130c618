/**
 * The copy: `pg_dump --format=custom` of the source, piped through this
 * process (which counts the bytes) into `pg_restore --single-transaction`
 * on the target.
 *
 * - `--no-owner --role=<owner>`: pg_restore runs `SET ROLE <owner>` first,
 *   so every restored object belongs to the instance's owner role.
 * - `--no-privileges` (= --no-acl): none of the source's grants, default
 *   privileges or roles come along; the target keeps the grants its stack
 *   made (in the least-privilege shape, the owner's default privileges give
 *   the app role its rights on what the owner creates in schema public).
 * - `--no-tablespaces --no-security-labels --no-publications
 *   --no-subscriptions`: server-level things the target does not have or a
 *   database owner may not create.
 * - `--single-transaction` (which implies --exit-on-error): the restore
 *   commits whole or not at all. If this process dies, pg_restore reads a
 *   truncated archive, fails and rolls back; pg_dump gets SIGPIPE. A run
 *   interrupted at any point leaves the target empty or fully restored.
 *   An aborted run (`signal`: the command's SIGINT/SIGTERM) sends both
 *   tools SIGTERM and waits for them to end.
 *   Its limits: no parallel restore (`--jobs`), and every restored table and
 *   large object holds a lock until the commit, so a database with more
 *   objects than `max_locks_per_transaction` × `max_connections` (6 400 by
 *   default) needs that setting raised on the target.
 * - `--compress=0`: the archive only crosses a pipe.
 * - `--snapshot`: pg_dump reads the snapshot that migrate's own source
 *   session exported, so the verification reads exactly what was copied
 *   even while the source takes writes.
 * - `--use-list`, only when the target already has some of the source's
 *   extensions, created by another role (a superuser creates an untrusted
 *   one first): pg_dump writes `COMMENT ON EXTENSION` for each extension,
 *   which only the extension's owner may run, so the restore would fail and
 *   roll back. The archive's table of contents (at its start) is read by
 *   `pg_restore --list` first, and the restore runs every entry but those
 *   comments (the target's extension keeps its own).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { Inventory } from './catalog';
import { Endpoint, PassFiles } from './connection';
import { MigrateError, MigrateErrorCode, redact } from './errors';
import { PgTools } from './tools';

/** What the copy reports while it runs. */
export interface CopyProgress {
  phase: 'copy';
  /** Archive bytes that went from pg_dump to pg_restore so far. */
  bytes: number;
  /** Tables whose data pg_restore has finished (started the next one or ended). */
  tablesDone: number;
  /** Tables with data in the source. */
  tables: number;
  /** The table pg_restore is loading now, if any. */
  table?: string;
}

/** How the copy went. */
export interface CopyResult {
  /** Size of the archive, in bytes. */
  bytes: number;
  /** Tables whose data pg_restore loaded. */
  tables: number;
  seconds: number;
}

export interface CopyOptions {
  tools: PgTools;
  source: Endpoint;
  target: Endpoint;
  /** The role that owns what is restored. */
  role: string;
  /** The exported snapshot of the source session. */
  snapshot: string;
  /** Tables with data in the source (for progress). */
  tables: number;
  passFiles: PassFiles;
  secrets: readonly string[];
  /**
   * Extensions already in the target, owned by another role than `role`,
   * whose `COMMENT ON EXTENSION` the restore skips. @default []
   */
  skipExtensionComments?: string[];
  onProgress?: (p: CopyProgress) => void;
  /** Aborting it stops pg_dump and pg_restore (SIGTERM): the restore rolls back. */
  signal?: AbortSignal;
}

/** pg_dump's arguments (no connection details: they come from the environment). */
export function pgDumpArgs(database: string, snapshot?: string): string[] {
  return [
    '--format=custom',
    '--compress=0',
    '--no-owner',
    '--no-privileges',
    '--no-tablespaces',
    '--no-security-labels',
    '--no-publications',
    '--no-subscriptions',
    '--no-password',
    '--verbose',
    ...(snapshot !== undefined ? [`--snapshot=${snapshot}`] : []),
    `--dbname=${conninfoDbname(database)}`,
  ];
}

/** pg_restore's arguments; `useList`: the path of a list of the archive's entries to restore. */
export function pgRestoreArgs(database: string, role: string, singleTransaction = true, useList?: string): string[] {
  return [
    '--format=custom',
    ...(useList !== undefined ? [`--use-list=${useList}`] : []),
    '--no-owner',
    `--role=${role}`,
    '--no-privileges',
    '--no-tablespaces',
    '--no-security-labels',
    '--no-publications',
    '--no-subscriptions',
    ...(singleTransaction ? ['--single-transaction'] : []),
    '--exit-on-error',
    '--no-password',
    '--verbose',
    `--dbname=${conninfoDbname(database)}`,
  ];
}

/**
 * `dbname='<name>'` as a libpq conninfo string (quotes and backslashes
 * escaped), so that a database name with `=` or a `postgres://` prefix is
 * not read as a connection string by the tools.
 */
export function conninfoDbname(database: string): string {
  return `dbname='${database.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * `list` (the output of `pg_restore --list`) with the entries of the
 * comments on `extensions` commented out (`;` first), so that
 * `pg_restore --use-list` skips them; `skipped` names those found. An entry
 * reads `<id>; <tableoid> <oid> COMMENT - EXTENSION <name> <owner>`, the
 * name as pg_dump quotes it.
 */
export function withoutExtensionComments(list: string, extensions: readonly string[]): { list: string; skipped: string[] } {
  const skipped: string[] = [];
  const out = list.split('\n').map((line) => {
    const m = /^\d+; \d+ \d+ COMMENT - EXTENSION (.*)$/.exec(line);
    if (!m) return line;
    const tag = m[1] as string;
    const name = extensions.find((e) => [e, `"${e.replace(/"/g, '""')}"`].some((form) => tag === form || tag.startsWith(`${form} `)));
    if (name === undefined) return line;
    skipped.push(name);
    return `;${line}`;
  });
  return { list: out.join('\n'), skipped };
}

/**
 * The extensions among `names` that the target already has, created by
 * another role than `role` (a superuser creates an untrusted one first):
 * the restore skips their `COMMENT ON EXTENSION` ({@link withoutExtensionComments}).
 * None when `role` is a superuser (it may comment on any).
 */
export function foreignExtensions(target: Inventory, names: readonly string[], role: string, roleIsSuperuser: boolean): string[] {
  if (roleIsSuperuser) return [];
  return target.objects.filter((o) => o.kind === 'extension' && names.includes(o.name) && o.owner !== role).map((o) => o.name);
}

/** The note of a run that skipped the comments on `extensions`. */
export function extensionCommentsNote(extensions: readonly string[]): string {
  return `the comment(s) on extension(s) ${extensions.join(', ')} were not restored: the target's own stay (only an extension's owner may comment on it, and a superuser created them there)`;
}

/**
 * Feeds `input` (an archive of pg_dump's custom format) to `pg_restore
 * --list` until it has read the table of contents and exited; keeps every
 * chunk read meanwhile, and leaves `input` paused after them. `list` is
 * undefined when pg_restore failed, or `input` ended or failed first (the
 * caller then reads its end or its error from `input` itself).
 */
export function readToc(pgRestore: string, env: NodeJS.ProcessEnv, input: Readable, signal?: AbortSignal): Promise<{ list?: string; head: Buffer[] }> {
  return new Promise((resolve) => {
    const head: Buffer[] = [];
    const lister = spawn(pgRestore, ['--list'], { env, stdio: ['pipe', 'pipe', 'ignore'] });
    const stop = (): void => void lister.kill('SIGTERM');
    signal?.addEventListener('abort', stop);
    let list = '';
    lister.stdout!.on('data', (d: Buffer) => (list += d.toString()));
    // It exits once it has read the table of contents: the rest is not for it.
    lister.stdin!.on('error', () => undefined);
    const onData = (chunk: Buffer): void => {
      head.push(chunk);
      if (lister.stdin!.writable) lister.stdin!.write(chunk);
    };
    const onEnd = (): void => void lister.stdin!.end();
    // A failing input: the lister stops; the error stays on `input` for the caller.
    let failed = false;
    const onError = (): void => {
      failed = true;
      stop();
    };
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    lister.on('close', (code) => {
      signal?.removeEventListener('abort', stop);
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
      resolve(code === 0 && !failed ? { list, head } : { head });
    });
  });
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  errors: string[];
}

/** Collects a tool's stderr: calls `onLine` for each line, keeps the last lines that are not progress. */
export function watch(child: ChildProcess, onLine: (line: string) => void): Promise<Finished> {
  const errors: string[] = [];
  const rl = createInterface({ input: child.stderr! });
  rl.on('line', (line) => {
    onLine(line);
    if (/error|fatal|warning|detail|hint|could not|failed/i.test(line)) {
      errors.push(line);
      if (errors.length > 20) errors.shift();
    }
  });
  return new Promise((resolve) => {
    child.on('error', (e) => errors.push(String(e.message)));
    child.on('close', (code, signal) => resolve({ code, signal, errors }));
  });
}

const DATA_LINE = /processing data for table "([^"]+)"/;

/**
 * Runs the copy.
 * @throws MigrateError (`copy-failed`) with the tools' own error lines
 *   (passwords redacted); the target is then as it was (the restore rolled back).
 */
export async function runCopy(o: CopyOptions): Promise<CopyResult> {
  const started = Date.now();
  const dump = spawn(o.tools.pgDump, pgDumpArgs(o.source.database, o.snapshot), { env: o.passFiles.envFor(o.source), stdio: ['ignore', 'pipe', 'pipe'] });
  const dumped = watch(dump, () => undefined);
  const children: ChildProcess[] = [dump];
  const stop = (): void => children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGTERM'));
  o.signal?.addEventListener('abort', stop);
  if (o.signal?.aborted) stop();
  try {
    return await pipeToRestore(o, dump, dumped, children, started);
  } finally {
    o.signal?.removeEventListener('abort', stop);
  }
}

async function pipeToRestore(o: CopyOptions, dump: ChildProcess, dumped: Promise<Finished>, children: ChildProcess[], started: number): Promise<CopyResult> {
  let head: Buffer[] = [];
  let useList: string | undefined;
  if ((o.skipExtensionComments ?? []).length > 0) {
    const toc = await readToc(o.tools.pgRestore, o.passFiles.envFor(o.target), dump.stdout!, o.signal);
    head = toc.head;
    if (toc.list !== undefined) {
      useList = join(o.passFiles.dir, 'restore.list');
      writeFileSync(useList, withoutExtensionComments(toc.list, o.skipExtensionComments ?? []).list, { mode: 0o600 });
    }
  }
  const restore = spawn(o.tools.pgRestore, pgRestoreArgs(o.target.database, o.role, true, useList), { env: o.passFiles.envFor(o.target), stdio: ['pipe', 'ignore', 'pipe'] });
  children.push(restore);
  if (o.signal?.aborted) restore.kill('SIGTERM');
  let bytes = 0;
  let tablesDone = 0;
  let current: string | undefined;
  let lastReport = 0;
  const report = (force = false): void => {
    const now = Date.now();
    if (!o.onProgress || (!force && now - lastReport < 1000)) return;
    lastReport = now;
    const p: CopyProgress = { phase: 'copy', bytes, tablesDone, tables: o.tables };
    if (current !== undefined) p.table = current;
    o.onProgress(p);
  };
  // pg_restore stopping early (an error) must not crash this process with EPIPE.
  restore.stdin!.on('error', () => undefined);
  for (const chunk of head) {
    bytes += chunk.length;
    restore.stdin!.write(chunk);
  }
  dump.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    report();
  });
  if (dump.stdout!.readableEnded) restore.stdin!.end();
  else dump.stdout!.pipe(restore.stdin!);
  const restored = watch(restore, (line) => {
    const m = DATA_LINE.exec(line);
    if (m) {
      if (current !== undefined) tablesDone += 1;
      current = m[1];
      report(true);
    }
  });
  const [d, r] = await Promise.all([
    dumped.then((x) => {
      // pg_dump failed: stop feeding pg_restore, which then fails and rolls back.
      if (x.code !== 0) restore.stdin!.end();
      return x;
    }),
    restored.then((x) => {
      if (x.code !== 0 && dump.exitCode === null) dump.kill('SIGTERM');
      return x;
    }),
  ]);
  if (current !== undefined && r.code === 0) tablesDone += 1;
  current = undefined;
  report(true);
  if (d.code !== 0 || r.code !== 0) {
    const lines = [...(d.code !== 0 ? d.errors.map((l) => `pg_dump: ${l.replace(/^pg_dump:\s*/, '')}`) : []), ...r.errors.map((l) => `pg_restore: ${l.replace(/^pg_restore:\s*/, '')}`)];
    const status = (f: Finished): string => (f.code !== null ? `exit ${f.code}` : `signal ${f.signal}`);
    throw new MigrateError(
      MigrateErrorCode.CopyFailed,
      d.code !== 0 ? '--from' : '--to',
      `the copy failed (pg_dump ${status(d)}, pg_restore ${status(r)}); pg_restore ran in one transaction, so nothing of it stays in the target:\n  ${redact(lines.slice(-12).join('\n  '), o.secrets)}\n`,
      'Fix the cause shown above and run migrate again',
    );
  }
  return { bytes, tables: tablesDone, seconds: (Date.now() - started) / 1000 };
}
