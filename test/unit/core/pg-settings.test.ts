/**
 * The per-major parameter data and the server's value rules (guc.c), as
 * pure functions. test/integration/server-config.test.ts proves the same
 * verdicts against the real servers (ALTER SYSTEM) and regenerates the data.
 */
import {
  PG_MAJORS_SUPPORTED,
  PgSettingContext,
  PgSettingType,
  editDistance,
  parsePgSettingValue,
  pgSetting,
  pgSettingContext,
  pgSettingMajors,
  pgSettingExtensions,
  pgSettingNames,
  pgSettingCaution,
  pgSettingCautions,
  pgSettingNeedsRestart,
  rint,
  suggestPgSettings,
  validatePgSetting,
} from '../../../src/core/pg-settings';
import { validatePgConfig } from '../../../src/core/server-config';
import { expectFieldError } from './helpers';

function value(name: string, v: number | boolean | string, major = 17): unknown {
  const r = parsePgSettingValue(pgSetting(name, major)!, v);
  return r.ok ? r.value : `refused: ${r.problem}`;
}

describe('the generated data', () => {
  test('covers 14 to 18, each with hundreds of parameters including the common ones', () => {
    expect([...PG_MAJORS_SUPPORTED]).toEqual([14, 15, 16, 17, 18]);
    for (const m of PG_MAJORS_SUPPORTED) {
      const names = pgSettingNames(m);
      expect(names.length).toBeGreaterThan(300);
      for (const n of ['shared_buffers', 'work_mem', 'max_connections', 'wal_level', 'log_min_duration_statement']) expect(names).toContain(n);
    }
  });

  test('names are case-insensitive, as the server reads them', () => {
    expect(pgSetting('datestyle', 17)?.name).toBe('DateStyle');
    expect(pgSetting('TIMEZONE', 17)?.name).toBe('TimeZone');
  });

  test('types, units, ranges and contexts as pg_settings gives them', () => {
    expect(pgSetting('shared_buffers', 17)).toMatchObject({ vartype: PgSettingType.Integer, unit: '8kB', context: PgSettingContext.Postmaster, min: 16 });
    expect(pgSetting('work_mem', 17)).toMatchObject({ vartype: PgSettingType.Integer, unit: 'kB', context: PgSettingContext.User, min: 64, max: 2147483647 });
    expect(pgSetting('random_page_cost', 17)).toMatchObject({ vartype: PgSettingType.Real });
    expect(pgSetting('wal_level', 17)?.enumvals).toEqual(['minimal', 'replica', 'logical']);
    expect(pgSetting('block_size', 17)?.context).toBe(PgSettingContext.Internal);
  });

  test('parameters that come and go between majors', () => {
    expect(pgSettingMajors('stats_temp_directory')).toEqual([14]);
    expect(pgSettingMajors('old_snapshot_threshold')).toEqual([14, 15, 16]);
    expect(pgSettingMajors('io_method')).toEqual([18]);
    expect(pgSetting('vacuum_defer_cleanup_age', 16)).toBeUndefined();
  });

  test('context tells static (restart) from dynamic, for RDS parameter groups', () => {
    expect(pgSettingContext('shared_buffers', 16)).toBe('postmaster');
    expect(pgSettingNeedsRestart('shared_buffers', 16)).toBe(true);
    expect(pgSettingContext('work_mem', 16)).toBe('user');
    expect(pgSettingNeedsRestart('work_mem', 16)).toBe(false);
    expect(pgSettingContext('log_min_duration_statement', 16)).toBe('superuser');
    expect(pgSettingContext('no_such_thing', 16)).toBeUndefined();
  });

  test('a major newer than the data uses the newest data', () => {
    expect(pgSetting('io_method', 19)?.name).toBe('io_method');
  });
});

