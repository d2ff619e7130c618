/**
 * PostgreSQL's server parameters per major version, and the server's own
 * rules for reading a value: what `postgresql.conf`, `ALTER SYSTEM` and an
 * RDS parameter group accept.
 *
 * The names, types, units, contexts, ranges and enum values come from each
 * major's `pg_settings` (generated into ./data.ts by lab/gen-pg-settings.ts
 * from real servers). The value rules follow the server's `guc.c`
 * (`parse_bool`, `parse_int`, `parse_real`, `convert_to_base_unit`,
 * `config_enum_lookup_by_name`) of PostgreSQL 14–18:
 *
 * - bool: `on`, `off`, `true`, `false`, `yes`, `no`, `1`, `0`, or an
 *   unambiguous prefix (`t`, `of`), any case;
 * - integer: decimal, `0x` hex or leading-`0` octal, or a decimal fraction
 *   (rounded half to even); a unit may follow when the parameter has one
 *   (memory `B kB MB GB TB`, time `us ms s min h d`, case-sensitive, blanks
 *   allowed before and after it); the result must lie within min_val..max_val
 *   in the parameter's base unit;
 * - real: a decimal number, with a unit as above, within min_val..max_val;
 * - enum: one of the values (any case), including the spellings the server
 *   accepts without listing them (bool synonyms of on/off enums);
 * - string: anything postgresql.conf can hold.
 *
 * A parameter whose context is `internal` (block_size, server_version, …)
 * cannot be set; one that is `postmaster` needs a restart (RDS: "static",
 * apply method `pending-reboot`).
 */
import { ValidationError } from '../errors';
import { PG_SETTINGS_MAJORS, PG_SETTINGS_ROWS, PgSettingTuple } from './data';
import { MINOR_RELEASE_PARAMETERS, MinorReleaseParameter } from './minor-releases';

export { MINOR_RELEASE_PARAMETERS, type MinorReleaseParameter } from './minor-releases';

/** The PostgreSQL majors whose parameters are known (generated from real servers). */
export const PG_MAJORS_SUPPORTED: readonly number[] = PG_SETTINGS_MAJORS;

/** pg_settings `vartype`. */
export enum PgSettingType {
  Bool = 'bool',
  Integer = 'integer',
  Real = 'real',
  Enum = 'enum',
  String = 'string',
}

/** pg_settings `context`: when a change takes effect, and who may make it. */
export enum PgSettingContext {
  /** Fixed when the server is built or initialised: cannot be set. */
  Internal = 'internal',
  /** Read at server start: a change needs a restart (RDS "static", `pending-reboot`). */
  Postmaster = 'postmaster',
  /** Read on reload (SIGHUP, `pg_reload_conf()`). */
  Sighup = 'sighup',
  /** Per new session, superusers may set it at connection start. */
  SuperuserBackend = 'superuser-backend',
  /** Per new session. */
  Backend = 'backend',
  /** Superusers (or roles granted SET) may change it in a session. */
  Superuser = 'superuser',
  /** Any role may change it in a session. */
  User = 'user',
}

/** One parameter of one major, as its pg_settings row describes it. */
export interface PgSetting {
  /** Name as the server spells it (`DateStyle`); names are case-insensitive. */
  name: string;
  vartype: PgSettingType;
  /** Base unit of integer/real values (`kB`, `8kB`, `MB`, `B`, `ms`, `s`, `min`), when it has one. */
  unit?: string;
  context: PgSettingContext;
  /** Smallest value, in the base unit (integer, real). */
  min?: number;
  /** Largest value, in the base unit (integer, real). */
  max?: number;
  /** Enum values pg_settings lists. */
  enumvals?: readonly string[];
  /** Enum spellings the server accepts without listing them (`true` for on, `archive` for wal_level). */
  hiddenEnumvals?: readonly string[];
}

