/**
 * The pure plan of an `RdsPostgres` server: every default applied in one
 * place, every input validated before a resource exists, and the numbers
 * the server handle carries (max_connections, reserved slots, sslmode).
 *
 * Each default names the anchor it follows (read in their sources; where an
 * anchor defaults otherwise, it is said):
 * - terraform-aws-modules/terraform-aws-rds (`modules/db_instance`): a final
 *   snapshot named `<identifier>-<random_id keyed on the identifier>`,
 *   `storage_encrypted = true`, `copy_tags_to_snapshot = true`,
 *   `auto_minor_version_upgrade = true`, a parameter group with
 *   `name_prefix` and `create_before_destroy` (its `deletion_protection`
 *   defaults to false; ours is on).
 * - AWS CDK `aws-rds` `DatabaseInstance`: `removalPolicy: SNAPSHOT` with the
 *   helpers retained alongside (`helperRemovalPolicy`), private subnets and
 *   not publicly accessible, `copyTagsToSnapshot`, `deleteAutomatedBackups:
 *   false`, `autoMinorVersionUpgrade`, `multiAz` off. Not its storage
 *   defaults: CDK defaults to gp2, and to no encryption without a key.
 * - SST `Postgres` (platform/src/components/aws/postgres.ts): `postgres`
 *   master user, `db.t4g.micro`, gp3, encrypted storage, 7 days of backups.
 *   Not its TLS or deletion defaults: SST sets `rds.force_ssl = 0` and
 *   `skipFinalSnapshot: true`; here TLS is forced and a final snapshot taken.
 * - The primary seed: backups kept at least 7 days (point-in-time recovery
 *   within that window follows from automated backups).
 */
import { capacityFromPgConfig } from '../core/budget';
import { nameFromText } from '../core/identifiers';
import { check, checkInteger } from '../core/errors';
import { ConfValue, validateCidr } from '../core/server-config';
import { ServerKind, SslMode, parseSslMode, sslModeVerifiesCertificate, validateClientTls } from '../core/tls';
import { defaultMaxConnections, instanceClassMemoryGiB, isKnownInstanceClass, supportsPerformanceInsights } from './instance-classes';
import { DEFAULT_RDS_ENGINE_VERSION, RdsParameter, parameterGroupFamily, planParameters, rdsMajor, rdsMinor } from './parameters';

/** RDS's current CA certificates (AWS "Using SSL/TLS to encrypt a connection to a DB instance"). */
export enum RdsCaCertificate {
  /** RSA 2048, SHA-256: what every client accepts; valid to 2061. */
  Rsa2048G1 = 'rds-ca-rsa2048-g1',
  /** RSA 4096, SHA-384. */
  Rsa4096G1 = 'rds-ca-rsa4096-g1',
  /** ECC 384, SHA-384. */
  Ecc384G1 = 'rds-ca-ecc384-g1',
}

/** Slots PostgreSQL keeps for superusers (`superuser_reserved_connections`; on RDS, rdsadmin). @default 3 */
export const DEFAULT_SUPERUSER_RESERVED_CONNECTIONS = 3;
/** Slots RDS keeps for members of rds_superuser (`rds.rds_superuser_reserved_connections`). @default 2 */
export const DEFAULT_RDS_SUPERUSER_RESERVED_CONNECTIONS = 2;

/**
 * Where a new instance's data comes from: a snapshot, or a point in time of
 * another instance's automated backups (what RDS keeps for
 * `backupRetentionDays`). Both are create-time inputs of `aws.rds.Instance`
 * that the AWS provider marks ForceNew (terraform-provider-aws,
 * internal/service/rds/instance.go: `snapshot_identifier`,
 * `restore_to_point_in_time`, which conflict with each other): on an
 * instance that exists, setting or changing them replaces it — which the
 * component's protection refuses at preview, and the guard reports as data
 * loss. Restore into a new `RdsPostgres` (another name), move the apps, then
 * retire the old one.
 */
