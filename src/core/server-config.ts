/**
 * Server configuration files: `postgresql.conf` overrides from a typed map
 * and a rendered `pg_hba.conf`.
 *
 * postgresql.conf rules (seed 002's `pg_config`): integers and finite
 * decimals unquoted, booleans `on`/`off`, strings single-quoted with `'`
 * doubled (and `\` doubled, because the server's config lexer reads
 * backslash escapes inside quoted values); keys must match
 * `^[a-z][a-z0-9_]*$`, optionally one `.`-separated part for extension
 * settings (`pg_stat_statements.track`), so that a key cannot smuggle in
 * another directive.
 *
 * pg_hba.conf (seed 004): with TLS on, only `hostssl` lines accept
 * passwords and every `hostnossl` connection is rejected; the last lines
 * reject anything not matched (defence in depth).
 */
import { isIP } from 'node:net';
import { ValidationError, check } from './errors';
import { PG_MAJORS_SUPPORTED, pgSettingMajors, validatePgSetting } from './pg-settings';

export {
  MINOR_RELEASE_PARAMETERS,
  PG_MAJORS_SUPPORTED,
  PgSettingContext,
  PgSettingType,
  pgSetting,
  pgSettingContext,
  pgSettingNeedsRestart,
  pgSettingCaution,
  pgSettingCautions,
  pgSettingNames,
  validatePgSetting,
} from './pg-settings';
export type { MinorReleaseParameter, PgSetting } from './pg-settings';

/** A postgresql.conf value. */
export type ConfValue = number | boolean | string;

// NAME or NAME.NAME, each part starting with a letter: what the server's config lexer accepts.
const CONF_KEY = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$/;

/** Keys that only the strategy may set (paths and TLS files it manages). */
export const MANAGED_CONF_KEYS: ReadonlySet<string> = new Set([
  'data_directory', 'config_file', 'hba_file', 'ident_file', 'external_pid_file', 'include',
  'include_dir', 'include_if_exists', 'ssl', 'ssl_cert_file', 'ssl_key_file', 'ssl_ca_file',
  'ssl_crl_file', 'ssl_crl_dir', 'ssl_min_protocol_version', 'ssl_passphrase_command', 'port',
]);

/** Renders one value by seed 002's type rules. @throws ValidationError */
export function renderConfValue(value: ConfValue, field: string): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') {
    check(Number.isFinite(value), field, `${value} is not a finite number`, 'Give a finite number');
    const text = Number.isSafeInteger(value) ? value.toFixed(0) : String(value);
    // The config lexer takes an exponent only after a decimal point: 1e-7 must be 1.0e-7.
    return text.replace(/^(-?\d+)(e[-+]?\d+)$/i, '$1.0$2');
  }
  if (typeof value === 'string') {
    check(
      !/[\x00-\x1f\x7f]/.test(value),
      field,
      'contains a control character (newline, tab, ...), which postgresql.conf cannot hold',
      'Remove it',
    );
    return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
  }
  throw new ValidationError(field, `has unsupported type ${typeof value}`, 'Give a number, boolean or string');
}

/**
 * Validates a postgresql.conf key.
 * @throws ValidationError when the key does not match `^[a-z][a-z0-9_.]*$`
 *   or is one the strategy manages itself.
 */
export function validateConfKey(key: string, field: string, managed: ReadonlySet<string> = MANAGED_CONF_KEYS): void {
  check(
    CONF_KEY.test(key),
    `${field}.${key}`,
    `"${key}" is not a postgresql.conf parameter name (it must match ^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)?$)`,
    'Use the parameter name as the PostgreSQL docs spell it, e.g. "shared_buffers"',
  );
  check(
    !managed.has(key),
    `${field}.${key}`,
    `"${key}" is managed by this component`,
    'Set it through the component\'s own arguments (port, tls, ...) instead of the postgresql.conf overrides',
  );
}

/**
 * Renders postgresql.conf lines, one `key = value` per entry, sorted by key,
 * under a header comment.
 * @throws ValidationError for a bad key or value.
 */
export function renderPostgresqlConf(settings: Record<string, ConfValue>, field = 'pgConfig', header = 'postgres-strategies: rendered settings'): string {
  const lines = Object.keys(settings)
    .sort()
    .map((key) => {
      validateConfKey(key, field, new Set());
      return `${key} = ${renderConfValue(settings[key] as ConfValue, `${field}.${key}`)}`;
    });
  return [`# ${header}`, ...lines, ''].join('\n');
}

