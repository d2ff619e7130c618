/**
 * The Hetzner user data's setup, executed for real in a Debian 12 root
 * (lab/hetzner-root.ts, shared with the PITR bench):
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
 * - the document's `write_files` written by Debian's cloud-init itself (its
 *   write_files module, which also decodes the gzip + base64 files), then
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
 * backup program writes restorable dumps and prunes by count and by age.
 *
 * Then what later deployments bring to the running server through the
 * component's `setupScript` output (issue 15), piped into sh in the root:
 * - a pgConfig change: reloaded when a reload applies it, restarted when the
 *   server reports (pg_file_settings) that a changed setting needs it;
 * - certificate renewal through setupScript (a server that does not renew
 *   its own): an expired certificate (day 826) is refused by verify-full;
 *   the renewed one (same CA, new key) is served after a reload (the
 *   postmaster keeps running); a certificate from a new CA stops verifying
 *   against the old CA and verifies against the new one;
 * - the server renewing its own certificate (issue 20): its clock passes
 *   the renewal window (a certificate with 10 days left, then one expired
 *   the day before, as the server holds it on day 816 and 826), and the
 *   renewal timer's run (`postgres-strategies-setup --renew-certificate`) or
 *   the next setup run signs a new one from the CA key the user data gave
 *   it: same key, subject and names, 825 days, verify-full accepts it, no
 *   restart, and the next setup run keeps it; a CA in its last days is not
 *   renewed here, and the run fails saying so;
 * - volumeSize growth: the loop file grows and `losetup -c` tells the
 *   kernel (as Hetzner grows the volume); the setup grows the filesystem
 *   online, `df` shows the new size, the data is intact;
 * - a nightly dump that would leave less than `minFreePercent` of the volume
 *   free is refused, and nothing is written;
 * - a setup for another PostgreSQL major (a debian-13 user data) refuses to
 *   leave the volume's PostgreSQL 15 cluster for an empty one.
 * Then a second "server" (a fresh root from the same user data, the same
 * volume) adopts the cluster: data, roles and passwords survive, as when the
 * server is re-provisioned.
 *
 * Last, point-in-time recovery (issue 21): the user data's `pitr` settings
 * point Debian's pgBackRest (2.45, installed by the setup) at a real
 * S3-compatible store on this machine (versitygw over HTTPS with a lab CA,
 * lab/object-store.ts); the first setup created the stanza and took the
 * first full backup, and WAL is archived continuously. Rows are written, a
 * time T noted, more rows written, a differential backup taken by the
 * command of its systemd unit; the data directory is lost; the restore
 * program brings the cluster back to T: exactly the rows written before T,
 * and the server takes writes again.
 */
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { Socket, connect } from 'node:net';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { Client } from 'pg';
import { HETZNER_ROOT_LISTEN, HetznerRootLab, canRunHetznerRoot, hetznerRootCertificates, startHetznerRoot } from '../../lab/hetzner-root';
import { PITR_RESTORE_SCRIPT_PATH, pitrUnitPath } from '../../src/hetzner/backup';
import { CertificateFiles, CertificateOptions, makeCertificates } from '../../lab/certs';
import { planServerCertificates } from '../../src/core/certificates';
import { psql } from '../../lab/psql';
import { runOk } from '../../lab/run';
import { SslMode } from '../../src/core/tls';
import { CloudConfigSettings, renderCloudConfig, renderServerConfig } from '../../src/hetzner/cloud-init';
import { planHetzner } from '../../src/hetzner/plan';
import { seedInstances } from '../../examples/shared/instances';