export interface RdsRestoreOptions {
  /** A DB snapshot identifier or ARN (manual, or the final snapshot of a deleted instance). */
  snapshotIdentifier?: string;
  /** The instance whose automated backups to restore from (point-in-time recovery). */
  sourceDbInstanceIdentifier?: string;
  /** The time to recover to, RFC 3339 UTC (e.g. "2026-05-01T14:03:00Z"), within the source's backup retention. */
  restoreTime?: string;
  /** Recover to the latest restorable time (about 5 minutes ago) instead of `restoreTime`. @default false */
  useLatestRestorableTime?: boolean;
}

/** The checked restore input. */
export interface RdsRestorePlan {
  snapshotIdentifier?: string;
  pointInTime?: { sourceDbInstanceIdentifier: string; restoreTime?: string; useLatestRestorableTime?: boolean };
}

/**
 * Checks a restore input.
 * @throws ValidationError naming `restoreFrom.<field>`: both a snapshot and a
 *   point in time, neither, a point in time without its source or with both
 *   a time and "latest", a time that is not RFC 3339 UTC or is in the future.
 */
export function planRdsRestore(o: RdsRestoreOptions, now = new Date()): RdsRestorePlan {
  const pit = o.sourceDbInstanceIdentifier !== undefined || o.restoreTime !== undefined || o.useLatestRestorableTime !== undefined;
  check(!(o.snapshotIdentifier !== undefined && pit), 'restoreFrom', 'names both a snapshot and a point in time', 'Give snapshotIdentifier, or sourceDbInstanceIdentifier with restoreTime (or useLatestRestorableTime)');
  if (o.snapshotIdentifier !== undefined) {
    check(/^(arn:aws[a-z-]*:rds:[a-z0-9-]+:\d{12}:snapshot:)?[A-Za-z][A-Za-z0-9-]{0,254}$/.test(o.snapshotIdentifier), 'restoreFrom.snapshotIdentifier', `"${o.snapshotIdentifier}" is not a DB snapshot identifier or ARN`, 'Give the identifier shown by aws rds describe-db-snapshots');
    return { snapshotIdentifier: o.snapshotIdentifier };
  }
  check(pit, 'restoreFrom', 'names neither a snapshot nor a point in time', 'Give snapshotIdentifier, or sourceDbInstanceIdentifier with restoreTime (or useLatestRestorableTime)');
  const source = o.sourceDbInstanceIdentifier ?? '';
  check(/^[a-z][a-z0-9-]{0,62}$/.test(source), 'restoreFrom.sourceDbInstanceIdentifier', `"${source}" is not a DB instance identifier`, 'Give the identifier of the instance whose automated backups to use (its `identifier` output)');
  const latest = o.useLatestRestorableTime ?? false;
  check(latest !== (o.restoreTime !== undefined), 'restoreFrom.restoreTime', latest ? 'is given together with useLatestRestorableTime' : 'is missing', 'Give restoreTime (RFC 3339 UTC) or useLatestRestorableTime: true, one of them');
  if (o.restoreTime !== undefined) {
    const t = Date.parse(o.restoreTime);
    check(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(o.restoreTime) && !Number.isNaN(t), 'restoreFrom.restoreTime', `"${o.restoreTime}" is not an RFC 3339 UTC time`, 'Write it like "2026-05-01T14:03:00Z"');
    check(t <= now.getTime(), 'restoreFrom.restoreTime', `${o.restoreTime} is in the future`, 'Give a time within the source\'s backup retention, before now');
  }
  return { pointInTime: { sourceDbInstanceIdentifier: source, ...(o.restoreTime !== undefined ? { restoreTime: o.restoreTime } : { useLatestRestorableTime: true }) } };
}

