/**
 * The one reading of a pgConfig's connection numbers (capacityFromPgConfig
 * in src/core/budget.ts), which the local, Hetzner and RDS plans now share.
 * The three copies it replaces disagreed:
 * - local and Hetzner refused `max_connections: "200"`, RDS read it as 200
 *   (its parameter values are strings). Decision: read every value as the
 *   server reads postgresql.conf (the major's own parser from
 *   src/core/pg-settings), so `200`, `"200"` and `"0xC8"` are 200 everywhere;
 * - Hetzner silently counted a non-number `reserved_connections` as 0.
 *   Decision: refused, naming the field;
 * - local and Hetzner counted `reserved_connections` on any major, RDS only
 *   from 16 (the parameter is new in 16). Decision: from 16 on, or always
 *   when the major is not known;
 * - the ceiling was 262143 (local) or absent (Hetzner). Decision: 0–262143
 *   (PostgreSQL's MAX_BACKENDS) for every number.
 * The properties pin these, and that the three strategies agree.
 */
import fc from 'fast-check';
import { MAX_CONNECTIONS_LIMIT, capacityFromPgConfig } from '../../../src/core/budget';
import { localCapacity } from '../../../src/local/plan';
import { planHetzner } from '../../../src/hetzner/plan';
import { rdsCapacity } from '../../../src/rds/plan';
import { expectFieldError } from './helpers';

test('PostgreSQL\'s own defaults without settings: 100, 3 reserved', () => {
  expect(capacityFromPgConfig({})).toEqual({ maxConnections: 100, maxConnectionsFromConfig: false, reservedConnections: 3 });
  expect(capacityFromPgConfig({}, { defaultMaxConnections: () => 81, extraReserved: { 'rds.rds_superuser_reserved_connections': 2 } })).toEqual({ maxConnections: 81, maxConnectionsFromConfig: false, reservedConnections: 5 });
});

test('property: a number, its decimal string and its hex string are the same setting (the server\'s parser)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: MAX_CONNECTIONS_LIMIT }), fc.nat(), (max, r) => {
      const su = r % max;
      const asNumber = capacityFromPgConfig({ max_connections: max, superuser_reserved_connections: su }, { major: 17 });
      expect(capacityFromPgConfig({ max_connections: String(max), superuser_reserved_connections: String(su) }, { major: 17 })).toEqual(asNumber);
      expect(capacityFromPgConfig({ max_connections: `0x${max.toString(16)}`, superuser_reserved_connections: su }, { major: 17 })).toEqual(asNumber);
      expect(asNumber).toEqual({ maxConnections: max, maxConnectionsFromConfig: true, reservedConnections: su });
    }),
  );
});

test('property: local, Hetzner and RDS read the same numbers from the same pgConfig', () => {
  fc.assert(
    fc.property(fc.integer({ min: 20, max: 5000 }), fc.integer({ min: 0, max: 10 }), fc.boolean(), (max, su, asString) => {
      const pgConfig = { max_connections: asString ? String(max) : max, superuser_reserved_connections: su };
      const local = localCapacity(pgConfig, 15);
      const hetzner = planHetzner({ serverType: 'cx23', serverName: 'db', pgConfig }).capacity;
      const rds = rdsCapacity('db.t4g.micro', 15, pgConfig);
      expect([local.maxConnections, hetzner.maxConnections, rds.maxConnections]).toEqual([max, max, max]);
      expect([local.reservedConnections, hetzner.reservedConnections]).toEqual([su, su]);
      // RDS keeps 2 more for rdsadmin (rds.rds_superuser_reserved_connections).
      expect(rds.reservedConnections).toBe(su + 2);
    }),
    { numRuns: 40 },
  );
});

test('reserved_connections counts from PostgreSQL 16 on (and when the major is unknown)', () => {
  expect(capacityFromPgConfig({ reserved_connections: 4 }, { major: 16 }).reservedConnections).toBe(7);
  expect(capacityFromPgConfig({ reserved_connections: 4 }).reservedConnections).toBe(7);
  expect(capacityFromPgConfig({ reserved_connections: 4 }, { major: 15 }).reservedConnections).toBe(3);
});

test('what the budget cannot read is refused, naming the key', () => {
  expectFieldError(() => capacityFromPgConfig({ max_connections: 'many' }), 'pgConfig.max_connections', 'is not a whole number of connections');
  expectFieldError(() => capacityFromPgConfig({ reserved_connections: 'some' }, { major: 17 }), 'pgConfig.reserved_connections', 'is not a whole number of connections');
  expectFieldError(() => capacityFromPgConfig({ max_connections: '{DBInstanceClassMemory/9531392}' }), 'pgConfig.max_connections', 'cannot be budgeted before the server exists');
  expectFieldError(() => capacityFromPgConfig({ max_connections: MAX_CONNECTIONS_LIMIT + 1 }), 'pgConfig.max_connections', 'is not a whole number');
  expectFieldError(() => capacityFromPgConfig({ 'rds.rds_superuser_reserved_connections': 'x' }, { extraReserved: { 'rds.rds_superuser_reserved_connections': 2 } }), 'pgConfig.rds.rds_superuser_reserved_connections');
  expectFieldError(() => capacityFromPgConfig({ max_connections: 3 }), 'pgConfig.max_connections', 'max_connections 3 leaves no slot for app roles after 3 reserved');
  expectFieldError(() => capacityFromPgConfig({}, { defaultMaxConnections: 2, defaultMaxConnectionsField: 'instanceClass' }), 'instanceClass', 'change instanceClass');
});