/**
 * Enum values that exist only in servers built with an optional library
 * (PostgreSQL docs, "Installation", `--with-lz4`, `--with-zstd`,
 * `--with-liburing`). The official Docker images, Debian's packages and
 * managed services have lz4 and zstd; the embedded test servers do not, so
 * their pg_settings omit them.
 */
const BUILD_OPTIONAL_ENUMVALS: Readonly<Record<string, readonly string[]>> = {
  default_toast_compression: ['lz4'],
  wal_compression: ['lz4', 'zstd'],
  io_method: ['io_uring'],
};

/**
 * The server's check hooks that refuse values pg_settings' type and range
 * allow (found by trying every parameter on each major with ALTER SYSTEM,
 * see test/e2e/pg-settings-agreement.test.ts). Each returns the problem
 * and its fix, or undefined.
 */
const CHECK_HOOKS: Readonly<Record<string, (value: boolean | number | string, setting: PgSetting) => [string, string] | undefined>> = {
  // check_bonjour: Linux builds (Docker images, Debian, managed services) have no Bonjour.
  bonjour: (v) => (v === true ? ['Bonjour is not supported by Linux builds of PostgreSQL', 'Remove it, or set it to false'] : undefined),
  // check_max_stack_depth: at most the stack limit (ulimit -s, usually 8MB) less 512kB.
  max_stack_depth: (v) =>
    typeof v === 'number' && v > 7680 ? [`${v}kB is more than the 7680kB an 8MB stack (ulimit -s) allows`, 'Give at most 7680kB, or raise the stack limit first'] : undefined,
  // check_vacuum_buffer_usage_limit (16+): 0 (no limit) or 128kB .. 16GB.
  vacuum_buffer_usage_limit: (v) => (typeof v === 'number' && v > 0 && v < 128 ? [`${v}kB is neither 0 nor at least 128kB`, 'Give 0 (no limit) or a value from 128kB to 16GB'] : undefined),
  // check_io_max_concurrency (18): -1 (automatic) or at least 1.
  io_max_concurrency: (v) => (v === 0 ? ['0 is neither -1 (automatic) nor a positive number', 'Give -1 or a value of at least 1'] : undefined),
  // Per-transaction settings (GUC_DISALLOW_IN_FILE): ALTER SYSTEM and parameter groups refuse them.
  transaction_isolation: () => ['is set per transaction, not in the server configuration', 'Set default_transaction_isolation instead'],
  transaction_read_only: () => ['is set per transaction, not in the server configuration', 'Set default_transaction_read_only instead'],
  transaction_deferrable: () => ['is set per transaction, not in the server configuration', 'Set default_transaction_deferrable instead'],
};

/** SLRU buffer settings (17+, check_slru_buffers): a multiple of the 16-buffer bank size (0 = automatic where allowed). */
const SLRU_BUFFERS = new Set([
  'commit_timestamp_buffers', 'multixact_member_buffers', 'multixact_offset_buffers', 'notify_buffers',
  'serializable_buffers', 'subtransaction_buffers', 'transaction_buffers',
]);

function checkHook(setting: PgSetting, value: boolean | number | string): [string, string] | undefined {
  const name = setting.name.toLowerCase();
  if (SLRU_BUFFERS.has(name) && typeof value === 'number' && value % 16 !== 0) {
    return [`${value} buffers is not a multiple of 16 (the SLRU bank size)`, `Give a multiple of 16${setting.min === 0 ? ', or 0 for automatic' : ''}, e.g. ${Math.max(16, Math.round(value / 16) * 16)}`];
  }
  return CHECK_HOOKS[name]?.(value, setting);
}

function parseMajors(text: string): number[] {
  return text.split(',').flatMap((part) => {
    const [a, b] = part.split('-').map(Number) as [number, number | undefined];
    const out: number[] = [];
    for (let m = a; m <= (b ?? a); m++) out.push(m);
    return out;
  });
}

