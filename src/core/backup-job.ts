/**
 * The off-site logical backup of any server handle (Neon, Supabase,
 * External, Shared, RDS, Hetzner; pure, no Pulumi import): each instance's
 * database dumped by the package's own `postgres-strategies backup` to an
 * S3-compatible bucket on a schedule, with retention, and optionally the
 * restore drill — rendered two ways:
 *
 * - a scheduled GitHub Actions workflow (one matrix job per instance; the
 *   URLs, object-store key and backup key as repository secrets);
 * - systemd units for any Linux host or container: a oneshot service with
 *   one `ExecStart` per instance, a timer, and an environment file (secret)
 *   with the URLs and keys.
 *
 * Seeds: 000 (a daily dump of each database to object storage, each
 * database on its own), 001 (`pg_dump -Fc` to S3 with retention), 003 (an
 * off-site dump of the managed database; tested restores).
 */
import { stringify } from 'yaml';
import {
  BACKUP_KEY_ENV,
  BackupDestinationPlan,
  DEFAULT_BACKUP_CRON,
  DEFAULT_BACKUP_ON_CALENDAR,
  RetentionPlan,
  backupCommandArgs,
  backupStoreEnv,
  backupUrlEnv,
  checkCron,
  checkOnCalendar,
  formatS3Location,
} from './backup';
import { check } from './errors';
import { shellQuote } from './shell';
import { systemdTimer } from './systemd';

/** One database the job backs up. */
export interface BackupJobInstance {
  /** The instance's name (a folder of letters, digits, `.`, `_`, `-`). */
  name: string;
}

/** What the job is rendered from. */
export interface BackupJobPlan {
  instances: BackupJobInstance[];
  destination: BackupDestinationPlan;
  retention: RetentionPlan;
  /** Encrypt with the key in {@link BACKUP_KEY_ENV}. */
  encrypt: boolean;
  /** Five-field cron (GitHub Actions, UTC). @default "15 3 * * *" */
  cron?: string;
  /** systemd OnCalendar. @default "*-*-* 03:15:00 UTC" */
  onCalendar?: string;
  /** The PostgreSQL client major to install on the runner (≥ every server's major). @default 17 */
  clientMajor?: number;
  /** Run the restore drill of each backup against this server (its admin URL in `PS_DRILL_URL`). @default false */
  drill?: boolean;
}

/** The GitHub secret that holds an instance's URL: `<NAME>_DATABASE_URL` (upper case). */
export function urlSecretName(instance: string): string {
  return `${instance.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_DATABASE_URL`;
}

function checkPlan(p: BackupJobPlan): void {
  check(p.instances.length > 0, 'instances', 'is empty', 'Give at least one instance to back up');
  const names = new Set<string>();
  for (const [i, inst] of p.instances.entries()) {
    check(/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(inst.name), `instances[${i}].name`, `"${inst.name}" is not an instance name`, 'Use letters, digits, ".", "_", "-"');
    check(!names.has(urlSecretName(inst.name)), `instances[${i}].name`, `"${inst.name}" gives the same secret name as another instance`, 'Rename one of them');
    names.add(urlSecretName(inst.name));
  }
}

/** The shell command of one instance's backup (no secret in it: the URL and keys come from the environment). */
export function instanceBackupCommand(p: BackupJobPlan, urlEnv: string, cli = 'npx postgres-strategies'): string {
  const args = backupCommandArgs({ urlEnv, destination: p.destination, retention: p.retention, encrypt: p.encrypt });
  return `${cli} ${args.map(shellQuote).join(' ')}`;
}

/**
 * The drill of the newest backup of a database (`PS_DRILL_URL`: a server
 * admin URL): `databaseWord` is a shell word that expands to the database
 * name, e.g. `"$database"`.
 */