/** A read replica (see {@link RdsPlanOptions.readReplica}). */
export interface RdsReadReplicaOptions {
  /**
   * The replica's class. Its default `max_connections` must not be below the
   * primary's (a hot standby refuses to start otherwise), unless
   * `pgConfig.max_connections` fixes it for both.
   * @default the primary's class
   */
  instanceClass?: string;
  /** A standby for the replica too. @default false */
  multiAz?: boolean;
}

/** The plan's inputs (the plain-data part of `RdsPostgresArgs`). */
export interface RdsPlanOptions {
  /** RDS DB instance class. @default "db.t4g.micro" (SST's default; 2 vCPU burstable, 1 GiB) */
  instanceClass?: string;
  /**
   * Engine version: a major (`"17"`: RDS picks the minor and, with
   * `autoMinorVersionUpgrade`, keeps it current) or a major.minor (`"17.4"`,
   * only with `autoMinorVersionUpgrade: false`).
   * @default "17"
   */
  engineVersion?: string;
  /**
   * Let RDS upgrade the minor version in the maintenance window. While it is
   * on, `engineVersion` must be a major alone: a pinned `"17.4"` would be
   * upgraded to 17.5 by RDS, and every later update would plan a downgrade
   * to 17.4, which RDS refuses. Turn it off to pin a minor and upgrade it
   * yourself by changing `engineVersion`.
   * @default true
   */
  autoMinorVersionUpgrade?: boolean;
  /** Initial storage, in GiB (gp3: 20–65536). @default 20 */
  allocatedStorageGiB?: number;
  /**
   * Storage autoscaling ceiling, in GiB: RDS grows the volume up to this when
   * it runs low. At least 10 % above `allocatedStorageGiB`; 0 turns
   * autoscaling off. @default 100
   */
  maxAllocatedStorageGiB?: number;
  /** Days automated backups (and point-in-time recovery) reach back, 1–35. @default 7 (the seed's minimum) */
  backupRetentionDays?: number;
  /** A standby in a second availability zone (doubles the instance cost). @default false */
  multiAz?: boolean;
  /**
   * RDS deletion protection: the instance cannot be deleted until this is
   * turned off in an update. @default true
   */
  deletionProtection?: boolean;
  /** The server certificate's CA. @default RdsCaCertificate.Rsa2048G1 */
  caCertIdentifier?: RdsCaCertificate;
  /**
   * Performance Insights (7 days, the free retention).
   * @default true where the class offers it (not db.t3/db.t4g micro and small)
   */
  performanceInsights?: boolean;
  /** The master user (the admin, member of rds_superuser). @default "postgres" */
  username?: string;
  /** Port the server listens on, 1150–65535. @default 5432 */
  port?: number;
  /**
   * The RDS instance identifier (lower-case letters, digits, hyphens; at
   * most 63). Changing it renames the instance in place (`@pulumi/aws` 7
   * modifies it; terraform-provider-aws PR #32687): the data stays, but the
   * instance's `address` changes with it, so every URL and DSN changes and
   * the apps must take the new ones; the rename reboots the instance, in
   * the maintenance window unless `applyImmediately`. The subnet, security
   * and parameter groups keep the names they were created with.
   * @default `<project>-<stack>-<name>` for a new instance, so stacks of
   *   two projects (both `prod`, both naming it `db`) never collide in one
   *   account and region. Like a Pulumi auto-name it is fixed when the
   *   instance is created: a stack whose instance exists keeps its
   *   identifier (`<name>-<stack>` from the releases of 2026-11-27 and
   *   2026-12-04) whatever the default becomes — the component ignores
   *   changes of a defaulted identifier. Set it to rename on purpose.
   */
  identifier?: string;
  /** Client networks admitted to the port (IPv4 or IPv6 CIDR blocks). @default [] */
  allowedCidrs?: string[];
  /** How many security groups are admitted (the component passes the ids). @default 0 */
  allowedSecurityGroupCount?: number;
  /** Allow `0.0.0.0/0` or `::/0` in `allowedCidrs` (the whole internet). @default false */
  allowAnyAddress?: boolean;
  /** Give the instance a public IP (needs public subnets too). @default false */
  publiclyAccessible?: boolean;
  /** Parameter-group settings (same keys and value checks as the local strategy's postgresql.conf). @default {} */
  pgConfig?: Record<string, ConfValue>;
  /** A read replica. @default none */
  readReplica?: RdsReadReplicaOptions;
  /**
   * Create the instance from a snapshot or a point in time (see
   * {@link RdsRestoreOptions}). Warning: a create-time input — set on an
   * existing instance it replaces it (refused by its protection at preview).
   * @default none: an empty instance
   */
  restoreFrom?: RdsRestoreOptions;
  /**
   * libpq sslmode of the clients and the admin. The default verifies the
   * server's certificate and host name against AWS's CA bundle, which must
   * then be given (`sslrootcert`); `SslMode.Require` encrypts without
   * checking who answers, and must be chosen explicitly.
   * @default SslMode.VerifyFull
   */
  sslmode?: SslMode;
  /**
   * Path of the RDS CA bundle on the machine running Pulumi: AWS's
   * `global-bundle.pem` (every region's CAs), from
   * https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem.
   * Required for `verify-full` / `verify-ca`.
   */
  sslrootcert?: string;
  /** Path of the CA bundle on the app clients. @default sslrootcert */
  clientSslRootCert?: string;
}