function toSetting(t: PgSettingTuple): PgSetting {
  const [name, , vartype, unit, context, min, max, enumvals, hidden] = t;
  const s: PgSetting = { name, vartype: vartype as PgSettingType, context: context as PgSettingContext };
  if (unit) s.unit = unit;
  if (min !== undefined && min !== null) s.min = Number(min);
  if (max !== undefined && max !== null) s.max = Number(max);
  if (enumvals) s.enumvals = enumvals;
  if (hidden) s.hiddenEnumvals = hidden;
  return s;
}

let byMajorCache: Map<number, Map<string, PgSetting>> | undefined;

/** Lower-cased name → setting, per major. */
function settingsByMajor(): Map<number, Map<string, PgSetting>> {
  if (byMajorCache) return byMajorCache;
  const out = new Map<number, Map<string, PgSetting>>(PG_SETTINGS_MAJORS.map((m) => [m, new Map()]));
  for (const t of PG_SETTINGS_ROWS) {
    const setting = toSetting(t);
    for (const m of parseMajors(t[1])) out.get(m)?.set(setting.name.toLowerCase(), setting);
  }
  byMajorCache = out;
  return out;
}

/** The newest major with data, used for majors newer than the data (their own names are then not checked). */
function dataMajor(major: number): number {
  const newest = PG_MAJORS_SUPPORTED[PG_MAJORS_SUPPORTED.length - 1] as number;
  return major > newest ? newest : major;
}

/** The parameter a minor release added (./minor-releases.ts), by name (case-insensitive). */
export function minorReleaseParameter(name: string): MinorReleaseParameter | undefined {
  const lower = name.toLowerCase();
  return MINOR_RELEASE_PARAMETERS.find((p) => p.name === lower);
}

function minorReleaseSetting(p: MinorReleaseParameter): PgSetting {
  return { name: p.name, vartype: p.vartype as PgSettingType, context: p.context as PgSettingContext, ...(p.enumvals ? { enumvals: p.enumvals } : {}) };
}

/**
 * A parameter of a major, by name (case-insensitive), or undefined when
 * that major has no such parameter (or the major is unknown). A parameter
 * that came with minor releases ({@link MINOR_RELEASE_PARAMETERS}) is
 * described for every major: whether the user's server has it depends on
 * its minor release ({@link pgSettingCaution}).
 */
export function pgSetting(name: string, major: number): PgSetting | undefined {
  const known = settingsByMajor().get(dataMajor(major))?.get(name.toLowerCase());
  if (known) return known;
  const added = minorReleaseParameter(name);
  return added ? minorReleaseSetting(added) : undefined;
}

function releases(p: MinorReleaseParameter): string {
  return Object.entries(p.since).map(([m, minor]) => `${m}.${minor}`).join(', ');
}

/**
 * What the library cannot vouch for about a parameter that came with a
 * minor release ({@link MINOR_RELEASE_PARAMETERS}): a server of an older
 * release of the major refuses it (`unrecognized configuration parameter`)
 * when the setting is applied, at `pulumi up` or at the server's start,
 * long after the preview passed. Undefined for every other parameter, and
 * when `minor` is known to have it.
 * @param major the server's major; @param minor its minor release, when the
 *   program pins one (an image `postgres:15.20`, an RDS `engineVersion`
 *   `"15.20"`).
 * @returns a sentence for a warning (`pulumi.log.warn`), or undefined.
 */
export function pgSettingCaution(name: string, major: number, minor?: number): string | undefined {
  const added = minorReleaseParameter(name);
  if (!added) return undefined;
  const since = added.since[major];
  if (since !== undefined) {
    if (minor !== undefined && minor >= since) return undefined;
    return `"${added.name}" came with PostgreSQL ${major}.${since}, a minor release: a PostgreSQL ${major} server older than that refuses it ("unrecognized configuration parameter") when the setting is applied. Update the server to ${major}.${since} or later first (or pin that release), or remove the setting`;
  }
  return `"${added.name}" came with minor releases of other majors (${releases(added)}); which PostgreSQL ${major} release has it, if any, is not recorded here: a server without it refuses it ("unrecognized configuration parameter") when the setting is applied. Check SELECT name FROM pg_settings WHERE name = '${added.name}' on the server first`;
}

