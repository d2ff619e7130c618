/**
 * The parameter group's pure plan: family from the engine version, the
 * enforced TLS and SCRAM parameters, pgConfig checked against the major's
 * real pg_settings and written as RDS takes values (booleans 1/0, numbers
 * in the base unit), static parameters as pending-reboot; extensions'
 * dotted parameters the same way, and unknown ones as pending-reboot.
 */
import { ApplyMethod, isStaticParameter, parameterGroupFamily, planParameters, rdsMajor, rdsMinor, rdsParameterValue } from '../../../src/rds/parameters';

test('family postgresNN from the engine version\'s major', () => {
  expect(parameterGroupFamily(rdsMajor('17'))).toBe('postgres17');
  expect(parameterGroupFamily(rdsMajor('16.4'))).toBe('postgres16');
  expect(parameterGroupFamily(rdsMajor('14.12'))).toBe('postgres14');
  expect(() => rdsMajor('17.4.1')).toThrow(/^engineVersion: "17\.4\.1" is not a PostgreSQL engine version/);
  expect(() => rdsMajor('9.6')).toThrow(/^engineVersion: PostgreSQL 9 is not a major RDS offers/);
});

test('a pinned minor (engineVersion "15.18") refuses a parameter a later minor release added; the major alone accepts it', () => {
  expect(rdsMinor('15.18')).toBe(18);
  expect(rdsMinor('15')).toBeUndefined();
  expect(() => planParameters(15, { composite_type_mismatch: 'warn' }, 'pgConfig', 18)).toThrow(/^pgConfig\.composite_type_mismatch: PostgreSQL 15\.18 has no parameter "composite_type_mismatch": it came with PostgreSQL 15\.20/);
  expect(planParameters(15, { composite_type_mismatch: 'warn' }).find((p) => p.name === 'composite_type_mismatch')).toMatchObject({ value: 'warn' });
});

test('without pgConfig: rds.force_ssl=1 and password_encryption=scram-sha-256, applied immediately', () => {
  expect(planParameters(17)).toEqual([
    { name: 'password_encryption', value: 'scram-sha-256', applyMethod: ApplyMethod.Immediate },
    { name: 'rds.force_ssl', value: '1', applyMethod: ApplyMethod.Immediate },
  ]);
});

test('pgConfig values as RDS takes them; static parameters (context postmaster in that major) pending-reboot', () => {
  const params = planParameters(17, {
    shared_buffers: '256MB',
    work_mem: '64MB',
    statement_timeout: '30s',
    idle_in_transaction_session_timeout: 60000,
    log_connections: true,
    jit: 'off',
    shared_preload_libraries: 'pg_stat_statements',
    'pg_stat_statements.track': 'all',
    'rds.logical_replication': 1,
    random_page_cost: 1.1,
  });
  expect(Object.fromEntries(params.map((p) => [p.name, [p.value, p.applyMethod]]))).toEqual({
    idle_in_transaction_session_timeout: ['60000', 'immediate'],
    jit: ['0', 'immediate'],
    log_connections: ['1', 'immediate'],
    password_encryption: ['scram-sha-256', 'immediate'],
    'pg_stat_statements.track': ['all', 'immediate'],
    random_page_cost: ['1.1', 'immediate'],
    'rds.force_ssl': ['1', 'immediate'],
    'rds.logical_replication': ['1', 'pending-reboot'],
    shared_buffers: ['32768', 'pending-reboot'],
    shared_preload_libraries: ['pg_stat_statements', 'pending-reboot'],
    statement_timeout: ['30000', 'immediate'],
    work_mem: ['65536', 'immediate'],
  });
});

test('a parameter\'s apply method follows its major: autovacuum_max_workers is static up to 17 and dynamic in 18', () => {
  expect(isStaticParameter('autovacuum_max_workers', 17)).toBe(true);
  expect(isStaticParameter('autovacuum_max_workers', 18)).toBe(false);
  expect(isStaticParameter('max_connections', 14)).toBe(true);
  expect(isStaticParameter('work_mem', 16)).toBe(false);
});

