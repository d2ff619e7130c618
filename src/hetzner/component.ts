/**
 * `HetznerPostgres`: a self-managed PostgreSQL server on Hetzner Cloud
 * (`@pulumi/hcloud`), configured by cloud-init, turned into the same
 * {@link PostgresServerHandle} every strategy produces. Hetzner Cloud has no
 * managed PostgreSQL in its API, so the strategy is a server this stack
 * builds: everything it runs is planned by the pure files next to this one
 * (plan.ts, network.ts, cloud-init.ts, scripts.ts, debian.ts).
 */
import * as hcloud from '@pulumi/hcloud';
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import { ConnectionDescription, DEFAULT_PORT, checkLoginOptions } from '../core/dsn';
import { check, checkInteger } from '../core/errors';
import { InstancePlan, InstanceSpec } from '../core/plan';
import { ConfValue } from '../core/server-config';
import { pgSettingCautions } from '../core/pg-settings';
import { ServerKind, SslMode } from '../core/tls';
import { GeneratedLogin, InstanceOutputs, bootstrapSqlOutput, connectionOutputs, generateInstanceLogins, generateLogin } from '../provisioning/logins';
import { DEFAULT_MAINTENANCE_CONNECTIONS, PostgresServerHandle, createServerHandle, validateServerHandleArgs } from '../provisioning/server-handle';
import { SERVER_CERT_EARLY_RENEWAL_HOURS, createInlineAdminTls, createServerCertificates } from '../provisioning/tls-certificates';
import { BootUserData } from './boot-user-data';
import { renderCloudConfig } from './cloud-init';
import { PitrOptions } from './backup';
import { ServerReady } from './server-ready';
import { HetznerPlan, adminSslMode, defaultServerName, hetznerVolumeDevice, planHetzner } from './plan';

/** An S3-compatible bucket for the nightly dumps (Hetzner Object Storage, or any S3 API). */
export interface HetznerS3BackupArgs {
  /** Endpoint URL, e.g. `https://fsn1.your-objectstorage.com`. */
  endpoint: string;
  /** Bucket name (3–63 lower-case letters, digits, `.`, `-`). */
  bucket: string;
  /** Key prefix, folders ending in `/`, e.g. `"prod/"`. @default "" */
  prefix?: string;
  /** Region. @default "us-east-1" */
  region?: string;
  /** Access key id. Pass a secret (`config.requireSecret`). */
  accessKeyId: pulumi.Input<string>;
  /**
   * Secret key; pass a secret. It is written into the user data (a secret
   * in the Pulumi state), which the server's metadata service serves to any
   * local process: give a key limited to this bucket.
   */
  secretAccessKey: pulumi.Input<string>;
}

/** The nightly `pg_dump` of every database (and the roles, `pg_dumpall --globals-only`). */
export interface HetznerDumpBackupArgs {
  /** systemd `OnCalendar` of the timer. @default "*-*-* 03:15:00 UTC" (plus up to 30 min random delay) */
  schedule?: string;
  /**
   * Dumps kept per database, newest first; 0 keeps all (seed 002's `BACKUP_KEEP`).
   * @default 7 on the volume (which they share with the data), 30 in an S3 bucket
   */
  keep?: number;
  /**
   * Free space, in percent of the volume, a dump must leave: a database
   * whose dump (estimated by its last dump, else its size) would leave less
   * is skipped and the nightly run fails (`systemctl status
   * postgres-strategies-backup`), so dumps never fill the volume PostgreSQL
   * runs on. Dumps to a bucket are staged on the volume too. 0: no check.
   * @default 20
   */
  minFreePercent?: number;
  /** Dumps older than this many days are removed; 0 keeps them (seed 002's `BACKUP_MAX_AGE`). @default 0 */
  maxAgeDays?: number;
  /** Upload to this bucket instead of keeping the dumps in `<volume>/backups`. */
  s3?: HetznerS3BackupArgs;
}

/**
 * Continuous WAL archiving and point-in-time recovery with pgBackRest
 * (Debian's package, installed by the setup): a repository in an
 * S3-compatible bucket, encrypted with your key; a full backup weekly and a
 * differential daily (systemd timers), the first full backup at setup;
 * full backups expire after `retentionDays`. Restore on the server:
 * `postgres-strategies-pitr-restore '<time>'` (docs/backups.md).
 */