/**
 * {@link pgSettingCaution} of each setting of a map (`pgConfig`), as
 * `<field>.<name>: <sentence>` lines for `pulumi.log.warn`.
 */
export function pgSettingCautions(settings: Readonly<Record<string, unknown>>, major: number, minor?: number, field = 'pgConfig'): string[] {
  return Object.keys(settings).flatMap((key) => {
    const caution = pgSettingCaution(key, major, minor);
    return caution ? [`${field}.${key}: ${caution}`] : [];
  });
}

/**
 * When a change of the parameter takes effect: `postmaster` = at restart
 * (RDS: static, apply method `pending-reboot`), `sighup` = on reload, …;
 * undefined for a name the major does not have.
 */
export function pgSettingContext(name: string, major: number): PgSettingContext | undefined {
  return pgSetting(name, major)?.context;
}

/** Whether changing the parameter needs a server restart (context `postmaster`). */
export function pgSettingNeedsRestart(name: string, major: number): boolean {
  return pgSettingContext(name, major) === PgSettingContext.Postmaster;
}

/** Every parameter name of a major (as the server spells them), sorted. */
export function pgSettingNames(major: number): string[] {
  return [...(settingsByMajor().get(dataMajor(major))?.values() ?? [])].map((s) => s.name).sort();
}

/** The extensions (the part before the dot) whose parameters a major's data holds, lower-cased. */
export function pgSettingExtensions(major: number): ReadonlySet<string> {
  return new Set(pgSettingNames(major).filter((n) => n.includes('.')).map((n) => n.slice(0, n.indexOf('.')).toLowerCase()));
}

/** The majors (of {@link PG_MAJORS_SUPPORTED}) that have the parameter. */
export function pgSettingMajors(name: string): number[] {
  return PG_MAJORS_SUPPORTED.filter((m) => settingsByMajor().get(m)?.has(name.toLowerCase()));
}

// ---------------------------------------------------------------------------
// Values, by the server's rules

/** A value as given in a map of settings (rendered like postgresql.conf does). */
export type PgSettingValue = number | boolean | string;

/** The text the server's parser sees for a value (what postgresql.conf carries, unquoted). */
export function pgSettingText(value: PgSettingValue): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value.toFixed(0) : String(value);
  return value;
}

const SPACE = /^[ \t\n\v\f\r]*/;
const MEMORY_UNIT_BYTES: Readonly<Record<string, number>> = {
  TB: 1024 * 1024 * 1024 * 1024,
  GB: 1024 * 1024 * 1024,
  MB: 1024 * 1024,
  kB: 1024,
  B: 1,
};
const MEMORY_UNITS = ['TB', 'GB', 'MB', 'kB', 'B'];
/** Time units and their size in milliseconds, largest first (guc.c time_unit_conversion_table). */
const TIME_UNIT_MS: Readonly<Record<string, number>> = { d: 1000 * 60 * 60 * 24, h: 1000 * 60 * 60, min: 1000 * 60, s: 1000, ms: 1, us: 1 / 1000 };
const TIME_UNITS = ['d', 'h', 'min', 's', 'ms', 'us'];

/** Base units of pg_settings' `unit` column, in bytes or milliseconds. */
function baseUnit(unit: string): { kind: 'memory' | 'time'; size: number } | undefined {
  if (unit in TIME_UNIT_MS) return { kind: 'time', size: TIME_UNIT_MS[unit] as number };
  const m = /^(\d*)(B|kB|MB|GB|TB)$/.exec(unit);
  if (m) return { kind: 'memory', size: (m[1] ? Number(m[1]) : 1) * (MEMORY_UNIT_BYTES[m[2] as string] as number) };
  return undefined;
}

