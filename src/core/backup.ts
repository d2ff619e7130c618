/**
 * Backups across strategies (pure, no Pulumi import): where a backup goes
 * (an `s3://bucket/prefix` location and the store's endpoint), how long it is
 * kept (by count and by age), how often it runs, and the command and
 * environment of the package's own `postgres-strategies backup` — what the
 * Local backup container, the off-site job of any server handle and the
 * docs all run. Each strategy folder translates this plan (local/backup.ts,
 * hetzner/backup.ts, provisioning/offsite-backup.ts).
 *
 * Object-store settings reach the package's command as the standard AWS SDK
 * variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
 * `AWS_ENDPOINT_URL_S3`), and path-style addressing is explicit
 * (`POSTGRES_STRATEGIES_S3_PATH_STYLE=1`) for stores other than AWS S3.
 *
 * Sources: seed 000 (a daily `pg_dump` to object storage; managed servers'
 * point-in-time recovery of at least 7 days), seed 001 (`pg_dump -Fc` to S3
 * with retention), seed 002 (retention by count and by age), seed 003
 * (tested restores).
 */
import { check, checkInteger } from './errors';

/** The shortest retention the seeds accept for a production backup: 7 days of recovery. */
export const MIN_RETENTION_DAYS = 7;
/** Backups kept per database by default. */
export const DEFAULT_BACKUP_KEEP = 14;
/** Days after which backups are removed by default. */
export const DEFAULT_BACKUP_MAX_AGE_DAYS = 30;
/** The default schedule: daily at 03:15 UTC (systemd `OnCalendar`). */
export const DEFAULT_BACKUP_ON_CALENDAR = '*-*-* 03:15:00 UTC';
/** The same, as a GitHub Actions / cron expression (UTC). */
export const DEFAULT_BACKUP_CRON = '15 3 * * *';
/** The environment variable the backup key is read from (base64 of 32 random bytes). */
export const BACKUP_KEY_ENV = 'POSTGRES_STRATEGIES_BACKUP_KEY';
/** Set to `1` for path-style S3 addressing (`https://endpoint/bucket/key`): what non-AWS stores need. */
export const S3_PATH_STYLE_ENV = 'POSTGRES_STRATEGIES_S3_PATH_STYLE';

/** An `s3://bucket/prefix` location, parsed. */
export interface S3Location {
  bucket: string;
  /** Key prefix without a leading `/`; empty, or ending in `/`. */
  prefix: string;
}

/**
 * Parses `s3://bucket` or `s3://bucket/some/prefix` (a trailing `/` is added
 * to a non-empty prefix).
 * @throws ValidationError naming `field` for another scheme, a bad bucket
 *   name (S3's rules: 3–63 lower-case letters, digits, `.`, `-`) or a prefix
 *   with `..`, `//` or characters outside `A-Za-z0-9._-/=+`.
 */
export function parseS3Location(url: string, field: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  check(m !== null, field, `"${url}" is not an s3:// location`, 'Give s3://<bucket>/<prefix>, e.g. s3://backups/prod/app');
  const bucket = m[1] as string;
  check(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket), field, `"${bucket}" is not a bucket name`, 'Use 3-63 lower-case letters, digits, "." and "-"');
  let prefix = (m[2] ?? '').replace(/\/+$/, '');
  check(
    prefix === '' || (/^[A-Za-z0-9._=+-]+(\/[A-Za-z0-9._=+-]+)*$/.test(prefix) && !prefix.split('/').some((p) => p === '.' || p === '..')),
    field,
    `"${prefix}" is not a key prefix`,
    'Use folders of letters, digits, ".", "_", "-", "=", "+" separated by "/"',
  );
  if (prefix !== '') prefix += '/';
  return { bucket, prefix };
}

/** The location as an `s3://` URL (the prefix without its trailing `/`). */
export function formatS3Location(l: S3Location): string {
  return `s3://${l.bucket}${l.prefix === '' ? '' : `/${l.prefix.replace(/\/$/, '')}`}`;
}

/** Where backups go: the bucket, the key prefix and the store. */
export interface BackupDestinationPlan extends S3Location {
  /** The store's endpoint URL; undefined: AWS S3 itself. */
  endpoint?: string;
  /** @default "us-east-1" */
  region: string;
  /** Path-style addressing: on whenever an endpoint is given (S3-compatible stores). */
  pathStyle: boolean;
}

/** What the user gives for a destination (plain values). */
export interface BackupDestinationOptions {
  /** `s3://bucket/prefix`. */
  location: string;
  /** Endpoint URL of an S3-compatible store, e.g. `https://fsn1.your-objectstorage.com`. @default AWS S3 */
  endpoint?: string;
  /** @default "us-east-1" */
  region?: string;
}

/**
 * Checks a destination.
 * @param field the user's field, e.g. `backup` (its parts are `<field>.location`, `.endpoint`, `.region`).
 * @throws ValidationError for a bad location, an endpoint that is not an
 *   http(s) URL of a host, or a region with characters a region never has.
 */
