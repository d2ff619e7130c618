/**
 * `RdsPostgres`: an Amazon RDS for PostgreSQL instance with safe defaults,
 * turned into the same {@link PostgresServerHandle} every strategy produces,
 * so `SharedPostgres` and `InstanceDatabase` provision onto it unchanged.
 *
 * The pure plan (`planRds`) validates every input and applies every default;
 * this component only translates it into `@pulumi/aws` resources (imported
 * by subpath, so stacks that never load this module never load the AWS SDK
 * types), `@pulumi/random` and the admin `@pulumi/postgresql` provider.
 */
import * as pulumi from '@pulumi/pulumi';
import * as postgresql from '@pulumi/postgresql';
import * as random from '@pulumi/random';
// One file per resource, not `@pulumi/aws` or its service folders: loading this module costs ~20 ms, not ~0.5 s.
import { Instance, InstanceArgs } from '@pulumi/aws/rds/instance';
import { ParameterGroup } from '@pulumi/aws/rds/parameterGroup';
import { SubnetGroup } from '@pulumi/aws/rds/subnetGroup';
import { SecurityGroup } from '@pulumi/aws/ec2/securityGroup';
import { SecurityGroupIngressRule, SecurityGroupIngressRuleArgs } from '@pulumi/aws/vpc/securityGroupIngressRule';
import { getSecretVersionOutput } from '@pulumi/aws/secretsmanager/getSecretVersion';
import { checkLoginOptions } from '../core/dsn';
import { pgSettingCautions } from '../core/pg-settings';
import { ValidationError, check } from '../core/errors';
import { ServerKind, SslMode } from '../core/tls';
import { PostgresServerHandle, createServerHandle, validateServerHandleArgs } from '../provisioning/server-handle';
import { RdsPlan, RdsPlanOptions, finalSnapshotIdentifier, planRds, rdsGroupNames, replicaIdentifier } from './plan';
import { rdsMinor } from './parameters';

/** Arguments of {@link RdsPostgres}: the plan's options (see {@link RdsPlanOptions}) and the AWS wiring. */
export interface RdsPostgresArgs extends Omit<RdsPlanOptions, 'allowedSecurityGroupCount'> {
  /** The VPC the security group is created in (the subnets' VPC). */
  vpcId: pulumi.Input<string>;
  /**
   * Subnets of the DB subnet group, in at least two availability zones (RDS
   * requires two even for a single-AZ instance). Private subnets, unless
   * `publiclyAccessible`.
   */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** Security groups whose members may connect to the port (your app's, your CI runner's). @default [] */
  allowedSecurityGroupIds?: pulumi.Input<string>[];
  /** KMS key for storage encryption (storage is always encrypted). @default the account's `aws/rds` key */
  kmsKeyId?: pulumi.Input<string>;
  /**
   * Let RDS keep the master password in Secrets Manager (and rotate it)
   * instead of generating one here; `masterUserSecretArn` is its ARN. The
   * admin provider then reads it with `secretsmanager:GetSecretValue`.
   * @default false (a generated 32-character password, kept as a secret in the stack)
   */
  manageMasterUserPassword?: boolean;
  /** KMS key of the Secrets Manager secret (with `manageMasterUserPassword`). @default the account's `aws/secretsmanager` key */
  masterUserSecretKmsKeyId?: pulumi.Input<string>;
  /** Length of the generated master password, in characters (letters and digits). @default 32 */
  passwordLength?: number;
  /**
   * Let Pulumi delete or replace the instance. By default it is protected
   * (Pulumi's `protect`): a change that would replace it (`username`,
   * `kmsKeyId`) or a `pulumi destroy` fails at preview, and the state keeps
   * the instance; its subnet and security groups are protected the same
   * way, and all three, the ingress rules and the parameter group are
   * retained on delete, so an instance that leaves the stack keeps its
   * network and parameters. With `true` Pulumi may delete it (the final
   * snapshot is taken first); RDS's own `deletionProtection` must be off
   * too, and both must be applied in an `up` of their own before the one
   * that deletes or replaces, because Pulumi deletes by the options the
   * state holds. See docs/rds.md ("Replacing the instance on purpose").
   * @default false
   */
  allowDeletion?: boolean;
  /**
   * Apply changes now instead of in the next maintenance window. Warning:
   * some changes (instance class, storage type) restart the server.
   * @default false
   */
  applyImmediately?: boolean;
  /**
   * Allow a change of `engineVersion` to a new major. A major upgrade
   * restarts the server and switches it to a new parameter group (family
   * `postgres<new major>`), created before the old one leaves the stack:
   * while this is false the parameter group is protected like the
   * instance, so the preview refuses to replace it. The old group is
   * retained (RDS refuses to delete a group still in use); delete it by
   * hand once the instance runs on the new one. Run the upgrade with
   * `applyImmediately: true`, and take a manual snapshot first.
   * @default false
   */
  allowMajorVersionUpgrade?: boolean;
  /** Daily backup window (UTC), e.g. `"03:00-03:30"`. @default chosen by RDS */
  backupWindow?: string;
  /** Weekly maintenance window (UTC), e.g. `"sun:04:00-sun:05:00"`. @default chosen by RDS */
  maintenanceWindow?: string;
  /**
   * Host the admin provider connects to instead of the instance's address,
   * e.g. `"127.0.0.1"` through an SSM or SSH tunnel when Pulumi runs outside
   * the VPC. The admin then verifies the certificate without the host name
   * (verify-ca) when sslmode is verify-full. @default the instance's address
   */
  adminHost?: pulumi.Input<string>;
  /** Port of `adminHost`. @default the instance's port */
  adminPort?: pulumi.Input<number>;
  /**
   * The admin's share of the server, in connections: the most admin sessions
   * `pulumi up` holds at once (it provisions ⌊share / 2⌋ instances at once),
   * counted in the connection budget. A non-superuser admin cannot use
   * `superuser_reserved_connections`, so its connections always come out of
   * the app roles' share. The provider's own pool is the server's
   * `max_connections` (see `adminProviderPoolSize`).
   * @default a tenth of max_connections − reserved, from 4 to 16 (`defaultAdminConnections`: 9 at 100)
   */
  adminMaxConnections?: number;
  /**
   * Connections kept free for deploys and maintenance (psql, pg_dump, a
   * migration run by hand), counted in the connection budget. @default 3
   */
  maintenanceConnections?: number;
  /** Seconds the admin provider waits to connect. @default 15 */
  connectTimeoutSeconds?: number;
  /** Tags on every AWS resource (copied to snapshots). @default {} */
  tags?: Record<string, pulumi.Input<string>>;
}