export interface HetznerPitrArgs {
  /** The store's HTTPS endpoint, e.g. `https://fsn1.your-objectstorage.com` (pgBackRest 2.45 speaks only HTTPS to S3). */
  endpoint: string;
  /** `s3://bucket/prefix` of the repository (one per server). */
  location: string;
  /** @default "us-east-1" */
  region?: string;
  /** Access key id; pass a secret. */
  accessKeyId: pulumi.Input<string>;
  /** Secret key; pass a secret (it is in the user data, like the dump bucket's). */
  secretAccessKey: pulumi.Input<string>;
  /**
   * The repository's encryption key (`openssl rand -base64 32`); pass a
   * secret and keep a copy outside the bucket: without it nothing restores.
   * Warning: changing it makes the repository unreadable to the new setting
   * (start a new `location` instead).
   */
  encryptionKey: pulumi.Input<string>;
  /** The store's CA (PEM), for a store with a private CA. @default the system CAs */
  caPem?: string;
  /** Days of recovery kept (at least 7, the seeds' minimum). @default 14 */
  retentionDays?: number;
  /** systemd OnCalendar of the full backup. @default "Sun *-*-* 02:30:00 UTC" */
  fullSchedule?: string;
  /** systemd OnCalendar of the differential backup. @default "Mon..Sat *-*-* 02:30:00 UTC" */
  diffSchedule?: string;
}

/** The plain pitr settings, with its three secrets resolved. */
function pitrWith(pitr: HetznerPitrArgs, [accessKeyId, secretAccessKey, encryptionKey]: [string, string, string]): PitrOptions {
  const { accessKeyId: _a, secretAccessKey: _s, encryptionKey: _e, ...plain } = pitr;
  return { ...plain, accessKeyId, secretAccessKey, encryptionKey };
}

/** A plain string input as it is, or a stand-in for a value known only at deployment (checked then). */
function plainOr(value: pulumi.Input<string>): string {
  return typeof value === 'string' ? value : 'known-at-deployment';
}

