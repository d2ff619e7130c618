/**
 * The local strategy's rendered files on a real PostgreSQL of the image's
 * major (17 for the default postgres:17-alpine, and 18), started the way
 * the container starts it: `postgres -c config_file=<rendered
 * postgresql.conf> -c hba_file=<rendered pg_hba.conf>` (the files are used
 * as they are, at paths rebased under a temporary directory), the TLS key
 * copied by the rendered wrapper script run for real (with a stand-in for
 * the image's docker-entrypoint.sh), certificates made from the component's
 * own certificate plan, and the bootstrap script run the way the one-shot
 * bootstrap container runs it: its command and PG* environment, as the OS
 * user postgres on the server's Unix socket (the shared socket volume),
 * relying on `local all postgres peer` — no password.
 *
 * The data directory is initialised with one superuser password (the lab's,
 * as a volume kept from another stack or an earlier `up` would hold) and
 * the stack has another: the bootstrap sets the stack's, after which the
 * superuser logs in with it and no longer with the old one.
 *
 * Proves: the server starts on those files; the stack's superuser password
 * is refused before the bootstrap and works after it; roles and databases
 * of the plan exist; with TLS every login connects with verify-full against the
 * generated CA (as `localhost` and as 127.0.0.1) and plain connections are
 * refused by pg_hba.conf, without TLS they connect with sslmode=disable; the
 * Kratos DSN, host rewritten to the test server's and Kratos' pool keys
 * removed, connects with psql and may create tables (what `kratos migrate`
 * needs); a second bootstrap run changes nothing; the healthcheck command
 * answers; the rendered wrapper passes shellcheck.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { ConnectionDescription, libpqUrl, withSslMode } from '../../src/core/dsn';
import { kratosDsn } from '../../src/core/dsn';
import { kratosDsnToLibpq } from '../../src/core/kratos';
import { CONTAINER_PATHS, FileContent, LocalPaths, LocalStackPlan, planLocalStack, renderLocalBootstrapSql } from '../../src/local/plan';
import { newScramSalt, scramSha256Verifier } from '../../src/core/scram';
import { RoleShape } from '../../src/core/plan';
import { renderBootstrapSql } from '../../src/core/render-sql';
import { SslMode } from '../../src/core/tls';
import { CertificateFiles, makeCertificates } from '../../lab/certs';
import { psql } from '../../lab/psql';
import { postgresOsUser } from '../../lab/run';
import { LabServer, LabVersion, startLabServer } from '../../lab/server';
import { SERVER_TIMEOUT, credentialsFor, describeFailure } from './support';

/** The container paths, under `root`. */
function rebase(paths: LocalPaths, root: string): LocalPaths {
  return Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, join(root, v)])) as unknown as LocalPaths;
}

function write(path: string, content: string, mode: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8', env: { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8', ...env } });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
}

const CASES: Array<{ version: LabVersion; tls: boolean }> = [
  { version: 17, tls: true },
  { version: 17, tls: false },
  { version: 18, tls: true },
];