test('values with a unit become plain numbers in the base unit; other values stay as given', () => {
  expect(rdsParameterValue('maintenance_work_mem', '1GB', 16)).toBe('1048576');
  expect(rdsParameterValue('log_min_duration_statement', '250ms', 16)).toBe('250');
  expect(rdsParameterValue('log_statement', 'ddl', 16)).toBe('ddl');
  expect(rdsParameterValue('timezone', 'UTC', 16)).toBe('UTC');
  expect(rdsParameterValue('rds.force_admin_logging_level', 'info', 16)).toBe('info');
});

test('dotted names: extensions read from real servers are converted and get their real apply method; unknown ones go as pending-reboot', () => {
  const params = Object.fromEntries(
    planParameters(17, {
      // pg_stat_statements.max is postmaster context: static. Before: "immediate", which RDS refuses for a static parameter.
      'pg_stat_statements.max': 10000,
      'pg_stat_statements.track': 'all',
      // Units converted to the parameter's base unit, as for the server's own parameters. Before: "500ms" passed through.
      'auto_explain.log_min_duration': '500ms',
      'pg_prewarm.autoprewarm_interval': '5min',
      'auto_explain.log_analyze': 'on',
      // Not in the data (another extension, RDS's own): pending-reboot, which RDS accepts for any parameter.
      'pgaudit.log': 'ddl',
      'rds.log_retention_period': 4320,
    }).map((p) => [p.name, [p.value, p.applyMethod]]),
  );
  expect(params).toMatchObject({
    'pg_stat_statements.max': ['10000', 'pending-reboot'],
    'pg_stat_statements.track': ['all', 'immediate'],
    'auto_explain.log_min_duration': ['500', 'immediate'],
    'pg_prewarm.autoprewarm_interval': ['300', 'immediate'],
    'auto_explain.log_analyze': ['1', 'immediate'],
    'pgaudit.log': ['ddl', 'pending-reboot'],
    'rds.log_retention_period': ['4320', 'pending-reboot'],
  });
  // The enforced ones keep their known method.
  expect(params['rds.force_ssl']).toEqual(['1', 'immediate']);
  for (const major of [14, 15, 16, 17, 18]) expect(isStaticParameter('pg_stat_statements.max', major)).toBe(true);
});

describe('rejected, naming pgConfig.<key>', () => {
  const cases: Array<[string, number, Record<string, unknown>, RegExp]> = [
    ['TLS off', 17, { 'rds.force_ssl': 0 }, /^pgConfig\.rds\.force_ssl: "rds\.force_ssl" is managed by this component/],
    ['the port', 17, { port: 6543 }, /^pgConfig\.port: "port" is managed/],
    ['ssl files', 17, { ssl_cert_file: '/x' }, /^pgConfig\.ssl_cert_file: "ssl_cert_file" is managed/],
    ['a typo', 17, { wrok_mem: '4MB' }, /^pgConfig\.wrok_mem: .*Did you mean "work_mem"/],
    ['a parameter newer than the major', 14, { reserved_connections: 2 }, /^pgConfig\.reserved_connections: PostgreSQL 14 has no parameter "reserved_connections"/],
    ['a unit the parameter does not take', 17, { work_mem: '64mb' }, /^pgConfig\.work_mem: /],
    ['a key that smuggles a directive', 17, { "x = 1\nssl": 'off' }, /^pgConfig\./],
    ['a typo under an extension\'s prefix', 17, { 'pg_stat_statements.maxx': 5000 }, /^pgConfig\.pg_stat_statements\.maxx: "pg_stat_statements\.maxx" is not a parameter of pg_stat_statements .*Did you mean "pg_stat_statements\.max"/],
    ['an extension value out of range', 17, { 'pg_stat_statements.max': 10 }, /^pgConfig\.pg_stat_statements\.max: /],
    ['a unit on a parameter whose unit is unknown', 17, { 'rds.log_retention_period': '3d' }, /^pgConfig\.rds\.log_retention_period: "3d" has a unit, and RDS takes this parameter as a plain number/],
  ];
  test.each(cases)('%s', (_, major, config, message) => {
    expect(() => planParameters(major, config as never)).toThrow(message);
  });
});