/** guc.c's multiplier of `unitstr` for the base unit (same double arithmetic). */
function multiplier(kind: 'memory' | 'time', unitstr: string, base: number): number {
  if (kind === 'memory') {
    const bytes = MEMORY_UNIT_BYTES[unitstr] as number;
    // guc.c: (1024.0 * 1024.0) / (BLCKSZ / 1024) for blocks, 1.0 / 1024.0 for B of kB, ...
    return bytes >= base ? bytes / base : 1 / (base / bytes);
  }
  const ms = TIME_UNIT_MS[unitstr] as number;
  if (unitstr === 'us') return 1 / (1000 * base);
  return ms >= base ? ms / base : 1 / (base / ms);
}

/** guc.c convert_to_base_unit: the value in the base unit, or undefined for a bad unit. */
function convertToBaseUnit(value: number, rest: string, unit: string): number | undefined {
  const base = baseUnit(unit);
  if (!base) return undefined;
  const m = /^([^ \t\n\v\f\r]{0,3})[ \t\n\v\f\r]*$/.exec(rest);
  if (!m) return undefined; // unit too long, or garbage after it
  const unitstr = m[1] as string;
  const units = base.kind === 'memory' ? MEMORY_UNITS : TIME_UNITS;
  const i = units.indexOf(unitstr);
  if (i < 0) return undefined;
  let cvalue = value * multiplier(base.kind, unitstr, base.size);
  // A fractional value is rounded to a whole number of the next smaller unit ("30.1GB").
  const next = units[i + 1];
  if (next !== undefined) {
    const nm = multiplier(base.kind, next, base.size);
    cvalue = rint(cvalue / nm) * nm;
  }
  return cvalue;
}

/** C's rint() in the default rounding mode: halves go to the even neighbour. */
export function rint(x: number): number {
  if (!Number.isFinite(x)) return x;
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/** C's strtod on the start of `s`: the number and what follows, or undefined when nothing converts. */
function strtod(s: string): { value: number; rest: string; range: boolean } | undefined {
  const lead = (SPACE.exec(s) as RegExpExecArray)[0].length;
  const t = s.slice(lead);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP]([+-]?\d+))?/.exec(t);
  if (hex) {
    const [int, frac = ''] = (hex[2] as string).split('.') as [string, string?];
    let v = 0;
    for (const d of int + frac) v = v * 16 + parseInt(d, 16);
    v = v / 16 ** frac.length * 2 ** Number(hex[3] ?? 0);
    return { value: hex[1] === '-' ? -v : v, rest: t.slice(hex[0].length), range: !Number.isFinite(v) };
  }
  const special = /^([+-]?)(inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)/i.exec(t);
  if (special) {
    const v = /^inf/i.test(special[2] as string) ? Infinity : NaN;
    return { value: special[1] === '-' ? -v : v, rest: t.slice(special[0].length), range: false };
  }
  const dec = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(t);
  if (!dec) return undefined;
  const v = Number(dec[0]);
  const nonzero = /[1-9]/.test(dec[0].split(/[eE]/)[0] as string);
  // ERANGE: overflow to infinity, or underflow to zero / a subnormal.
  const range = !Number.isFinite(v) || (nonzero && Math.abs(v) < 2.2250738585072014e-308);
  return { value: v, rest: t.slice(dec[0].length), range };
}

/** C's strtol(s, &end, 0) on a 64-bit long: the number and what follows. */
function strtol(s: string): { value: number; rest: string; range: boolean } | undefined {
  const lead = (SPACE.exec(s) as RegExpExecArray)[0].length;
  const t = s.slice(lead);
  const m = /^([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))/.exec(t);
  if (!m) return undefined;
  const digits = m[2] !== undefined ? BigInt(`0x${m[2]}`) : m[3] !== undefined ? BigInt(`0o${m[3].slice(1) || '0'}`) : BigInt(m[4] as string);
  const signed = m[1] === '-' ? -digits : digits;
  const range = signed > 9223372036854775807n || signed < -9223372036854775808n;
  return { value: Number(signed), rest: t.slice(m[0].length), range };
}