describe.each(CASES)('the local server\'s files on PostgreSQL $version (tls: $tls)', ({ version, tls }) => {
  const root = mkdtempSync(join(tmpdir(), 'ps-local-'));
  chmodSync(root, 0o755); // the server's OS user must reach the files
  const paths = rebase(CONTAINER_PATHS, root);
  const plan: LocalStackPlan = planLocalStack(
    {
      image: `postgres:${version}-alpine`,
      tls,
      publishPort: 5432,
      namePrefix: 'vw_',
      instances: [{ name: 'blog' }, { name: 'api', shape: RoleShape.LeastPrivilege }],
      kratos: { instance: 'blog' },
      // fsync off: CREATE DATABASE otherwise waits for the disk; also proves user overrides load.
      pgConfig: { fsync: false, log_connections: true, work_mem: '8MB' },
    },
    paths,
  );
  const plans = plan.server.instances;
  const creds = credentialsFor(plans);
  // The stack's superuser password: not the one the data directory was initialised with.
  const stackPassword = randomBytes(18).toString('base64url');
  const bootstrapSql = renderLocalBootstrapSql(scramSha256Verifier(stackPassword, newScramSalt()), renderBootstrapSql(plans, { verifiers: creds.verifiers }));
  const caFile = join(root, 'client-ca.pem');
  const argsFile = join(root, 'entrypoint-args');
  const bootstrapContainer = plan.containers.find((c) => c.service === 'postgres-bootstrap')!;
  let certs: CertificateFiles | undefined;
  let server: LabServer | undefined;
  let beforeBootstrap = { code: -1, stdout: '', stderr: '' };
  let bootstrapRun = { code: -1, stdout: '', stderr: '' };
  let wrapperRun = { code: -1, stdout: '', stderr: '' };

  const srv = (): LabServer => {
    if (!server) throw new Error('the lab server did not start (see the beforeAll error)');
    return server;
  };
  /** A connection to the test server as the container's clients make it, TLS per the plan. */
  const connect = (user: string, password: string, database: string, host = 'localhost'): ConnectionDescription => ({
    hosts: [{ host, port: srv().port }],
    database,
    user,
    password,
    tls: tls ? { sslmode: SslMode.VerifyFull, sslrootcert: caFile } : { sslmode: SslMode.Disable },
  });
  const superuser = (): ConnectionDescription => connect('postgres', stackPassword, 'postgres');
  /** Runs the bootstrap container's command with its environment, as its OS user (postgres). */
  const runBootstrap = (): { code: number; stdout: string; stderr: string } => {
    const env: Record<string, string> = Object.fromEntries(bootstrapContainer.env.map((e) => [e.name, e.value ?? '']));
    env['PGPORT'] = String(srv().port); // the lab server's port; PGHOST is the plan's socket directory as it is
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    return run('runuser', ['-u', bootstrapContainer.user!, '--', 'env', ...envArgs, ...bootstrapContainer.command]);
  };

  beforeAll(async () => {
    write(paths.configFile, plan.staticFiles[FileContent.PostgresqlConf] as string, 0o644);
    write(paths.hbaFile, plan.staticFiles[FileContent.PgHba] as string, 0o644);
    write(paths.bootstrapScript, bootstrapSql, 0o644);
    // The images' socket directory (the shared volume starts as a copy of it): the OS user postgres', mode 3777.
    mkdirSync(paths.socketDir, { recursive: true, mode: 0o755 });
    const pg = postgresOsUser();
    if (!pg) throw new Error('there is no OS user "postgres"');
    chownSync(paths.socketDir, pg.uid, pg.gid);
    chmodSync(paths.socketDir, 0o3777);
    if (tls) {
      certs = await makeCertificates(plan.certificates!);
      write(paths.certFile, certs.serverCertPem, 0o644);
      write(paths.keyUpload, certs.serverKeyPem, 0o600); // as uploaded: root's, 0600
      write(caFile, certs.caCertPem, 0o644);
      write(paths.entrypointScript, plan.tlsEntrypoint as string, 0o755);
      // The image's entrypoint, stood in for: it records the arguments it was handed.
      write(join(root, 'bin', 'docker-entrypoint.sh'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\n`, 0o755);
      wrapperRun = run('/bin/sh', [paths.entrypointScript, ...plan.containers[0]!.command], { PATH: `${join(root, 'bin')}:${process.env['PATH']}` });
    }
    server = await startLabServer({
      version,
      // The container's command; listen_addresses narrowed to loopback for the test machine
      // (later -c options win, as the entrypoint's own listen_addresses='' does during init).
      postgresFlags: [...plan.containers[0]!.command.slice(1), '-c', 'listen_addresses=localhost'],
      // The entrypoint hands POSTGRES_INITDB_ARGS to initdb.
      initdbFlags: (plan.containers[0]!.env.find((e) => e.name === 'POSTGRES_INITDB_ARGS')!.value as string).split(' '),
    });
    // A kept volume: the data directory holds the lab's password, not the stack's.
    beforeBootstrap = await psql(libpqUrl(superuser()), 'SELECT 1;');
    bootstrapRun = runBootstrap();
  }, SERVER_TIMEOUT);

  afterAll(async () => {
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  }, SERVER_TIMEOUT);

  if (tls) {
    test('the wrapper copied the key for the OS user postgres (0600) and handed the command over unchanged', () => {
      expect(describeFailure({ code: wrapperRun.code, stdout: '', stderr: wrapperRun.stderr, changes: [], warnings: [] })).toBe('exit 0: ');
      const key = statSync(paths.keyFile);
      expect(key.mode & 0o777).toBe(0o600);
      expect(key.uid).toBe(postgresOsUser()?.uid);
      expect(statSync(paths.keyDir).mode & 0o777).toBe(0o700);
      expect(readFileSync(paths.keyFile, 'utf8')).toBe(certs!.serverKeyPem);
      expect(readFileSync(argsFile, 'utf8').trimEnd().split('\n')).toEqual(plan.containers[0]!.command);
    });
  }

  test('the server runs on the rendered postgresql.conf and pg_hba.conf, with the user\'s overrides and seed 004\'s data checksums', async () => {
    const r = await psql(
      libpqUrl(superuser()),
      "SELECT current_setting('config_file'), current_setting('hba_file'), current_setting('ssl'), current_setting('work_mem'), current_setting('password_encryption'), current_setting('data_checksums'), current_setting('server_version_num');",
    );
    expect(describeFailure(r)).toBe('exit 0: ');
    const [configFile, hbaFile, ssl, workMem, encryption, checksums, num] = r.stdout.trim().split('|');
    expect([configFile, hbaFile, ssl, workMem, encryption, checksums]).toEqual([paths.configFile, paths.hbaFile, tls ? 'on' : 'off', '8MB', 'scram-sha-256', 'on']);
    expect(Math.floor(Number(num) / 10000)).toBe(version);
  }, SERVER_TIMEOUT);

  test('a kept data directory with another superuser password: the stack\'s is refused before the bootstrap, accepted after it, the old one no longer', async () => {
    expect(beforeBootstrap.code).not.toBe(0);
    expect(beforeBootstrap.stderr).toContain('password authentication failed for user "postgres"');
    expect(bootstrapRun.stderr).toContain('NOTICE:  postgres-strategies: set the password of role postgres');
    const after = await psql(libpqUrl(superuser()), 'SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;');
    expect(describeFailure(after)).toBe('exit 0: ');
    expect(after.stdout.trim()).toBe('postgres|t');
    const old = await psql(libpqUrl(connect('postgres', srv().superuserPassword, 'postgres')), 'SELECT 1;');
    expect(old.stderr).toContain('password authentication failed for user "postgres"');
  }, SERVER_TIMEOUT);

  test('the bootstrap ran as its container runs it (peer on the shared Unix socket, no password) and created the plan', async () => {
    expect(bootstrapContainer.env.some((e) => /PASSWORD/.test(e.name))).toBe(false);
    expect(bootstrapContainer.env.find((e) => e.name === 'PGHOST')!.value).toBe(paths.socketDir);
    expect(statSync(join(paths.socketDir, `.s.PGSQL.${srv().port}`)).isSocket()).toBe(true);
    expect(`exit ${bootstrapRun.code}: ${bootstrapRun.stderr.split('\n').filter((l) => /ERROR|FATAL/.test(l)).join('\n')}`).toBe('exit 0: ');
    const r = await psql(libpqUrl(superuser()), "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'vw\\_%'; SELECT string_agg(rolname || ':' || CASE WHEN rolcanlogin THEN 'login' ELSE 'nologin' END, ',' ORDER BY rolname) FROM pg_roles WHERE rolname LIKE 'vw\\_%';");
    expect(r.stdout.trim().split('\n')).toEqual(['vw_api,vw_blog', 'vw_api:login,vw_api_owner:nologin,vw_api_ro:login,vw_blog:login']);
  }, SERVER_TIMEOUT);

  test('peer on the socket admits only the OS user postgres as postgres', () => {
    const asRoot = run('psql', ['-X', '-w', '-h', paths.socketDir, '-p', String(srv().port), '-U', 'postgres', '-d', 'postgres', '-c', 'SELECT 1']);
    expect(asRoot.code).not.toBe(0);
    expect(asRoot.stderr).toMatch(userInfo().username === 'postgres' ? /.*/ : /Peer authentication failed for user "postgres"/);
  });

  test('every login connects with the libpq URL clients get (host rewritten to the test server)', async () => {
    for (const p of plans) {
      for (const role of p.roles.filter((x) => x.login)) {
        const url = libpqUrl(connect(role.name, creds.passwords[role.name]!, p.database));
        const r = await psql(url, 'SELECT current_user, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid());');
        expect([role.name, describeFailure(r)]).toEqual([role.name, 'exit 0: ']);
        expect(r.stdout.trim()).toBe(`${role.name}|${tls ? 't' : 'f'}`);
      }
    }
  }, SERVER_TIMEOUT);

  if (tls) {
    test('the generated CA verifies the certificate for localhost and 127.0.0.1 (its SANs)', async () => {
      const blog = 'vw_blog';
      for (const host of ['localhost', '127.0.0.1']) {
        const r = await psql(libpqUrl(connect(blog, creds.passwords[blog]!, blog, host)), 'SELECT 1;');
        expect([host, describeFailure(r)]).toEqual([host, 'exit 0: ']);
      }
      const cert = new X509Certificate(certs!.serverCertPem);
      expect(cert.verify(new X509Certificate(certs!.caCertPem).publicKey)).toBe(true);
      expect(cert.subjectAltName).toBe('DNS:postgres, DNS:localhost, IP Address:127.0.0.1');
    }, SERVER_TIMEOUT);

    test('plain connections are refused by pg_hba.conf', async () => {
      for (const [user, password, db] of [['vw_blog', creds.passwords['vw_blog']!, 'vw_blog'], ['postgres', stackPassword, 'postgres']] as const) {
        const r = await psql(libpqUrl(withSslMode(connect(user, password, db), SslMode.Disable)), 'SELECT 1;');
        expect(r.code).toBe(2);
        expect(r.stderr).toContain(`pg_hba.conf rejects connection for host "127.0.0.1", user "${user}", database "${db}", no encryption`);
      }
    }, SERVER_TIMEOUT);

    test('sessions are TLS 1.2 or newer: the server\'s minimum is TLSv1.2', async () => {
      const r = await psql(libpqUrl(superuser()), "SELECT current_setting('ssl_min_protocol_version'), version FROM pg_stat_ssl WHERE pid = pg_backend_pid();");
      expect(describeFailure(r)).toBe('exit 0: ');
      const [min, used] = r.stdout.trim().split('|');
      expect(min).toBe('TLSv1.2');
      expect(used).toMatch(/^TLSv1\.[23]$/);
    }, SERVER_TIMEOUT);
  }

  test('the Kratos DSN connects with psql once Kratos\' pool keys are removed, and may create tables', async () => {
    const inst = plans.find((p) => p.instance === 'blog')!;
    // The DSN the component hands Kratos: host postgres, the CA at the client path.
    const dsn = kratosDsn(
      {
        hosts: [{ host: 'postgres', port: 5432 }],
        database: inst.database,
        user: inst.login.name,
        password: creds.passwords[inst.login.name],
        tls: tls ? { sslmode: SslMode.VerifyFull, sslrootcert: CONTAINER_PATHS.clientCaFile } : { sslmode: SslMode.Disable },
        connectTimeoutSeconds: 10,
        applicationName: 'blog',
      },
      inst.kratosPool,
    );
    expect(dsn).toContain('max_conns=10&max_idle_conns=2');
    const rewritten = kratosDsnToLibpq(dsn)
      .replace('@postgres:5432/', `@localhost:${srv().port}/`)
      .replace(`sslrootcert=${CONTAINER_PATHS.clientCaFile}`, `sslrootcert=${caFile}`);
    expect(rewritten).not.toMatch(/max_conns|max_idle_conns/);
    const r = await psql(rewritten, 'CREATE TABLE kratos_probe (id int); DROP TABLE kratos_probe; SELECT current_user;');
    expect(describeFailure(r)).toBe('exit 0: ');
    expect(r.stdout.trim().split('\n')).toEqual(['CREATE TABLE', 'DROP TABLE', 'vw_blog']);
  }, SERVER_TIMEOUT);

  test('a second bootstrap run (the container re-created) changes nothing', () => {
    expect(bootstrapContainer.command.slice(-1)).toEqual([paths.bootstrapScript]);
    const r = runBootstrap();
    expect(`exit ${r.code}: ${r.stderr.split('\n').filter((l) => /ERROR|FATAL/.test(l)).join('\n')}`).toBe('exit 0: ');
    expect(r.stderr.split('\n').filter((l) => l.includes('NOTICE:  postgres-strategies:'))).toEqual([]);
  }, SERVER_TIMEOUT);

  test('the healthcheck command answers (pg_isready over TCP with the plan\'s user and database)', () => {
    const test = plan.containers[0]!.healthcheck!.test;
    expect(test.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    const args = test.slice(2).map((a, i, all) => (all[i - 1] === '-p' ? String(srv().port) : a));
    const r = run('pg_isready', args);
    expect([r.code, r.stdout.trim()]).toEqual([0, `127.0.0.1:${srv().port} - accepting connections`]);
  });
});

describe('rendered shell scripts', () => {
  test('the TLS wrapper passes shellcheck (POSIX sh)', () => {
    const check = spawnSync('shellcheck', ['--shell=sh', '--severity=style', '-'], { input: planLocalStack({ tls: true }).tlsEntrypoint, encoding: 'utf8' });
    if (check.error) throw new Error(`shellcheck is needed (Debian: apt-get install shellcheck; .ci/run installs it): ${check.error.message}`);
    expect([check.status, check.stdout]).toEqual([0, '']);
  });
});