export function instanceDrillCommand(p: BackupJobPlan, databaseWord: string, cli = 'npx postgres-strategies'): string {
  const from = `${shellQuote(`${formatS3Location({ bucket: p.destination.bucket, prefix: p.destination.prefix })}/`)}${databaseWord}`;
  return `${cli} restore --verify-only --from ${from} --to-env PS_DRILL_URL${p.encrypt ? ` --key-env ${BACKUP_KEY_ENV}` : ''}`;
}

/**
 * The scheduled GitHub Actions workflow (`.github/workflows/postgres-backups.yml`).
 * Secrets it reads: `<INSTANCE>_DATABASE_URL` per instance (the instance's
 * `url` output), `BACKUP_AWS_ACCESS_KEY_ID`, `BACKUP_AWS_SECRET_ACCESS_KEY`,
 * `POSTGRES_STRATEGIES_BACKUP_KEY` (when encrypting) and `PS_DRILL_URL`
 * (with the drill). The drill restores the newest backup of the database
 * the URL names into a scratch database on that server.
 * @throws ValidationError for no instances, a bad instance name or cron.
 */
export function renderBackupWorkflow(p: BackupJobPlan): string {
  checkPlan(p);
  const cron = checkCron(p.cron ?? DEFAULT_BACKUP_CRON, 'cron');
  const major = p.clientMajor ?? 17;
  check(Number.isInteger(major) && major >= 12 && major <= 99, 'clientMajor', `${major} is not a PostgreSQL major`, 'Give the newest major among the servers, e.g. 17');
  const env: Record<string, string> = {
    ...backupStoreEnv(p.destination),
    AWS_ACCESS_KEY_ID: '${{ secrets.BACKUP_AWS_ACCESS_KEY_ID }}',
    AWS_SECRET_ACCESS_KEY: '${{ secrets.BACKUP_AWS_SECRET_ACCESS_KEY }}',
    ...(p.encrypt ? { [BACKUP_KEY_ENV]: `\${{ secrets.${BACKUP_KEY_ENV} }}` } : {}),
  };
  const steps: Array<Record<string, unknown>> = [
    { uses: 'actions/checkout@v5' },
    { uses: 'actions/setup-node@v5', with: { 'node-version': 22, cache: 'npm' } },
    { run: 'npm ci' },
    {
      name: `PostgreSQL ${major} client tools`,
      run: [
        'sudo apt-get update -q',
        'sudo apt-get install -y -q postgresql-common',
        'sudo /usr/share/postgresql-common/pgdg/apt.postgresql.org.sh -y',
        `sudo apt-get install -y -q postgresql-client-${major}`,
        `echo "/usr/lib/postgresql/${major}/bin" >> "$GITHUB_PATH"`,
      ].join('\n'),
    },
    {
      name: 'backup ${{ matrix.instance }}',
      env: { PS_BACKUP_URL: '${{ secrets[matrix.url_secret] }}' },
      run: instanceBackupCommand(p, 'PS_BACKUP_URL'),
    },
  ];
  if (p.drill) {
    steps.push({
      name: 'restore drill ${{ matrix.instance }}',
      env: { PS_DRILL_URL: '${{ secrets.PS_DRILL_URL }}', PS_BACKUP_URL: '${{ secrets[matrix.url_secret] }}' },
      // The database of the instance's URL names the folder of its backups.
      run: ['database=$(node -e \'console.log(decodeURIComponent(new URL(process.env.PS_BACKUP_URL).pathname.slice(1)))\')', instanceDrillCommand(p, '"$database"')].join('\n'),
    });
  }
  const doc = {
    name: 'postgres backups',
    on: { schedule: [{ cron }], workflow_dispatch: {} },
    permissions: { contents: 'read' },
    concurrency: { group: 'postgres-backups', 'cancel-in-progress': false },
    jobs: {
      backup: {
        'runs-on': 'ubuntu-24.04',
        'timeout-minutes': 360,
        strategy: { 'fail-fast': false, matrix: { include: p.instances.map((i) => ({ instance: i.name, url_secret: urlSecretName(i.name) })) } },
        env,
        steps,
      },
    },
  };
  return [
    '# postgres-strategies: the off-site backup of every instance, daily, to an S3-compatible bucket.',
    '# Copy to .github/workflows/. Secrets: <INSTANCE>_DATABASE_URL (each instance\'s url output),',
    `# BACKUP_AWS_ACCESS_KEY_ID, BACKUP_AWS_SECRET_ACCESS_KEY${p.encrypt ? `, ${BACKUP_KEY_ENV} (openssl rand -base64 32)` : ''}${p.drill ? ', PS_DRILL_URL (a server admin URL for the restore drill)' : ''}.`,
    `# Retention: the newest ${p.retention.keep || 'all'} backups, none older than ${p.retention.maxAgeDays || '∞'} days, per database.`,
    stringify(doc, { lineWidth: 0 }),
  ].join('\n');
}

