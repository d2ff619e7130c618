/**
 * The local stack's backups (seed Strategy 1's missing piece: "a daily
 * pg_dump to object storage"): a container on the stack's network that runs
 * the package's own `postgres-strategies backup` for each instance on an
 * interval, to an S3-compatible bucket, with retention by count and age and
 * optional encryption — `planLocalBackup` and `localBackupScript` (pure) and
 * the thin `LocalBackup` component that translates them into one
 * `docker.Container`.
 *
 * The container runs `node` (the image, `node:22-bookworm-slim` by default)
 * with the package from the program's own `node_modules`, bind-mounted
 * read-only (the same version as the program), and installs the PostgreSQL
 * client of the server's major from the PGDG apt repository on its first
 * start when the image has none (pg_dump must be at least the server's
 * major). Each round's exit status is in the container's log; a failed
 * round is retried at the next interval.
 */
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import {
  BACKUP_KEY_ENV,
  BackupDestinationPlan,
  RetentionPlan,
  backupCommandArgs,
  backupStoreEnv,
  backupUrlEnv,
  planBackupDestination,
  planRetention,
} from '../core/backup';
import { check, checkInteger } from '../core/errors';
import { shellQuote } from '../core/shell';

/** Where the program's node_modules is mounted in the container. */
export const LOCAL_BACKUP_MODULES = '/opt/postgres-strategies/node_modules';
/** The package's CLI inside the container. */
export const LOCAL_BACKUP_CLI = `node ${LOCAL_BACKUP_MODULES}/postgres-strategies/dist/src/cli/main.js`;
/** Where {@link LocalBackupArgs.storeCaPem} is uploaded in the container. */
export const LOCAL_BACKUP_STORE_CA = '/etc/postgres-strategies/store-ca.pem';
/** The default image: Node 22 on Debian 12 (apt for the PostgreSQL client). */
export const DEFAULT_LOCAL_BACKUP_IMAGE = 'node:22-bookworm-slim';

/** The plain settings of the local backups. */
export interface LocalBackupOptions {
  /** The instances to back up (their names). */
  instances: string[];
  /** `s3://bucket/prefix`. */
  location: string;
  /** The store's endpoint (S3-compatible); from the container, e.g. `http://minio:9000` or a public store. @default AWS S3 */
  endpoint?: string;
  region?: string;
  /** Seconds between rounds. @default 86400 (daily) */
  intervalSeconds?: number;
  /** @default keep 14, 30 days */
  keep?: number;
  maxAgeDays?: number;
  /** Encrypt with a key (given to the component as a secret). @default false */
  encrypt?: boolean;
  /** The server's PostgreSQL major (the client installed when the image has none). @default 17 */
  postgresMajor?: number;
  /** @default "node:22-bookworm-slim" */
  image?: string;
}

/** The checked plan. */
export interface LocalBackupPlan {
  instances: string[];
  destination: BackupDestinationPlan;
  retention: RetentionPlan;
  intervalSeconds: number;
  encrypt: boolean;
  postgresMajor: number;
  image: string;
}

/**
 * Checks the settings.
 * @throws ValidationError naming `backup.<field>`.
 */
export function planLocalBackup(o: LocalBackupOptions): LocalBackupPlan {
  check(o.instances.length > 0, 'backup.instances', 'is empty', 'Name the instances to back up');
  for (const [i, name] of o.instances.entries()) check(/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name), `backup.instances[${i}]`, `"${name}" is not an instance name`, 'Give the instance names of the stack');
  const intervalSeconds = o.intervalSeconds ?? 86400;
  checkInteger(intervalSeconds, 'backup.intervalSeconds', 60, 31 * 86400, 'seconds');
  const postgresMajor = o.postgresMajor ?? 17;
  checkInteger(postgresMajor, 'backup.postgresMajor', 12, 99, 'major');
  const image = o.image ?? DEFAULT_LOCAL_BACKUP_IMAGE;
  check(/^[a-z0-9][a-z0-9._/:@-]*$/.test(image), 'backup.image', `"${image}" is not an image reference`, 'Give e.g. "node:22-bookworm-slim"');
  return {
    instances: [...o.instances],
    destination: planBackupDestination({ location: o.location, ...(o.endpoint !== undefined ? { endpoint: o.endpoint } : {}), ...(o.region !== undefined ? { region: o.region } : {}) }, 'backup'),
    retention: planRetention({ ...(o.keep !== undefined ? { keep: o.keep } : {}), ...(o.maxAgeDays !== undefined ? { maxAgeDays: o.maxAgeDays } : {}) }, 'backup'),
    intervalSeconds,
    encrypt: o.encrypt ?? false,
    postgresMajor,
    image,
  };
}

/**
 * The container's program (POSIX sh): the client tools when missing, then
 * one backup per instance each round; `PS_BACKUP_ONCE=1` runs one round and
 * exits with its status (what the host test and a manual run use).
 * @param cli how the package's command is run. @default {@link LOCAL_BACKUP_CLI}
 */