/**
 * An Amazon RDS for PostgreSQL instance and its server handle.
 *
 * Resources (the groups are named after the identifier the instance is
 * created with, `<identifier>-…`, and keep their names and descriptions
 * afterwards, so neither a rename nor a new port replaces them):
 * - `aws.SubnetGroup` from `subnetIds`;
 * - `aws.SecurityGroup` in `vpcId` with one `aws.SecurityGroupIngressRule`
 *   per admitted security group or CIDR block, TCP on the port only, and no
 *   egress rule (replies need none); `0.0.0.0/0` and `::/0` only with
 *   `allowAnyAddress`. A rule is deleted with its group (`deletedWith`): a
 *   source removed from the arguments is revoked, but a group that leaves
 *   the stack keeps its rules;
 * - `aws.ParameterGroup` (family `postgres<major>`, name prefix, so a new
 *   major's group is created before the old one leaves) with
 *   `rds.force_ssl=1`, `password_encryption=scram-sha-256` and `pgConfig`,
 *   static parameters (and every extension or `rds.*` parameter whose
 *   apply method is not known) as `pending-reboot`;
 * - `random.RandomPassword` for the master user (unless `manageMasterUserPassword`);
 * - `random.RandomId` (4 bytes) keyed on the identifier, KMS key and user
 *   name that names the final snapshot `<identifier>-final-<hex>`, so every
 *   instance's snapshot has its own name (its `keepers.identifier` holds the
 *   identifier the instance was created with);
 * - `aws.Instance`: gp3, encrypted, storage autoscaling up to
 *   `maxAllocatedStorageGiB`, private, 7 days of backups kept after deletion
 *   too, deletion protection, a final snapshot, tags copied to snapshots, CA
 *   `rds-ca-rsa2048-g1`, minor versions upgraded in the maintenance window
 *   (`autoMinorVersionUpgrade`), changes applied there too, Performance
 *   Insights (free 7 days) where the class offers it; protected and
 *   retained unless `allowDeletion`, its subnet and security groups too,
 *   its parameter group retained (and protected unless
 *   `allowMajorVersionUpgrade`), its ingress rules kept with their group;
 * - with `readReplica`, a second `aws.Instance` replicating it;
 * - a `@pulumi/postgresql` provider connected as the master user (not a
 *   superuser: RDS gives it rds_superuser, CREATEDB and CREATEROLE).
 *
 * Pulumi must reach the instance for the admin provider: run it inside the
 * VPC (a CI runner admitted by `allowedSecurityGroupIds`), or through a
 * tunnel with `adminHost`/`adminPort`.
 *
 * Cost (us-east-1 on-demand, late 2026): db.t4g.micro about $12/month, 20 GiB
 * gp3 about $2.30/month, backups up to the storage size free; Multi-AZ
 * doubles the instance and storage; a read replica costs a second instance;
 * Performance Insights' 7 days are free; Secrets Manager $0.40/secret/month.
 *
 * Warning: changing `username` or `kmsKeyId` would replace the instance
 * (a final snapshot, then a new empty instance): the preview refuses it
 * while the instance is protected (the default), and the state keeps the
 * running instance. Changing `identifier` renames the instance in place:
 * the data stays, but its `address`, and so every URL and DSN, changes.
 * The default identifier (`<project>-<stack>-<name>`) is fixed when the
 * instance is created: an instance created by an older release keeps its
 * `<name>-<stack>`.
 *
 * @example
 * ```ts
 * const db = new RdsPostgres('app-db', {
 *   vpcId: vpc.vpcId,
 *   subnetIds: vpc.privateSubnetIds,
 *   allowedSecurityGroupIds: [appSecurityGroup.id],
 *   sslrootcert: 'global-bundle.pem',
 * });
 * const shared = new SharedPostgres('shared', { server: db.handle, namePrefix: 'vw_', instances: [{ name: 'blog' }] });
 * ```
 * @throws ValidationError before anything is created, naming the field: an
 *   unknown engine version or class, storage or backup numbers out of range,
 *   a public CIDR without `allowAnyAddress`, nothing admitted, a bad
 *   `pgConfig` key or value or a managed one (`rds.force_ssl`,
 *   `password_encryption`, `port`, `ssl*`), Performance Insights on a class
 *   without it, a replica class too small for the primary's max_connections,
 *   an sslmode RDS does not permit, a verifying sslmode (the default)
 *   without `sslrootcert`, a major.minor `engineVersion` while
 *   `autoMinorVersionUpgrade` is on, fewer than two subnets.
 */