/** Arguments of {@link HetznerPostgres}. */
export interface HetznerPostgresArgs {
  /** Hetzner server type, e.g. `"cx23"` (2 vCPU, 4 GB) or `"cpx22"`. See `hcloud server-type list`. */
  serverType: string;
  /**
   * Location of the server and volume. @default "fsn1"
   * Fixed after the first deployment: a Hetzner volume cannot move between
   * locations, so a change is refused at preview (docs/hetzner.md, "Moving and upgrading").
   */
  location?: string;
  /** Network zone of the subnet. @default the location's zone ("eu-central" for fsn1, nbg1, hel1) */
  networkZone?: string;
  /**
   * Server image. The PostgreSQL major is the one the image's Debian release
   * ships: debian-12 → PostgreSQL 15, debian-13 → 17.
   * @default "debian-12"
   * Warning: changing it replaces the server (the data stays on the volume).
   * The preview refuses a change unless `reprovisionOnUserDataChange` is on
   * (so the new server boots the current user data), and refuses another
   * PostgreSQL major unless `postgresMajorUpgradeFrom` says so.
   */
  image?: string;
  /** PostgreSQL major, for an image not in the table above (must be what its Debian release ships). */
  postgresMajor?: number;
  /**
   * The explicit major upgrade: the major the volume's cluster runs now
   * (e.g. 15), given together with the new image (e.g. debian-13),
   * `reprovisionOnUserDataChange: true` and `deleteProtection: false`. The
   * new server creates the new major's cluster beside the old one (which
   * stays on the volume, untouched); restore the dumps into it
   * (docs/hetzner.md, "Moving and upgrading"). Remove it afterwards.
   * @default none: a change of the major is refused at preview
   */
  postgresMajorUpgradeFrom?: number;
  /**
   * The server's name (and the certificate's common name); the network,
   * firewall and volume are `<serverName>-network`, `-firewall`, `-data`.
   * Hetzner requires names unique per project. Changing a given name renames
   * them in place and re-issues the certificate.
   * @default `<project>-<stack>-<name>` as a DNS label (e.g. `shop-prod-db`),
   *   so stacks of one program, and stacks of the same name in two programs,
   *   can share a Hetzner project. Like a Pulumi auto-name, a default name is
   *   fixed when each resource is created: a server created by an older
   *   release keeps its names (`<name>` from the release of 2026-11-27,
   *   `<name>-<stack>` from 2026-12-04) and its certificate, whatever the
   *   default becomes.
   */
  serverName?: string;
  /** Range of the network this stack creates. @default "10.0.0.0/16" */
  networkIpRange?: string;
  /** Range of the subnet (created here, or existing in `existingNetworkId`). @default "10.0.1.0/24" */
  subnetIpRange?: string;
  /** The server's fixed private IP, the address clients and the handle use. @default the subnet's 10th address ("10.0.1.10") */
  privateIp?: string;
  /** Join this existing network (numeric id) instead of creating one; its subnet `subnetIpRange` must exist. */
  existingNetworkId?: number;
  /**
   * Client networks besides the private subnet admitted by pg_hba
   * (hostssl + scram-sha-256) and by the firewall on port 5432. `0.0.0.0/0`
   * needs `publicAccess`. @default []
   */
  allowedCidrs?: string[];
  /** Networks allowed to reach SSH (port 22). @default [] (SSH closed by the firewall) */
  sshAllowedCidrs?: string[];
  /**
   * SSH key names or ids for root, injected when the server is created.
   * Later changes are ignored: hcloud cannot change them on a server and
   * would replace it (its docs advise ignoring them); edit
   * `/root/.ssh/authorized_keys` instead. @default []
   */
  sshKeys?: pulumi.Input<string>[];
  /** A DNS name clients use for the public address; becomes the certificate's common name and a SAN. */
  publicHostName?: string;
  /**
   * Listen on every interface (`listen_addresses = '*'`) instead of the
   * private IP only, so that `allowedCidrs` can reach the public address.
   * @default false
   */
  publicAccess?: boolean;
  /**
   * Volume size, in GB (10–10240). @default 20. Growing it is online:
   * Hetzner grows the device, and the setup grows the filesystem
   * (`resize2fs`) when it runs next (`setupScript`). Shrinking is impossible.
   */
  volumeSize?: number;
  /**
   * postgresql.conf overrides, checked like every strategy's (key pattern,
   * names and values against the major's pg_settings); the setup's own keys
   * (listen_addresses, port, ssl*, password_encryption, paths) are refused.
   * `max_connections` (default 100) feeds the connection budget.
   * @default {}
   */
  pgConfig?: Record<string, ConfValue>;
  /** The admin role (LOGIN CREATEDB CREATEROLE, not a superuser). @default "pgadmin" */
  adminUser?: string;
  /**
   * Host the admin provider connects to. The private IP needs the machine
   * running Pulumi inside the network (a bastion, VPN or CI runner in it);
   * with `publicAccess`, give the public IP or name and put your address in
   * `allowedCidrs`. @default the private IP
   */
  adminHost?: pulumi.Input<string>;
  /**
   * Path of a CA file (the `caPem` output) on the machine running Pulumi,
   * for the admin provider instead of the CA itself.
   * @default unset: the admin provider verifies the server against this
   *   stack's CA, which it holds in its own state (no file, so `pulumi
   *   refresh` and `destroy` verify too): verify-full on the private IP or
   *   `publicHostName`, verify-ca on another `adminHost` (see
   *   {@link adminSslMode}). An expired server certificate fails every
   *   deployment then, instead of only the apps.
   */
  adminSslRootCert?: string;
  /** Path of the CA file on the app clients (their `sslrootcert`). @default "postgres-ca.pem" */
  clientSslRootCert?: string;
  /**
   * The server renews its own certificate: the user data gives it the CA's
   * private key, and a daily timer (`postgres-strategies-renew-cert`)
   * signs a new certificate (same key and names, 825 days) from 30 days
   * before the served one expires, and reloads PostgreSQL — no deployment,
   * no one at the server. The CA key is then a secret of the user data
   * beside the server key (the metadata service serves both to processes
   * on the server); this CA signs only this server's certificates, so it
   * lets someone who already holds the server impersonate it, nothing
   * else. Set false to keep the CA key off the server: a certificate is
   * then renewed only by `pulumi up` (in its last 30 days) and the
   * `setupScript` run on the server. A server set up by a release before
   * this option gets the timer (and the key) from one `setupScript` run.
   * @default true
   */
  renewCertificateOnServer?: boolean;
  /**
   * App instances created by cloud-init on first boot (the bootstrap SQL,
   * SCRAM verifiers only) — for stacks that cannot reach the server. When
   * the stack can reach it, provision with `SharedPostgres` on
   * {@link HetznerPostgres.handle} instead (the same plan and catalog state).
   * Warning: with user-data changes ignored (the default), instances added
   * later are not applied; use SharedPostgres for those.
   * @default []
   */
  instances?: InstanceSpec[];
  /** Prefix of the instances' database names. @default "" */
  namePrefix?: string;
  /** The nightly pg_dump. @default keep 7, no age limit, on the volume, at least 20 % of it kept free */
  backup?: HetznerDumpBackupArgs;
  /** Continuous WAL archiving and PITR with pgBackRest. @default off */
  pitr?: HetznerPitrArgs;
  /** Hetzner's own daily server backups (+20 % of the server price; the volume is not included). @default false */
  hetznerBackups?: boolean;
  /** Labels on every Hetzner resource (plus `managed-by: postgres-strategies`). @default {} */
  labels?: Record<string, string>;
  /**
   * Hetzner delete and rebuild protection on the server, volume and network.
   * @default true
   */
  deleteProtection?: boolean;
  /**
   * Let `pulumi destroy` delete the volume (with `deleteProtection: false`).
   * By default the volume is retained: it leaves the stack and keeps the data.
   * @default false
   */
  allowDataDeletion?: boolean;
  /**
   * Replace the server when the user data changes (apart from its TLS
   * files: a renewed certificate never rebuilds the server). Hetzner cannot
   * change user data in place, so by default changes are ignored after
   * creation and reach the server through `setupScript`; a pgConfig tweak
   * never rebuilds the database host. Set true (with `deleteProtection:
   * false`) to re-provision: the server is deleted, then created again from
   * the current user data, and the setup adopts the cluster already on the
   * volume. Also what an image change needs.
   * Warning: downtime for the rebuild; the root disk's contents are lost.
   * @default false
   */
  reprovisionOnUserDataChange?: boolean;
  /**
   * Seconds the first deployment waits for PostgreSQL to accept connections
   * on `adminHost` (cloud-init installs it a few minutes after the server
   * starts) before the admin provider connects; 0 does not wait.
   * @default 900
   */
  waitForServerSeconds?: number;
  /** Length of generated passwords, in characters. @default 32 */
  passwordLength?: number;
  /** libpq `connect_timeout` of the clients, in seconds. @default 10 */
  connectTimeoutSeconds?: number;
}