/** The outcome of reading a value: the value in the base unit, or why the server refuses it. */
export type PgSettingParse =
  | { ok: true; value: boolean | number | string }
  | { ok: false; problem: string; fix: string };

function unitHint(setting: PgSetting): string {
  const base = setting.unit ? baseUnit(setting.unit) : undefined;
  if (!base) return `Give a plain number (${setting.name} takes no unit)`;
  const units = base.kind === 'memory' ? 'B, kB, MB, GB, TB' : 'us, ms, s, min, h, d';
  return `Give a number of ${setting.unit}, or a number with one of the units ${units} (case-sensitive), e.g. ${base.kind === 'memory' ? '"256MB"' : '"30s"'}`;
}

/** A number in the base unit, written with the largest unit that divides it exactly. */
function formatWithUnit(value: number, unit: string | undefined): string {
  const base = unit ? baseUnit(unit) : undefined;
  if (!base || !Number.isFinite(value) || !Number.isInteger(value) || value === 0) return unit ? `${value}${unit === 'min' ? ' min' : unit}` : String(value);
  const units = base.kind === 'memory' ? MEMORY_UNITS : TIME_UNITS.filter((u) => u !== 'us');
  const table = base.kind === 'memory' ? MEMORY_UNIT_BYTES : TIME_UNIT_MS;
  const total = value * base.size;
  for (const u of units) {
    const size = table[u] as number;
    if (size >= base.size && Number.isSafeInteger(total) && total % size === 0) return `${total / size}${u === 'min' ? ' min' : u}`;
  }
  return `${value}${unit}`;
}

function range(setting: PgSetting): string {
  return `${formatWithUnit(setting.min as number, setting.unit)} .. ${formatWithUnit(setting.max as number, setting.unit)}`;
}

function parseBool(text: string): boolean | undefined {
  const len = text.length;
  if (len === 0) return undefined;
  const lower = text.toLowerCase();
  const prefixOf = (word: string, min = 1): boolean => len >= min && word.startsWith(lower) && lower.length <= word.length;
  switch (lower[0]) {
    case 't':
      return prefixOf('true') ? true : undefined;
    case 'f':
      return prefixOf('false') ? false : undefined;
    case 'y':
      return prefixOf('yes') ? true : undefined;
    case 'n':
      return prefixOf('no') ? false : undefined;
    case 'o':
      // "o" alone is ambiguous: at least two characters.
      if (prefixOf('on', 2)) return true;
      if (prefixOf('off', 2)) return false;
      return undefined;
    case '1':
      return len === 1 ? true : undefined;
    case '0':
      return len === 1 ? false : undefined;
    default:
      return undefined;
  }
}

/**
 * Reads a value the way the server does for this parameter.
 * @returns the value in the parameter's base unit, or the problem and its fix.
 */
