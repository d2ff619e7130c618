/**
 * The guard's backup checks (issue 21): a preview that removes a backup
 * schedule, or shortens how far backups reach back below the seeds' 7 days
 * ({@link GUARD_MIN_RETENTION_DAYS}), is a warning — the data stays, but the
 * next bad day may find no backup of it.
 *
 * What the preview shows of backups:
 * - an RDS instance's `backupRetentionPeriod` (its automated backups and
 *   point-in-time recovery window);
 * - LocalBackup's container: its `command` runs `postgres-strategies backup
 *   … --keep N --max-age-days D` every `sleep S` seconds (the environment,
 *   with the secrets, is masked; the command is not).
 * Hetzner's dump and pgBackRest schedules live in the server's user data,
 * which is secret in the preview: not judged here (docs/backups.md says so).
 *
 * Pure: names, types and property names in the findings, never values other
 * than the retention numbers.
 */
import { Finding, FindingCode, Severity } from './findings';
import { PreviewStep, parseUrn } from './preview';

/**
 * The seeds' shortest retention, in days: core/backup.ts' MIN_RETENTION_DAYS
 * (the guard loads nothing outside its folder; a unit test holds the two equal).
 */
export const GUARD_MIN_RETENTION_DAYS = 7;
const MIN_RETENTION_DAYS = GUARD_MIN_RETENTION_DAYS;

/** What a backup command of LocalBackup's container promises. */
export interface CommandRetention {
  /** Days of backups it keeps at least (Infinity: no limit). */
  days: number;
}

/** Reads the retention of a LocalBackup command (undefined when the command runs no backup). */
export function commandRetention(command: unknown): CommandRetention | undefined {
  const text = Array.isArray(command) ? command.join(' ') : typeof command === 'string' ? command : '';
  if (!/postgres-strategies[^\n]* backup /.test(text) && !/cli\/main\.js backup /.test(text)) return undefined;
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const keep = num(/--keep (\d+)/) ?? 0;
  const maxAgeDays = num(/--max-age-days (\d+)/) ?? 0;
  const interval = num(/\bsleep (\d+)/) ?? 86400;
  // The smaller of the two limits (as core/backup.ts' retentionDays): by age, and by count × interval.
  return { days: Math.min(maxAgeDays > 0 ? maxAgeDays : Infinity, keep > 0 ? (keep * interval) / 86400 : Infinity) };
}

const days = (d: number): string => (Number.isFinite(d) ? `${Math.round(d * 10) / 10} days` : 'no limit');

/** The backup findings of a preview's steps. */
export function backupFindings(steps: readonly PreviewStep[]): Finding[] {
  const out: Finding[] = [];
  for (const step of steps) {
    const urn = parseUrn(step.urn);
    if (!urn) continue;
    const base = { op: step.op, urn: step.urn, type: urn.type, resourceName: urn.name };
    if (urn.type === 'aws:rds/instance:Instance' && (step.op === 'update' || step.op === 'replace')) {
      const before = Number(step.oldState?.inputs?.['backupRetentionPeriod'] ?? NaN);
      const after = Number(step.newState?.inputs?.['backupRetentionPeriod'] ?? NaN);
      if (Number.isFinite(after) && after < MIN_RETENTION_DAYS && !(after >= before)) {
        out.push({
          ...base,
          severity: Severity.Warning,
          code: FindingCode.BackupRetentionShortened,
          resource: `RDS instance (${urn.name})`,
          properties: ['backupRetentionPeriod'],
          effect: `automated backups and point-in-time recovery reach back ${after === 0 ? 'not at all (backups off)' : `${after} days`} instead of ${Number.isFinite(before) ? `${before} days` : 'the current window'}: less than the ${MIN_RETENTION_DAYS} days the seeds ask for`,
          instead: `Keep backupRetentionDays at ${MIN_RETENTION_DAYS} or more (RdsPostgres' default is 7).`,
        });
      }
      continue;
    }
    if (urn.type === 'docker:index/container:Container') {
      const before = commandRetention(step.oldState?.inputs?.['command']);
      if (!before) continue;
      if (step.op === 'delete') {
        out.push({
          ...base,
          severity: Severity.Warning,
          code: FindingCode.BackupScheduleRemoved,
          resource: `backup container (${urn.name})`,
          properties: [],
          effect: 'the scheduled backups of the local stack stop: no new backup is taken (the ones in the bucket stay)',
          instead: 'Keep the LocalBackup component, or back the databases up another way first (postgres-strategies backup).',
        });
        continue;
      }
      const after = commandRetention(step.newState?.inputs?.['command']);
      if ((step.op === 'update' || step.op === 'replace') && after === undefined) {
        out.push({ ...base, severity: Severity.Warning, code: FindingCode.BackupScheduleRemoved, resource: `backup container (${urn.name})`, properties: ['command'], effect: 'the container no longer runs the scheduled backup', instead: 'Keep `postgres-strategies backup` in its command.' });
      } else if (after && after.days < MIN_RETENTION_DAYS && after.days < before.days) {
        out.push({
          ...base,
          severity: Severity.Warning,
          code: FindingCode.BackupRetentionShortened,
          resource: `backup container (${urn.name})`,
          properties: ['command'],
          effect: `backups are kept for ${days(after.days)} instead of ${days(before.days)}: less than the ${MIN_RETENTION_DAYS} days the seeds ask for`,
          instead: `Keep keep × interval and maxAgeDays at ${MIN_RETENTION_DAYS} days or more.`,
        });
      }
    }
  }
  return out;
}