export function localBackupScript(p: LocalBackupPlan, cli = LOCAL_BACKUP_CLI): string {
  const major = p.postgresMajor;
  return [
    '#!/bin/sh',
    '# postgres-strategies: backups of the local stack\'s instances, one round per interval.',
    'set -u',
    `PATH="/usr/lib/postgresql/${major}/bin:$PATH"`,
    'export PATH',
    'have=$(pg_dump --version 2>/dev/null | sed -n \'s/.*(PostgreSQL) \\([0-9]*\\).*/\\1/p\')',
    `if [ "\${have:-0}" -lt ${major} ]; then`,
    `  echo "postgres-strategies-backup: installing postgresql-client-${major} (PGDG)"`,
    '  apt-get update -q && apt-get install -y -q postgresql-common && /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y \\',
    `    && apt-get install -y -q postgresql-client-${major} || exit 1`,
    'fi',
    'while :; do',
    '  failed=0',
    ...p.instances.map(
      (name) => `  ${cli} ${backupCommandArgs({ urlEnv: backupUrlEnv(name), destination: p.destination, retention: p.retention, encrypt: p.encrypt }).map(shellQuote).join(' ')} || failed=1`,
    ),
    '  echo "postgres-strategies-backup: round done at $(date -u +%Y-%m-%dT%H:%M:%SZ), status $failed"',
    '  if [ "${PS_BACKUP_ONCE:-0}" = 1 ]; then exit "$failed"; fi',
    `  sleep ${p.intervalSeconds}`,
    'done',
    '',
  ].join('\n');
}

/** Arguments of {@link LocalBackup}. */
export interface LocalBackupArgs extends LocalBackupOptions {
  /** The stack's Docker network (`LocalPostgres.network.name`). */
  network: pulumi.Input<string>;
  /** Each instance's libpq URL from the network (`LocalPostgres.instances[name].url`), by instance name. */
  urls: Record<string, pulumi.Input<string>>;
  /** The program's node_modules folder on this machine (bind-mounted read-only). @default `<cwd>/node_modules` */
  nodeModulesDir?: string;
  /** Object-store access key id (secret). */
  accessKeyId: pulumi.Input<string>;
  /** Object-store secret key (secret). */
  secretAccessKey: pulumi.Input<string>;
  /** The backup key (secret; `openssl rand -base64 32`) when `encrypt`. */
  backupKey?: pulumi.Input<string>;
  /**
   * The CA certificate (PEM) of a store whose TLS certificate a private CA
   * signed (a MinIO or versitygw of your own): uploaded to
   * {@link LOCAL_BACKUP_STORE_CA} and given to the CLI as `AWS_CA_BUNDLE`.
   * @default none: the public CAs of the image's Node
   */
  storeCaPem?: pulumi.Input<string>;
  /** Prefix of the container's name. @default the component name */
  namePrefix?: string;
}

/**
 * A backup container on the local stack's network.
 *
 * @example
 * ```ts
 * const db = new LocalPostgres('db', { instances: [{ name: 'blog' }] });
 * new LocalBackup('db-backup', {
 *   network: db.network.name, instances: ['blog'], urls: { blog: db.instances.blog.url },
 *   location: 's3://backups/dev', endpoint: 'https://s3.example.com',
 *   accessKeyId: cfg.requireSecret('s3Key'), secretAccessKey: cfg.requireSecret('s3Secret'),
 * });
 * ```
 * @throws ValidationError before anything is created for bad settings, a
 *   missing URL of an instance, or `encrypt` without a `backupKey`.
 */
export class LocalBackup extends pulumi.ComponentResource {
  public readonly plan: LocalBackupPlan;
  /** Where the backups are: `s3://bucket/prefix` (each database under `<database>/<stamp>/`). */
  public readonly location: string;
  public readonly container: docker.Container;

  constructor(name: string, args: LocalBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    const plan = planLocalBackup(args);
    for (const inst of plan.instances) check(args.urls[inst] !== undefined, `urls.${inst}`, 'is missing', 'Give the instance\'s url output from the stack\'s network');
    check(!plan.encrypt || args.backupKey !== undefined, 'backupKey', 'is missing while encrypt is on', 'Give the key as a secret (openssl rand -base64 32)');
    super('postgres-strategies:index:LocalBackup', name, {}, opts);
    this.plan = plan;
    this.location = args.location;
    const image = new docker.RemoteImage(`${name}-image`, { name: plan.image, keepLocally: true }, { parent: this });
    const plainEnv = Object.entries(backupStoreEnv(plan.destination)).map(([k, v]) => `${k}=${v}`);
    if (args.storeCaPem !== undefined) plainEnv.push(`AWS_CA_BUNDLE=${LOCAL_BACKUP_STORE_CA}`);
    const secretEnv = pulumi
      .all([args.accessKeyId, args.secretAccessKey, args.backupKey ?? '', ...plan.instances.map((i) => args.urls[i] as pulumi.Input<string>)])
      .apply(([key, secret, backupKey, ...urls]) => [
        `AWS_ACCESS_KEY_ID=${key}`,
        `AWS_SECRET_ACCESS_KEY=${secret}`,
        ...(plan.encrypt ? [`${BACKUP_KEY_ENV}=${backupKey}`] : []),
        ...plan.instances.map((inst, i) => `${backupUrlEnv(inst)}=${urls[i]}`),
      ]);
    this.container = new docker.Container(
      `${name}-backup`,
      {
        name: `${args.namePrefix ?? name}-backup`,
        image: image.imageId,
        command: ['sh', '-c', localBackupScript(plan)],
        envs: pulumi.secret(secretEnv.apply((s) => [...plainEnv, ...s])),
        volumes: [{ hostPath: args.nodeModulesDir ?? `${process.cwd()}/node_modules`, containerPath: LOCAL_BACKUP_MODULES, readOnly: true }],
        // Only with a CA: an existing container's inputs stay as they were (uploads replace a container).
        ...(args.storeCaPem !== undefined ? { uploads: [{ file: LOCAL_BACKUP_STORE_CA, content: args.storeCaPem }] } : {}),
        networksAdvanced: [{ name: args.network }],
        restart: 'unless-stopped',
        mustRun: true,
      },
      { parent: this },
    );
    this.registerOutputs({ location: this.location });
  }
}
