/**
 * Continuous WAL archiving and point-in-time recovery for the Hetzner
 * server with pgBackRest (pure, no Pulumi import): the plan of the `pitr`
 * argument and the files the user data adds for it.
 *
 * - Debian's `pgbackrest` package (2.45 on debian-12), installed by the
 *   setup program; one stanza `main` for the cluster;
 * - the repository in an S3-compatible bucket (`repo1-type=s3`,
 *   path-style URIs, HTTPS — pgBackRest before 2.58 speaks only HTTPS to S3;
 *   `repo1-storage-ca-file` for a store with a private CA), encrypted with
 *   the user's key (`repo1-cipher-type=aes-256-cbc`);
 * - `archive_mode = on`, `archive_command = pgbackrest … archive-push %p`
 *   (a conf.d fragment of its own; the first setup restarts the server for
 *   archive_mode);
 * - a full backup weekly and a differential daily, as systemd timers; the
 *   first full backup right after the stanza is created, so recovery works
 *   from the first hour;
 * - retention by time: full backups (and the WAL they need) are expired
 *   after `retentionDays` — pgBackRest keeps the full backup that starts
 *   the window, so any time in the last `retentionDays` days can be
 *   recovered;
 * - `postgres-strategies-pitr-restore <time>|latest`: stops the cluster,
 *   moves what is left of the data directory aside (never deletes it),
 *   restores with `--type=time --target=<time> --target-action=promote` and
 *   starts the server; it waits for the shutdown and the replay as long as
 *   they take (PGCTLTIMEOUT; pg_ctl's default 60 s failed a 1 GB restore).
 *
 * Settings map from the same values the package's `backup` command reads
 * from the AWS SDK variables (endpoint, region, key, secret): pgBackRest
 * does not read those variables.
 */
import { MIN_RETENTION_DAYS, checkOnCalendar, planBackupDestination } from '../core/backup';
import { check, checkInteger } from '../core/errors';
import { systemdTimer } from '../core/systemd';

/** Where pgBackRest's settings are installed (Debian's default path). */
export const PGBACKREST_CONF_PATH = '/etc/pgbackrest.conf';
/** Where the store's CA is installed for pgBackRest (readable by postgres). */
export const PGBACKREST_CA_PATH = '/etc/pgbackrest-ca.pem';
/** The restore program. */
export const PITR_RESTORE_SCRIPT_PATH = '/usr/local/sbin/postgres-strategies-pitr-restore';
/** The stanza of the cluster. */
export const PITR_STANZA = 'main';
/** Full backups are expired after this many days by default. */
export const DEFAULT_PITR_RETENTION_DAYS = 14;
/** The weekly full backup (systemd OnCalendar, UTC). */
export const DEFAULT_PITR_FULL_SCHEDULE = 'Sun *-*-* 02:30:00 UTC';
/** The daily differential backup. */
export const DEFAULT_PITR_DIFF_SCHEDULE = 'Mon..Sat *-*-* 02:30:00 UTC';

/** The plain `pitr` settings (secrets already resolved). */
export interface PitrOptions {
  /** The store's endpoint URL, e.g. `https://fsn1.your-objectstorage.com` (HTTPS only). */
  endpoint: string;
  /** `s3://bucket/prefix`: the repository goes to `<prefix>` in the bucket. */
  location: string;
  /** @default "us-east-1" */
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The key the repository is encrypted with (any text of 32+ characters; `openssl rand -base64 32`). */
  encryptionKey: string;
  /** The CA (PEM) of a store with a private CA. @default the system's CAs */
  caPem?: string;
  /** Days of recovery kept (full backups expire after this). @default 14 */
  retentionDays?: number;
  /** systemd OnCalendar of the full backup. @default weekly, Sunday 02:30 UTC */
  fullSchedule?: string;
  /** systemd OnCalendar of the differential backup. @default Monday to Saturday 02:30 UTC */
  diffSchedule?: string;
}

/** The checked plan (no secrets). */
export interface PitrPlan {
  host: string;
  port: number;
  bucket: string;
  /** The repository's path in the bucket: `/` + prefix without its trailing `/`, or `/pgbackrest`. */
  repoPath: string;
  region: string;
  retentionDays: number;
  fullSchedule: string;
  diffSchedule: string;
  /** A CA file is installed for the store. */
  privateCa: boolean;
}

