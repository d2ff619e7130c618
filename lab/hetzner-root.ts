/**
 * The Hetzner server, as its user data sets it up, in a Debian 12 root on
 * this machine (the e2e suite test/e2e/hetzner-setup.test.ts and the PITR
 * bench bench/pitr.ts):
 *
 * - the cached debootstrap of bookworm with Debian's postgresql-15 and
 *   pgbackrest (lab/debian-root.ts), seen through an overlay so each start
 *   is the clean root;
 * - a private mount namespace (unshare) holding the overlay, /proc and /dev;
 * - the volume: an ext4 image on a loop device, which the setup mounts by
 *   its device path through /etc/fstab as on Hetzner (or a plain directory
 *   when this machine has no loop devices);
 * - the private IP replaced by 127.0.0.2 (the server listens there only,
 *   on port 5432), the private subnet by 127.0.0.1/32 (the source address of
 *   local connections to 127.0.0.2);
 * - the document's `write_files` written by Debian's cloud-init itself (its
 *   write_files module, which also decodes the gzip + base64 files), then
 *   its `runcmd` run inside the root with chroot;
 * - with `pitr`: a real S3-compatible store on this machine (versitygw over
 *   HTTPS with a lab CA, lab/object-store.ts) and the user data's `pitr`
 *   settings pointing Debian's pgBackRest at it, so the first setup creates
 *   the stanza, takes the first full backup and archives WAL from then on.
 *
 * Logins: the admin's and the instances' passwords stay here; the user data
 * gets SCRAM verifiers only. Needs root, debootstrap, unshare, nsenter and
 * psql ({@link canRunHetznerRoot}); one root at a time per machine (port
 * 5432 on 127.0.0.2).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ConnectionDescription, libpqUrl } from '../src/core/dsn';
import { renderBootstrapSql } from '../src/core/render-sql';
import { newScramSalt, scramSha256Verifier } from '../src/core/scram';
import { SslMode } from '../src/core/tls';
import { CloudConfigSettings, DumpBackupSettings, renderCloudConfig, renderServerConfig } from '../src/hetzner/cloud-init';
import { CREATECLUSTER_CONF, CREATECLUSTER_CONF_PATH, postgresPackage } from '../src/hetzner/debian';
import { HetznerPlan } from '../src/hetzner/plan';
import { credentialsFor } from '../test/integration/support';
import { CertificateFiles, CertificateOptions, makeCertificates } from './certs';
import { DEBIAN_ROOT_CACHE, ensureDebianRoot } from './debian-root';
import { ObjectStoreLab, startObjectStore } from './object-store';
import { runOk } from './run';

/** The server's "private IP": it listens there (port 5432) only. */
export const HETZNER_ROOT_LISTEN = '127.0.0.2';
/** The "private subnet" pg_hba admits: local connections to 127.0.0.2 come from 127.0.0.1. */
export const HETZNER_ROOT_SUBNET = '127.0.0.1/32';

