/**
 * The Hetzner user data's setup, executed for real in a Debian 12 root:
 *
 * - a cached debootstrap of bookworm with Debian's postgresql-15 (lab/debian-root.ts;
 *   built once per machine from the mirror apt on this machine uses),
 *   seen through an overlay so each run starts from the clean root;
 * - a private mount namespace (unshare) holding the overlay, /proc and /dev;
 * - the volume: an ext4 image on a loop device, which the setup mounts by
 *   its device path through /etc/fstab as on Hetzner (or a plain directory
 *   when this machine has no loop devices);
 * - the private IP replaced by 127.0.0.2 (the server listens there only),
 *   the private subnet by 127.0.0.1/32 (the source address of local
 *   connections to 127.0.0.2);
 * - the document's `write_files` written as cloud-init writes them, then
 *   its `runcmd` run inside the root with chroot.
 *
 * Then, from outside the root: the seed's three instances (declared for the
 * cloud-init bootstrap) and the admin connect with their libpq URLs and
 * sslmode=verify-full against the generated CA (psql 15 on this machine); a
 * plain (non-TLS) connection is refused; a TLS connection with a valid
 * password from a non-admitted source address (127.0.0.3) is refused by
 * pg_hba; the admin is not a superuser and holds only a SCRAM verifier; the
 * data directory is on the volume; a second run of the setup reports 0
 * changes and neither restarts the server nor changes the catalog; the
 * backup program writes restorable dumps and prunes by count and by age;
 * and a second "server" (a fresh root from the same user data, the same
 * volume) adopts the cluster: data, roles and passwords survive, as when
 * the server is re-provisioned.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { join } from 'node:path';
import { Client } from 'pg';
import { parse } from 'yaml';
import { ensureDebianRoot, DEBIAN_ROOT_CACHE } from '../../lab/debian-root';
import { makeCertificates } from '../../lab/certs';
import { psql } from '../../lab/psql';
import { ConnectionDescription, libpqUrl } from '../../src/core/dsn';
import { renderBootstrapSql } from '../../src/core/render-sql';
import { scramSha256Verifier, newScramSalt } from '../../src/core/scram';
import { SslMode } from '../../src/core/tls';
import { renderCloudConfig } from '../../src/hetzner/cloud-init';
import { CREATECLUSTER_CONF, CREATECLUSTER_CONF_PATH, postgresPackage } from '../../src/hetzner/debian';
import { planHetzner } from '../../src/hetzner/plan';
import { seedInstances } from '../../examples/shared/instances';

const LISTEN = '127.0.0.2';
const FOREIGN = '127.0.0.3';
const progress = (line: string): void => {
  process.stdout.write(`[hetzner-setup ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function sh(cmd: string, args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
function must(cmd: string, args: string[]): string {
  const r = sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.out}`);
  return r.out;
}

const canRun = process.getuid?.() === 0 && sh('which', ['debootstrap', 'unshare', 'nsenter', 'psql']).code === 0;
const maybe = canRun ? describe : describe.skip;
if (!canRun) progress('skipped: needs root, debootstrap, unshare, nsenter and psql');

maybe('Hetzner cloud-init setup in a Debian 12 root', () => {
  const work = (): string => state.work;
  const state = {
    work: '',
    merged: '',
    holder: undefined as ReturnType<typeof spawn> | undefined,
    loop: '',
    caFile: '',
    passwords: new Map<string, string>(),
    adminPassword: '',
    firstRun: '',
    root: '',
    userData: '',
  };
  /** Runs a command in the root (mount namespace of the holder, chroot). */
  const inRoot = (args: string[]): { code: number; out: string } =>
    sh('nsenter', ['-t', String(state.holder!.pid), '-m', 'chroot', state.merged, ...args]);
  /** A path inside the root as the namespace sees it (the overlay is not mounted outside it). */
  const rootPath = (path: string): string => join('/proc', String(state.holder!.pid), 'root', state.merged, path);
  const inNs = (args: string[]): string => must('nsenter', ['-t', String(state.holder!.pid), '-m', ...args]);
  const plan = planHetzner({
    serverType: 'cx23',
    serverName: 'db-e2e',
    instances: seedInstances,
    namePrefix: 'vw_',
    pgConfig: { max_connections: 60, log_connections: true },
  });

  const url = (user: string, password: string, database: string, sslmode = SslMode.VerifyFull): string => {
    const c: ConnectionDescription = { hosts: [{ host: LISTEN, port: 5432 }], database, user, password, tls: { sslmode, sslrootcert: state.caFile }, connectTimeoutSeconds: 5, applicationName: 'hetzner-e2e' };
    if (sslmode === SslMode.Disable) c.tls = { sslmode };
    return libpqUrl(c);
  };

  beforeAll(async () => {
    const started = Date.now();
    const root = await ensureDebianRoot({ packages: [postgresPackage(plan.postgresMajor)], preseedFiles: { [CREATECLUSTER_CONF_PATH]: CREATECLUSTER_CONF }, log: progress });
    const busy = sh('ss', ['-Hltn', 'sport = :5432']).out.split('\n').filter((l) => /(\*|0\.0\.0\.0|\[::\]|127\.0\.0\.2):5432/.test(l));
    if (busy.length > 0) throw new Error(`port 5432 on ${LISTEN} is taken: ${busy.join('; ')}`);
    state.root = root;
    state.work = mkdtempSync(join(DEBIAN_ROOT_CACHE, 'run-'));

    // The volume: an ext4 image on a loop device (Hetzner formats the volume; so do we).
    const image = join(work(), 'volume.img');
    const loop = sh('sh', ['-c', `truncate -s 256M '${image}' && mkfs.ext4 -q -F '${image}' && losetup --find --show '${image}'`]);
    state.loop = loop.code === 0 ? loop.out.trim() : '';
    progress(state.loop ? `volume: ext4 image on ${state.loop}` : `volume: no loop device here (${loop.out.trim()}), using a directory`);

    // Certificates from the plan (SANs: the "private IP" 127.0.0.2 and the server name).
    const certPlan = planHetzner({ serverType: 'cx23', serverName: 'db-e2e', privateIp: '10.0.1.10' }).certificates;
    const certs = await makeCertificates({ ...certPlan, server: { ...certPlan.server, ipAddresses: [LISTEN] } });
    state.caFile = join(work(), 'ca.pem');
    writeFileSync(state.caFile, certs.caCertPem);

    // Logins: passwords stay here; the user data gets verifiers only.
    state.adminPassword = randomBytes(18).toString('base64url');
    const verifiers: Record<string, string> = {};
    for (const inst of plan.server.instances) {
      const password = randomBytes(18).toString('base64url');
      state.passwords.set(inst.login.name, password);
      verifiers[inst.login.name] = scramSha256Verifier(password, newScramSalt());
    }
    const rendered = renderCloudConfig({
      postgresMajor: plan.postgresMajor,
      listenAddresses: [LISTEN],
      admittedCidrs: ['127.0.0.1/32'],
      volumeDevice: state.loop,
      adminUser: plan.adminUser,
      adminVerifier: scramSha256Verifier(state.adminPassword, newScramSalt()),
      serverCertPem: certs.serverCertPem,
      serverKeyPem: certs.serverKeyPem,
      caCertPem: certs.caCertPem,
      pgConfig: plan.pgConfig,
      bootstrapSql: renderBootstrapSql(plan.server.instances, { verifiers }),
      backup: { keep: 2, maxAgeDays: 7 },
    });
    expect(rendered.userData).not.toContain(state.adminPassword);
    for (const p of state.passwords.values()) expect(rendered.userData).not.toContain(p);

    state.userData = rendered.userData;
    state.firstRun = await bootServer('first');
    progress(`setup finished in ${Math.round((Date.now() - started) / 1000)} s`);
  }, 540_000);

  /**
   * A fresh "server": a new namespace and overlay of the clean root (its own
   * upper layer under <work>/<label>), the document's write_files, then its
   * runcmd. Returns what runcmd printed.
   */
  const bootServer = async (label: string): Promise<string> => {
    const dir = join(work(), label);
    state.merged = join(dir, 'merged');
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
    // The namespace holder, then the overlay root with /proc and /dev.
    state.holder = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', 'infinity'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200));
    inNs(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${state.root},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, state.merged]);
    inNs(['mount', '-t', 'proc', 'proc', join(state.merged, 'proc')]);
    inNs(['mount', '--rbind', '/dev', join(state.merged, 'dev')]);
    // cloud-init's write_files, from the document itself.
    const doc = parse(state.userData) as { write_files: Array<{ path: string; content: string; permissions: string }>; runcmd: string[][] };
    for (const f of doc.write_files) {
      const target = rootPath(f.path);
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, f.content);
      chmodSync(target, parseInt(f.permissions, 8));
    }
    // cloud-init's runcmd.
    progress(`${label} server: running runcmd: ${doc.runcmd.map((c) => c.join(' ')).join('; ')}`);
    const outputs: string[] = [];
    for (const cmd of doc.runcmd) {
      const r = inRoot(cmd);
      outputs.push(r.out);
      if (r.code !== 0) throw new Error(`runcmd ${cmd.join(' ')} exited ${r.code}:\n${r.out}`);
    }
    progress(inRoot(['pg_lsclusters']).out.trim());
    return outputs.join('\n');
  };

  /** Stops the server and ends its namespace (which unmounts the volume and the root). */
  const stopServer = async (): Promise<void> => {
    if (state.holder?.pid) {
      inRoot(['pg_ctlcluster', String(plan.postgresMajor), 'main', 'stop', '-m', 'fast']);
      // A server left behind (a failed stop) would keep the namespace: stop it by its pid file.
      const pidFile = rootPath('var/lib/postgresql/15/main/postmaster.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
        if (pid > 0) sh('kill', ['-INT', String(pid)]);
        progress(`warning: the server (pid ${pid}) was still running after pg_ctlcluster stop`);
      }
      const exited = new Promise((resolve) => state.holder!.once('exit', resolve));
      state.holder.kill('SIGKILL');
      await exited;
      state.holder = undefined;
    }
  };

  afterAll(async () => {
    await stopServer();
    if (state.loop) {
      for (let i = 0; i < 10 && sh('losetup', ['-d', state.loop]).code !== 0; i++) spawnSync('sleep', ['0.5']);
    }
    if (state.work && existsSync(state.work)) rmSync(state.work, { recursive: true, force: true });
    progress('cleaned up');
  }, 60_000);

  test('the first run creates the cluster on the volume, the admin role and the instances', () => {
    expect(state.firstRun).toMatch(/changed: created cluster 15\/main in \/var\/lib\/postgresql\/15\/main/);
    expect(state.firstRun).toMatch(/changed: created role pgadmin/);
    expect(state.firstRun).toMatch(/changed: created role vw_blog/);
    if (state.loop) {
      expect(state.firstRun).toMatch(/changed: mounted .* at \/var\/lib\/postgresql/);
      expect(inRoot(['findmnt', '-n', '-o', 'SOURCE', '/var/lib/postgresql']).out.trim()).toBe(state.loop);
    }
    expect(inRoot(['test', '-f', '/var/lib/postgresql/15/main/PG_VERSION']).code).toBe(0);
    expect(inRoot(['sh', '-c', 'stat -c %a:%U /etc/postgresql/15/main/server.key']).out.trim()).toBe('600:postgres');
  });

  test('every seed instance connects with its URL over verify-full and sees only its own database', async () => {
    for (const inst of plan.server.instances) {
      const u = url(inst.login.name, state.passwords.get(inst.login.name)!, inst.database);
      const r = await psql(u, 'SELECT current_user, current_database(), ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid();');
      expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
      expect(r.stdout.trim()).toBe(`${inst.login.name}|${inst.database}|t|${r.stdout.trim().split('|')[3]}`);
      expect(r.stdout).toMatch(/\|TLSv1\.[23]$/m);
      const other = plan.server.instances.find((o) => o !== inst)!;
      const denied = await psql(url(inst.login.name, state.passwords.get(inst.login.name)!, other.database), 'SELECT 1');
      expect(denied.stderr).toMatch(/permission denied for database|not have CONNECT privilege/);
    }
    progress('3 instances connected with verify-full');
  });

  test('the admin logs in with verify-full, is not a superuser, and its password is stored as a SCRAM verifier only', async () => {
    const r = await psql(url(plan.adminUser, state.adminPassword, 'postgres'), 'SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user;');
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
    expect(r.stdout.trim()).toBe('f|t|t');
    // The server's settings, read as postgres (a non-superuser may not see the ssl ones).
    const settings = inRoot(['runuser', '-u', 'postgres', '--', 'psql', '-XAt', '-c', "SELECT string_agg(name || '=' || setting, ' ' ORDER BY name) FROM pg_settings WHERE name IN ('password_encryption', 'ssl', 'ssl_min_protocol_version', 'listen_addresses', 'max_connections', 'port', 'log_connections')"]).out.trim();
    expect(settings).toBe(`listen_addresses=${LISTEN} log_connections=on max_connections=60 password_encryption=scram-sha-256 port=5432 ssl=on ssl_min_protocol_version=TLSv1.2`);
    const stored = inRoot(['runuser', '-u', 'postgres', '--', 'psql', '-XAt', '-c', `SELECT rolpassword FROM pg_authid WHERE rolname = '${plan.adminUser}'`]).out.trim();
    expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
  });

  test('a plain (non-TLS) connection is refused', async () => {
    const inst = plan.server.instances[0]!;
    const r = await psql(url(inst.login.name, state.passwords.get(inst.login.name)!, inst.database, SslMode.Disable), 'SELECT 1');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/pg_hba\.conf rejects connection for host "127\.0\.0\.1".*no encryption/);
  });

  test('a TLS connection with the right password from a non-admitted address is refused by pg_hba', async () => {
    const inst = plan.server.instances[0]!;
    const connectFrom = (local: string) => async (): Promise<string> => {
      const client = new Client({
        host: LISTEN,
        port: 5432,
        user: inst.login.name,
        password: state.passwords.get(inst.login.name)!,
        database: inst.database,
        // verify-full as in libpq: the CA, and the host name (127.0.0.2) against the certificate's IP SAN.
        ssl: { ca: readFileSync(state.caFile, 'utf8'), rejectUnauthorized: true, checkServerIdentity: (_host, cert) => checkServerIdentity(LISTEN, cert) },
        connectionTimeoutMillis: 5000,
        // libpq has no source-address option; node's socket has.
        stream: () => {
          const s = new Socket();
          const original = s.connect.bind(s) as (o: object) => Socket;
          (s as unknown as { connect: (port: number, host: string) => Socket }).connect = (port: number, host: string) => original({ port, host, localAddress: local });
          return s;
        },
      });
      try {
        await client.connect();
        const r = await client.query('SELECT inet_client_addr()::text AS a');
        return `connected from ${r.rows[0].a}`;
      } catch (e) {
        return (e as Error).message;
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    // The same client from the admitted address connects: only the source differs.
    expect(await connectFrom('127.0.0.1')()).toBe('connected from 127.0.0.1/32');
    expect(await connectFrom(FOREIGN)()).toMatch(/pg_hba\.conf rejects connection for host "127\.0\.0\.3"/);
  });

  test('a second run of the setup changes nothing: 0 changes, no restart, same catalog', async () => {
    const snapshot = async (): Promise<string> => {
      const r = await psql(url(plan.adminUser, state.adminPassword, 'postgres'),
        "SELECT pg_postmaster_start_time(); SELECT string_agg(rolname || ':' || rolconnlimit || ':' || rolcanlogin || ':' || rolcreatedb, ',' ORDER BY rolname) FROM pg_roles WHERE rolname !~ '^pg_'; SELECT string_agg(datname || ':' || pg_get_userbyid(datdba) || ':' || coalesce(datacl::text, ''), ',' ORDER BY datname) FROM pg_database;");
      expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
      return r.stdout;
    };
    const before = await snapshot();
    expect(before).toMatch(/vw_blog:vw_blog:/);
    const files = inRoot(['sh', '-c', 'md5sum /etc/fstab /etc/postgresql/15/main/pg_hba.conf /etc/postgresql/15/main/conf.d/* /etc/postgresql/15/main/server.*']).out;
    const second = inRoot(['/usr/local/sbin/postgres-strategies-setup']);
    expect(second.code).toBe(0);
    expect(second.out).toMatch(/setup done: 0 changes/);
    expect(second.out).not.toMatch(/changed:/);
    expect(await snapshot()).toBe(before);
    expect(inRoot(['sh', '-c', 'md5sum /etc/fstab /etc/postgresql/15/main/pg_hba.conf /etc/postgresql/15/main/conf.d/* /etc/postgresql/15/main/server.*']).out).toBe(files);
    progress('second run: 0 changes');
  });

  test('the backup program writes restorable dumps per database and prunes by count and by age', async () => {
    const dir = rootPath('var/lib/postgresql/backups/vw_blog');
    inRoot(['mkdir', '-p', '/var/lib/postgresql/backups/vw_blog']);
    const old = (name: string, daysAgo: number): void => {
      writeFileSync(join(dir, name), 'old');
      const t = Date.now() / 1000 - daysAgo * 86400;
      utimesSync(join(dir, name), t, t);
    };
    old('vw_blog-20200101T000000Z.dump', 30); // older than maxAgeDays 7
    old('vw_blog-20210101T000000Z.dump', 1);
    old('vw_blog-20220101T000000Z.dump', 1);
    const r = inRoot(['/usr/local/sbin/postgres-strategies-backup']);
    expect({ code: r.code, out: r.out }).toMatchObject({ code: 0 });
    expect(r.out).toMatch(/pruned .*vw_blog-20200101T000000Z\.dump \(older than 7 days\)/);
    expect(r.out).toMatch(/pruned .*vw_blog-20210101T000000Z\.dump \(keep 2\)/);
    const listing = inRoot(['sh', '-c', 'ls /var/lib/postgresql/backups/vw_blog']).out.trim().split('\n');
    expect(listing).toHaveLength(2);
    expect(listing).toContain('vw_blog-20220101T000000Z.dump');
    const fresh = listing.find((f) => !f.startsWith('vw_blog-2022'))!;
    for (const db of ['vw_admin', 'vw_api', 'postgres', '_globals']) {
      expect(inRoot(['sh', '-c', `ls /var/lib/postgresql/backups/${db}`]).out).toMatch(/\.dump/);
    }
    // The dump is a real custom-format archive of vw_blog (pg_restore 15 on this machine reads it).
    const list = sh('pg_restore', ['--list', join(dir, fresh)]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/dbname: vw_blog/);
  });

  test('a new server on the same volume (re-provisioning) adopts the cluster: data, roles and passwords survive', async () => {
    const blog = plan.server.instances[0]!;
    const blogUrl = url(blog.login.name, state.passwords.get(blog.login.name)!, blog.database);
    const write = await psql(blogUrl, 'CREATE TABLE survives (x int); INSERT INTO survives VALUES (42);');
    expect({ code: write.code, err: write.stderr }).toEqual({ code: 0, err: '' });
    await stopServer();
    const second = await bootServer('second');
    expect(second).toMatch(/changed: adopted the cluster in \/var\/lib\/postgresql\/15\/main/);
    expect(second).not.toMatch(/created cluster|created role/);
    const read = await psql(blogUrl, 'SELECT x FROM survives;');
    expect({ code: read.code, out: read.stdout.trim(), err: read.stderr }).toEqual({ code: 0, out: '42', err: '' });
    const admin = await psql(url(plan.adminUser, state.adminPassword, 'postgres'), 'SELECT 1');
    expect(admin.code).toBe(0);
    progress('second server adopted the cluster on the volume');
  });
});