const LISTEN = HETZNER_ROOT_LISTEN;
/** Whether this process may resize a mounted ext4 (CAP_SYS_RESOURCE, bit 24 of the effective set). */
const ONLINE_RESIZE = (BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`) >> 24n) % 2n === 1n;
const FOREIGN = '127.0.0.3';
const progress = (line: string): void => {
  process.stdout.write(`[hetzner-setup ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function sh(cmd: string, args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const canRun = canRunHetznerRoot();
const maybe = canRun ? describe : describe.skip;
if (!canRun) progress('skipped: needs root, debootstrap, unshare, nsenter and psql');

maybe('Hetzner cloud-init setup in a Debian 12 root', () => {
  /** The root (lab/hetzner-root.ts): started by beforeAll, stopped by afterAll. */
  let lab: HetznerRootLab | undefined;
  const state = (): HetznerRootLab => lab!;
  const inRoot = (args: string[], input?: string): { code: number; out: string } => state().inRoot(args, input);
  /** What an operator does after a deployment: `pulumi stack output --show-secrets setupScript | ssh root@<server> sh`. */
  const applySetupScript = (script: string): { code: number; out: string } => inRoot(['sh'], script);
  const rootPath = (path: string): string => state().rootPath(path);
  const plan = planHetzner({
    serverType: 'cx23',
    serverName: 'db-e2e',
    instances: seedInstances,
    namePrefix: 'vw_',
    pgConfig: { max_connections: 60, log_connections: true },
  });
  const url = (user: string, password: string, database: string, sslmode = SslMode.VerifyFull, caFile?: string): string => state().url(user, password, database, sslmode, caFile);

  beforeAll(async () => {
    const started = Date.now();
    // PITR against the lab's object store: pgBackRest's repository in s3://pitr/db-e2e.
    lab = await startHetznerRoot({ plan, backup: { keep: 2, maxAgeDays: 7 }, pitr: { bucket: 'pitr', prefix: 'db-e2e' }, log: progress });
    // Logins: passwords stay here; the user data gets verifiers only.
    expect(lab.userData).not.toContain(lab.adminPassword);
    for (const p of Object.values(lab.passwords)) expect(lab.userData).not.toContain(p);
    progress(`setup finished in ${Math.round((Date.now() - started) / 1000)} s`);
  }, 540_000);

  /** Certificates from the plan (SANs: the "private IP" 127.0.0.2 and the server name), as @pulumi/tls makes them. */
  const certificates = (options: CertificateOptions = {}): Promise<CertificateFiles> => hetznerRootCertificates(plan, options);
  /** A client's sslrootcert file holding a CA. */
  const caFileOf = (certs: CertificateFiles, name: string): string => state().clientFile(name, certs.caCertPem);
  /** The setup payload of a later deployment: the same settings with these changes. */
  const setupScriptWith = (changes: Partial<CloudConfigSettings>): string => renderCloudConfig({ ...state().settings, ...changes }).setupScript;
  /** The payload of a deployment that renewed the certificate (or the CA with it). */
  const withCertificates = (certs: CertificateFiles): Partial<CloudConfigSettings> => ({ serverCertPem: certs.serverCertPem, serverKeyPem: certs.serverKeyPem, caCertPem: certs.caCertPem });
  /** SHA-256 fingerprint of the certificate the server presents (PostgreSQL's SSLRequest, then a TLS handshake that does not verify). */
  const servedFingerprint = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = connect(5432, LISTEN, () => {
        const request = Buffer.alloc(8);
        request.writeInt32BE(8, 0);
        request.writeInt32BE(80877103, 4);
        socket.write(request);
      });
      socket.on('error', reject);
      socket.once('data', (answer) => {
        if (answer.toString() !== 'S') return reject(new Error(`the server refused TLS: ${answer.toString()}`));
        const secure = tlsConnect({ socket, rejectUnauthorized: false }, () => {
          resolve(secure.getPeerCertificate().fingerprint256);
          secure.destroy();
        });
        secure.on('error', reject);
      });
    });
  const fingerprintOf = (pem: string): string => new X509Certificate(pem).fingerprint256;
  const startTime = async (): Promise<string> => {
    const r = await psql(url(plan.adminUser, state().adminPassword, 'postgres'), 'SELECT pg_postmaster_start_time();');
    expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
    return r.stdout.trim();
  };

  const stopServer = (): Promise<void> => state().stopServer();

  afterAll(async () => {
    await lab?.stop();
    progress('cleaned up');
  }, 60_000);

  test('the first run creates the cluster on the volume, the admin role and the instances', () => {
    expect(state().firstRun).toMatch(/changed: created cluster 15\/main in \/var\/lib\/postgresql\/15\/main/);
    expect(state().firstRun).toMatch(/changed: created role pgadmin/);
    expect(state().firstRun).toMatch(/changed: created role vw_blog/);
    if (state().loop) {
      expect(state().firstRun).toMatch(/changed: mounted .* at \/var\/lib\/postgresql/);
      expect(inRoot(['findmnt', '-n', '-o', 'SOURCE', '/var/lib/postgresql']).out.trim()).toBe(state().loop);
    }
    expect(inRoot(['test', '-f', '/var/lib/postgresql/15/main/PG_VERSION']).code).toBe(0);
    expect(inRoot(['sh', '-c', 'stat -c %a:%U /etc/postgresql/15/main/server.key']).out.trim()).toBe('600:postgres');
  });

  test('every seed instance connects with its URL over verify-full and sees only its own database', async () => {
    for (const inst of plan.server.instances) {
      const u = url(inst.login.name, state().passwords[inst.login.name]!, inst.database);
      const r = await psql(u, 'SELECT current_user, current_database(), ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid();');
      expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
      expect(r.stdout.trim()).toBe(`${inst.login.name}|${inst.database}|t|${r.stdout.trim().split('|')[3]}`);
      expect(r.stdout).toMatch(/\|TLSv1\.[23]$/m);
      const other = plan.server.instances.find((o) => o !== inst)!;
      const denied = await psql(url(inst.login.name, state().passwords[inst.login.name]!, other.database), 'SELECT 1');
      expect(denied.stderr).toMatch(/permission denied for database|not have CONNECT privilege/);
    }
    progress('3 instances connected with verify-full');
  });

  test('the admin logs in with verify-full, is not a superuser, and its password is stored as a SCRAM verifier only', async () => {
    const r = await psql(url(plan.adminUser, state().adminPassword, 'postgres'), 'SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user;');
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
    const r = await psql(url(inst.login.name, state().passwords[inst.login.name]!, inst.database, SslMode.Disable), 'SELECT 1');
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
        password: state().passwords[inst.login.name]!,
        database: inst.database,
        // verify-full as in libpq: the CA, and the host name (127.0.0.2) against the certificate's IP SAN.
        ssl: { ca: readFileSync(state().caFile, 'utf8'), rejectUnauthorized: true, checkServerIdentity: (_host, cert) => checkServerIdentity(LISTEN, cert) },
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
      const r = await psql(url(plan.adminUser, state().adminPassword, 'postgres'),
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

  test('the nightly dump is refused when it would leave less than minFreePercent of the volume free, and writes nothing', async () => {
    const listing = (): string => inRoot(['sh', '-c', 'find /var/lib/postgresql/backups -type f | sort']).out;
    const before = listing();
    expect(applySetupScript(setupScriptWith({ backup: { keep: 2, maxAgeDays: 7, minFreePercent: 90 } })).code).toBe(0);
    const r = inRoot(['/usr/local/sbin/postgres-strategies-backup']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/not dumping vw_blog: its dump \(about \d+ MiB\) would leave less than 90 % of the volume free/);
    expect(r.out).not.toMatch(/wrote .*vw_blog-/);
    expect(listing().split('\n').filter((f) => /\/vw_|\/postgres\//.test(f))).toEqual(before.split('\n').filter((f) => /\/vw_|\/postgres\//.test(f)));
    expect(listing()).not.toMatch(/\.partial/);
    // The default (20 %) leaves room: the same run dumps again.
    expect(applySetupScript(setupScriptWith({})).code).toBe(0);
    const ok = inRoot(['/usr/local/sbin/postgres-strategies-backup']);
    expect({ code: ok.code }).toEqual({ code: 0 });
    expect(ok.out).toMatch(/wrote .*vw_blog-/);
  });

  test('certificate renewal through setupScript: an expired certificate is refused; the renewed one is served after a reload; a new CA\'s stops verifying against the old CA', async () => {
    const admin = (caFile = state().caFile): string => url(plan.adminUser, state().adminPassword, 'postgres', SslMode.VerifyFull, caFile);
    // A server that does not renew its own certificate (renewCertificateOnServer: false): only deployments renew it.
    const setupScriptWith = (changes: Partial<CloudConfigSettings>): string => renderCloudConfig({ ...state().settings, caKeyPem: undefined, ...changes }).setupScript;
    const started = await startTime();
    expect(await servedFingerprint()).toBe(fingerprintOf(state().certs.serverCertPem));

    // Day 826 without a renewal on the server: the certificate it holds has expired, and verify-full refuses it.
    const expired = await certificates({ ca: state().certs, notBefore: new Date(Date.now() - 2 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
    const dayAfter = applySetupScript(setupScriptWith(withCertificates(expired)));
    expect({ code: dayAfter.code }).toEqual({ code: 0 });
    expect(await servedFingerprint()).toBe(fingerprintOf(expired.serverCertPem));
    const refused = await psql(admin(), 'SELECT 1');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/certificate verify failed/);

    // `pulumi up` re-issued it (new key, same CA); setupScript brings it: installed, and a reload (no restart) serves it.
    const renewed = await certificates({ ca: state().certs });
    const renewal = applySetupScript(setupScriptWith(withCertificates(renewed)));
    expect({ code: renewal.code }).toEqual({ code: 0 });
    expect(renewal.out).toMatch(/changed: installed \/etc\/postgresql\/15\/main\/server\.crt/);
    expect(renewal.out).toMatch(/changed: installed \/etc\/postgresql\/15\/main\/server\.key/);
    expect(renewal.out).toMatch(/changed: reloaded the server/);
    expect(renewal.out).not.toMatch(/restarted/);
    expect(await servedFingerprint()).toBe(fingerprintOf(renewed.serverCertPem));
    const verified = await psql(admin(), 'SELECT 1');
    expect({ code: verified.code, err: verified.stderr }).toEqual({ code: 0, err: '' });
    expect(await startTime()).toBe(started);
    // The same payload again changes nothing.
    expect(applySetupScript(setupScriptWith(withCertificates(renewed))).out).toMatch(/setup done: 0 changes/);

    // A new CA (its own renewal, or a replaced CA key): the new certificate stops verifying against the old CA.
    const rotated = await certificates();
    expect(applySetupScript(setupScriptWith(withCertificates(rotated))).code).toBe(0);
    expect(await servedFingerprint()).toBe(fingerprintOf(rotated.serverCertPem));
    const oldCa = await psql(admin(), 'SELECT 1');
    expect(oldCa.code).not.toBe(0);
    expect(oldCa.stderr).toMatch(/certificate verify failed/);
    const newCa = await psql(admin(caFileOf(rotated, 'rotated-ca.pem')), 'SELECT 1');
    expect({ code: newCa.code, err: newCa.stderr }).toEqual({ code: 0, err: '' });

    // Back to the first CA for the tests that follow (and the user data the last test boots from), renewing again.
    expect(applySetupScript(renderCloudConfig({ ...state().settings, ...withCertificates(state().certs) }).setupScript).code).toBe(0);
    expect(await servedFingerprint()).toBe(fingerprintOf(state().certs.serverCertPem));
    expect(await startTime()).toBe(started);
    progress('certificate renewal: expired refused, renewed served after a reload, old CA refused for a new CA');
  });

  test('the server renews its own certificate past the renewal window (timer and setup), from the CA key it holds: same key and names, 825 days, verify-full, no restart', async () => {
    const admin = url(plan.adminUser, state().adminPassword, 'postgres');
    const started = await startTime();
    const served = (): string => inRoot(['cat', '/etc/postgresql/15/main/server.crt']).out;
    const renewTimer = (): { code: number; out: string } => inRoot(['/usr/local/sbin/postgres-strategies-setup', '--renew-certificate']);
    /** What the server holds on a day its clock has passed the window: a certificate (of our CA and key) valid until `notAfter`. */
    const holding = async (notAfter: Date): Promise<CertificateFiles> => {
      const old = await certificates({ ca: state().certs, notBefore: new Date(notAfter.getTime() - 825 * 86400_000), notAfter });
      // The certificate Pulumi issued, with its key, as the last setupScript of a server that did not renew (CERT_RENEW=0) left it.
      expect(applySetupScript(renderCloudConfig({ ...state().settings, caKeyPem: undefined, ...withCertificates(old) }).setupScript).code).toBe(0);
      expect(await servedFingerprint()).toBe(fingerprintOf(old.serverCertPem));
      // The renewal settings back (what the user data of a renewing server holds), without renewing yet.
      writeFileSync(rootPath('etc/postgres-strategies/setup.conf'), renderCloudConfig(state().settings).files.find((f) => f.path.endsWith('setup.conf'))!.content);
      return old;
    };
    const expectRenewedFrom = async (old: CertificateFiles): Promise<void> => {
      const now = new X509Certificate(served());
      const was = new X509Certificate(old.serverCertPem);
      expect(now.fingerprint256).not.toBe(was.fingerprint256);
      expect(await servedFingerprint()).toBe(now.fingerprint256);
      // Same key, subject and names; signed by our CA; 825 days from now.
      expect(now.publicKey.export({ type: 'spki', format: 'pem' })).toBe(was.publicKey.export({ type: 'spki', format: 'pem' }));
      expect([now.subject, now.subjectAltName]).toEqual([was.subject, was.subjectAltName]);
      expect(now.verify(new X509Certificate(state().certs.caCertPem).publicKey)).toBe(true);
      expect(Math.round((Date.parse(now.validTo) - Date.now()) / 86400_000)).toBe(825);
      expect(now.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
      const verified = await psql(admin, 'SELECT 1');
      expect({ code: verified.code, err: verified.stderr }).toEqual({ code: 0, err: '' });
      // The setup's source holds it too: the next setup run keeps it (0 changes).
      expect(inRoot(['cat', '/etc/postgres-strategies/server.crt']).out).toBe(served());
      expect(inRoot(['/usr/local/sbin/postgres-strategies-setup']).out).toMatch(/setup done: 0 changes/);
      expect(await startTime()).toBe(started);
    };

    // Outside the window (a fresh certificate): the timer changes nothing.
    expect(inRoot(['grep', '-x', 'CERT_RENEW=1', '/etc/postgres-strategies/setup.conf']).code).toBe(0);
    const fresh = renewTimer();
    expect({ code: fresh.code, out: fresh.out.trim() }).toEqual({ code: 0, out: 'postgres-strategies: certificate check done: 0 changes' });

    // Day 816: 10 days left, inside the 30-day window. The daily timer renews it; a reload serves it.
    const day816 = await holding(new Date(Date.now() + 10 * 86400_000));
    const timer = renewTimer();
    expect({ code: timer.code }).toEqual({ code: 0 });
    expect(timer.out).toMatch(/changed: renewed the server certificate from the CA/);
    expect(timer.out).toMatch(/changed: reloaded the server/);
    await expectRenewedFrom(day816);
    expect(renewTimer().out).toMatch(/certificate check done: 0 changes/);

    // Day 826: the server was off, or the timer did not run: the certificate it serves expired yesterday, and
    // verify-full refuses it. The timer's next run (Persistent=true: at boot) renews it.
    const day826 = await holding(new Date(Date.now() - 86400_000));
    const refused = await psql(admin, 'SELECT 1');
    expect(refused.stderr).toMatch(/certificate verify failed/);
    expect(renewTimer().code).toBe(0);
    await expectRenewedFrom(day826);

    // A setupScript that brings the older certificate Pulumi issued (inside the window) installs it and renews it at once.
    const pulumis = await certificates({ ca: state().certs, notBefore: new Date(Date.now() - 800 * 86400_000), notAfter: new Date(Date.now() + 25 * 86400_000) });
    const setup = applySetupScript(setupScriptWith(withCertificates(pulumis)));
    expect({ code: setup.code }).toEqual({ code: 0 });
    expect(setup.out).toMatch(/changed: installed \/etc\/postgresql\/15\/main\/server\.crt[\s\S]*changed: renewed the server certificate from the CA/);
    await expectRenewedFrom(pulumis);

    // A CA in its last days cannot sign a certificate that outlives it: the run fails and says what to do.
    const dyingCa = await makeCertificates({ ...planServerCertificates({ dnsNames: ['db-e2e'], ipAddresses: [LISTEN], caValidityDays: 20, serverValidityDays: 10 }) });
    expect(applySetupScript(renderCloudConfig({ ...state().settings, ...withCertificates(dyingCa), caKeyPem: dyingCa.caKeyPem }).setupScript).code).toBe(1);
    const dying = renewTimer();
    expect(dying.code).toBe(1);
    // 20 days from the CA's issue, counted in whole days by the server's clock (19 or 20 by when it runs).
    const said = /the CA expires in (\d+) days: .*renew the CA .*new caPem/.exec(dying.out);
    expect(said).not.toBeNull();
    expect(Number(said![1])).toBeGreaterThanOrEqual(18);
    expect(Number(said![1])).toBeLessThanOrEqual(20);

    // Back to the first CA and its certificate for the tests that follow.
    expect(applySetupScript(setupScriptWith(withCertificates(state().certs))).code).toBe(0);
    expect(await servedFingerprint()).toBe(fingerprintOf(state().certs.serverCertPem));
    progress('the server renewed its own certificate at day 816 (timer), day 826 (expired) and after an older setupScript');
  });

  test('volumeSize growth: the setup grows the filesystem to the larger volume (online where the kernel allows it); df shows it and the data stays', async () => {
    if (!state().loop) return progress('skipped: no loop device (the volume is a directory)');
    const blog = plan.server.instances[0]!;
    const blogUrl = url(blog.login.name, state().passwords[blog.login.name]!, blog.database);
    const write = await psql(blogUrl, 'CREATE TABLE grown (x int); INSERT INTO grown SELECT generate_series(1, 1000);');
    expect({ code: write.code, err: write.stderr }).toEqual({ code: 0, err: '' });
    const size = (): number => Number(inRoot(['df', '--output=size', '-B1M', '/var/lib/postgresql']).out.trim().split('\n').pop());
    const before = size();
    expect(before).toBeLessThan(256);
    // Hetzner grows the volume (volumeSize 20 → 40 does the same to its block device).
    await runOk('truncate', ['-s', '512M', state().image]);
    await runOk('losetup', ['-c', state().loop]);
    const started = await startTime();
    const run = applySetupScript(setupScriptWith({}));
    const grew = new RegExp(`changed: grew the filesystem on ${state().loop} from \\d+ MiB to 512 MiB \\((online|offline: PostgreSQL was not running)\\)`);
    if (ONLINE_RESIZE) {
      // A server's root: resize2fs grows the mounted filesystem, and PostgreSQL keeps running.
      expect({ code: run.code, grew: grew.exec(run.out)?.[1] }).toEqual({ code: 0, grew: 'online' });
      expect(await startTime()).toBe(started);
    } else {
      // This sandbox lacks CAP_SYS_RESOURCE, which the kernel wants for an online resize: the setup
      // says so and how to go on; with PostgreSQL stopped, the next run grows it unmounted.
      expect(run.code).toBe(1);
      expect(run.out).toMatch(/resize2fs: Permission denied to resize filesystem/);
      expect(run.out).toMatch(new RegExp(`could not grow the filesystem on ${state().loop} online \\(from \\d+ MiB to 512 MiB\\)`));
      expect(run.out).toMatch(/stop PostgreSQL \(pg_ctlcluster 15 main stop\) and run this setup again/);
      expect(inRoot(['pg_ctlcluster', '15', 'main', 'stop']).code).toBe(0);
      const offline = applySetupScript(setupScriptWith({}));
      expect({ code: offline.code, grew: grew.exec(offline.out)?.[1] }).toEqual({ code: 0, grew: 'offline: PostgreSQL was not running' });
      expect(offline.out).toMatch(/started the server/);
      progress('online resize not permitted here (no CAP_SYS_RESOURCE): grown offline');
    }
    const after = size();
    // df counts what ext4 leaves after its own metadata: about 92 % of the device, before and after.
    expect(after).toBeGreaterThan(before + 200);
    const read = await psql(blogUrl, 'SELECT count(*), sum(x) FROM grown;');
    expect({ code: read.code, out: read.stdout.trim() }).toEqual({ code: 0, out: '1000|500500' });
    expect(applySetupScript(setupScriptWith({})).out).toMatch(/setup done: 0 changes/);
    progress(`volume grown online: ${before} MiB → ${after} MiB`);
  });

  test('a pgConfig change through setupScript: a reload when that applies it, a restart when the server says a setting needs one', async () => {
    const withPgConfig = (pgConfig: Record<string, number | boolean | string>): string =>
      setupScriptWith({ config: renderServerConfig({ postgresMajor: plan.postgresMajor, listenAddresses: [LISTEN], admittedCidrs: ['127.0.0.1/32'], pgConfig }) });
    const setting = (name: string): string => inRoot(['runuser', '-u', 'postgres', '--', 'psql', '-XAtc', `SHOW ${name}`]).out.trim();
    const started = await startTime();
    const reload = applySetupScript(withPgConfig({ ...plan.pgConfig, work_mem: '8MB' }));
    expect({ code: reload.code }).toEqual({ code: 0 });
    expect(reload.out).toMatch(/changed: reloaded the server/);
    expect(reload.out).not.toMatch(/restart/);
    expect(setting('work_mem')).toBe('8MB');
    expect(await startTime()).toBe(started);
    const restart = applySetupScript(withPgConfig({ ...plan.pgConfig, work_mem: '8MB', max_connections: 70 }));
    expect({ code: restart.code }).toEqual({ code: 0 });
    expect(restart.out).toMatch(/changed settings that need a restart: max_connections/);
    expect(restart.out).toMatch(/changed: restarted the server/);
    expect(setting('max_connections')).toBe('70');
    expect(await startTime()).not.toBe(started);
    // Back to the deployed settings (max_connections 60 needs a restart again).
    expect(applySetupScript(setupScriptWith({})).out).toMatch(/changed: restarted the server/);
    expect(setting('max_connections')).toBe('60');
  });

  test('a setup for another PostgreSQL major refuses to leave the volume\'s cluster for an empty one', async () => {
    const blog = plan.server.instances[0]!;
    const blogUrl = url(blog.login.name, state().passwords[blog.login.name]!, blog.database);
    // A debian-13 user data (PostgreSQL 17) reaching this volume, as a replaced server's would.
    const major17 = setupScriptWith({ config: renderServerConfig({ postgresMajor: 17, listenAddresses: [LISTEN], admittedCidrs: ['127.0.0.1/32'], pgConfig: plan.pgConfig }) });
    const refused = applySetupScript(major17);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/the volume holds a PostgreSQL 15 cluster \(\/var\/lib\/postgresql\/15\/main\) and this server is set up for PostgreSQL 17: not creating an empty cluster beside it/);
    expect(refused.out).toMatch(/postgresMajorUpgradeFrom: 15/);
    expect(refused.out).not.toMatch(/installed postgresql-17|created cluster/);
    expect(inRoot(['test', '-e', '/var/lib/postgresql/17']).code).not.toBe(0);
    const read = await psql(blogUrl, 'SELECT current_setting(\'server_version_num\')::int / 10000;');
    expect({ code: read.code, out: read.stdout.trim() }).toEqual({ code: 0, out: '15' });
    // The right payload puts the files back.
    expect(applySetupScript(setupScriptWith({})).out).toMatch(/setup done: 0 changes/);
  });

  test('a new server on the same volume (re-provisioning) adopts the cluster: data, roles and passwords survive', async () => {
    const blog = plan.server.instances[0]!;
    const blogUrl = url(blog.login.name, state().passwords[blog.login.name]!, blog.database);
    const write = await psql(blogUrl, 'CREATE TABLE survives (x int); INSERT INTO survives VALUES (42);');
    expect({ code: write.code, err: write.stderr }).toEqual({ code: 0, err: '' });
    await stopServer();
    const second = await state().bootServer('second');
    expect(second).toMatch(/changed: adopted the cluster in \/var\/lib\/postgresql\/15\/main/);
    expect(second).not.toMatch(/created cluster|created role/);
    const read = await psql(blogUrl, 'SELECT x FROM survives;');
    expect({ code: read.code, out: read.stdout.trim(), err: read.stderr }).toEqual({ code: 0, out: '42', err: '' });
    const admin = await psql(url(plan.adminUser, state().adminPassword, 'postgres'), 'SELECT 1');
    expect(admin.code).toBe(0);
    progress('second server adopted the cluster on the volume');
  });

  test('PITR with pgBackRest: write, note T, write more, lose the data directory, restore to T: exactly the rows at T', async () => {
    expect(state().firstRun).toMatch(/changed: installed \/etc\/pgbackrest\.conf/);
    expect(state().firstRun).toMatch(/changed: created pgBackRest stanza main/);
    expect(state().firstRun).toMatch(/changed: took the first full backup \(pgBackRest\)/);
    const blog = plan.server.instances[0]!;
    const blogUrl = url(blog.login.name, state().passwords[blog.login.name]!, blog.database);
    const asPostgres = (sql: string): string => {
      const r = inRoot(['runuser', '-u', 'postgres', '--', 'psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
      expect({ code: r.code, out: r.out }).toMatchObject({ code: 0 });
      return r.out.trim();
    };
    expect(asPostgres('SHOW archive_mode')).toBe('on');
    const before = await psql(blogUrl, 'CREATE TABLE pitr (n int PRIMARY KEY); INSERT INTO pitr SELECT generate_series(1, 100);');
    expect({ code: before.code, err: before.stderr }).toEqual({ code: 0, err: '' });
    const t = asPostgres("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'");
    await new Promise((r) => setTimeout(r, 1500));
    const after = await psql(blogUrl, 'INSERT INTO pitr SELECT generate_series(101, 150); DELETE FROM pitr WHERE n <= 10;');
    expect({ code: after.code, err: after.stderr }).toEqual({ code: 0, err: '' });
    // A differential backup by the command its systemd unit runs (as postgres).
    const unit = readFileSync(rootPath(pitrUnitPath('diff', 'service')), 'utf8');
    const execStart = /^ExecStart=(.*)$/m.exec(unit)![1]!.split(' ');
    const diff = inRoot(['runuser', '-u', 'postgres', '--', ...execStart]);
    expect({ code: diff.code, out: diff.out }).toMatchObject({ code: 0 });
    // The WAL with the later writes reaches the repository.
    const segment = asPostgres('SELECT pg_walfile_name(pg_switch_wal())');
    for (let i = 0; i < 300 && asPostgres('SELECT coalesce(last_archived_wal, \'\') FROM pg_stat_archiver') < segment; i++) await new Promise((r) => setTimeout(r, 100));
    expect(asPostgres('SELECT last_archived_wal >= ' + `'${segment}'` + ' FROM pg_stat_archiver')).toBe('t');
    const info = inRoot(['runuser', '-u', 'postgres', '--', 'pgbackrest', '--stanza=main', 'info']).out;
    expect(info).toMatch(/full backup: /);
    expect(info).toMatch(/diff backup: /);
    // The repository is in the bucket (encrypted by pgBackRest).
    const stored = (await state().store!.getObject('pitr', 'db-e2e/backup/main/backup.info')).toString('latin1');
    expect(stored).not.toMatch(/backup-label/);

    // The data directory is lost.
    expect(inRoot(['pg_ctlcluster', '15', 'main', 'stop', '-m', 'immediate']).code).toBe(0);
    expect(inRoot(['sh', '-c', 'rm -rf /var/lib/postgresql/15/main/* && ls -A /var/lib/postgresql/15/main | wc -l']).out.trim()).toBe('0');
    const started = Date.now();
    const restore = inRoot([PITR_RESTORE_SCRIPT_PATH, t]);
    expect({ code: restore.code, out: restore.out }).toMatchObject({ code: 0 });
    expect(restore.out).toMatch(new RegExp(`restored to ${t.replace(/[.+]/g, '\\$&')}: the server runs and takes writes`));
    progress(`PITR restore to ${t} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const read = await psql(blogUrl, 'SELECT count(*), min(n), max(n) FROM pitr;');
    expect({ code: read.code, out: read.stdout.trim(), err: read.stderr }).toEqual({ code: 0, out: '100|1|100', err: '' });
    const write = await psql(blogUrl, 'INSERT INTO pitr VALUES (1000);');
    expect({ code: write.code, err: write.stderr }).toEqual({ code: 0, err: '' });
  });
});