/** The server's connection numbers, as the budget counts them. */
export interface RdsCapacity {
  /** `max_connections`: `pgConfig.max_connections`, else the class's default. */
  maxConnections: number;
  /** Where maxConnections comes from. */
  maxConnectionsSource: 'pgConfig' | 'instance class';
  /** superuser_reserved_connections + rds.rds_superuser_reserved_connections + reserved_connections (16+). */
  reservedConnections: number;
}

/** The validated plan. */
export interface RdsPlan {
  identifier: string;
  /**
   * Whether `identifier` is the default: then it names a new instance only,
   * and a stack whose instance exists keeps the identifier it was created
   * with (see {@link RdsPlanOptions.identifier}).
   */
  identifierIsDefault: boolean;
  /** Names and descriptions of the subnet, security and parameter groups of a new instance. */
  groups: RdsGroupNames;
  engineVersion: string;
  autoMinorVersionUpgrade: boolean;
  major: number;
  family: string;
  instanceClass: string;
  /** The class's memory, when the class is in the table. */
  memoryGiB?: number;
  storageType: 'gp3';
  allocatedStorage: number;
  maxAllocatedStorage: number;
  backupRetentionPeriod: number;
  multiAz: boolean;
  deletionProtection: boolean;
  caCertIdentifier: RdsCaCertificate;
  performanceInsights: boolean;
  /** Days of Performance Insights data kept (7 is free). */
  performanceInsightsRetentionPeriod: number;
  username: string;
  port: number;
  publiclyAccessible: boolean;
  allowedCidrs: { cidr: string; ipv6: boolean }[];
  parameters: RdsParameter[];
  capacity: RdsCapacity;
  sslmode: SslMode;
  sslrootcert?: string;
  clientSslRootCert?: string;
  replica?: { identifier: string; instanceClass: string; multiAz: boolean; performanceInsights: boolean };
  /** The restore input, when the instance is created from a snapshot or a point in time. */
  restore?: RdsRestorePlan;
}

const IDENTIFIER = /^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$/;

/** A valid RDS identifier from free text: lower-case, hyphens, a letter first, at most `max` characters (hash-suffixed when cut). */
export function rdsIdentifier(text: string, max = 63): string {
  return nameFromText(text, max, 'db');
}

/**
 * The default identifier of a new instance: `<project>-<stack>-<name>` (the
 * project left out when not given), so two stacks, or two projects' stacks
 * of the same name, never collide in one account and region. Releases up to
 * 2026-12-04 used `<name>-<stack>`; their instances keep it (see
 * {@link RdsPlanOptions.identifier}).
 */