/** One app instance created by cloud-init (everything that carries a password is secret). */
export interface HetznerInstance extends InstanceOutputs {}

/**
 * PostgreSQL on a Hetzner Cloud server this stack creates.
 *
 * Resources: a private `hcloud.Network` and `NetworkSubnet` (unless
 * `existingNetworkId`), an `hcloud.Firewall` (5432 from the private subnet
 * and `allowedCidrs`, 22 from `sshAllowedCidrs`, nothing else), an ext4
 * `hcloud.Volume` (automount off, delete protection, retained on delete),
 * the `hcloud.Server` (fixed private IP, public IPv4/IPv6 for package
 * downloads, delete and rebuild protection, user data as a secret, `sshKeys`
 * applied at creation only), a `VolumeAttachment`, the CA and server
 * certificate (`@pulumi/tls`), the admin password and SCRAM salt
 * (`@pulumi/random`), a `BootUserData` (a dynamic resource holding the user
 * data the server boots with, which refuses at preview a new location,
 * another PostgreSQL major or another image unless asked for), a
 * `ServerReady` wait (a dynamic resource: on the first deployment it waits
 * until PostgreSQL accepts connections on `adminHost`), and the admin
 * `@pulumi/postgresql` provider (not a superuser: LOGIN CREATEDB CREATEROLE).
 * Hetzner names: `<serverName>`, `-network`, `-firewall`, `-data`, with
 * serverName `<project>-<stack>-<name>` by default (fixed at creation).
 *
 * The user data installs Debian's PostgreSQL (15 on debian-12), puts the
 * data directory on the volume, writes postgresql.conf (private IP only,
 * scram-sha-256, TLS 1.2+) and pg_hba.conf (hostssl + SCRAM from the
 * admitted networks, reject the rest), creates the admin role from its SCRAM
 * verifier, runs the instances' bootstrap SQL, and enables a nightly
 * pg_dump. It holds the TLS key and verifiers, never a plain password; it is
 * readable from the metadata service by any process on the server.
 *
 * The server certificate (825 days) is renewed by the server itself from
 * 30 days before it expires (see `renewCertificateOnServer`); the admin
 * provider verifies it, so a server that somehow serves an expired one
 * fails the next deployment rather than only the apps' connections.
 *
 * Other changes after the first deployment (a pgConfig, allowedCidrs or
 * backup change, a newer setup program, a larger volume): Hetzner cannot
 * change a server's user data, so they are not in the server's boot user
 * data (see `reprovisionOnUserDataChange`); they reach it through the
 * `setupScript` output, run as root on the server:
 * `pulumi stack output --show-secrets setupScript | ssh root@<server> sh`.
 * It writes the current files and runs `postgres-strategies-setup`, which
 * installs what changed, reloads PostgreSQL (a new certificate, pg_hba) or
 * restarts it (a setting that needs it), grows the filesystem to the
 * volume and renews the certificate when it is due.
 *
 * Cost: the server type, the volume (per GB), a primary IPv4, and +20 % for
 * `hetznerBackups`.
 *
 * @example
 * ```ts
 * const db = new HetznerPostgres('db', { serverType: 'cx23', sshAllowedCidrs: ['203.0.113.7/32'] });
 * new SharedPostgres('apps', { server: db.handle, instances: [{ name: 'blog' }] });
 * export const caPem = db.caPem;
 * ```
 * @throws ValidationError before anything is created: bad ranges, IPs or
 *   CIDRs, an image without a known major, a bad pgConfig key or value, a
 *   managed key, bad backup settings, bad instances or an over-budget server.
 */
