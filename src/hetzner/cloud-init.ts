/**
 * The `#cloud-config` user data of a self-managed PostgreSQL server on
 * Hetzner Cloud (pure, no Pulumi import), rendered with the `yaml` library.
 *
 * The document only writes files (`write_files`) and runs one program
 * (`runcmd`): `/usr/local/sbin/postgres-strategies-setup` (see scripts.ts),
 * which mounts the volume, installs Debian's PostgreSQL package, creates the
 * cluster on the volume, installs the files below and starts the server.
 * The same program, run again, applies changed files and changes nothing
 * otherwise.
 *
 * Files (all under /etc/postgres-strategies, root-only unless said):
 * - `setup.conf`, `backup.conf`: the settings of the two programs;
 * - `postgresql.conf`: listen_addresses = the private IP only (or `*` with
 *   `publicAccess`), port 5432, password_encryption = scram-sha-256, ssl = on,
 *   ssl_min_protocol_version = TLSv1.2, then the user's `pgConfig` (checked
 *   like every strategy's: keys against injection, managed keys refused);
 * - `pg_hba.conf`: `local` peer for `postgres`, `hostnossl` rejected,
 *   `hostssl` + scram-sha-256 from the private subnet and the given CIDRs,
 *   `reject` for everything else;
 * - `server.crt`, `server.key`, `ca.crt`: the TLS files; `ca.key`, the CA's
 *   private key, when the server renews its own certificate (the daily
 *   `postgres-strategies-renew-cert.timer`, see scripts.ts);
 * - `admin.sql`: creates or updates the admin role from its SCRAM verifier
 *   (never a plain password: user data is readable from the metadata
 *   service, http://169.254.169.254/hetzner/v1/userdata, by any process on the server);
 * - `bootstrap.sql` (optional): the instances' idempotent bootstrap script;
 * - a drop-in of Debian's `createcluster.conf`, so that the package creates no cluster.
 *
 * The same files also come as a shell program (`setupScript`): it writes
 * them as they are now and runs the setup, on a server that booted long ago.
 * That is how a pgConfig or pg_hba change and a newer setup program reach a
 * running server (and a certificate Pulumi re-issued, on a server that does
 * not renew its own): Hetzner cannot change the user data of a server, only
 * replace the server.
 *
 * Hetzner accepts at most 32 KiB of user data; the renderer checks it, and
 * writes files over 1 KiB gzip-compressed (`encoding: gz+b64`).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { stringify } from 'yaml';
import { check } from '../core/errors';
import { quoteIdent, quoteLiteral } from '../core/identifiers';
import { isScramVerifier } from '../core/scram';
import { shellQuote } from '../core/shell';
import {
  ConfValue,
  HbaMethod,
  HbaRule,
  HbaType,
  MANAGED_CONF_KEYS,
  renderPgHba,
  renderPostgresqlConf,
  standardHba,
  tlsServerSettings,
  validatePgConfig,
} from '../core/server-config';
import { CREATECLUSTER_CONF, CREATECLUSTER_CONF_PATH, postgresPackage } from './debian';
import {
  PGBACKREST_CA_PATH,
  PITR_POSTGRESQL_CONF,
  PITR_RESTORE_SCRIPT,
  PITR_RESTORE_SCRIPT_PATH,
  PitrOptions,
  pitrUnitPath,
  pitrUnits,
  planPitr,
  renderPgbackrestConf,
} from './backup';
import {
  BACKUP_SCRIPT,
  BACKUP_SCRIPT_PATH,
  BACKUP_SERVICE,
  BACKUP_SERVICE_PATH,
  BACKUP_TIMER_PATH,
  RENEW_SERVICE,
  RENEW_SERVICE_PATH,
  RENEW_TIMER,
  RENEW_TIMER_PATH,
  SETUP_DIR,
  SETUP_SCRIPT,
  SETUP_SCRIPT_PATH,
  backupTimer,
  renderShellSettings,
} from './scripts';

/** Hetzner's limit for user data, in bytes. */
export const USER_DATA_LIMIT_BYTES = 32 * 1024;

/**
 * Files larger than this (bytes) are written gzip-compressed and base64-encoded
 * (cloud-init's `encoding: gz+b64`): the setup program and the bootstrap SQL
 * would otherwise leave little of the 32 KiB for instances.
 */
export const COMPRESS_FILES_OVER_BYTES = 1024;

