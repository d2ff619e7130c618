/**
 * The instance-class table and RDS's max_connections arithmetic, pure:
 * memory per class from AWS's hardware tables, RDS's
 * LEAST({DBInstanceClassMemory/9531392}, 5000), the conservative estimate of
 * DBInstanceClassMemory against values observed on real instances, and
 * which classes offer Performance Insights.
 */
import fc from 'fast-check';
import {
  INSTANCE_CLASS_MEMORY_GIB,
  RDS_BYTES_PER_CONNECTION,
  defaultMaxConnections,
  estimatedDbInstanceClassMemory,
  instanceClassMemoryGiB,
  rdsMaxConnectionsFormula,
  supportsPerformanceInsights,
} from '../../../src/rds/instance-classes';

const GIB = 1024 ** 3;

test('memory of classes from AWS\'s hardware specifications', () => {
  expect(
    Object.fromEntries(['db.t4g.micro', 'db.t4g.small', 'db.t3.medium', 'db.t4g.2xlarge', 'db.m5.large', 'db.m7g.4xlarge', 'db.m6i.32xlarge', 'db.r6g.large', 'db.r7g.16xlarge', 'db.r8g.48xlarge'].map((c) => [c, instanceClassMemoryGiB(c)])),
  ).toEqual({
    'db.t4g.micro': 1, 'db.t4g.small': 2, 'db.t3.medium': 4, 'db.t4g.2xlarge': 32, 'db.m5.large': 8, 'db.m7g.4xlarge': 64,
    'db.m6i.32xlarge': 512, 'db.r6g.large': 16, 'db.r7g.16xlarge': 512, 'db.r8g.48xlarge': 1536,
  });
  // Sizes a family does not have are not in the table.
  expect(INSTANCE_CLASS_MEMORY_GIB['db.t4g.4xlarge']).toBeUndefined();
  expect(INSTANCE_CLASS_MEMORY_GIB['db.m6g.24xlarge']).toBeUndefined();
  expect(() => instanceClassMemoryGiB('db.x2g.large', 'readReplica.instanceClass')).toThrow(/^readReplica\.instanceClass: "db\.x2g\.large" is not an RDS for PostgreSQL instance class/);
});

test('RDS\'s formula: floor(memory / 9531392), capped at 5000', () => {
  expect(rdsMaxConnectionsFormula(4 * GIB)).toBe(450); // the nominal figure most tables show for 4 GiB
  expect(rdsMaxConnectionsFormula(RDS_BYTES_PER_CONNECTION * 5000)).toBe(5000);
  expect(rdsMaxConnectionsFormula(RDS_BYTES_PER_CONNECTION * 5001)).toBe(5000);
  expect(rdsMaxConnectionsFormula(RDS_BYTES_PER_CONNECTION - 1)).toBe(0);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (bytes) => {
      const n = rdsMaxConnectionsFormula(bytes);
      return n === Math.min(5000, Math.floor(bytes / RDS_BYTES_PER_CONNECTION)) && n * RDS_BYTES_PER_CONNECTION <= bytes;
    }),
  );
});

test('the estimate never exceeds what real default parameter groups showed, and stays within 5 % of it', () => {
  // SHOW max_connections on default parameter groups (see the module doc for the source).
  const observed: Array<[number, number]> = [[2, 198], [4, 413], [8, 856], [15.25, 1660]];
  for (const [gib, seen] of observed) {
    const ours = rdsMaxConnectionsFormula(estimatedDbInstanceClassMemory(gib));
    expect(ours).toBeLessThanOrEqual(seen);
    expect(ours).toBeGreaterThanOrEqual(Math.floor(seen * 0.95));
  }
});

test('default max_connections per class: below the nominal formula, growing with memory, capped', () => {
  expect(defaultMaxConnections('db.t4g.micro')).toBe(81);
  expect(defaultMaxConnections('db.t4g.medium')).toBe(408);
  expect(defaultMaxConnections('db.m7g.large')).toBe(846);
  expect(defaultMaxConnections('db.r6g.large')).toBe(1720);
  expect(defaultMaxConnections('db.r6g.2xlarge')).toBe(5000);
  const classes = Object.keys(INSTANCE_CLASS_MEMORY_GIB);
  fc.assert(
    fc.property(fc.constantFrom(...classes), fc.constantFrom(...classes), (a, b) => {
      const [ma, mb] = [INSTANCE_CLASS_MEMORY_GIB[a] as number, INSTANCE_CLASS_MEMORY_GIB[b] as number];
      const [ca, cb] = [defaultMaxConnections(a), defaultMaxConnections(b)];
      const nominal = rdsMaxConnectionsFormula(ma * GIB);
      return ca <= nominal && ca >= 1 && ca <= 5000 && (ma <= mb ? ca <= cb : ca >= cb);
    }),
  );
});

test('Performance Insights: not on burstable micro and small classes, on every other', () => {
  for (const c of ['db.t3.micro', 'db.t3.small', 'db.t4g.micro', 'db.t4g.small', 'db.t2.micro']) expect(supportsPerformanceInsights(c)).toBe(false);
  for (const c of ['db.t4g.medium', 'db.t3.large', 'db.m7g.large', 'db.r6g.xlarge']) expect(supportsPerformanceInsights(c)).toBe(true);
});