export class RdsPostgres extends pulumi.ComponentResource {
  /** The plan this component deployed (plain data). */
  public readonly plan: RdsPlan;
  public readonly subnetGroup: SubnetGroup;
  public readonly securityGroup: SecurityGroup;
  public readonly ingressRules: SecurityGroupIngressRule[];
  public readonly parameterGroup: ParameterGroup;
  public readonly instance: Instance;
  public readonly replica?: Instance;
  /** Host name of the instance (its `address`, never `endpoint`, which is host:port). */
  public readonly address: pulumi.Output<string>;
  /** Port of the instance. */
  public readonly port: pulumi.Output<number>;
  /** Host name of the read replica. */
  public readonly readerAddress?: pulumi.Output<string>;
  /** Port of the read replica. */
  public readonly readerPort?: pulumi.Output<number>;
  /** The master user's password (secret), unless Secrets Manager manages it. */
  public readonly masterPassword?: pulumi.Output<string>;
  /** ARN of the Secrets Manager secret holding the master password (with `manageMasterUserPassword`). */
  public readonly masterUserSecretArn?: pulumi.Output<string>;
  /** The name the final snapshot will get on deletion. */
  public readonly finalSnapshotIdentifier: pulumi.Output<string>;
  /** The admin provider (also in the handle). */
  public readonly provider: postgresql.Provider;
  /** The handle to provision databases on. */
  public readonly handle: PostgresServerHandle;