function sh(cmd: string, args: string[], input?: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Whether this machine can run the root (root user, debootstrap, unshare, nsenter, psql). */
export function canRunHetznerRoot(): boolean {
  return process.getuid?.() === 0 && sh('which', ['debootstrap', 'unshare', 'nsenter', 'psql']).code === 0;
}

/** Options of {@link startHetznerRoot}. */
export interface HetznerRootOptions {
  /** The server's plan (planHetzner): its major, admin, pgConfig, instances and certificate names. */
  plan: HetznerPlan;
  /** Size of the volume's ext4 image (sparse), in MiB. @default 256 */
  volumeMb?: number;
  /** The nightly dumps' settings of the user data. @default the setup's defaults */
  backup?: DumpBackupSettings;
  /**
   * PITR on: an object store is started with this bucket and the user
   * data's `pitr` points at `s3://<bucket>/<prefix>` in it. @default off
   */
  pitr?: { bucket: string; prefix: string; retentionDays?: number };
  /** Where the object store keeps its objects. @default the OS temp directory */
  storeParentDir?: string;
  /** Progress lines. @default none */
  log?: (line: string) => void;
}

/** A running root: what a test or bench does to the server and from outside it. */
export interface HetznerRootLab {
  /** This run's directory (volume image, overlay layers, client files); removed by {@link stop}. */
  readonly work: string;
  /** The loop device of the volume, or `''` when the volume is a directory. */
  readonly loop: string;
  /** The volume's image file. */
  readonly image: string;
  /** The certificates the user data gave the server, and the CA file clients verify it with. */
  readonly certs: CertificateFiles;
  readonly caFile: string;
  readonly adminPassword: string;
  /** Login → password of the plan's instances. */
  readonly passwords: Record<string, string>;
  /** What the user data was rendered from: later deployments' setupScript is rendered from it. */
  readonly settings: CloudConfigSettings;
  readonly userData: string;
  /** What the first boot's runcmd printed. */
  readonly firstRun: string;
  /** The object store holding pgBackRest's repository (with `pitr`). */
  readonly store: ObjectStoreLab | undefined;
  /** A libpq URL to the server (127.0.0.2:5432), verify-full against the CA by default. */
  url(user: string, password: string, database: string, sslmode?: SslMode, caFile?: string): string;
  /** The admin's URL to a database. */
  adminUrl(database: string): string;
  /** The admin's connection to a database (verify-full). */
  admin(database?: string): ConnectionDescription;
  /** Runs a command in the root (the holder's mount namespace, chroot). */
  inRoot(args: string[], input?: string): { code: number; out: string };
  /** Starts a command in the root without waiting for it (stdio piped). */
  spawnInRoot(args: string[]): ChildProcess;
  /** A path inside the root as this process sees it (through the holder's /proc/<pid>/root). */
  rootPath(path: string): string;
  /** Writes a client file (e.g. a CA for sslrootcert) into {@link work}; returns its path. */
  clientFile(name: string, content: string): string;
  /**
   * A fresh "server": a new namespace and overlay of the clean root (its
   * own upper layer under <work>/<label>), the document's write_files, then
   * its runcmd. Returns what runcmd printed.
   */
  bootServer(label: string): Promise<string>;
  /** Stops the server and ends its namespace (which unmounts the volume and the root). */
  stopServer(): Promise<void>;
  /** Stops everything: the server, the loop device, the store; removes {@link work}. */
  stop(): Promise<void>;
}

/** Certificates from the plan with the loopback "private IP" as IP SAN (as @pulumi/tls makes them). */
export function hetznerRootCertificates(plan: HetznerPlan, options: CertificateOptions = {}): Promise<CertificateFiles> {
  return makeCertificates({ ...plan.certificates, server: { ...plan.certificates.server, ipAddresses: [HETZNER_ROOT_LISTEN] } }, options);
}

const holders = new Set<ChildProcess>();
process.on('exit', () => holders.forEach((h) => h.kill('SIGKILL')));

/**
 * Builds the root once per machine, starts the store (with `pitr`), makes
 * the volume and the certificates, renders the user data and boots the
 * first server from it.
 * @throws when the machine cannot run it, port 5432 on 127.0.0.2 is taken,
 *   or a runcmd fails (with its output); what was started is stopped.
 */
export async function startHetznerRoot(options: HetznerRootOptions): Promise<HetznerRootLab> {
  const { plan } = options;
  const log = options.log ?? ((): void => undefined);
  if (!canRunHetznerRoot()) throw new Error('the Hetzner root needs root, debootstrap, unshare, nsenter and psql');
  // pgbackrest in the root: what the setup installs for `pitr` (its apt-get install then finds it installed).
  const root = await ensureDebianRoot({ packages: [postgresPackage(plan.postgresMajor), 'pgbackrest'], preseedFiles: { [CREATECLUSTER_CONF_PATH]: CREATECLUSTER_CONF }, log });
  const busy = sh('ss', ['-Hltn', 'sport = :5432']).out.split('\n').filter((l) => /(\*|0\.0\.0\.0|\[::\]|127\.0\.0\.2):5432/.test(l));
  if (busy.length > 0) throw new Error(`port 5432 on ${HETZNER_ROOT_LISTEN} is taken: ${busy.join('; ')}`);
  const store = options.pitr ? await startObjectStore({ buckets: [options.pitr.bucket], ...(options.storeParentDir ? { parentDir: options.storeParentDir } : {}) }) : undefined;
  const work = mkdtempSync(join(DEBIAN_ROOT_CACHE, 'run-'));
  const state = { holder: undefined as ChildProcess | undefined, merged: '', loop: '', firstRun: '' };
  const inRoot = (args: string[], input?: string): { code: number; out: string } => sh('nsenter', ['-t', String(state.holder!.pid), '-m', 'chroot', state.merged, ...args], input);
  const rootPath = (path: string): string => join('/proc', String(state.holder!.pid), 'root', state.merged, path);
  const inNs = async (args: string[]): Promise<void> => {
    await runOk('nsenter', ['-t', String(state.holder!.pid), '-m', ...args]);
  };
  const clientFile = (name: string, content: string): string => {
    const file = join(work, name);
    writeFileSync(file, content);
    return file;
  };

  const stopServer = async (): Promise<void> => {
    const holder = state.holder;
    if (!holder?.pid) return;
    inRoot(['pg_ctlcluster', String(plan.postgresMajor), 'main', 'stop', '-m', 'fast']);
    // A server left behind (a failed stop) would keep the namespace: stop it by its pid file.
    const pidFile = rootPath(`var/lib/postgresql/${plan.postgresMajor}/main/postmaster.pid`);
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (pid > 0) sh('kill', ['-INT', String(pid)]);
      log(`warning: the server (pid ${pid}) was still running after pg_ctlcluster stop`);
    }
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    holders.delete(holder);
    state.holder = undefined;
  };

  let userData = '';
  const bootServer = async (label: string): Promise<string> => {
    const dir = join(work, label);
    state.merged = join(dir, 'merged');
    for (const d of ['upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
    // The namespace holder, then the overlay root with /proc and /dev.
    state.holder = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', 'infinity'], { stdio: 'ignore' });
    holders.add(state.holder);
    await new Promise((r) => setTimeout(r, 200));
    await inNs(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${root},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, state.merged]);
    await inNs(['mount', '-t', 'proc', 'proc', join(state.merged, 'proc')]);
    await inNs(['mount', '--rbind', '/dev', join(state.merged, 'dev')]);
    // cloud-init's write_files, by Debian's cloud-init itself (it decodes the gz+b64 files), into the root.
    const doc = parse(userData) as { write_files: Array<{ path: string }>; runcmd: string[][] };
    const files = doc.write_files.map((f) => ({ ...f, path: rootPath(f.path) }));
    await runOk('/usr/bin/python3', ['-c', 'import json, sys\nfrom cloudinit.config.cc_write_files import write_files\nwrite_files("write_files", json.load(sys.stdin), "root:root")'], { input: JSON.stringify(files) });
    // cloud-init's runcmd.
    log(`${label} server: running runcmd: ${doc.runcmd.map((c) => c.join(' ')).join('; ')}`);
    const outputs: string[] = [];
    for (const cmd of doc.runcmd) {
      const r = inRoot(cmd);
      outputs.push(r.out);
      if (r.code !== 0) throw new Error(`runcmd ${cmd.join(' ')} exited ${r.code}:\n${r.out}`);
    }
    log(inRoot(['pg_lsclusters']).out.trim());
    return outputs.join('\n');
  };

  const stop = async (): Promise<void> => {
    await stopServer();
    if (state.loop) {
      for (let i = 0; i < 10 && sh('losetup', ['-d', state.loop]).code !== 0; i++) spawnSync('sleep', ['0.5']);
    }
    if (existsSync(work)) rmSync(work, { recursive: true, force: true });
    await store?.stop();
  };

  try {
    // The volume: an ext4 image on a loop device (Hetzner formats the volume; so do we).
    const image = join(work, 'volume.img');
    const loop = sh('sh', ['-c', `truncate -s ${options.volumeMb ?? 256}M '${image}' && mkfs.ext4 -q -F '${image}' && losetup --find --show '${image}'`]);
    state.loop = loop.code === 0 ? loop.out.trim() : '';
    log(state.loop ? `volume: ext4 image on ${state.loop}` : `volume: no loop device here (${loop.out.trim()}), using a directory`);

    const certs = await hetznerRootCertificates(plan);
    const caFile = clientFile('ca.pem', certs.caCertPem);
    const adminPassword = randomBytes(18).toString('base64url');
    const credentials = credentialsFor(plan.server.instances, () => randomBytes(18).toString('base64url'));
    const settings: CloudConfigSettings = {
      // The server's config as the plan renders it, with the loopback stand-ins for the private IP and subnet.
      config: renderServerConfig({ postgresMajor: plan.postgresMajor, listenAddresses: [HETZNER_ROOT_LISTEN], admittedCidrs: [HETZNER_ROOT_SUBNET], pgConfig: plan.pgConfig }),
      volumeDevice: state.loop,
      adminUser: plan.adminUser,
      adminVerifier: scramSha256Verifier(adminPassword, newScramSalt()),
      serverCertPem: certs.serverCertPem,
      serverKeyPem: certs.serverKeyPem,
      caCertPem: certs.caCertPem,
      // The server renews its own certificate (HetznerPostgres' default): the CA key, 825 days from 30 days before.
      caKeyPem: certs.caKeyPem,
      certificateValidityDays: 825,
      certificateRenewBeforeDays: 30,
      ...(plan.server.instances.length > 0 ? { bootstrapSql: renderBootstrapSql(plan.server.instances, { verifiers: credentials.verifiers }) } : {}),
      ...(options.backup ? { backup: options.backup } : {}),
      // pgBackRest verifies the store's certificate by DNS name: localhost (the lab certificate names it).
      ...(store && options.pitr
        ? {
            pitr: {
              endpoint: `https://localhost:${store.port}`,
              location: `s3://${options.pitr.bucket}/${options.pitr.prefix}`,
              accessKeyId: store.accessKeyId,
              secretAccessKey: store.secretAccessKey,
              encryptionKey: randomBytes(32).toString('base64'),
              caPem: store.certificates.caCertPem,
              ...(options.pitr.retentionDays !== undefined ? { retentionDays: options.pitr.retentionDays } : {}),
            },
          }
        : {}),
    };
    userData = renderCloudConfig(settings).userData;
    state.firstRun = await bootServer('first');
    const url = (user: string, password: string, database: string, sslmode = SslMode.VerifyFull, caFileOfClient = caFile): string => {
      const c: ConnectionDescription = { hosts: [{ host: HETZNER_ROOT_LISTEN, port: 5432 }], database, user, password, tls: { sslmode, sslrootcert: caFileOfClient }, connectTimeoutSeconds: 5, applicationName: 'hetzner-root' };
      if (sslmode === SslMode.Disable) c.tls = { sslmode };
      return libpqUrl(c);
    };
    const admin = (database = 'postgres'): ConnectionDescription => ({
      hosts: [{ host: HETZNER_ROOT_LISTEN, port: 5432 }],
      database,
      user: plan.adminUser,
      password: adminPassword,
      tls: { sslmode: SslMode.VerifyFull, sslrootcert: caFile },
      connectTimeoutSeconds: 5,
      applicationName: 'hetzner-root',
    });
    return {
      work,
      loop: state.loop,
      image,
      certs,
      caFile,
      adminPassword,
      passwords: credentials.passwords,
      settings,
      userData,
      firstRun: state.firstRun,
      store,
      url,
      adminUrl: (database) => libpqUrl(admin(database)),
      admin,
      inRoot,
      spawnInRoot: (args) => spawn('nsenter', ['-t', String(state.holder!.pid), '-m', 'chroot', state.merged, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
      rootPath,
      clientFile,
      bootServer,
      stopServer,
      stop,
    };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}
