/**
 * The RDS DB parameter group of an `RdsPostgres` server: its family from the
 * major version, the parameters this library always sets, the user's
 * `pgConfig` through the same key and value checks as the local strategy,
 * and each parameter's apply method.
 *
 * Sources: AWS RDS User Guide "Working with parameter groups" (family
 * `postgres<major>`; a static parameter needs `ApplyMethod=pending-reboot`,
 * a dynamic one takes `immediate`), "Using SSL with a PostgreSQL DB
 * instance" (`rds.force_ssl`), PostgreSQL docs §20.3 (`password_encryption`)
 * and `pg_settings` of the same major (src/core/pg-settings, generated from
 * real servers, with pg_stat_statements, auto_explain and pg_prewarm
 * loaded): names, value types, units and ranges, and `context`
 * (`postmaster` = needs a restart = static); the ModifyDBParameterGroup API
 * (`pending-reboot` is accepted for every parameter, `immediate` only for
 * dynamic ones).
 */
import { check } from '../core/errors';
import { ConfValue, MANAGED_CONF_KEYS, validatePgConfig } from '../core/server-config';
import { PgSettingType, parsePgSettingValue, pgSetting, pgSettingNeedsRestart } from '../core/pg-settings';

/** PostgreSQL majors RDS offers that this library supports. */
export const RDS_POSTGRES_MAJORS: readonly number[] = [14, 15, 16, 17, 18];
/** The default engine version: the newest major with RDS standard support for years to come. */
export const DEFAULT_RDS_ENGINE_VERSION = '17';

/** How RDS applies a parameter change. */
export enum ApplyMethod {
  /** Dynamic parameters: applied without a restart. */
  Immediate = 'immediate',
  /** Static parameters: applied at the next reboot. */
  PendingReboot = 'pending-reboot',
}

/** One parameter of the group, as `aws.rds.ParameterGroup` takes it. */
export interface RdsParameter {
  name: string;
  value: string;
  applyMethod: ApplyMethod;
}

/** What every group this library creates sets, and why. */
export const ENFORCED_PARAMETERS: Readonly<Record<string, string>> = Object.freeze({
  // Reject every connection without TLS (the default from PostgreSQL 15 on; explicit for 13/14 and for reviewers).
  'rds.force_ssl': '1',
  // New passwords are stored as SCRAM-SHA-256 verifiers, never md5.
  password_encryption: 'scram-sha-256',
});

/**
 * Keys `pgConfig` may not set on RDS: the enforced parameters above and the
 * file, TLS and port settings RDS manages itself.
 */
export const RDS_MANAGED_PARAMETERS: ReadonlySet<string> = new Set([...MANAGED_CONF_KEYS, ...Object.keys(ENFORCED_PARAMETERS)]);

/** RDS's own parameters that need a reboot (AWS "Parameters for RDS for PostgreSQL"). */
export const RDS_STATIC_PARAMETERS: ReadonlySet<string> = new Set(['rds.logical_replication']);

/**
 * How RDS is told to apply a parameter: `pending-reboot` when it is static
 * (context `postmaster` in the major's real `pg_settings`, src/core/pg-settings,
 * extensions' parameters included, or one of {@link RDS_STATIC_PARAMETERS}),
 * and also when the library does not know the parameter (another
 * extension's, most of RDS's `rds.*`): RDS accepts `pending-reboot` for
 * static and dynamic parameters alike, but refuses `immediate` for a static
 * one ("cannot use immediate apply method for static parameter"). Such a
 * change takes effect at the next reboot.
 * Source: AWS RDS API ModifyDBParameterGroup, `ApplyMethod` ("You can use
 * the immediate value with dynamic parameters only. You can use the
 * pending-reboot value for both dynamic and static parameters").
 */
export function applyMethod(name: string, major: number): ApplyMethod {
  const unknown = ENFORCED_PARAMETERS[name] === undefined && pgSetting(name, major) === undefined;
  return unknown || isStaticParameter(name, major) ? ApplyMethod.PendingReboot : ApplyMethod.Immediate;
}

/**
 * Whether a parameter is static (needs a reboot) in the major: context
 * `postmaster` in that major's real `pg_settings`, or one of
 * {@link RDS_STATIC_PARAMETERS}. (A parameter the library does not know is
 * neither; {@link applyMethod} still sends it as `pending-reboot`.)
 */