export function defaultInstanceIdentifier(name: string, stack: string, project?: string): string {
  return rdsIdentifier([project, stack, name].filter((p) => p !== undefined && p !== '').join('-'));
}

/** The read replica's identifier: `<identifier>-replica` (hash-cut to 63). */
export function replicaIdentifier(identifier: string): string {
  return rdsIdentifier(`${identifier}-replica`);
}

/** A group's name prefix and description. */
export interface RdsGroupName {
  namePrefix: string;
  description: string;
}

/** Names and descriptions of an instance's subnet, security and parameter groups. */
export interface RdsGroupNames {
  subnetGroup: RdsGroupName;
  securityGroup: RdsGroupName;
  parameterGroup: RdsGroupName;
}

/**
 * The groups' name prefixes and descriptions, from the instance identifier,
 * port and parameter-group family, exactly as the release of 2026-11-27
 * first created them. Warning: never change these strings. `namePrefix` of
 * all three and `description` of the security and parameter groups replace
 * the group when they change (ForceNew in terraform-provider-aws), and the
 * groups are protected, so the preview of every existing stack would fail;
 * the component ignores later changes of them anyway (so renaming the
 * instance or changing its port keeps its groups), and the compatibility
 * test (test/compat) fails on any change of these values.
 */
export function rdsGroupNames(identifier: string, port: number, family: string): RdsGroupNames {
  return {
    subnetGroup: { namePrefix: `${identifier}-`, description: `postgres-strategies: ${identifier}` },
    securityGroup: { namePrefix: `${identifier}-`, description: `PostgreSQL ${port} of ${identifier} (postgres-strategies)` },
    parameterGroup: { namePrefix: `${identifier}-${family}-`, description: `postgres-strategies: ${identifier} (TLS only, SCRAM)` },
  };
}

/**
 * The final snapshot's identifier: `<identifier>-final-<suffix>`, where the
 * suffix is a random id regenerated whenever the instance is replaced, so a
 * second destroy never collides with the first one's snapshot.
 */
export function finalSnapshotIdentifier(identifier: string, suffixHex: string): string {
  return `${identifier}-final-${suffixHex}`;
}

/**
 * The server's connection numbers: `max_connections` from `pgConfig` or the
 * instance class, and the slots app roles cannot use.
 * @throws ValidationError when neither gives max_connections, or the
 *   reserved slots leave nothing.
 */
export function rdsCapacity(instanceClass: string, major: number, pgConfig: Record<string, ConfValue> = {}, field = 'pgConfig'): RdsCapacity {
  const c = capacityFromPgConfig(pgConfig, {
    major,
    field,
    defaultMaxConnections: () => defaultMaxConnections(instanceClass),
    defaultMaxConnectionsField: 'instanceClass',
    defaultSuperuserReserved: DEFAULT_SUPERUSER_RESERVED_CONNECTIONS,
    extraReserved: { 'rds.rds_superuser_reserved_connections': DEFAULT_RDS_SUPERUSER_RESERVED_CONNECTIONS },
  });
  return { maxConnections: c.maxConnections, maxConnectionsSource: c.maxConnectionsFromConfig ? 'pgConfig' : 'instance class', reservedConnections: c.reservedConnections };
}

/**
 * Validates the options and applies every default.
 * @param name the component's name; @param stack the stack's name and
 *   @param project the project's (for the default identifier, see {@link defaultInstanceIdentifier}).
 * @throws ValidationError naming the field, before any resource exists.
 */