/**
 * Checks the `pitr` settings.
 * @throws ValidationError naming `pitr.<field>`: an endpoint that is not
 *   HTTPS, a bad location or region, an empty key, a retention below the
 *   seeds' 7 days or schedules that are not OnCalendar expressions.
 */
export function planPitr(o: PitrOptions): PitrPlan {
  const dest = planBackupDestination({ location: o.location, endpoint: o.endpoint, ...(o.region !== undefined ? { region: o.region } : {}) }, 'pitr');
  const url = new URL(dest.endpoint as string);
  check(url.protocol === 'https:', 'pitr.endpoint', `"${o.endpoint}" is not HTTPS, and pgBackRest 2.45 (Debian 12) speaks only HTTPS to S3`, 'Give the store\'s https:// endpoint');
  check(o.accessKeyId.length > 0 && o.secretAccessKey.length > 0, 'pitr', 'has an empty access key', 'Give the bucket\'s access key id and secret');
  check(o.encryptionKey.length >= 32 && !/[\r\n]/.test(o.encryptionKey), 'pitr.encryptionKey', 'is shorter than 32 characters or has a line break', 'Give a random key: openssl rand -base64 32 (keep a copy outside the bucket: without it nothing restores)');
  const retentionDays = o.retentionDays ?? DEFAULT_PITR_RETENTION_DAYS;
  checkInteger(retentionDays, 'pitr.retentionDays', MIN_RETENTION_DAYS, 3650, 'days');
  if (o.caPem !== undefined) check(/-----BEGIN CERTIFICATE-----/.test(o.caPem), 'pitr.caPem', 'is not a PEM certificate', 'Give the PEM text of the CA that signed the store\'s certificate');
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 443 : Number(url.port),
    bucket: dest.bucket,
    repoPath: dest.prefix === '' ? '/pgbackrest' : `/${dest.prefix.replace(/\/$/, '')}`,
    region: dest.region,
    retentionDays,
    fullSchedule: checkOnCalendar(o.fullSchedule ?? DEFAULT_PITR_FULL_SCHEDULE, 'pitr.fullSchedule'),
    diffSchedule: checkOnCalendar(o.diffSchedule ?? DEFAULT_PITR_DIFF_SCHEDULE, 'pitr.diffSchedule'),
    privateCa: o.caPem !== undefined,
  };
}

/** pgBackRest's settings: one repository in the bucket, the cluster as stanza `main`. Holds the S3 secret and the cipher key. */
export function renderPgbackrestConf(o: PitrOptions, plan: PitrPlan, dataDirectory: string, caFile: string): string {
  const line = (k: string, v: string | number): string => {
    const text = String(v);
    if (/[\r\n]/.test(text)) throw new Error(`pgbackrest.conf: ${k} has a line break`);
    return `${k}=${text}`;
  };
  return [
    '# postgres-strategies: pgBackRest (continuous WAL archiving, full + differential backups, PITR)',
    '[global]',
    line('repo1-type', 's3'),
    line('repo1-s3-bucket', plan.bucket),
    line('repo1-s3-endpoint', plan.host),
    line('repo1-storage-port', plan.port),
    line('repo1-s3-region', plan.region),
    line('repo1-s3-uri-style', 'path'),
    line('repo1-s3-key', o.accessKeyId),
    line('repo1-s3-key-secret', o.secretAccessKey),
    ...(plan.privateCa ? [line('repo1-storage-ca-file', caFile)] : []),
    line('repo1-path', plan.repoPath),
    line('repo1-cipher-type', 'aes-256-cbc'),
    line('repo1-cipher-pass', o.encryptionKey),
    line('repo1-retention-full-type', 'time'),
    line('repo1-retention-full', plan.retentionDays),
    line('start-fast', 'y'),
    line('process-max', 2),
    line('log-level-console', 'info'),
    line('log-level-file', 'off'),
    '',
    `[${PITR_STANZA}]`,
    line('pg1-path', dataDirectory),
    '',
  ].join('\n');
}