/**
 * Validates a map of user overrides of postgresql.conf for a PostgreSQL
 * major: each key must match the key pattern, not be one the strategy
 * manages, and be a parameter of that major (checked against the major's
 * own `pg_settings`, see ./pg-settings); each value must be one
 * postgresql.conf can hold and the server accepts for that parameter
 * (type, unit, range, enum value). Extension keys (`name.name`) are checked
 * for the pattern only.
 *
 * The older form without a major, `validatePgConfig(settings, field?,
 * managed?)`, checks names against every supported major (a name any of
 * them has is accepted) and values against the newest major that has the
 * name.
 * @param major the server's PostgreSQL major (14–18; a newer major is
 *   checked with the newest data, its own new names let through).
 * @param field the user's field, e.g. `pgConfig`; errors name `<field>.<key>`.
 * @param minor the server's minor release, when the program pins one: a
 *   parameter that came with a later minor release is refused (without it,
 *   `pgSettingCautions` says what an older server will do).
 * @throws ValidationError naming `<field>.<key>`: a bad or managed key, a
 *   name the major does not have ("did you mean shared_buffers?"), an
 *   internal parameter, or a value of the wrong type, unit or range.
 */
export function validatePgConfig(settings: Record<string, ConfValue>, major: number, field?: string, managed?: ReadonlySet<string>, minor?: number): void;
/** @deprecated Give the major: `validatePgConfig(settings, major, field, managed)`. */
export function validatePgConfig(settings: Record<string, ConfValue>, field?: string, managed?: ReadonlySet<string>): void;
export function validatePgConfig(
  settings: Record<string, ConfValue>,
  majorOrField?: number | string,
  fieldOrManaged?: string | ReadonlySet<string>,
  managedArg?: ReadonlySet<string>,
  minor?: number,
): void {
  const major = typeof majorOrField === 'number' ? majorOrField : undefined;
  const field = (typeof majorOrField === 'string' ? majorOrField : typeof fieldOrManaged === 'string' ? fieldOrManaged : undefined) ?? 'pgConfig';
  const managed = (typeof fieldOrManaged === 'object' ? fieldOrManaged : managedArg) ?? MANAGED_CONF_KEYS;
  check(
    settings !== null && typeof settings === 'object' && !Array.isArray(settings),
    field,
    'is not a map of setting names to values',
    'Give an object such as { shared_buffers: "256MB", max_connections: 200 }',
  );
  for (const key of Object.keys(settings)) {
    validateConfKey(key, field, managed);
    const value = settings[key] as ConfValue;
    renderConfValue(value, `${field}.${key}`);
    if (major !== undefined) {
      validatePgSetting(key, value, major, `${field}.${key}`, minor);
    } else if (!key.includes('.')) {
      // No major: any supported major's name is accepted, checked by the newest that has it.
      const majors = pgSettingMajors(key);
      const newest = PG_MAJORS_SUPPORTED[PG_MAJORS_SUPPORTED.length - 1] as number;
      validatePgSetting(key, value, majors.length > 0 ? (majors[majors.length - 1] as number) : newest, `${field}.${key}`);
    }
  }
}

/** pg_hba.conf connection types. */
export enum HbaType {
  Local = 'local',
  Host = 'host',
  HostSsl = 'hostssl',
  HostNoSsl = 'hostnossl',
}

/** pg_hba.conf authentication methods this library renders. */
export enum HbaMethod {
  Trust = 'trust',
  Reject = 'reject',
  ScramSha256 = 'scram-sha-256',
  Peer = 'peer',
  Cert = 'cert',
}

/** One pg_hba.conf line. */
export interface HbaRule {
  type: HbaType;
  /** `all`, `sameuser`, `samerole`, `replication` or a database name. */
  database: string;
  /** `all` or a role name (`+name` for members of a role). */
  user: string;
  /** CIDR (`10.0.0.0/8`), `all`, `samehost` or `samenet`; not used by `local`. */
  address?: string;
  method: HbaMethod;
  /** A comment written after the rule. */
  comment?: string;
}

const HBA_DATABASE_KEYWORDS = new Set(['all', 'sameuser', 'samerole', 'replication']);
const HBA_ADDRESS_KEYWORDS = new Set(['all', 'samehost', 'samenet']);

/** Validates a CIDR block. @throws ValidationError */
export function validateCidr(cidr: string, field: string): void {
  const [address, bits, extra] = cidr.split('/');
  const family = isIP(address ?? '');
  const max = family === 6 ? 128 : 32;
  check(
    family !== 0 && extra === undefined && bits !== undefined && /^\d+$/.test(bits) && Number(bits) <= max,
    field,
    `"${cidr}" is not a CIDR block`,
    'Write it like "10.0.0.0/8" or "fd00::/8"',
  );
}