export class HetznerPostgres extends pulumi.ComponentResource {
  /** The checked plan (plain data). */
  public readonly plan: HetznerPlan;
  /** The server handle (private IP, port 5432, self-managed, verify-full with the CA). */
  public readonly handle: PostgresServerHandle;
  /** The CA certificate (PEM) clients verify the server against; save it as their `sslrootcert`. */
  public readonly caPem: pulumi.Output<string>;
  /** The admin's password (secret). */
  public readonly adminPassword: pulumi.Output<string>;
  /** The rendered user data (secret: the TLS key and verifiers). */
  public readonly userData: pulumi.Output<string>;
  /**
   * The setup payload for the running server (secret: the TLS key and
   * verifiers): a POSIX sh program that writes every file of the user data
   * as it is now and runs `postgres-strategies-setup`. Run it as root on the
   * server after a deployment that changed anything of the server's (a
   * renewed certificate, pgConfig, allowedCidrs, backup, volumeSize):
   * `pulumi stack output --show-secrets setupScript | ssh root@<server> sh`.
   */
  public readonly setupScript: pulumi.Output<string>;
  /**
   * When the server certificate this stack issued expires (RFC 3339). The
   * server renews the one it serves from 30 days before (unless
   * `renewCertificateOnServer: false`), so check what it serves with
   * `openssl s_client -starttls postgres -connect <host>:5432 </dev/null | openssl x509 -noout -enddate`.
   */
  public readonly serverCertificateExpiry: pulumi.Output<string>;
  /**
   * When the CA certificate expires (RFC 3339; 10 years). `pulumi up`
   * re-issues it (same key) in its last year; the server cannot: run the
   * `setupScript` then, and give the clients the new `caPem`.
   */
  public readonly caCertificateExpiry: pulumi.Output<string>;
  /** The postgresql.conf fragment the setup installs (no secrets). */
  public readonly postgresqlConf: pulumi.Output<string>;
  /** The pg_hba.conf the user data installs (no secrets). */
  public readonly pgHba: pulumi.Output<string>;
  /** Where pgBackRest's repository is (`s3://bucket/prefix`, on `pitr.endpoint`), when `pitr` is given. */
  public readonly pitrRepository?: string;
  /** The server's numeric id, as a string. */
  public readonly serverId: pulumi.Output<string>;
  /** The volume's numeric id, as a string. */
  public readonly volumeId: pulumi.Output<string>;
  /** The server's private IP. */
  public readonly privateIp: string;
  /** The server's public IPv4 and IPv6 addresses. */
  public readonly publicIpv4: pulumi.Output<string>;
  public readonly publicIpv6: pulumi.Output<string>;
  /** The instances created by cloud-init, by name. */
  public readonly instances: Record<string, HetznerInstance>;
  /** The instances' bootstrap SQL (secret: SCRAM verifiers); empty without instances. */
  public readonly bootstrapSql: pulumi.Output<string>;
  public readonly network?: hcloud.Network;
  public readonly subnet?: hcloud.NetworkSubnet;
  public readonly firewall: hcloud.Firewall;
  public readonly volume: hcloud.Volume;
  public readonly server: hcloud.Server;
  public readonly volumeAttachment: hcloud.VolumeAttachment;
  /** Holds the user data the server boots with, and guards image, major and location changes. */
  public readonly bootUserData: BootUserData;
  public readonly provider: postgresql.Provider;
  /** Waits for the new server on the first deployment (unless `waitForServerSeconds: 0`). */
  public readonly ready?: ServerReady;