export function parsePgSettingValue(setting: PgSetting, value: PgSettingValue): PgSettingParse {
  const text = pgSettingText(value);
  const shown = JSON.stringify(value);
  switch (setting.vartype) {
    case PgSettingType.Bool: {
      const b = parseBool(text);
      return b === undefined
        ? { ok: false, problem: `${shown} is not a boolean`, fix: 'Give true or false (postgresql.conf: on, off, true, false, yes, no, 1, 0)' }
        : { ok: true, value: b };
    }
    case PgSettingType.Enum: {
      const options = [...(setting.enumvals ?? []), ...(setting.hiddenEnumvals ?? []), ...(BUILD_OPTIONAL_ENUMVALS[setting.name] ?? [])];
      const match = options.find((o) => o.toLowerCase() === text.toLowerCase());
      return match === undefined
        ? { ok: false, problem: `${shown} is not one of ${setting.name}'s values`, fix: `Use one of: ${(setting.enumvals ?? []).join(', ')}` }
        : { ok: true, value: match };
    }
    case PgSettingType.String:
      return { ok: true, value: text };
    case PgSettingType.Integer:
    case PgSettingType.Real: {
      const isInt = setting.vartype === PgSettingType.Integer;
      const kind = isInt ? 'an integer' : 'a number';
      const bad = { ok: false as const, problem: `${shown} is not ${kind}${setting.unit ? ` (with an optional unit)` : ''}`, fix: unitHint(setting) };
      let parsed = isInt ? strtol(text) : strtod(text);
      if (isInt) {
        // guc.c parse_int: strtol first; where it stops at ".", "e" or "E" or overflows, strtod again.
        // When strtol converts nothing its end is the start of the text.
        const next = parsed ? parsed.rest[0] : text[0];
        if ((parsed !== undefined && parsed.range) || next === '.' || next === 'e' || next === 'E') parsed = strtod(text);
      }
      if (!parsed || parsed.range || Number.isNaN(parsed.value)) return bad;
      let v = parsed.value;
      const rest = parsed.rest.replace(SPACE, '');
      if (rest.length > 0) {
        if (!setting.unit || !baseUnit(setting.unit)) return bad;
        const converted = convertToBaseUnit(v, rest, setting.unit);
        if (converted === undefined) return { ...bad, problem: `${shown} has an unknown unit "${rest.trim()}"` };
        v = converted;
      }
      if (isInt) {
        v = rint(v);
        if (v > 2147483647 || v < -2147483648) return { ok: false, problem: `${shown} exceeds the integer range`, fix: `Give a value within ${range(setting)}` };
      }
      if ((setting.min !== undefined && v < setting.min) || (setting.max !== undefined && v > setting.max)) {
        const inBase = rest.length > 0 ? ` (${formatWithUnit(v, setting.unit)})` : '';
        return { ok: false, problem: `${shown}${inBase} is outside ${setting.name}'s range ${range(setting)}`, fix: `Give a value from ${formatWithUnit(setting.min as number, setting.unit)} to ${formatWithUnit(setting.max as number, setting.unit)}` };
      }
      return { ok: true, value: v };
    }
  }
}

// ---------------------------------------------------------------------------
// Names

/** Optimal-string-alignment distance (Levenshtein plus adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((d[i - 1] as number[])[j] as number + 1, (row[j - 1] as number) + 1, ((d[i - 1] as number[])[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The closest parameter names of a major to a misspelled one (at most 3, nearest first). */
export function suggestPgSettings(name: string, major: number): string[] {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.floor(lower.length / 4));
  const scored = pgSettingNames(major)
    .filter((n) => pgSetting(n, major)?.context !== PgSettingContext.Internal)
    .map((n) => {
      const l = n.toLowerCase();
      // A name that starts with what was typed (a cut-off name) ranks like one edit away.
      const prefix = lower.length >= 4 && l.startsWith(lower);
      const d = editDistance(lower, l);
      return { n: l, d: prefix ? Math.min(d, 1) : d };
    })
    .filter((x) => x.d <= limit)
    .sort((x, y) => x.d - y.d || (x.n < y.n ? -1 : 1));
  return scored.slice(0, 3).map((x) => x.n);
}

function majorList(majors: number[]): string {
  return majors.length === 1 ? `PostgreSQL ${majors[0]}` : `PostgreSQL ${majors.join(', ')}`;
}