describe('values by the server\'s rules', () => {
  test.each<[string, number | boolean | string, unknown]>([
    // integers with units: the base unit of work_mem is kB, of shared_buffers 8kB blocks
    ['work_mem', '4MB', 4096],
    ['work_mem', '4 MB', 4096],
    ['work_mem', ' 4MB ', 4096],
    ['work_mem', 4096, 4096],
    ['work_mem', '1GB', 1048576],
    ['work_mem', '1.5MB', 1536],
    ['work_mem', '30.1GB', 30822 * 1024], // a fraction rounds to the next smaller unit (MB) first
    ['work_mem', '65536B', 64],
    ['work_mem', '0x100', 256],
    ['work_mem', '0100', 64], // octal, as strtol reads it
    ['shared_buffers', '256MB', 32768],
    ['shared_buffers', '128kB', 16],
    ['statement_timeout', '30s', 30000],
    ['statement_timeout', '1min', 60000],
    ['statement_timeout', '1.5h', 5400000],
    ['statement_timeout', '2d', 172800000],
    ['statement_timeout', '2500us', 2], // 2.5 ms, rounded half to even
    ['checkpoint_timeout', '5min', 300],
    ['max_connections', 200, 200],
    ['max_connections', '1e2', 100],
    ['max_connections', 100.5, 100], // rint: half to even
    ['max_connections', 101.5, 102],
    // reals
    ['random_page_cost', 1.1, 1.1],
    ['random_page_cost', '1.1', 1.1],
    ['vacuum_cost_delay', '2ms', 2],
    ['vacuum_cost_delay', '500us', 0.5],
    // bools
    ['fsync', false, false],
    ['fsync', 'off', false],
    ['fsync', 'of', false],
    ['fsync', 'TRUE', true],
    ['fsync', 't', true],
    ['fsync', 'yes', true],
    ['fsync', 1, true],
    ['fsync', 0, false],
    // enums, any case, with the unlisted bool synonyms of on/off enums
    ['wal_level', 'REPLICA', 'replica'],
    ['wal_level', 'hot_standby', 'hot_standby'],
    ['synchronous_commit', true, 'on'],
    ['synchronous_commit', 'true', 'true'],
    ['synchronous_commit', 'remote_apply', 'remote_apply'],
    ['default_toast_compression', 'lz4', 'lz4'], // a build option of the official images
    // strings
    ['search_path', '"$user", public', '"$user", public'],
    ['application_name', 42, '42'],
  ])('%s = %j → %j', (name, v, expected) => {
    expect(value(name, v)).toEqual(expected);
  });

  test.each<[string, number | boolean | string, RegExp]>([
    ['work_mem', '4mb', /unknown unit "mb"/],
    ['work_mem', '4 GiB', /unknown unit "GiB"/],
    ['work_mem', '4MBs', /unknown unit/],
    ['work_mem', '10s', /unknown unit "s"/], // a time unit on a memory parameter
    ['work_mem', '32kB', /outside work_mem's range 64kB \.\. 2147483647kB/],
    ['work_mem', '100TB', /exceeds the integer range/],
    ['work_mem', 'lots', /is not an integer/],
    ['work_mem', true, /is not an integer/],
    ['work_mem', '08', /unknown unit "8"|is not an integer/],
    ['work_mem', '', /is not an integer/],
    ['max_connections', '100 connections', /is not an integer/],
    ['max_connections', '10MB', /is not an integer/],
    ['max_connections', 0, /outside max_connections's range 1 \.\. 262143/],
    ['max_connections', 'NaN', /is not an integer/],
    ['random_page_cost', -1, /outside/],
    ['random_page_cost', 'inf', /outside/],
    ['random_page_cost', '1e999', /is not a number/],
    ['fsync', 'o', /is not a boolean/],
    ['fsync', 'enabled', /is not a boolean/],
    ['fsync', 2, /is not a boolean/],
    ['fsync', 'true ', /is not a boolean/],
    ['wal_level', 'full', /is not one of wal_level's values.*minimal, replica, logical/],
    ['password_encryption', true, /is not one of/],
  ])('%s = %j is refused', (name, v, message) => {
    const r = parsePgSettingValue(pgSetting(name, 17)!, v);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(`${r.problem}. ${r.fix}`).toMatch(message);
  });

  test('rint rounds halves to the even neighbour, like C', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6].map(rint)).toEqual([0, 2, 2, -0, -2, -2, 2, 3]);
  });
});