/** A file as cloud-init's write_files takes it: plain, or gzip + base64 when large. */
function writeFilesEntry(f: WrittenFile): Record<string, string> {
  const large = Buffer.byteLength(f.content, 'utf8') > COMPRESS_FILES_OVER_BYTES;
  return {
    path: f.path,
    ...(large ? { encoding: 'gz+b64', content: gzipSync(f.content, { level: 9 }).toString('base64') } : { content: f.content }),
    owner: 'root:root',
    permissions: f.permissions,
  };
}

/** Keys of postgresql.conf the Hetzner setup manages (in addition to the core's). */
export const HETZNER_MANAGED_CONF_KEYS: ReadonlySet<string> = new Set([
  ...MANAGED_CONF_KEYS,
  'listen_addresses',
  'password_encryption',
  'unix_socket_directories',
  'cluster_name',
]);

/** The S3-compatible bucket the nightly dumps go to. */
export interface S3BackupTarget {
  /** Endpoint URL, e.g. `https://fsn1.your-objectstorage.com` (Hetzner Object Storage). */
  endpoint: string;
  /** Bucket name. */
  bucket: string;
  /** Key prefix, e.g. `postgres/`. @default "" */
  prefix?: string;
  /** Region. @default "us-east-1" (what S3-compatible stores ignore) */
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Dumps kept per database on the volume by default (it shares its space with the data). */
export const DEFAULT_BACKUP_KEEP_ON_VOLUME = 7;
/** Dumps kept per database in a bucket by default. */
export const DEFAULT_BACKUP_KEEP_IN_BUCKET = 30;
/** Share of the volume a dump must leave free by default, in percent. */
export const DEFAULT_BACKUP_MIN_FREE_PERCENT = 20;

/** The nightly `pg_dump` of every database. */
export interface DumpBackupSettings {
  /** systemd `OnCalendar` of the timer (UTC unless a zone is given). @default "*-*-* 03:15:00 UTC" */
  schedule?: string;
  /**
   * Dumps kept per database, newest first; 0 keeps all (seed 002's `BACKUP_KEEP`).
   * @default 7 on the volume, 30 in an S3 bucket
   */
  keep?: number;
  /**
   * Free space, in percent of the volume, that must remain after a dump:
   * a database whose dump (estimated by its last dump, else its size) would
   * leave less is not dumped, the backup exits non-zero and says so, and
   * PostgreSQL keeps room to run (a full volume stops it). Dumps to a bucket
   * are staged on the volume too. 0 turns the check off.
   * @default 20
   */
  minFreePercent?: number;
  /** Dumps older than this many days are removed; 0 keeps them (seed 002's `BACKUP_MAX_AGE`). @default 0 */
  maxAgeDays?: number;
  /** Upload to this bucket instead of keeping the dumps on the volume. */
  s3?: S3BackupTarget;
}

/** What the server's postgresql.conf fragment and pg_hba.conf are rendered from. */
export interface ServerConfigSettings {
  /** PostgreSQL major of the image's Debian release (15 on debian-12). */
  postgresMajor: number;
  /** Addresses the server listens on (the private IP, or `*`). */
  listenAddresses: string[];
  /** Client networks admitted by pg_hba (the private subnet, then the given CIDRs); checked CIDRs. */
  admittedCidrs: string[];
  /** postgresql.conf overrides. @default {} */
  pgConfig?: Record<string, ConfValue>;
}

/** The server's configuration files, rendered once (the plan holds them). */
export interface HetznerServerConfig {
  /** PostgreSQL major the files are for. */
  postgresMajor: number;
  /** The conf.d fragment: the managed settings, then pgConfig. */
  postgresqlConf: string;
  /** pg_hba.conf. */
  pgHba: string;
}

/** Everything the user data is rendered from (values known at render time). */
export interface CloudConfigSettings {
  /** postgresql.conf and pg_hba.conf, from {@link renderServerConfig} (the plan's `config`). */
  config: HetznerServerConfig;
  /**
   * The major whose cluster the volume held before an explicit upgrade: the
   * setup then creates the new major's cluster beside it (otherwise it
   * refuses). @default none
   */
  upgradeFromMajor?: number;
  /** The volume's device, e.g. `/dev/disk/by-id/scsi-0HC_Volume_<id>`; empty: no volume. */
  volumeDevice: string;
  /** Where the volume is mounted; the data directory is `<mountPoint>/<major>/main`. @default "/var/lib/postgresql" */
  mountPoint?: string;
  /** Seconds the setup waits for the volume to appear. @default 300 */
  volumeWaitSeconds?: number;
  /** The admin role's name. */
  adminUser: string;
  /** The admin role's SCRAM-SHA-256 verifier (never a plain password). */
  adminVerifier: string;
  /** The server certificate (PEM; with its chain). */
  serverCertPem: string;
  /** The server's private key (PEM). */
  serverKeyPem: string;
  /** The CA (PEM), written for reference and clients on the server. */
  caCertPem: string;
  /**
   * The CA's private key (PEM): the server then renews its own certificate
   * from it, `certificateRenewBeforeDays` before it expires (a daily timer),
   * so a renewal needs no deployment and no one at the server. It is a
   * secret of the user data like the server key (the metadata service serves
   * it to local processes). @default none: the certificate is renewed only
   * by a deployment's setupScript
   */
  caKeyPem?: string;
  /** Validity of a certificate the server renews, in days (the component's server certificate's). @default 825 */
  certificateValidityDays?: number;
  /** Days before its expiry from which the server renews its certificate. @default 30 */
  certificateRenewBeforeDays?: number;
  /** The instances' bootstrap SQL (from render-sql), run after the admin role. */
  bootstrapSql?: string;
  /** The nightly dumps. @default keep 7, no age limit, on the volume, 20 % kept free */
  backup?: DumpBackupSettings;
  /** Continuous WAL archiving and PITR with pgBackRest (backup.ts). @default off */
  pitr?: PitrOptions;
}

/** One file of `write_files`. */
export interface WrittenFile {
  path: string;
  content: string;
  /** Octal mode, e.g. `"0600"`. */
  permissions: string;
}

/** The rendered user data and its parts. */
export interface RenderedCloudConfig {
  /** The `#cloud-config` document. */
  userData: string;
  /** The files it writes, in order, as they land on the server (the document compresses the large ones). */
  files: WrittenFile[];
  /** The commands of `runcmd`. */
  runcmd: string[][];
  /**
   * The same files and commands as a POSIX sh program, for a server that
   * is already running: `… | ssh root@<server> sh` writes every file as it
   * is now and runs the setup (see {@link renderSetupScript}).
   */
  setupScript: string;
  /**
   * SHA-256 (hex) of every file but the TLS ones: what changes when a new
   * server would boot differently, apart from a renewed certificate.
   */
  rebuildKey: string;
  /** Where the cluster's data lives. */
  dataDirectory: string;
}

/** The files of the user data that hold TLS material (renewed without rebuilding the server). */
export const TLS_FILE_PATHS: readonly string[] = [`${SETUP_DIR}/server.crt`, `${SETUP_DIR}/server.key`, `${SETUP_DIR}/ca.crt`, `${SETUP_DIR}/ca.key`];

/** The pg_hba rules: peer for `postgres` on the socket, hostssl + SCRAM from the admitted networks, reject the rest. */
export function hetznerHbaRules(admittedCidrs: string[]): HbaRule[] {
  return standardHba({ tls: true, allowedCidrs: admittedCidrs, localMethod: HbaMethod.ScramSha256, localPeerUser: 'postgres' });
}

/** The postgresql.conf settings the setup writes (managed ones first, then pgConfig). */
function hetznerServerSettings(settings: ServerConfigSettings): Record<string, ConfValue> {
  const pgConfig = settings.pgConfig ?? {};
  // Same checks as every strategy: key pattern, managed keys, and names/values against the major's pg_settings.
  validatePgConfig(pgConfig, settings.postgresMajor, 'pgConfig', HETZNER_MANAGED_CONF_KEYS);
  const conf = `/etc/postgresql/${settings.postgresMajor}/main`;
  return {
    ...pgConfig,
    listen_addresses: settings.listenAddresses.join(','),
    port: 5432,
    password_encryption: 'scram-sha-256',
    ...tlsServerSettings({ certFile: `${conf}/server.crt`, keyFile: `${conf}/server.key` }),
  };
}

/**
 * Renders the server's postgresql.conf fragment (conf.d) and pg_hba.conf,
 * once: the plan keeps the result, and the user data, the setup payload and
 * the component's outputs all use it.
 * @throws ValidationError for a bad pgConfig key or value, or a listen
 *   address that is not an address (the CIDRs are the plan's, checked with
 *   the user's field names; pg_hba's renderer refuses a malformed one).
 */
export function renderServerConfig(settings: ServerConfigSettings): HetznerServerConfig {
  check(
    settings.listenAddresses.length > 0 && settings.listenAddresses.every((a) => /^[0-9a-f.:*]+$/i.test(a)),
    'listenAddresses',
    `"${settings.listenAddresses.join(',')}" are not addresses`,
    'Give the private IP',
  );
  check(settings.admittedCidrs.length > 0, 'admittedCidrs', 'is empty', 'Give the private subnet');
  const postgresqlConf = renderPostgresqlConf(hetznerServerSettings(settings), 'pgConfig', 'postgres-strategies: PostgreSQL settings (conf.d, read after Debian\'s postgresql.conf)');
  const pgHba = renderPgHba(
    hetznerHbaRules(settings.admittedCidrs).map((r, i) => (i === 0 && r.type === HbaType.Local ? { ...r, comment: 'the setup and backup programs (root via runuser)' } : r)),
  );
  return { postgresMajor: settings.postgresMajor, postgresqlConf, pgHba };
}

/** The SQL that creates or updates the admin role from its verifier (CREATEDB, CREATEROLE, not a superuser). */
export function renderAdminSql(adminUser: string, verifier: string): string {
  check(isScramVerifier(verifier), 'adminVerifier', 'is not a SCRAM-SHA-256 verifier; plain passwords are never written into user data', 'Pass scramSha256Verifier(password, salt)');
  const tag = '$ps_admin$';
  const name = quoteLiteral(adminUser);
  const ident = quoteIdent(adminUser);
  const v = quoteLiteral(verifier);
  return [
    `-- postgres-strategies: the admin role ${adminUser} (SCRAM verifier only). Idempotent.`,
    `DO ${tag}`,
    'DECLARE',
    '  a pg_catalog.pg_authid%ROWTYPE;',
    'BEGIN',
    `  SELECT * INTO a FROM pg_catalog.pg_authid WHERE rolname = ${name};`,
    '  IF NOT FOUND THEN',
    `    CREATE ROLE ${ident} LOGIN NOSUPERUSER CREATEDB CREATEROLE PASSWORD ${v};`,
    `    RAISE NOTICE '%', ${quoteLiteral(`postgres-strategies: created role ${adminUser}`)};`,
    `  ELSIF a.rolpassword IS DISTINCT FROM ${v} OR NOT a.rolcanlogin OR a.rolsuper OR NOT a.rolcreatedb OR NOT a.rolcreaterole THEN`,
    `    ALTER ROLE ${ident} WITH LOGIN NOSUPERUSER CREATEDB CREATEROLE PASSWORD ${v};`,
    `    RAISE NOTICE '%', ${quoteLiteral(`postgres-strategies: updated role ${adminUser}`)};`,
    '  END IF;',
    'END',
    `${tag};`,
    '',
  ].join('\n');
}

function backupSettings(backup: DumpBackupSettings, mountPoint: string): { conf: string; schedule: string } {
  const keep = backup.keep ?? (backup.s3 ? DEFAULT_BACKUP_KEEP_IN_BUCKET : DEFAULT_BACKUP_KEEP_ON_VOLUME);
  const maxAge = backup.maxAgeDays ?? 0;
  const minFree = backup.minFreePercent ?? DEFAULT_BACKUP_MIN_FREE_PERCENT;
  check(Number.isInteger(keep) && keep >= 0 && keep <= 10000, 'backup.keep', `${keep} is not a whole number of dumps between 0 and 10000`, 'Give how many dumps to keep per database (0 keeps all)');
  check(Number.isInteger(minFree) && minFree >= 0 && minFree <= 90, 'backup.minFreePercent', `${minFree} is not a whole percentage between 0 and 90`, 'Give the share of the volume a dump must leave free, e.g. 20 (0 turns the check off)');
  check(Number.isInteger(maxAge) && maxAge >= 0 && maxAge <= 36500, 'backup.maxAgeDays', `${maxAge} is not a whole number of days between 0 and 36500`, 'Give the age in days after which dumps are removed (0 keeps them)');
  const schedule = backup.schedule ?? '*-*-* 03:15:00 UTC';
  check(/^[A-Za-z0-9*:,./~ _+-]+$/.test(schedule) && schedule.trim() === schedule && schedule.length > 0, 'backup.schedule', `${JSON.stringify(schedule)} is not a systemd OnCalendar expression`, 'Give e.g. "daily" or "*-*-* 03:15:00 UTC"');
  const values: Record<string, string | number> = {
    BACKUP_DIR: `${mountPoint}/backups`,
    BACKUP_KEEP: keep,
    BACKUP_MAX_AGE_DAYS: maxAge,
    BACKUP_MIN_FREE_PERCENT: minFree,
    BACKUP_S3: backup.s3 ? 1 : 0,
  };
  if (backup.s3) {
    const s3 = backup.s3;
    check(/^https?:\/\/[^\s/]+\/?$/.test(s3.endpoint), 'backup.s3.endpoint', `"${s3.endpoint}" is not an endpoint URL`, 'Give e.g. "https://fsn1.your-objectstorage.com"');
    check(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(s3.bucket), 'backup.s3.bucket', `"${s3.bucket}" is not a bucket name`, 'Use 3-63 lower-case letters, digits, "." and "-"');
    const prefix = s3.prefix ?? '';
    check(/^([A-Za-z0-9._-]+\/)*$/.test(prefix), 'backup.s3.prefix', `"${prefix}" is not a key prefix`, 'Give folders ending in "/", e.g. "postgres/"');
    check(s3.accessKeyId.length > 0 && s3.secretAccessKey.length > 0, 'backup.s3', 'has an empty access key', 'Give the bucket\'s access key id and secret');
    Object.assign(values, {
      BACKUP_S3_BUCKET: s3.bucket,
      BACKUP_S3_PREFIX: prefix,
      RCLONE_CONFIG_BACKUP_TYPE: 's3',
      RCLONE_CONFIG_BACKUP_PROVIDER: 'Other',
      RCLONE_CONFIG_BACKUP_ENDPOINT: s3.endpoint,
      RCLONE_CONFIG_BACKUP_REGION: s3.region ?? 'us-east-1',
      RCLONE_CONFIG_BACKUP_ACCESS_KEY_ID: s3.accessKeyId,
      RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY: s3.secretAccessKey,
    });
  }
  let conf = renderShellSettings('postgres-strategies: settings of postgres-strategies-backup', values);
  if (backup.s3) conf += 'export RCLONE_CONFIG_BACKUP_TYPE RCLONE_CONFIG_BACKUP_PROVIDER RCLONE_CONFIG_BACKUP_ENDPOINT RCLONE_CONFIG_BACKUP_REGION RCLONE_CONFIG_BACKUP_ACCESS_KEY_ID RCLONE_CONFIG_BACKUP_SECRET_ACCESS_KEY\n';
  return { conf, schedule };
}

/**
 * Checks the backup settings (keep, age, schedule, bucket) without rendering.
 * @throws ValidationError naming `backup.<field>`.
 */
export function validateBackupSettings(backup: DumpBackupSettings): void {
  backupSettings(backup, '/var/lib/postgresql');
}

function checkPem(pem: string, field: string, kind: RegExp): void {
  check(kind.test(pem), field, 'is not a PEM block of the expected kind', 'Pass the PEM text the TLS resources produce');
}

/**
 * Renders the user data, and the same files as the setup payload for a
 * running server.
 * @throws ValidationError for a plain password instead of a verifier, a
 *   PEM of the wrong kind, bad backup settings, an upgrade "from" a major
 *   that is not older, or a document over Hetzner's 32 KiB.
 */
export function renderCloudConfig(s: CloudConfigSettings): RenderedCloudConfig {
  const mountPoint = s.mountPoint ?? '/var/lib/postgresql';
  const major = s.config.postgresMajor;
  check(/^\/[A-Za-z0-9._/-]*[A-Za-z0-9._-]$/.test(mountPoint), 'mountPoint', `"${mountPoint}" is not an absolute path`, 'Give e.g. "/var/lib/postgresql"');
  check(s.volumeDevice === '' || /^\/dev\/[A-Za-z0-9._/-]+$/.test(s.volumeDevice), 'volumeDevice', `"${s.volumeDevice}" is not a device path`, 'Give e.g. "/dev/disk/by-id/scsi-0HC_Volume_123"');
  checkPem(s.serverCertPem, 'serverCertPem', /-----BEGIN CERTIFICATE-----/);
  checkPem(s.caCertPem, 'caCertPem', /-----BEGIN CERTIFICATE-----/);
  checkPem(s.serverKeyPem, 'serverKeyPem', /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  if (s.caKeyPem !== undefined) checkPem(s.caKeyPem, 'caKeyPem', /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  const certificateValidityDays = s.certificateValidityDays ?? 825;
  const certificateRenewBeforeDays = s.certificateRenewBeforeDays ?? 30;
  check(Number.isInteger(certificateRenewBeforeDays) && certificateRenewBeforeDays > 0, 'certificateRenewBeforeDays', `${certificateRenewBeforeDays} is not a positive whole number of days`, 'Give e.g. 30');
  check(
    Number.isInteger(certificateValidityDays) && certificateValidityDays > certificateRenewBeforeDays,
    'certificateValidityDays',
    `${certificateValidityDays} is not a whole number of days longer than the renewal window (${certificateRenewBeforeDays})`,
    'Give e.g. 825',
  );
  const volumeWaitSeconds = s.volumeWaitSeconds ?? 300;
  check(Number.isInteger(volumeWaitSeconds) && volumeWaitSeconds > 0, 'volumeWaitSeconds', `${volumeWaitSeconds} is not a positive whole number of seconds`, 'Give e.g. 300');
  if (s.upgradeFromMajor !== undefined) {
    check(Number.isInteger(s.upgradeFromMajor) && s.upgradeFromMajor < major, 'postgresMajorUpgradeFrom', `${s.upgradeFromMajor} is not an older PostgreSQL major than ${major}`, 'Give the major the volume\'s cluster runs now, e.g. 15');
  }

  const backup = backupSettings(s.backup ?? {}, mountPoint);
  const setupConf = renderShellSettings('postgres-strategies: settings of postgres-strategies-setup', {
    PG_MAJOR: major,
    PG_PACKAGE: postgresPackage(major),
    UPGRADE_FROM_MAJOR: s.upgradeFromMajor ?? '',
    VOLUME_DEVICE: s.volumeDevice,
    VOLUME_WAIT_SECONDS: volumeWaitSeconds,
    MOUNT_POINT: mountPoint,
    ADMIN_USER: s.adminUser,
    RUN_BOOTSTRAP: s.bootstrapSql ? 1 : 0,
    BACKUP_S3: s.backup?.s3 ? 1 : 0,
    CERT_RENEW: s.caKeyPem !== undefined ? 1 : 0,
    CERT_VALIDITY_DAYS: certificateValidityDays,
    CERT_RENEW_BEFORE_DAYS: certificateRenewBeforeDays,
    PITR: s.pitr ? 1 : 0,
  });
  const pitrFiles: WrittenFile[] = [];
  if (s.pitr) {
    const pitr = planPitr(s.pitr);
    const full = pitrUnits('full', pitr.fullSchedule);
    const diff = pitrUnits('diff', pitr.diffSchedule);
    pitrFiles.push(
      { path: `${SETUP_DIR}/pgbackrest.conf`, content: renderPgbackrestConf(s.pitr, pitr, `${mountPoint}/${major}/main`, PGBACKREST_CA_PATH), permissions: '0600' },
      { path: `${SETUP_DIR}/pitr.conf`, content: PITR_POSTGRESQL_CONF, permissions: '0600' },
      ...(s.pitr.caPem !== undefined ? [{ path: `${SETUP_DIR}/pitr-ca.pem`, content: s.pitr.caPem, permissions: '0644' }] : []),
      { path: PITR_RESTORE_SCRIPT_PATH, content: PITR_RESTORE_SCRIPT, permissions: '0755' },
      { path: pitrUnitPath('full', 'service'), content: full.service, permissions: '0644' },
      { path: pitrUnitPath('full', 'timer'), content: full.timer, permissions: '0644' },
      { path: pitrUnitPath('diff', 'service'), content: diff.service, permissions: '0644' },
      { path: pitrUnitPath('diff', 'timer'), content: diff.timer, permissions: '0644' },
    );
  }
  const files: WrittenFile[] = [
    { path: CREATECLUSTER_CONF_PATH, content: CREATECLUSTER_CONF, permissions: '0644' },
    { path: `${SETUP_DIR}/setup.conf`, content: setupConf, permissions: '0600' },
    { path: `${SETUP_DIR}/postgresql.conf`, content: s.config.postgresqlConf, permissions: '0600' },
    { path: `${SETUP_DIR}/pg_hba.conf`, content: s.config.pgHba, permissions: '0600' },
    { path: `${SETUP_DIR}/server.crt`, content: s.serverCertPem, permissions: '0644' },
    { path: `${SETUP_DIR}/server.key`, content: s.serverKeyPem, permissions: '0600' },
    { path: `${SETUP_DIR}/ca.crt`, content: s.caCertPem, permissions: '0644' },
    ...(s.caKeyPem !== undefined ? [{ path: `${SETUP_DIR}/ca.key`, content: s.caKeyPem, permissions: '0600' }] : []),
    { path: `${SETUP_DIR}/admin.sql`, content: renderAdminSql(s.adminUser, s.adminVerifier), permissions: '0600' },
    ...(s.bootstrapSql ? [{ path: `${SETUP_DIR}/bootstrap.sql`, content: s.bootstrapSql, permissions: '0600' }] : []),
    { path: `${SETUP_DIR}/backup.conf`, content: backup.conf, permissions: '0600' },
    { path: SETUP_SCRIPT_PATH, content: SETUP_SCRIPT, permissions: '0755' },
    { path: BACKUP_SCRIPT_PATH, content: BACKUP_SCRIPT, permissions: '0755' },
    { path: BACKUP_SERVICE_PATH, content: BACKUP_SERVICE, permissions: '0644' },
    { path: BACKUP_TIMER_PATH, content: backupTimer(backup.schedule), permissions: '0644' },
    ...(s.caKeyPem !== undefined
      ? [
          { path: RENEW_SERVICE_PATH, content: RENEW_SERVICE, permissions: '0644' },
          { path: RENEW_TIMER_PATH, content: RENEW_TIMER, permissions: '0644' },
        ]
      : []),
    ...pitrFiles,
  ];
  const runcmd = [[SETUP_SCRIPT_PATH]];
  const doc = { write_files: files.map(writeFilesEntry), runcmd };
  const userData = `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
  const bytes = Buffer.byteLength(userData, 'utf8');
  check(
    bytes <= USER_DATA_LIMIT_BYTES,
    'userData',
    `is ${bytes} bytes, over Hetzner's limit of ${USER_DATA_LIMIT_BYTES} (32 KiB)`,
    'Declare fewer instances here (provision them with SharedPostgres through the handle instead), or shorten pgConfig',
  );
  const rebuildKey = createHash('sha256')
    .update(JSON.stringify([files.filter((f) => !TLS_FILE_PATHS.includes(f.path)), runcmd]))
    .digest('hex');
  return { userData, files, runcmd, setupScript: renderSetupScript(files, runcmd), rebuildKey, dataDirectory: `${mountPoint}/${major}/main` };
}

/**
 * The user data's files and commands as one POSIX sh program for a running
 * server: each file is written whole (to `<path>.new`, then renamed over
 * the old one) with its mode, owned by root, exactly as cloud-init writes it
 * on the first boot; then the commands run (the setup program, which
 * installs what changed and reports `0 changes` when nothing did). Every
 * content is one single-quoted word (see the core's `shellQuote`), so any
 * byte but NUL comes through unchanged.
 *
 * Run it as root on the server, e.g.
 * `pulumi stack output --show-secrets setupScript | ssh root@<server> sh`.
 * It holds the TLS key and the verifiers: keep it a secret.
 */
export function renderSetupScript(files: WrittenFile[], runcmd: string[][]): string {
  return [
    '#!/bin/sh',
    '# postgres-strategies: the files of the user data as they are now, then the setup.',
    '# Run as root on the server; it writes each file and runs postgres-strategies-setup',
    '# (which installs what changed). It holds the TLS key: do not keep it on disk.',
    '# Every content is one single-quoted word of literal data, on purpose: a $ stays a $, and',
    '# a quote inside is written \'\\\'\' (the integration test reads every file back with sh).',
    '# shellcheck disable=SC2016,SC1003',
    'set -eu',
    'umask 077',
    'put_file() { # put_file PATH MODE CONTENT',
    '  mkdir -p "$(dirname "$1")"',
    '  printf \'%s\' "$3" > "$1.new"',
    '  chmod "$2" "$1.new"',
    '  chown root:root "$1.new"',
    '  mv -f "$1.new" "$1"',
    '}',
    ...files.map((f) => `put_file ${shellQuote(f.path)} ${f.permissions} ${shellQuote(f.content)}`),
    ...runcmd.map((c) => c.map(shellQuote).join(' ')),
    '',
  ].join('\n');
}