  constructor(name: string, args: RdsPostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    // 0. Everything is validated before any resource exists.
    const plan = planRds(name, pulumi.getStack(), { ...args, allowedSecurityGroupCount: (args.allowedSecurityGroupIds ?? []).length }, pulumi.getProject());
    const cautions = pgSettingCautions(args.pgConfig ?? {}, plan.major, rdsMinor(plan.engineVersion));
    // A list known now is checked now; an Output (e.g. awsx's privateSubnetIds) is checked by RDS itself.
    if (Array.isArray(args.subnetIds)) {
      check(args.subnetIds.length >= 2, 'subnetIds', `${args.subnetIds.length} subnet(s) given`, 'Give subnets in at least two availability zones (RDS requires them for a DB subnet group)');
    }
    const { passwordLength, connectTimeoutSeconds: connectTimeout } = checkLoginOptions(args, 15);
    check(!(args.manageMasterUserPassword && args.passwordLength !== undefined), 'passwordLength', 'is set with manageMasterUserPassword', 'Remove one: Secrets Manager generates the password itself');
    // The handle's numbers (budget with the admin's and maintenance connections), checked before anything exists.
    const handleNumbers = {
      kind: ServerKind.Managed,
      sslmode: plan.sslmode,
      ...(plan.clientSslRootCert ? { sslrootcert: plan.clientSslRootCert } : {}),
      maxConnections: plan.capacity.maxConnections,
      reservedConnections: plan.capacity.reservedConnections,
      adminConnections: args.adminMaxConnections,
      maintenanceConnections: args.maintenanceConnections,
      adminUser: plan.username,
      adminDatabase: 'postgres',
      adminIsSuperuser: false,
    };
    const { providerPool } = renameCapacityField(plan, () => validateServerHandleArgs({ ...handleNumbers, host: '', port: plan.port }));

    super('postgres-strategies:index:RdsPostgres', name, {}, opts);
    this.plan = plan;
    // A parameter a minor release added: an instance of an older release refuses it.
    for (const caution of cautions) pulumi.log.warn(caution, this);
    const parent = { parent: this };
    const tags = args.tags ?? {};

    // 1. The master password.
    if (!args.manageMasterUserPassword) {
      const password = new random.RandomPassword(`${name}-master-password`, { length: passwordLength, special: false }, parent);
      this.masterPassword = pulumi.secret(password.result);
    }

    // What keeps the instance keeps what it runs in: protect and retain, unless allowDeletion.
    // (protect is set only when true, so a protect given to the component still reaches every child.)
    const kept: pulumi.CustomResourceOptions = (args.allowDeletion ?? false) ? {} : { protect: true, retainOnDelete: true };
    const retained: pulumi.CustomResourceOptions = (args.allowDeletion ?? false) ? {} : { retainOnDelete: true };

    // 2. The final snapshot's random suffix, keyed on the identifier, KMS key and user name. Its `keepers.identifier`
    //    is the identifier the instance was created with: a defaulted identifier is fixed at creation (ignoreChanges),
    //    like a Pulumi auto-name, so a stack deployed by an older release keeps its instance's name and everything
    //    named after it (the final snapshot, the replica, a new major's parameter group).
    const snapshotSuffix = new random.RandomId(
      `${name}-final-snapshot-suffix`,
      { byteLength: 4, keepers: { identifier: plan.identifier, username: plan.username, kmsKeyId: args.kmsKeyId ?? '' } },
      { ...parent, ...(plan.identifierIsDefault ? { ignoreChanges: ['keepers.identifier'] } : {}) },
    );
    const createdIdentifier = snapshotSuffix.keepers.apply((k) => k?.['identifier'] ?? plan.identifier);

    // 3. Network: subnet group, security group, one ingress rule per source. Their names and descriptions are
    //    those the first release created (rdsGroupNames); changes of them are ignored: description and name prefix
    //    replace a group (ForceNew), and renaming the instance or changing its port must not.
    const groupNames: pulumi.CustomResourceOptions = { ignoreChanges: ['namePrefix', 'description'] };
    this.subnetGroup = new SubnetGroup(`${name}-subnets`, { ...plan.groups.subnetGroup, subnetIds: args.subnetIds, tags }, { ...parent, ...kept, ...groupNames });
    this.securityGroup = new SecurityGroup(`${name}-security-group`, { ...plan.groups.securityGroup, vpcId: args.vpcId, tags }, { ...parent, ...kept, ...groupNames });
    // A rule leaves with its group (deletedWith): removed alone it is revoked, but a retained group keeps its rules.
    const rule = (label: string, source: Partial<SecurityGroupIngressRuleArgs>, description: string): SecurityGroupIngressRule =>
      new SecurityGroupIngressRule(
        `${name}-ingress-${label}`,
        { securityGroupId: this.securityGroup.id, ipProtocol: 'tcp', fromPort: plan.port, toPort: plan.port, description, ...source, tags },
        { ...parent, deletedWith: this.securityGroup },
      );
    this.ingressRules = [
      ...(args.allowedSecurityGroupIds ?? []).map((id, i) => rule(`sg-${i}`, { referencedSecurityGroupId: id }, 'PostgreSQL from an admitted security group')),
      ...plan.allowedCidrs.map((c, i) => rule(`cidr-${i}`, c.ipv6 ? { cidrIpv6: c.cidr } : { cidrIpv4: c.cidr }, `PostgreSQL from ${c.cidr}`)),
    ];

    // 4. The parameter group (a new one is created before the old leaves: name prefix, no deleteBeforeReplace),
    //    named after the instance's identifier and family. Retained like the instance; protected too, except while a
    //    major upgrade (a new family) is allowed: then its name prefix follows the new family, else changes are ignored.
    this.parameterGroup = new ParameterGroup(
      `${name}-parameters`,
      {
        namePrefix: createdIdentifier.apply((id) => rdsGroupNames(id, plan.port, plan.family).parameterGroup.namePrefix),
        family: plan.family,
        description: plan.groups.parameterGroup.description,
        parameters: plan.parameters.map((p) => ({ name: p.name, value: p.value, applyMethod: p.applyMethod })),
        tags,
      },
      {
        ...parent,
        ...(args.allowMajorVersionUpgrade ? retained : kept),
        deleteBeforeReplace: false,
        ignoreChanges: args.allowMajorVersionUpgrade ? ['description'] : ['namePrefix', 'description'],
      },
    );

    // 5. The instance.
    this.finalSnapshotIdentifier = pulumi.all([createdIdentifier, snapshotSuffix.hex]).apply(([id, hex]) => finalSnapshotIdentifier(id, hex));
    const shared = {
      instanceClass: plan.instanceClass,
      storageType: plan.storageType,
      maxAllocatedStorage: plan.maxAllocatedStorage,
      storageEncrypted: true,
      ...(args.kmsKeyId !== undefined ? { kmsKeyId: args.kmsKeyId } : {}),
      port: plan.port,
      dbSubnetGroupName: this.subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      parameterGroupName: this.parameterGroup.name,
      publiclyAccessible: plan.publiclyAccessible,
      caCertIdentifier: plan.caCertIdentifier,
      autoMinorVersionUpgrade: plan.autoMinorVersionUpgrade,
      allowMajorVersionUpgrade: args.allowMajorVersionUpgrade ?? false,
      applyImmediately: args.applyImmediately ?? false,
      copyTagsToSnapshot: true,
      ...(args.maintenanceWindow !== undefined ? { maintenanceWindow: args.maintenanceWindow } : {}),
      tags,
    };
    const insights = (on: boolean): Partial<InstanceArgs> =>
      on ? { performanceInsightsEnabled: true, performanceInsightsRetentionPeriod: plan.performanceInsightsRetentionPeriod } : { performanceInsightsEnabled: false };
    this.instance = new Instance(
      `${name}-instance`,
      {
        ...shared,
        identifier: plan.identifier,
        engine: 'postgres',
        engineVersion: plan.engineVersion,
        allocatedStorage: plan.allocatedStorage,
        username: plan.username,
        ...(this.masterPassword
          ? { password: this.masterPassword }
          : { manageMasterUserPassword: true, ...(args.masterUserSecretKmsKeyId !== undefined ? { masterUserSecretKmsKeyId: args.masterUserSecretKmsKeyId } : {}) }),
        multiAz: plan.multiAz,
        backupRetentionPeriod: plan.backupRetentionPeriod,
        ...(args.backupWindow !== undefined ? { backupWindow: args.backupWindow } : {}),
        deleteAutomatedBackups: false,
        deletionProtection: plan.deletionProtection,
        skipFinalSnapshot: false,
        finalSnapshotIdentifier: this.finalSnapshotIdentifier,
        ...insights(plan.performanceInsights),
        // Create-time inputs, ForceNew in the provider (plan.ts: RdsRestoreOptions).
        ...(plan.restore?.snapshotIdentifier !== undefined ? { snapshotIdentifier: plan.restore.snapshotIdentifier } : {}),
        ...(plan.restore?.pointInTime !== undefined ? { restoreToPointInTime: plan.restore.pointInTime } : {}),
      },
      // A fixed identifier cannot exist twice: a replacement deletes (with a final snapshot) first. Protected,
      // so no such replacement (nor a destroy) passes the preview unless allowDeletion; it depends on its
      // ingress rules, so `pulumi destroy --exclude-protected` keeps them with it. A defaulted identifier is
      // fixed at creation (ignoreChanges): a new default never renames an existing instance.
      { ...parent, ...kept, deleteBeforeReplace: true, dependsOn: this.ingressRules, ...(plan.identifierIsDefault ? { ignoreChanges: ['identifier'] } : {}) },
    );
    this.address = this.instance.address;
    this.port = this.instance.port;
    if (args.manageMasterUserPassword) {
      this.masterUserSecretArn = this.instance.masterUserSecrets.apply((s) => s?.[0]?.secretArn as string);
    }

    // 6. The read replica (same subnet group, security group and parameters), named after the primary.
    if (plan.replica) {
      this.replica = new Instance(
        `${name}-replica`,
        {
          ...shared,
          identifier: createdIdentifier.apply(replicaIdentifier),
          instanceClass: plan.replica.instanceClass,
          // With a subnet group given, RDS wants the source's ARN.
          replicateSourceDb: this.instance.arn,
          multiAz: plan.replica.multiAz,
          backupRetentionPeriod: 0,
          // A replica has no data of its own: no final snapshot (RDS refuses one), no deletion protection.
          skipFinalSnapshot: true,
          deletionProtection: false,
          ...insights(plan.replica.performanceInsights),
        },
        { ...parent, deleteBeforeReplace: true },
      );
      this.readerAddress = this.replica.address;
      this.readerPort = this.replica.port;
    }

    // 7. The admin provider and the handle.
    const adminPassword: pulumi.Output<string> =
      this.masterPassword ??
      pulumi.secret(
        getSecretVersionOutput({ secretId: this.masterUserSecretArn as pulumi.Output<string> }, parent)
          .apply((v) => (typeof v.secretString === 'string' ? (JSON.parse(v.secretString) as { password: string }).password : (undefined as unknown as string))),
      );
    const tunneled = args.adminHost !== undefined;
    this.provider = new postgresql.Provider(
      `${name}-admin`,
      {
        host: args.adminHost ?? this.instance.address,
        port: args.adminPort ?? this.instance.port,
        username: plan.username,
        password: adminPassword,
        database: 'postgres',
        sslmode: tunneled && plan.sslmode === SslMode.VerifyFull ? SslMode.VerifyCa : plan.sslmode,
        ...(plan.sslrootcert ? { sslrootcert: plan.sslrootcert } : {}),
        superuser: false,
        connectTimeout,
        // Never the bound (the share is, see ProviderLanes): the server's own limit, so no operation waits for a pooled connection.
        maxConnections: providerPool,
      },
      { ...parent, dependsOn: [this.instance] },
    );
    this.handle = createServerHandle({
      ...handleNumbers,
      host: this.instance.address,
      port: this.instance.port,
      provider: this.provider,
      // Every instance database on the handle gets a readerUrl through the replica.
      standbys: this.replica ? [{ host: this.replica.address, port: this.replica.port }] : [],
      dependsOn: [this.instance],
    });

    this.registerOutputs({
      address: this.address,
      port: this.port,
      readerAddress: this.readerAddress,
      masterPassword: this.masterPassword,
      masterUserSecretArn: this.masterUserSecretArn,
      finalSnapshotIdentifier: this.finalSnapshotIdentifier,
    });
  }