describe('names', () => {
  test('edit distance counts a swap of neighbours as one', () => {
    expect(editDistance('shared_bufers', 'shared_buffers')).toBe(1);
    expect(editDistance('wrok_mem', 'work_mem')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });

  test.each<[string, string]>([
    ['shared_bufers', 'shared_buffers'],
    ['sharedbuffers', 'shared_buffers'],
    ['wrok_mem', 'work_mem'],
    ['max_connection', 'max_connections'],
    ['effective_cache', 'effective_cache_size'],
    ['log_min_duration', 'log_min_duration_statement'],
  ])('%s → did you mean %s?', (typo, right) => {
    expect(suggestPgSettings(typo, 17)).toContain(right);
    expectFieldError(() => validatePgSetting(typo, 1, 17, `pgConfig.${typo}`), `pgConfig.${typo}`, `is not a PostgreSQL 17 parameter`, `"${right}"`, "Did you mean");
  });

  test('a name another major has says which majors', () => {
    expectFieldError(() => validatePgSetting('stats_temp_directory', 'x', 16, 'pgConfig.stats_temp_directory'), 'pgConfig.stats_temp_directory', 'PostgreSQL 16 has no parameter "stats_temp_directory" (PostgreSQL 14 has it)', 'removed after PostgreSQL 14');
    expectFieldError(() => validatePgSetting('io_method', 'worker', 17, 'pgConfig.io_method'), 'pgConfig.io_method', 'PostgreSQL 18 has it', 'use PostgreSQL 18 or later');
  });

  test('nothing near: the fix points at pg_settings', () => {
    expectFieldError(() => validatePgSetting('zzzzzzzzzzzz', 1, 16, 'pgConfig.zzzzzzzzzzzz'), 'pgConfig.zzzzzzzzzzzz', 'SELECT name FROM pg_settings', 'docs/16/');
  });

  test('internal parameters cannot be set', () => {
    expectFieldError(() => validatePgSetting('block_size', 8192, 17, 'pgConfig.block_size'), 'pgConfig.block_size', 'context internal', 'Remove it');
  });

  test('preloaded extensions\' parameters are checked like the server\'s own; other dotted names are not; newer majors let unknown names through', () => {
    expect(() => validatePgSetting('pg_stat_statements.track', 'all', 17, 'f')).not.toThrow();
    expectFieldError(() => validatePgSetting('pg_stat_statements.track', 'everything', 17, 'f'), 'f', '"everything"');
    expectFieldError(() => validatePgSetting('pg_stat_statements.max', 50, 17, 'f'), 'f');
    expectFieldError(() => validatePgSetting('auto_explain.log_min_duration', '5 parsecs', 16, 'f'), 'f');
    expectFieldError(() => validatePgSetting('pg_stat_statements.tracks', 'all', 17, 'f'), 'f', 'is not a parameter of pg_stat_statements', 'Did you mean "pg_stat_statements.track"');
    expect(pgSettingExtensions(14)).toEqual(new Set(['auto_explain', 'pg_prewarm', 'pg_stat_statements']));
    expect(() => validatePgSetting('pgaudit.log', 'anything', 17, 'f')).not.toThrow();
    expect(() => validatePgSetting('rds.force_admin_logging_level', 'info', 17, 'f')).not.toThrow();
    expect(() => validatePgSetting('a_parameter_of_postgres_19', 1, 19, 'f')).not.toThrow();
    expectFieldError(() => validatePgSetting('work_mem', 'lots', 19, 'pgConfig.work_mem'), 'pgConfig.work_mem', 'is not an integer');
  });

  test('a parameter a minor release added: refused for an older pinned release, accepted with a caution when the release is not known', () => {
    // 15.19 brought output_plugin_libraries, 15.20 composite_type_mismatch (PostgreSQL's release notes).
    expectFieldError(
      () => validatePgSetting('composite_type_mismatch', 'warn', 15, 'pgConfig.composite_type_mismatch', 18),
      'pgConfig.composite_type_mismatch',
      'PostgreSQL 15.18 has no parameter "composite_type_mismatch": it came with PostgreSQL 15.20',
      'Update the server to PostgreSQL 15.20 or later first',
    );
    expect(() => validatePgSetting('composite_type_mismatch', 'warn', 15, 'f', 20)).not.toThrow();
    expectFieldError(() => validatePgSetting('composite_type_mismatch', 'sometimes', 15, 'f', 20), 'f', 'is not one of composite_type_mismatch\'s values', 'error, warn, disabled');
    expect(() => validatePgSetting('output_plugin_libraries', 'pgoutput, wal2json', 17, 'f')).not.toThrow();
    expect(pgSettingCaution('output_plugin_libraries', 17)).toMatch(/^"output_plugin_libraries" came with PostgreSQL 17\.11, a minor release: a PostgreSQL 17 server older than that refuses it \("unrecognized configuration parameter"\)/);
    expect(pgSettingCaution('output_plugin_libraries', 17, 11)).toBeUndefined();
    expect(pgSettingCaution('output_plugin_libraries', 17, 10)).toContain('17.11');
    // A major whose release with it is not recorded: not refused (a later release may have it), and said so.
    expect(() => validatePgSetting('composite_type_mismatch', 'error', 16, 'f', 14)).not.toThrow();
    expect(pgSettingCaution('composite_type_mismatch', 16, 14)).toContain('which PostgreSQL 16 release has it, if any, is not recorded here');
    expect(pgSettingCaution('work_mem', 15)).toBeUndefined();
    expect(pgSettingCautions({ work_mem: '4MB', output_plugin_libraries: 'pgoutput' }, 15)).toEqual([expect.stringMatching(/^pgConfig\.output_plugin_libraries: "output_plugin_libraries" came with PostgreSQL 15\.19/)]);
    // Kept out of the per-major data, whose names hold for every release of the major.
    expect(pgSettingNames(15)).not.toContain('composite_type_mismatch');
    expect(pgSetting('composite_type_mismatch', 15)?.enumvals).toEqual(['error', 'warn', 'disabled']);
  });

  test('an unsupported major is refused', () => {
    expectFieldError(() => validatePgSetting('work_mem', '4MB', 13, 'pgConfig.work_mem'), 'pgConfig.work_mem', 'PostgreSQL 13 is not supported');
    expectFieldError(() => validatePgSetting('work_mem', '4MB', 16.5, 'pgConfig.work_mem'), 'pgConfig.work_mem', 'not supported');
  });
});

describe('validatePgConfig', () => {
  test('with a major: names and values of that major, errors naming <field>.<key>', () => {
    expect(() => validatePgConfig({ shared_buffers: '256MB', max_connections: 200, wal_level: 'logical', 'pg_stat_statements.track': 'all' }, 17, 'pgConfig')).not.toThrow();
    expectFieldError(() => validatePgConfig({ shared_bufers: '256MB' }, 17, 'pgConfig'), 'pgConfig.shared_bufers', 'Did you mean "shared_buffers"?');
    expectFieldError(() => validatePgConfig({ work_mem: '4mb' }, 16, 'LocalPostgres.pgConfig'), 'LocalPostgres.pgConfig.work_mem', 'unknown unit "mb"', 'kB, MB');
    expectFieldError(() => validatePgConfig({ stats_temp_directory: '/tmp' }, 15), 'pgConfig.stats_temp_directory', 'PostgreSQL 14 has it');
  });

  test('the key pattern and managed keys are still checked first', () => {
    expectFieldError(() => validatePgConfig({ 'max_connections = 1\nssl': 1 }, 17), 'pgConfig.max_connections = 1\nssl', 'not a postgresql.conf parameter name');
    expectFieldError(() => validatePgConfig({ ssl: true }, 17), 'pgConfig.ssl', 'is managed by this component');
    expectFieldError(() => validatePgConfig({ search_path: 'a\nb' }, 17), 'pgConfig.search_path', 'control character');
    expect(() => validatePgConfig({ port: 5433 }, 17, 'pgConfig', new Set())).not.toThrow();
  });

  test('the older form without a major accepts a name any supported major has, and still refuses typos', () => {
    expect(() => validatePgConfig({ stats_temp_directory: '/tmp', io_method: 'worker' })).not.toThrow();
    expectFieldError(() => validatePgConfig({ shared_bufers: '1GB' }), 'pgConfig.shared_bufers', 'Did you mean "shared_buffers"?');
    expectFieldError(() => validatePgConfig({ max_connections: 'many' }, 'server.pgConfig'), 'server.pgConfig.max_connections', 'is not an integer');
  });

  test('a map that is not an object is refused naming the field', () => {
    expectFieldError(() => validatePgConfig(null as never, 17), 'pgConfig', 'is not a map');
  });
});

describe('check hooks the server applies beyond type and range', () => {
  test.each<[string, number | boolean | string, number, string]>([
    ['bonjour', true, 17, 'Bonjour is not supported by Linux builds'],
    ['max_stack_depth', '1GB', 17, 'more than the 7680kB'],
    ['vacuum_buffer_usage_limit', '64kB', 16, 'neither 0 nor at least 128kB'],
    ['io_max_concurrency', 0, 18, 'neither -1'],
    ['transaction_buffers', 100, 17, 'not a multiple of 16'],
    ['transaction_isolation', 'serializable', 17, 'default_transaction_isolation'],
  ])('%s = %j on %i is refused', (name, v, major, fragment) => {
    expectFieldError(() => validatePgSetting(name, v, major, `pgConfig.${name}`), `pgConfig.${name}`, fragment);
  });

  test.each<[string, number | boolean | string, number]>([
    ['bonjour', false, 17],
    ['max_stack_depth', '7MB', 17],
    ['vacuum_buffer_usage_limit', 0, 16],
    ['vacuum_buffer_usage_limit', '256kB', 16],
    ['io_max_concurrency', -1, 18],
    ['transaction_buffers', 0, 17],
    ['transaction_buffers', 128, 17],
  ])('%s = %j on %i is accepted', (name, v, major) => {
    expect(() => validatePgSetting(name, v, major, `pgConfig.${name}`)).not.toThrow();
  });
});