function hbaName(value: string, keywords: ReadonlySet<string>, allowGroup: boolean, field: string): string {
  if (keywords.has(value)) return value;
  const name = allowGroup && value.startsWith('+') ? value.slice(1) : value;
  check(
    /^[a-z_][a-z0-9_]{0,62}$/.test(name),
    field,
    `"${value}" is not a key word (${[...keywords].join(', ')}) or a plain role/database name`,
    'Use a lower-case name of letters, digits and "_"',
  );
  return value;
}

/** Renders pg_hba.conf. @throws ValidationError for a bad name, address or method. */
export function renderPgHba(rules: HbaRule[], field = 'pgHba'): string {
  const rows = rules.map((r, i) => {
    const f = `${field}[${i}]`;
    check(Object.values(HbaType).includes(r.type), `${f}.type`, `"${r.type}" is not a pg_hba connection type`, `Use one of: ${Object.values(HbaType).join(', ')}`);
    check(Object.values(HbaMethod).includes(r.method), `${f}.method`, `"${r.method}" is not a supported method`, `Use one of: ${Object.values(HbaMethod).join(', ')}`);
    const database = hbaName(r.database, HBA_DATABASE_KEYWORDS, false, `${f}.database`);
    const user = hbaName(r.user, new Set(['all']), true, `${f}.user`);
    let address = '';
    if (r.type !== HbaType.Local) {
      check(r.address !== undefined, `${f}.address`, 'is missing', 'Give a CIDR block, or "all"');
      if (!HBA_ADDRESS_KEYWORDS.has(r.address)) validateCidr(r.address, `${f}.address`);
      address = r.address;
    } else {
      check(r.address === undefined, `${f}.address`, 'is set on a local (Unix socket) rule', 'Remove it');
    }
    return [r.type, database, user, address, r.method, r.comment ? `# ${r.comment.replace(/[\r\n]/g, ' ')}` : ''];
  });
  const header = ['# TYPE', 'DATABASE', 'USER', 'ADDRESS', 'METHOD', ''];
  const widths = header.map((_, c) => Math.max(header[c]!.length, ...rows.map((row) => row[c]!.length)));
  const format = (row: string[]): string => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return ['# pg_hba.conf rendered by postgres-strategies', format(header), ...rows.map(format), ''].join('\n');
}

/** Options of the standard pg_hba.conf. */
export interface StandardHbaOptions {
  /** Accept TCP connections only over TLS and reject the rest. */
  tls: boolean;
  /** Client networks allowed to log in over TCP. @default ["0.0.0.0/0", "::/0"] */
  allowedCidrs?: string[];
  /** Method for Unix-socket connections. @default HbaMethod.ScramSha256 */
  localMethod?: HbaMethod;
  /** A role allowed on the Unix socket by `peer` before the general local rule (e.g. the image's `postgres`). */
  localPeerUser?: string;
}

/**
 * The standard rules: Unix socket, then TCP with SCRAM (over TLS only when
 * `tls`), `hostnossl … reject` when `tls`, and a final reject for anything
 * else. The CIDRs are checked where the user gave them (with their field
 * names, by the strategy's plan) and by {@link renderPgHba}, which never
 * writes a malformed line: not here a third time.
 */
export function standardHba(options: StandardHbaOptions): HbaRule[] {
  const cidrs = options.allowedCidrs ?? ['0.0.0.0/0', '::/0'];
  const rules: HbaRule[] = [];
  if (options.localPeerUser) {
    rules.push({ type: HbaType.Local, database: 'all', user: options.localPeerUser, method: HbaMethod.Peer });
  }
  rules.push({ type: HbaType.Local, database: 'all', user: 'all', method: options.localMethod ?? HbaMethod.ScramSha256 });
  if (options.tls) {
    for (const any of ['0.0.0.0/0', '::/0']) {
      rules.push({ type: HbaType.HostNoSsl, database: 'all', user: 'all', address: any, method: HbaMethod.Reject, comment: 'TLS is required' });
    }
  }
  for (const cidr of cidrs) {
    rules.push({ type: options.tls ? HbaType.HostSsl : HbaType.Host, database: 'all', user: 'all', address: cidr, method: HbaMethod.ScramSha256 });
  }
  for (const any of ['0.0.0.0/0', '::/0']) {
    rules.push({ type: HbaType.Host, database: 'all', user: 'all', address: any, method: HbaMethod.Reject, comment: 'default deny' });
  }
  return rules;
}

/** postgresql.conf settings for TLS (seed 004's TLS server settings). */
export function tlsServerSettings(files: { certFile: string; keyFile: string; caFile?: string }): Record<string, ConfValue> {
  const settings: Record<string, ConfValue> = {
    ssl: true,
    ssl_cert_file: files.certFile,
    ssl_key_file: files.keyFile,
    ssl_min_protocol_version: 'TLSv1.2',
  };
  if (files.caFile) settings['ssl_ca_file'] = files.caFile;
  return settings;
}