  constructor(name: string, args: HetznerPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    // 0. Everything is validated before any resource exists.
    check(args !== null && typeof args === 'object', 'args', 'is missing', 'Give at least serverType');
    const { backup, pitr, sshKeys: _sshKeys, adminHost: _adminHost, ...plain } = args;
    const s3Plain = backup?.s3 ? { ...backup.s3, accessKeyId: plainOr(backup.s3.accessKeyId), secretAccessKey: plainOr(backup.s3.secretAccessKey) } : undefined;
    const serverName = args.serverName ?? defaultServerName(name, pulumi.getStack(), pulumi.getProject());
    const pitrPlain = pitr
      ? { ...pitr, accessKeyId: plainOr(pitr.accessKeyId), secretAccessKey: plainOr(pitr.secretAccessKey), encryptionKey: typeof pitr.encryptionKey === 'string' ? pitr.encryptionKey : 'known-at-deployment-known-at-deployment' }
      : undefined;
    const plan = planHetzner({
      ...plain,
      serverName,
      serverNameIsDefault: args.serverName === undefined,
      ...(backup ? { backup: { ...backup, s3: s3Plain } } : {}),
      ...(pitrPlain ? { pitr: pitrPlain } : {}),
    });
    const { passwordLength, connectTimeoutSeconds } = checkLoginOptions(args);
    const clientSslRootCert = args.clientSslRootCert ?? 'postgres-ca.pem';
    check(clientSslRootCert.length > 0 && !/[\r\n\0]/.test(clientSslRootCert), 'clientSslRootCert', 'is empty or has a line break', 'Give the path of the CA file on the app clients');
    const deleteProtection = args.deleteProtection ?? true;
    const allowDataDeletion = args.allowDataDeletion ?? false;
    check(!(allowDataDeletion && deleteProtection), 'allowDataDeletion', 'is true while deleteProtection is on, so Hetzner would refuse the deletion', 'Set deleteProtection: false as well (and deploy that first)');
    const reprovision = args.reprovisionOnUserDataChange ?? false;
    check(typeof reprovision === 'boolean', 'reprovisionOnUserDataChange', 'is not a boolean', 'Give true or false');
    const renewOnServer = args.renewCertificateOnServer ?? true;
    check(typeof renewOnServer === 'boolean', 'renewCertificateOnServer', 'is not a boolean', 'Give true or false');
    const waitForServerSeconds = args.waitForServerSeconds ?? 900;
    checkInteger(waitForServerSeconds, 'waitForServerSeconds', 0, 7200, 'seconds');
    // The same checks and numbers as every handle, before anything is registered.
    const handleNumbers = {
      host: plan.network.privateIp,
      port: DEFAULT_PORT,
      kind: ServerKind.SelfManaged,
      sslmode: SslMode.VerifyFull,
      sslrootcert: clientSslRootCert,
      maxConnections: plan.capacity.maxConnections,
      reservedConnections: plan.capacity.reservedConnections,
      adminConnections: plan.capacity.adminConnections,
      maintenanceConnections: DEFAULT_MAINTENANCE_CONNECTIONS,
      adminUser: plan.adminUser,
      adminDatabase: 'postgres',
      adminIsSuperuser: false,
    };
    const { providerPool } = validateServerHandleArgs(handleNumbers);

    super('postgres-strategies:index:HetznerPostgres', name, {}, opts);
    this.plan = plan;
    // A parameter a minor release added: a server whose packages are older refuses it at its start.
    for (const caution of pgSettingCautions(args.pgConfig ?? {}, plan.postgresMajor)) pulumi.log.warn(caution, this);
    this.privateIp = plan.network.privateIp;
    if (pitr) this.pitrRepository = pitr.location;
    const parent = { parent: this };
    const labels = plan.labels;

    // 1. Certificates and logins (the admin's, and each cloud-init instance's).
    const certs = createServerCertificates(name, plan.certificates, this, { namesFixedAtCreation: plan.certificateNamesFixedAtCreation });
    this.caPem = certs.caCertPem;
    const admin = generateLogin(`${name}-admin`, passwordLength, this);
    this.adminPassword = admin.password;
    const { logins, verifiers } = generateInstanceLogins(name, plan.server.instances, passwordLength, this);
    this.bootstrapSql = pulumi.secret(bootstrapSqlOutput(plan.server.instances, verifiers));

    // 2. Network, firewall, volume (Hetzner names from the plan: `<serverName>-…`, renamed in place when a given
    //    serverName changes; default names are fixed when each resource is created, like Pulumi auto-names).
    const named: pulumi.CustomResourceOptions = plan.namesFixedAtCreation ? { ...parent, ignoreChanges: ['name'] } : parent;
    let networkId: pulumi.Output<number>;
    if (plan.network.existingNetworkId !== undefined) {
      networkId = pulumi.output(plan.network.existingNetworkId);
    } else {
      this.network = new hcloud.Network(`${name}-network`, { name: plan.names.network, ipRange: plan.network.networkIpRange as string, deleteProtection, labels }, named);
      networkId = this.network.id.apply(Number);
      this.subnet = new hcloud.NetworkSubnet(`${name}-subnet`, { networkId, type: 'cloud', networkZone: plan.network.networkZone, ipRange: plan.network.subnetIpRange }, parent);
    }
    this.firewall = new hcloud.Firewall(`${name}-firewall`, { name: plan.names.firewall, rules: plan.firewallRules.map((r) => ({ ...r })), labels }, named);
    this.volume = new hcloud.Volume(
      `${name}-data`,
      { name: plan.names.volume, size: plan.volumeSize, location: plan.network.location, format: 'ext4', automount: false, deleteProtection, labels },
      { ...named, retainOnDelete: !allowDataDeletion },
    );
    this.volumeId = this.volume.id;

    // 3. The user data: rendered once every input is known; secret (the TLS key, verifiers, S3 key).
    const { s3, ...dumps } = args.backup ?? {};
    const rendered = pulumi
      .all([
        this.volume.id,
        certs.serverCertPem,
        certs.serverKeyPem,
        certs.caCertPem,
        renewOnServer ? certs.caKeyPem : '',
        admin.verifier,
        this.bootstrapSql,
        s3 ? pulumi.output(s3.accessKeyId) : '',
        s3 ? pulumi.output(s3.secretAccessKey) : '',
        pitr ? pulumi.all([pitr.accessKeyId, pitr.secretAccessKey, pitr.encryptionKey]).apply((x) => JSON.stringify(x)) : '',
      ])
      .apply(([volumeId, serverCertPem, serverKeyPem, caCertPem, caKeyPem, adminVerifier, bootstrapSql, accessKeyId, secretAccessKey, pitrSecrets]) =>
        renderCloudConfig({
          config: plan.config,
          ...(plan.postgresMajorUpgradeFrom !== undefined ? { upgradeFromMajor: plan.postgresMajorUpgradeFrom } : {}),
          volumeDevice: hetznerVolumeDevice(volumeId),
          adminUser: plan.adminUser,
          adminVerifier,
          serverCertPem,
          serverKeyPem,
          caCertPem,
          ...(caKeyPem ? { caKeyPem, certificateValidityDays: plan.certificates.server.validityHours / 24, certificateRenewBeforeDays: SERVER_CERT_EARLY_RENEWAL_HOURS / 24 } : {}),
          ...(bootstrapSql ? { bootstrapSql } : {}),
          backup: { ...dumps, ...(s3 ? { s3: { ...s3, accessKeyId, secretAccessKey } } : {}) },
          ...(pitr && pitrSecrets ? { pitr: pitrWith(pitr, JSON.parse(pitrSecrets) as [string, string, string]) } : {}),
        }),
      );
    this.userData = pulumi.secret(rendered.apply((r) => r.userData));
    this.setupScript = pulumi.secret(rendered.apply((r) => r.setupScript));
    this.serverCertificateExpiry = certs.serverCertValidUntil;
    this.caCertificateExpiry = certs.caCertValidUntil;
    // From the plan alone: known in a first preview, and never secret.
    this.postgresqlConf = pulumi.output(plan.config.postgresqlConf);
    this.pgHba = pulumi.output(plan.config.pgHba);
    this.bootUserData = new BootUserData(
      `${name}-user-data`,
      {
        userData: this.userData,
        rebuildKey: rendered.apply((r) => r.rebuildKey),
        image: plan.image,
        location: plan.network.location,
        postgresMajor: plan.postgresMajor,
        reprovision,
        postgresMajorUpgradeFrom: plan.postgresMajorUpgradeFrom ?? 0,
      },
      parent,
    );

    // 4. The server, attached to the network with its fixed IP, and the volume.
    this.server = new hcloud.Server(
      `${name}-server`,
      {
        name: plan.names.server,
        serverType: plan.serverType,
        image: plan.image,
        location: plan.network.location,
        // What the server was created with (BootUserData): never the old server's after a replacement.
        userData: pulumi.secret(this.bootUserData.bootUserData),
        sshKeys: args.sshKeys ?? [],
        firewallIds: [this.firewall.id.apply(Number)],
        networks: [{ networkId, ip: plan.network.privateIp }],
        // Public addresses for apt (a private network has no NAT); the firewall closes them.
        publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
        backups: args.hetznerBackups ?? false,
        deleteProtection,
        rebuildProtection: deleteProtection,
        shutdownBeforeDeletion: true,
        labels,
      },
      {
        ...parent,
        dependsOn: this.subnet ? [this.subnet] : [],
        // sshKeys are injected at creation only, and a change would replace the server
        // (hcloud's docs: ignore it). Hetzner replaces a server whose user data changes:
        // by default such changes go through setupScript instead.
        ignoreChanges: [...(reprovision ? ['sshKeys'] : ['userData', 'sshKeys']), ...(plan.namesFixedAtCreation ? ['name'] : [])],
        // One server per volume and private IP: the old one goes first.
        deleteBeforeReplace: true,
      },
    );
    this.serverId = this.server.id;
    this.publicIpv4 = this.server.ipv4Address;
    this.publicIpv6 = this.server.ipv6Address;
    this.volumeAttachment = new hcloud.VolumeAttachment(
      `${name}-data-attachment`,
      { serverId: this.server.id.apply(Number), volumeId: this.volume.id.apply(Number), automount: false },
      { ...parent, deleteBeforeReplace: true },
    );

    // 5. Wait for cloud-init's server, then the admin provider and the handle.
    const adminHost = args.adminHost ?? plan.network.privateIp;
    const ready: pulumi.Resource[] = [this.server, this.volumeAttachment];
    if (waitForServerSeconds > 0) {
      this.ready = new ServerReady(
        `${name}-ready`,
        { host: adminHost, port: DEFAULT_PORT, timeoutSeconds: waitForServerSeconds, settleSeconds: 10, trigger: this.server.id },
        { ...parent, dependsOn: [this.server, this.volumeAttachment] },
      );
      ready.push(this.ready);
    }
    // The admin verifies the server: against a CA file when given, else against the CA itself (held in the state);
    // an adminHost known only at deployment is not a name the certificate holds (verify-ca).
    const knownAdminHost = args.adminHost === undefined ? undefined : typeof args.adminHost === 'string' ? args.adminHost : '';
    const adminTls = args.adminSslRootCert
      ? { sslmode: SslMode.VerifyFull, sslrootcert: args.adminSslRootCert }
      : { sslmode: adminSslMode(plan.certificates, knownAdminHost), ...createInlineAdminTls(name, this.caPem, this) };
    this.provider = new postgresql.Provider(
      `${name}-admin`,
      {
        host: adminHost,
        port: DEFAULT_PORT,
        username: plan.adminUser,
        password: this.adminPassword,
        database: 'postgres',
        ...adminTls,
        superuser: false,
        connectTimeout: 30,
        maxConnections: providerPool,
      },
      { ...parent, dependsOn: ready },
    );
    this.handle = createServerHandle({ ...handleNumbers, rootCertPem: this.caPem, provider: this.provider, dependsOn: ready });
    if (plan.server.instances.length > 0) this.handle.claims.claim(name, plan.server.instances);

    // 6. The cloud-init instances' outputs.
    this.instances = {};
    for (const inst of plan.server.instances) this.instances[inst.instance] = this.instanceOutputs(inst, logins, clientSslRootCert, connectTimeoutSeconds);

    this.registerOutputs({
      caPem: this.caPem,
      adminPassword: this.adminPassword,
      userData: this.userData,
      setupScript: this.setupScript,
      serverCertificateExpiry: this.serverCertificateExpiry,
      caCertificateExpiry: this.caCertificateExpiry,
      postgresqlConf: this.postgresqlConf,
      serverId: this.serverId,
      volumeId: this.volumeId,
      privateIp: this.privateIp,
      publicIpv4: this.publicIpv4,
      publicIpv6: this.publicIpv6,
      bootstrapSql: this.bootstrapSql,
    });
  }

  private instanceOutputs(inst: InstancePlan, logins: Map<string, GeneratedLogin>, sslrootcert: string, connectTimeoutSeconds: number): HetznerInstance {
    const login = logins.get(inst.login.name) as GeneratedLogin;
    const connection = pulumi.secret(
      login.password.apply(
        (password): ConnectionDescription => ({
          hosts: [{ host: this.privateIp, port: DEFAULT_PORT }],
          database: inst.database,
          user: inst.login.name,
          password,
          tls: { sslmode: SslMode.VerifyFull, sslrootcert },
          connectTimeoutSeconds,
          applicationName: inst.instance,
        }),
      ),
    );
    const outputs = connectionOutputs(connection, inst);
    return { database: inst.database, user: inst.login.name, password: login.password, connection, url: outputs.url, pgxUrl: outputs.pgxUrl, kratosDsn: outputs.kratosDsn, env: outputs.env };
  }
}
