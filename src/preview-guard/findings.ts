/**
 * A finding of the preview guard: one step that would lose data or break
 * the clients of a database, in the words a reviewer needs.
 */
import { StepOp } from './preview';
import { SubjectKind } from './subjects';

/** How bad a finding is. */
export enum Severity {
  /** Loses data, or moves the app onto an empty resource: the check fails unless acknowledged. */
  Error = 'error',
  /** Breaks clients (a name, address or certificate changes) but keeps the data: reported, never fails the check. */
  Warning = 'warning',
}

/** What a finding is about (stable identifiers, for `--format json` consumers). */
export enum FindingCode {
  /** The resource is deleted, and its data with it. */
  Deleted = 'deleted',
  /** The resource is replaced: a new, empty one takes its place. */
  Replaced = 'replaced',
  /** A new, empty resource appears while one of the same kind leaves the stack (a renamed instance or component). */
  NewEmpty = 'new-empty',
  /**
   * A database or role is created while one of the same name on the same
   * server leaves the stack: the program moved it without aliases (`up`
   * fails on `already exists`).
   */
  Recreated = 'recreated',
  /** The resource leaves the stack but stays where it is (retained on delete). */
  Retained = 'retained',
  /** An RDS instance is deleted with a final snapshot: the data survives only in the snapshot. */
  DeletedWithSnapshot = 'deleted-with-snapshot',
  /** A read replica is replaced or deleted: a copy, rebuilt from its source. */
  ReplicaRebuilt = 'replica-rebuilt',
  /** A role that owns nothing is deleted or replaced: its logins stop working. */
  LoginRemoved = 'login-removed',
  /** A database, role, volume or instance is renamed in place. */
  Renamed = 'renamed',
  /** The host or port clients connect to changes. */
  EndpointChanged = 'endpoint-changed',
  /** What clients need for TLS changes: sslmode, the CA, RDS's certificate authority or `rds.force_ssl`. */
  TlsChanged = 'tls-changed',
  /** A database or role moves to another server's admin connection (provider), which copies nothing. */
  Moved = 'moved',
  /** What kept the data from a later delete is switched off (retainOnDelete, deletion protection, the final snapshot). */
  ProtectionRemoved = 'protection-removed',
  /** The admin connection moves to another database of the same server. */
  AdminDatabaseChanged = 'admin-database-changed',
  /**
   * An instance's login rotates (alternating logins): every DSN output
   * changes its user and password; the previous login keeps working until
   * the next rotation. Also: rotation turned on or off.
   */
  Rotated = 'rotated',
  /**
   * An emergency revocation: every earlier password of an instance stops
   * working and the sessions of its logins are terminated during the deploy.
   */
  Revoked = 'revoked',
  /** A certificate nears its expiry, or is re-issued in its renewal window. */
  CertificateExpiring = 'certificate-expiring',
  /** The preview itself failed or is partial, so its steps cannot be vouched for. */
  PreviewIncomplete = 'preview-incomplete',
  /** A backup schedule is removed (backups.ts). */
  BackupScheduleRemoved = 'backup-schedule-removed',
  /** Backups would reach back less than 7 days (backups.ts). */
  BackupRetentionShortened = 'backup-retention-shortened',
}

/** One finding. */
export interface Finding {
  severity: Severity;
  code: FindingCode;
  /** The step's operation (`delete`, `replace`, `update`, `create`, …). */
  op: StepOp;
  /** The resource's URN ('' for a finding about the whole preview). */
  urn: string;
  /** The resource's type token, e.g. `postgresql:index/database:Database`. */
  type: string;
  /** The resource as the program wrote it, e.g. `database "vw_blog" (SharedPostgres "shared", instance "blog")`. */
  resource: string;
  /** What the resource is to the guard (absent for a finding about the whole preview). */
  kind?: SubjectKind;
  /** Its own name where it lives (database, role, RDS identifier, volume), when the preview shows it. */
  name?: string;
  /** Its logical name in the program (the last part of its URN). */
  resourceName?: string;
  /** The library component it belongs to (`SharedPostgres`, `RdsPostgres`, …), if any. */
  component?: string;
  /** That component's name, when the preview shows it. */
  componentName?: string;
  /** The app instance, for SharedPostgres and InstanceDatabase resources. */
  instance?: string;
  /**
   * The properties that cause it: the step's `replaceReasons` for a
   * replacement, else the `diffReasons` that matter (names only, never values).
   */
  properties: string[];
  /** What the step would do. */
  effect: string;
  /** What to do instead: the safe procedure. */
  instead: string;
  /** The `--allow` value that acknowledged it, when one did. */
  acknowledgedBy?: string;
}

/** The findings that fail the check: errors nobody acknowledged. */
export function blockingFindings(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === Severity.Error && f.acknowledgedBy === undefined);
}