export function isStaticParameter(name: string, major: number): boolean {
  return RDS_STATIC_PARAMETERS.has(name) || pgSettingNeedsRestart(name, major);
}

/**
 * The major of an RDS engine version (`"17"`, `"17.4"`, `"16.6"`).
 * @throws ValidationError naming `field` for another shape or a major RDS
 *   does not offer.
 */
export function rdsMajor(engineVersion: string, field = 'engineVersion'): number {
  const m = /^(\d+)(\.\d+)?$/.exec(engineVersion);
  check(m !== null, field, `"${engineVersion}" is not a PostgreSQL engine version`, 'Give a major ("17") or major.minor ("17.4") as RDS lists them');
  const major = Number(m[1]);
  check(
    RDS_POSTGRES_MAJORS.includes(major),
    field,
    `PostgreSQL ${major} is not a major RDS offers for new instances`,
    `Use one of: ${RDS_POSTGRES_MAJORS.join(', ')}`,
  );
  return major;
}

/** The minor release a major.minor `engineVersion` pins (`"17.4"` → 4), else undefined. */
export function rdsMinor(engineVersion: string): number | undefined {
  const m = /^\d+\.(\d+)$/.exec(engineVersion);
  return m ? Number(m[1]) : undefined;
}

/** The parameter-group family of a major: `postgres17`. */
export function parameterGroupFamily(major: number): string {
  return `postgres${major}`;
}

/**
 * A parameter-group value as RDS lists them: booleans `1`/`0`; integer and
 * real parameters as a plain number in the parameter's base unit (RDS takes
 * no unit suffix: `shared_buffers: "256MB"` becomes `32768`, 8 kB pages);
 * enums and strings as given. The value must have passed `validatePgConfig`.
 */
export function rdsParameterValue(name: string, value: ConfValue, major: number): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  const setting = pgSetting(name, major);
  if (setting && (setting.vartype === PgSettingType.Integer || setting.vartype === PgSettingType.Real || setting.vartype === PgSettingType.Bool)) {
    const parsed = parsePgSettingValue(setting, value);
    if (parsed.ok && typeof parsed.value === 'boolean') return parsed.value ? '1' : '0';
    if (parsed.ok && typeof parsed.value === 'number') return Number.isSafeInteger(parsed.value) ? parsed.value.toFixed(0) : String(parsed.value);
  }
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value.toFixed(0) : String(value);
  return value;
}

/**
 * The group's parameters: {@link ENFORCED_PARAMETERS} and the user's
 * `pgConfig`, sorted by name, each with its {@link applyMethod}.
 * @throws ValidationError (naming `<field>.<key>`) for a key that is not a
 *   parameter of the major (checked against its real `pg_settings`,
 *   preloaded extensions' parameters included), a managed key, a value the
 *   parameter does not accept (type, unit, range), or a value with a unit
 *   for a parameter whose unit the library does not know.
 */
export function planParameters(major: number, pgConfig: Record<string, ConfValue> = {}, field = 'pgConfig', minor?: number): RdsParameter[] {
  validatePgConfig(pgConfig, major, field, RDS_MANAGED_PARAMETERS, minor);
  const all: Record<string, string> = { ...ENFORCED_PARAMETERS };
  for (const [key, value] of Object.entries(pgConfig)) {
    // A parameter the library does not know cannot have its unit converted: RDS wants the plain number.
    check(
      pgSetting(key, major) !== undefined || typeof value !== 'string' || !NUMBER_WITH_UNIT.test(value),
      `${field}.${key}`,
      `${JSON.stringify(value)} has a unit, and RDS takes this parameter as a plain number in its own unit, which this library does not know for "${key}"`,
      'Give the number alone, in the unit the parameter group lists for it (aws rds describe-db-parameters, or the console)',
    );
    all[key] = rdsParameterValue(key, value, major);
  }
  return Object.keys(all)
    .sort()
    .map((name) => ({ name, value: all[name] as string, applyMethod: applyMethod(name, major) }));
}

/** A number followed by a unit (`500ms`, `1 GB`, `2.5min`). */
const NUMBER_WITH_UNIT = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)\s*[A-Za-z]+\s*$/;