/** systemd units and the environment file of the job on a host or container. */
export interface BackupSystemdUnits {
  /** `postgres-strategies-offsite-backup.service`. */
  service: string;
  /** `postgres-strategies-offsite-backup.timer`. */
  timer: string;
  /**
   * `/etc/postgres-strategies/offsite-backup.env` (mode 0600; secret): the
   * URLs and keys. Values are given by the caller (`values`), each checked to be one line.
   */
  environmentFile: string;
}

/** Where the environment file goes. */
export const OFFSITE_ENV_FILE = '/etc/postgres-strategies/offsite-backup.env';

/**
 * The units: one `ExecStart` per instance (each `postgres-strategies backup
 * --from-env PS_BACKUP_URL_<NAME> …`), run in order; the timer at `onCalendar`.
 * @param secrets the environment file's secret values: each instance's URL
 *   by name, the object-store key pair and the backup key.
 * @param cli how the package's command is run on the host. @default "/usr/bin/npx --yes postgres-strategies"
 */
export function renderBackupSystemd(
  p: BackupJobPlan,
  secrets: { urls: Record<string, string>; accessKeyId: string; secretAccessKey: string; backupKey?: string },
  cli = '/usr/bin/npx --no-install postgres-strategies',
): BackupSystemdUnits {
  checkPlan(p);
  const onCalendar = checkOnCalendar(p.onCalendar ?? DEFAULT_BACKUP_ON_CALENDAR, 'onCalendar');
  check(!p.encrypt || (secrets.backupKey ?? '') !== '', 'backupKey', 'is missing while encrypt is on', 'Give the backup key');
  const values: Record<string, string> = {
    ...backupStoreEnv(p.destination),
    AWS_ACCESS_KEY_ID: secrets.accessKeyId,
    AWS_SECRET_ACCESS_KEY: secrets.secretAccessKey,
    ...(p.encrypt ? { [BACKUP_KEY_ENV]: secrets.backupKey as string } : {}),
  };
  for (const inst of p.instances) {
    const url = secrets.urls[inst.name];
    check(url !== undefined && url !== '', `urls.${inst.name}`, 'is missing', 'Give the instance\'s url output');
    values[backupUrlEnv(inst.name)] = url;
  }
  const envLines = Object.entries(values).map(([k, v]) => {
    check(!/[\r\n]/.test(v), k, 'has a line break', 'Give a one-line value');
    // systemd's EnvironmentFile: a double-quoted value keeps every character; \ and " escaped.
    return `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  });
  const service = [
    '[Unit]',
    'Description=postgres-strategies: off-site backup of every instance',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    `EnvironmentFile=${OFFSITE_ENV_FILE}`,
    'DynamicUser=yes',
    'Nice=10',
    ...p.instances.map((inst) => `ExecStart=${instanceBackupCommand(p, backupUrlEnv(inst.name), cli)}`),
    '',
  ].join('\n');
  const timer = systemdTimer('postgres-strategies: daily off-site backup', onCalendar, '30min');
  return { service, timer, environmentFile: `# postgres-strategies: secrets of the off-site backup (mode 0600)\n${envLines.join('\n')}\n` };
}