  /**
   * The libpq URL of an instance database for reads (secret): the replica
   * first, then the primary, `target_session_attrs=prefer-standby`.
   * @deprecated Use the database's own `readerUrl` output
   * (`shared.instances[name].readerUrl`, `InstanceDatabase.readerUrl`),
   * which every Pulumi language sees; this returns that same output.
   * @throws ValidationError when there is no read replica, or the database
   *   was not provisioned on this instance's handle.
   */
  readerUrl(database: { readerUrl?: pulumi.Output<string> }): pulumi.Output<string> {
    check(this.replica !== undefined, 'readReplica', 'is not set, so there is no reader endpoint', 'Set readReplica: {} to create a read replica');
    check(database.readerUrl !== undefined, 'database', 'has no readerUrl: it was not provisioned on this instance\'s handle', 'Provision it with SharedPostgres or InstanceDatabase on RdsPostgres.handle');
    return database.readerUrl;
  }
}

/** The handle's capacity errors name the user's field: pgConfig.max_connections or instanceClass. */
function renameCapacityField<T>(plan: RdsPlan, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ValidationError && (e.field === 'maxConnections' || e.field === 'reservedConnections')) {
      const field = plan.capacity.maxConnectionsSource === 'pgConfig' ? 'pgConfig.max_connections' : 'instanceClass';
      const fix = plan.capacity.maxConnectionsSource === 'pgConfig' ? e.fix : 'Use a larger instance class (its max_connections grows with memory), set pgConfig.max_connections, or lower adminMaxConnections or maintenanceConnections';
      throw new ValidationError(field, e.problem, fix);
    }
    throw e;
  }
}
