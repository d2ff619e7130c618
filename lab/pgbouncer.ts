/**
 * A real PgBouncer (Debian's /usr/sbin/pgbouncer, 1.18) in front of a lab
 * server, for the pooled-endpoint tests.
 *
 * - Listens on 127.0.0.1 only (no Unix socket), on a free port.
 * - Clients must use TLS (`client_tls_sslmode = require`) with the lab
 *   server's certificate (issued for localhost / 127.0.0.1 by the lab CA), so
 *   the pooled URLs are tested with `sslmode=verify-full` like a managed
 *   pooler; PgBouncer reaches the server over TLS with `verify-full`
 *   against the lab CA when the server has TLS.
 * - `auth_type = scram-sha-256` with an `auth_file` of SCRAM-SHA-256
 *   verifiers only: no plain password is written anywhere. PgBouncer logs in
 *   to the server with the client's own SCRAM proof, which works because the
 *   server stores the very same verifier (the rendered bootstrap SQL sets it).
 * - PgBouncer refuses to run as root ("PgBouncer should not run as root");
 *   as root the lab runs it as the OS user `postgres` (which the embedded
 *   server uses too) through `setpriv`.
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { postgresOsUser } from './run';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { isScramVerifier } from '../src/core/scram';
import { LabServer, freePort } from './server';

export const PGBOUNCER_BIN = '/usr/sbin/pgbouncer';

export interface PgBouncerOptions {
  /** The server behind it. */
  server: LabServer;
  /** `pool_mode`. @default "transaction" */
  poolMode?: 'session' | 'transaction' | 'statement';
  /** `default_pool_size`: server connections per (user, database). */
  defaultPoolSize: number;
  /** `auth_file` entries: role → SCRAM-SHA-256 verifier (plain passwords are refused). */
  users: Record<string, string>;
  /** Roles allowed on the admin console (`admin_users`); they must be in `users`. */
  adminUsers?: string[];
  /** `max_client_conn`. @default 100 */
  maxClientConn?: number;
}

export interface LabPgBouncer {
  /** Host name clients use (the certificate is issued for it). */
  host: string;
  port: number;
  /** The rendered pgbouncer.ini (for messages). */
  ini: string;
  /** PgBouncer's log so far. */
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((c) => c.kill('SIGTERM')));

/** Whether Debian's PgBouncer is installed. */
export function havePgBouncer(): boolean {
  return existsSync(PGBOUNCER_BIN) && spawnSync(PGBOUNCER_BIN, ['--version']).status === 0;
}

function quoteAuthFile(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/** The auth_file: one `"role" "SCRAM-SHA-256$…"` line per role. @throws for a plain password. */
export function renderAuthFile(users: Record<string, string>): string {
  return Object.entries(users)
    .map(([role, verifier]) => {
      if (!isScramVerifier(verifier)) throw new Error(`auth_file: the entry of ${role} is not a SCRAM-SHA-256 verifier; plain passwords are not written`);
      return `${quoteAuthFile(role)} ${quoteAuthFile(verifier)}\n`;
    })
    .join('');
}

async function waitForPort(port: number, child: ChildProcess, logFile: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with ${child.exitCode}:\n${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
    const open = await new Promise<boolean>((res) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.end();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${port}:\n${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts PgBouncer in front of `options.server`; resolves once it listens. */
export async function startPgBouncer(options: PgBouncerOptions): Promise<LabPgBouncer> {
  const { server } = options;
  const dir = mkdtempSync(join(tmpdir(), 'ps-pgbouncer-'));
  const port = await freePort();
  const file = (name: string): string => join(dir, name);
  const tls = server.certificates !== undefined && server.caFile !== undefined;
  const lines = [
    '[databases]',
    // Every database name is passed through to the lab server as the client gave it.
    `* = host=127.0.0.1 port=${server.port}`,
    '',
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    `pool_mode = ${options.poolMode ?? 'transaction'}`,
    `default_pool_size = ${options.defaultPoolSize}`,
    'min_pool_size = 0',
    'reserve_pool_size = 0',
    `max_client_conn = ${options.maxClientConn ?? 100}`,
    'auth_type = scram-sha-256',
    `auth_file = ${file('userlist.txt')}`,
    `admin_users = ${(options.adminUsers ?? []).join(', ')}`,
    `logfile = ${file('pgbouncer.log')}`,
    `pidfile = ${file('pgbouncer.pid')}`,
    // The lab's clients send these startup parameters; PgBouncer must not refuse them.
    'ignore_startup_parameters = extra_float_digits,options',
    'server_reset_query = DISCARD ALL',
  ];
  if (tls) {
    writeFileSync(file('client.crt'), server.certificates!.serverCertPem);
    writeFileSync(file('client.key'), server.certificates!.serverKeyPem, { mode: 0o600 });
    writeFileSync(file('ca.pem'), server.certificates!.caCertPem);
    lines.push(
      'client_tls_sslmode = require',
      `client_tls_cert_file = ${file('client.crt')}`,
      `client_tls_key_file = ${file('client.key')}`,
      'server_tls_sslmode = verify-full',
      `server_tls_ca_file = ${file('ca.pem')}`,
    );
  }
  const ini = `${lines.join('\n')}\n`;
  writeFileSync(file('pgbouncer.ini'), ini);
  writeFileSync(file('userlist.txt'), renderAuthFile(options.users), { mode: 0o600 });

  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    const owner = postgresOsUser();
    if (!owner) throw new Error('running as root, but there is no OS user "postgres" to run pgbouncer as');
    for (const name of ['', 'pgbouncer.ini', 'userlist.txt', ...(tls ? ['client.crt', 'client.key', 'ca.pem'] : [])]) {
      chownSync(name ? file(name) : dir, owner.uid, owner.gid);
    }
  }
  chmodSync(dir, 0o700);
  const cmd = asRoot ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', PGBOUNCER_BIN, file('pgbouncer.ini')]] : [PGBOUNCER_BIN, [file('pgbouncer.ini')]];
  const child = spawn(cmd[0] as string, cmd[1] as string[], { stdio: 'ignore' });
  running.add(child);
  const logFile = file('pgbouncer.log');
  const log = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
    }
    running.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, child, logFile);
  } catch (e) {
    await stop();
    throw e;
  }
  return { host: 'localhost', port, ini, log, stop };
}