/**
 * Checks one setting against a major's parameters: the name exists and can
 * be set, and the value is what the server accepts.
 *
 * Names with a dot are an extension's: those of the preloaded extensions
 * the data holds (`pg_stat_statements.*`, `auto_explain.*`, `pg_prewarm.*`,
 * read from real servers that load them) are checked like the server's own,
 * and an unknown name under one of their prefixes is refused (the module
 * reserves its prefix once loaded); any other dotted name (another
 * extension's, RDS's `rds.*`) is not checked, as the server keeps it as a
 * placeholder. For a major newer
 * than the data, names the data does not know are let through and known
 * ones are checked with the newest data.
 *
 * A parameter that came with a minor release ({@link MINOR_RELEASE_PARAMETERS})
 * is refused when `minor` is given and older than the release that brought
 * it; without `minor` its value is checked and {@link pgSettingCaution} says
 * what a server of an older release will do (the components warn with it).
 * @param field the user's field of this setting, e.g. `pgConfig.shared_buffers`.
 * @param minor the server's minor release, when the program pins one.
 * @throws ValidationError naming `field`, for an unknown name (with the
 *   nearest names, or the majors that have it), an internal parameter, a
 *   value of the wrong type, unit or range, or a parameter `minor` is too
 *   old for.
 */
export function validatePgSetting(name: string, value: PgSettingValue, major: number, field: string, minor?: number): void {
  checkMajor(major, field);
  const added = minorReleaseParameter(name);
  const since = added?.since[major];
  if (added && since !== undefined && minor !== undefined && minor < since) {
    throw new ValidationError(
      field,
      `PostgreSQL ${major}.${minor} has no parameter "${name}": it came with PostgreSQL ${major}.${since}, and the server refuses it ("unrecognized configuration parameter")`,
      `Update the server to PostgreSQL ${major}.${since} or later first, or remove it`,
    );
  }
  const setting = pgSetting(name, major);
  if (!setting && name.includes('.') && !pgSettingExtensions(major).has(name.slice(0, name.indexOf('.')).toLowerCase())) return;
  if (!setting) {
    if (major > (PG_MAJORS_SUPPORTED[PG_MAJORS_SUPPORTED.length - 1] as number)) return;
    const elsewhere = pgSettingMajors(name);
    if (elsewhere.length > 0) {
      const later = elsewhere.every((m) => m > major);
      throw new ValidationError(
        field,
        `PostgreSQL ${major} has no parameter "${name}" (${majorList(elsewhere)} ${elsewhere.length === 1 ? 'has' : 'have'} it)`,
        later ? `Remove it, or use PostgreSQL ${elsewhere[0]} or later` : `Remove it: it was removed after PostgreSQL ${Math.max(...elsewhere.filter((m) => m < major))}`,
      );
    }
    const near = suggestPgSettings(name, major);
    const extension = name.includes('.') ? name.slice(0, name.indexOf('.')) : undefined;
    throw new ValidationError(
      field,
      extension
        ? `"${name}" is not a parameter of ${extension} (PostgreSQL ${major}), which reserves the "${extension}." prefix once loaded`
        : `"${name}" is not a PostgreSQL ${major} parameter, and the server would refuse to start with it`,
      near.length > 0
        ? `Did you mean ${near.map((n) => `"${n}"`).join(' or ')}?`
        : `Use a name from SELECT name FROM pg_settings (https://www.postgresql.org/docs/${major}/runtime-config.html)`,
    );
  }
  if (setting.context === PgSettingContext.Internal) {
    throw new ValidationError(field, `"${name}" is fixed when PostgreSQL is built or initialised (context internal) and cannot be set`, 'Remove it');
  }
  const parsed = parsePgSettingValue(setting, value);
  if (!parsed.ok) throw new ValidationError(field, parsed.problem, parsed.fix);
  const hook = checkHook(setting, parsed.value);
  if (hook) throw new ValidationError(field, hook[0], hook[1]);
}

/** @throws ValidationError for a major that is not a whole number ≥ the oldest supported one. */
function checkMajor(major: number, field: string): void {
  const oldest = PG_MAJORS_SUPPORTED[0] as number;
  if (!Number.isInteger(major) || major < oldest) {
    throw new ValidationError(field, `PostgreSQL ${String(major)} is not supported`, `Use PostgreSQL ${oldest} or later (${PG_MAJORS_SUPPORTED.join(', ')})`);
  }
}