/** The conf.d fragment that turns archiving on (archive_mode needs a restart: the setup sees it in pg_file_settings). */
export const PITR_POSTGRESQL_CONF = `# postgres-strategies: continuous WAL archiving to pgBackRest's repository
archive_mode = on
archive_command = 'pgbackrest --stanza=${PITR_STANZA} archive-push %p'
archive_timeout = 300
wal_level = replica
`;

/** The systemd service and timer of one kind of backup (`full` or `diff`). */
export function pitrUnits(kind: 'full' | 'diff', onCalendar: string): { service: string; timer: string } {
  return {
    service: `[Unit]
Description=postgres-strategies: pgBackRest ${kind} backup
After=postgresql.service
Requires=postgresql.service

[Service]
Type=oneshot
User=postgres
ExecStart=/usr/bin/pgbackrest --stanza=${PITR_STANZA} --type=${kind} backup
Nice=10
IOSchedulingClass=idle
`,
    timer: systemdTimer(`postgres-strategies: pgBackRest ${kind} backup`, onCalendar, '15min'),
  };
}

/** Paths of the units. */
export function pitrUnitPath(kind: 'full' | 'diff', unit: 'service' | 'timer'): string {
  return `/etc/systemd/system/postgres-strategies-pitr-${kind}.${unit}`;
}

export const PITR_RESTORE_SCRIPT = `#!/bin/sh
# postgres-strategies: point-in-time recovery from pgBackRest's repository.
# usage: postgres-strategies-pitr-restore '<time>' | latest
#   <time>: a PostgreSQL timestamp with a zone, e.g. '2026-05-01 14:03:00+00'.
# Stops the cluster, moves what is left of its data directory aside (never
# deletes it), restores the newest backup before the time and replays the
# archived WAL up to it, then starts the server (promoted: it takes writes).
set -eu
umask 077
# shellcheck source=/dev/null
. /etc/postgres-strategies/setup.conf
: "\${PG_MAJOR:?}" "\${MOUNT_POINT:?}"
DATA_DIR="$MOUNT_POINT/$PG_MAJOR/main"
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
# pg_ctl waits 60 s by default: a busy server's shutdown checkpoint, or the replay of a day of WAL,
# takes longer (the 1 GB bench's fast shutdown did), and the stop or start would fail while the
# server goes on. Wait as long as they take.
export PGCTLTIMEOUT=86400
log() { printf 'postgres-strategies-pitr-restore: %s\\n' "$*"; }
if [ "$#" -ne 1 ]; then
  log "usage: $0 '<time, e.g. 2026-05-01 14:03:00+00>' | latest" >&2
  exit 2
fi
target=$1
if [ "$target" = latest ]; then
  set -- --type=default
else
  set -- --type=time "--target=$target" --target-action=promote
fi
runuser -u postgres -- pgbackrest --stanza=${PITR_STANZA} info > /dev/null
if pg_ctlcluster "$PG_MAJOR" main status > /dev/null 2>&1; then
  pg_ctlcluster "$PG_MAJOR" main stop -m fast
  log "stopped the server"
fi
if [ -d "$DATA_DIR" ] && [ -n "$(ls -A "$DATA_DIR")" ]; then
  aside="$DATA_DIR.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  mv "$DATA_DIR" "$aside"
  log "moved the old data directory to $aside (remove it once the restore is verified)"
fi
mkdir -p "$DATA_DIR"
chown postgres:postgres "$DATA_DIR"
chmod 700 "$DATA_DIR"
log "restoring to $target"
runuser -u postgres -- pgbackrest --stanza=${PITR_STANZA} --log-level-console=warn "$@" restore
# Recovery without hot standby: WAL from a time when a setting such as max_connections was higher than
# now would otherwise pause the replay ("hot standby is not possible because of insufficient parameter
# settings"); no session is needed before the target is reached and the server promoted.
log "replaying the archived WAL to $target"
pg_ctlcluster "$PG_MAJOR" main start -- -o '-c hot_standby=off'
waited=0
while [ "$(runuser -u postgres -- psql -X -A -t -d postgres -c 'SELECT pg_catalog.pg_is_in_recovery()' 2>/dev/null || echo t)" != f ]; do
  if [ "$waited" -ge 3000 ]; then
    log "the server did not finish recovery within 300 s (see its log)" >&2
    exit 1
  fi
  sleep 0.1
  waited=$((waited + 1))
done
log "restored to $target: the server runs and takes writes"
`;