export function planBackupDestination(o: BackupDestinationOptions, field: string): BackupDestinationPlan {
  const location = parseS3Location(o.location, `${field}.location`);
  const region = o.region ?? 'us-east-1';
  check(/^[a-z0-9-]{2,32}$/.test(region), `${field}.region`, `"${region}" is not a region`, 'Give e.g. "us-east-1", or "fsn1" for Hetzner Object Storage');
  const plan: BackupDestinationPlan = { ...location, region, pathStyle: o.endpoint !== undefined };
  if (o.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(o.endpoint);
    } catch {
      url = undefined;
    }
    check(
      url !== undefined && (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '' && (url.pathname === '/' || url.pathname === '') && url.search === '' && url.username === '',
      `${field}.endpoint`,
      `"${o.endpoint}" is not an endpoint URL`,
      'Give the store\'s URL without a path, e.g. "https://fsn1.your-objectstorage.com"',
    );
    plan.endpoint = url.origin;
  }
  return plan;
}

/** How long backups are kept. */
export interface RetentionPlan {
  /** Backups kept per database, newest first; 0 keeps all. */
  keep: number;
  /** Backups older than this many days are removed; 0 keeps them. */
  maxAgeDays: number;
}

/**
 * Checks retention. `keep` 0 and `maxAgeDays` 0 mean "no limit".
 * @throws ValidationError naming `<field>.keep` / `<field>.maxAgeDays`.
 */
export function planRetention(o: { keep?: number; maxAgeDays?: number }, field: string): RetentionPlan {
  const keep = o.keep ?? DEFAULT_BACKUP_KEEP;
  const maxAgeDays = o.maxAgeDays ?? DEFAULT_BACKUP_MAX_AGE_DAYS;
  checkInteger(keep, `${field}.keep`, 0, 10000, 'backups');
  checkInteger(maxAgeDays, `${field}.maxAgeDays`, 0, 36500, 'days');
  return { keep, maxAgeDays };
}

/**
 * The days of recovery a retention promises at least, for a schedule that
 * runs every `intervalDays`: by age `maxAgeDays`, by count `keep ×
 * intervalDays`; the smaller of the two limits (Infinity when neither
 * limits). The guard warns below {@link MIN_RETENTION_DAYS}.
 */
export function retentionDays(r: RetentionPlan, intervalDays = 1): number {
  const byAge = r.maxAgeDays > 0 ? r.maxAgeDays : Infinity;
  const byCount = r.keep > 0 ? r.keep * intervalDays : Infinity;
  return Math.min(byAge, byCount);
}

/** A five-field cron expression (GitHub Actions `schedule`, UTC): minute hour day month weekday. */
export function checkCron(cron: string, field: string): string {
  const part = '(\\*|\\d{1,2}(-\\d{1,2})?)(\\/\\d{1,2})?';
  const list = `${part}(,${part})*`;
  check(new RegExp(`^${list}( ${list}){4}$`).test(cron), field, `"${cron}" is not a five-field cron expression`, 'Give e.g. "15 3 * * *" (daily at 03:15 UTC)');
  return cron;
}

/** A systemd `OnCalendar` expression (only its characters are checked; `systemd-analyze calendar` is the authority). */
export function checkOnCalendar(onCalendar: string, field: string): string {
  check(/^[A-Za-z0-9*:,./~ _+-]+$/.test(onCalendar) && onCalendar.trim() === onCalendar, field, `${JSON.stringify(onCalendar)} is not a systemd OnCalendar expression`, 'Give e.g. "daily" or "*-*-* 03:15:00 UTC"');
  return onCalendar;
}

/** The environment of the package's backup command, without the secrets (which the caller adds as secrets). */
export function backupStoreEnv(d: BackupDestinationPlan): Record<string, string> {
  return {
    AWS_REGION: d.region,
    ...(d.endpoint !== undefined ? { AWS_ENDPOINT_URL_S3: d.endpoint } : {}),
    ...(d.pathStyle ? { [S3_PATH_STYLE_ENV]: '1' } : {}),
  };
}

/** What one scheduled backup of one database runs. */
export interface BackupCommandOptions {
  /** The environment variable that holds the database's libpq URL (never the URL itself: it holds a password). */
  urlEnv: string;
  /** Where: the backups of the database go to `<prefix>/<database>/<stamp>/`. */
  destination: BackupDestinationPlan;
  retention: RetentionPlan;
  /** Encrypt with the key in {@link BACKUP_KEY_ENV}. */
  encrypt: boolean;
}

/**
 * The arguments after `postgres-strategies` (no secret among them):
 * `backup --from-env <VAR> --to s3://bucket/prefix --keep N --max-age-days D [--key-env VAR]`.
 * @throws ValidationError for a `urlEnv` that is not a variable name.
 */
export function backupCommandArgs(o: BackupCommandOptions): string[] {
  check(/^[A-Z_][A-Z0-9_]*$/.test(o.urlEnv), 'urlEnv', `"${o.urlEnv}" is not an environment variable name`, 'Use upper-case letters, digits and "_"');
  return [
    'backup',
    '--from-env',
    o.urlEnv,
    '--to',
    formatS3Location(o.destination),
    '--keep',
    String(o.retention.keep),
    '--max-age-days',
    String(o.retention.maxAgeDays),
    ...(o.encrypt ? ['--key-env', BACKUP_KEY_ENV] : []),
  ];
}

/** The environment variable an instance's URL is passed in: `PS_BACKUP_URL_<NAME>` (upper case, `_` for other characters). */
export function backupUrlEnv(instance: string): string {
  return `PS_BACKUP_URL_${instance.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}