export function planRds(name: string, stack: string, options: RdsPlanOptions = {}, project?: string): RdsPlan {
  const instanceClass = options.instanceClass ?? 'db.t4g.micro';
  check(/^db\.[a-z0-9-]+\.[a-z0-9-]+$/.test(instanceClass), 'instanceClass', `"${instanceClass}" is not an RDS instance class`, 'Write it like "db.t4g.micro" or "db.m7g.large"');
  const engineVersion = options.engineVersion ?? DEFAULT_RDS_ENGINE_VERSION;
  const major = rdsMajor(engineVersion, 'engineVersion');
  const autoMinorVersionUpgrade = options.autoMinorVersionUpgrade ?? true;
  check(typeof autoMinorVersionUpgrade === 'boolean', 'autoMinorVersionUpgrade', `${JSON.stringify(autoMinorVersionUpgrade)} is not true or false`, 'Give true (RDS upgrades minors) or false');
  check(
    !autoMinorVersionUpgrade || !engineVersion.includes('.'),
    'engineVersion',
    `"${engineVersion}" pins a minor version while autoMinorVersionUpgrade is on: once RDS upgrades the minor in a maintenance window, every update plans a downgrade to ${engineVersion}, which RDS refuses`,
    `Give the major alone (engineVersion: "${major}"), and RDS keeps the minor current; or set autoMinorVersionUpgrade: false to keep ${engineVersion} until you change engineVersion yourself`,
  );
  const pgConfig = options.pgConfig ?? {};
  const parameters = planParameters(major, pgConfig, 'pgConfig', rdsMinor(engineVersion));
  const capacity = rdsCapacity(instanceClass, major, pgConfig, 'pgConfig');

  const allocatedStorage = options.allocatedStorageGiB ?? 20;
  checkInteger(allocatedStorage, 'allocatedStorageGiB', 20, 65536, 'GiB');
  const maxAllocatedStorage = options.maxAllocatedStorageGiB ?? Math.max(100, Math.ceil((allocatedStorage * 11) / 10));
  if (maxAllocatedStorage !== 0) {
    checkInteger(maxAllocatedStorage, 'maxAllocatedStorageGiB', Math.ceil((allocatedStorage * 11) / 10), 65536, 'GiB');
  }
  const backupRetentionPeriod = options.backupRetentionDays ?? 7;
  checkInteger(backupRetentionPeriod, 'backupRetentionDays', 1, 35, 'days');
  const port = options.port ?? 5432;
  checkInteger(port, 'port', 1150, 65535, 'port numbers');

  const caCertIdentifier = options.caCertIdentifier ?? RdsCaCertificate.Rsa2048G1;
  check(Object.values(RdsCaCertificate).includes(caCertIdentifier), 'caCertIdentifier', `"${String(caCertIdentifier)}" is not a current RDS CA`, `Use one of: ${Object.values(RdsCaCertificate).join(', ')}`);

  const piOffered = supportsPerformanceInsights(instanceClass);
  const performanceInsights = options.performanceInsights ?? piOffered;
  check(
    !performanceInsights || piOffered,
    'performanceInsights',
    `${instanceClass} does not offer Performance Insights (no micro or small burstable class does)`,
    'Leave performanceInsights unset or false, or use db.t4g.medium or larger',
  );

  const username = options.username ?? 'postgres';
  check(
    /^[a-z][a-z0-9_]{0,62}$/.test(username) && !/^(rds|pg_)/.test(username) && username !== 'rdsadmin',
    'username',
    `"${username}" is not a usable RDS master user name`,
    'Use 1–63 lower-case letters, digits and "_", starting with a letter, not starting with "rds" or "pg_"',
  );

  const identifier = options.identifier ?? defaultInstanceIdentifier(name, stack, project);
  check(IDENTIFIER.test(identifier), 'identifier', `"${identifier}" is not an RDS instance identifier`, 'Use 1–63 lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen');

  const allowedCidrs = (options.allowedCidrs ?? []).map((cidr, i) => {
    validateCidr(cidr, `allowedCidrs[${i}]`);
    const any = cidr === '0.0.0.0/0' || cidr === '::/0';
    check(
      !any || options.allowAnyAddress === true,
      `allowedCidrs[${i}]`,
      `"${cidr}" admits the whole internet to PostgreSQL`,
      'Admit your app\'s security groups or private networks instead, or set allowAnyAddress: true if you really mean it',
    );
    return { cidr, ipv6: cidr.includes(':') };
  });
  const sgCount = options.allowedSecurityGroupCount ?? 0;
  check(
    allowedCidrs.length + sgCount > 0,
    'allowedSecurityGroupIds',
    'no security group or CIDR block is admitted, so nothing could connect (not even Pulumi\'s admin connection)',
    'Give allowedSecurityGroupIds (your app\'s security groups) and/or allowedCidrs (e.g. the VPC\'s CIDR block)',
  );

  const sslmode = parseSslMode(options.sslmode ?? SslMode.VerifyFull, 'sslmode');
  check(
    !sslModeVerifiesCertificate(sslmode) || (typeof options.sslrootcert === 'string' && options.sslrootcert.length > 0),
    'sslrootcert',
    `is not set, and sslmode=${sslmode}${options.sslmode === undefined ? ' (the default)' : ''} checks the server's certificate against AWS's CA bundle, on the machine running Pulumi and on the app clients`,
    'Download the bundle (curl -fsSLo global-bundle.pem https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem) and pass its path: sslrootcert: "global-bundle.pem" (clientSslRootCert: its path on the app clients, if another); ' +
      'or set sslmode: SslMode.Require to encrypt without checking the server',
  );
  validateClientTls({ sslmode, sslrootcert: options.clientSslRootCert ?? options.sslrootcert }, ServerKind.Managed, 'RdsPostgres');

  let replica: RdsPlan['replica'];
  if (options.readReplica) {
    const replicaClass = options.readReplica.instanceClass ?? instanceClass;
    check(/^db\.[a-z0-9-]+\.[a-z0-9-]+$/.test(replicaClass), 'readReplica.instanceClass', `"${replicaClass}" is not an RDS instance class`, 'Write it like "db.t4g.micro"');
    if (capacity.maxConnectionsSource === 'instance class') {
      const replicaMax = defaultMaxConnections(replicaClass, 'readReplica.instanceClass');
      check(
        replicaMax >= capacity.maxConnections,
        'readReplica.instanceClass',
        `${replicaClass}'s default max_connections (${replicaMax}) is below the primary's (${capacity.maxConnections}); a hot standby refuses to start then`,
        'Use a replica class at least as large as the primary\'s, or set pgConfig.max_connections (the replica shares the parameter group)',
      );
    }
    replica = {
      identifier: replicaIdentifier(identifier),
      instanceClass: replicaClass,
      multiAz: options.readReplica.multiAz ?? false,
      performanceInsights: performanceInsights && supportsPerformanceInsights(replicaClass),
    };
  }

  return {
    identifier,
    identifierIsDefault: options.identifier === undefined,
    groups: rdsGroupNames(identifier, port, parameterGroupFamily(major)),
    engineVersion,
    autoMinorVersionUpgrade,
    major,
    family: parameterGroupFamily(major),
    instanceClass,
    ...(isKnownInstanceClass(instanceClass) ? { memoryGiB: instanceClassMemoryGiB(instanceClass) } : {}),
    storageType: 'gp3',
    allocatedStorage,
    maxAllocatedStorage,
    backupRetentionPeriod,
    multiAz: options.multiAz ?? false,
    deletionProtection: options.deletionProtection ?? true,
    caCertIdentifier,
    performanceInsights,
    performanceInsightsRetentionPeriod: 7,
    username,
    port,
    publiclyAccessible: options.publiclyAccessible ?? false,
    allowedCidrs,
    parameters,
    capacity,
    sslmode,
    ...(options.sslrootcert ? { sslrootcert: options.sslrootcert } : {}),
    ...(options.clientSslRootCert ?? options.sslrootcert ? { clientSslRootCert: options.clientSslRootCert ?? options.sslrootcert } : {}),
    ...(replica ? { replica } : {}),
    ...(options.restoreFrom !== undefined ? { restore: planRdsRestore(options.restoreFrom) } : {}),
  };
}

