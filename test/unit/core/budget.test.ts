import fc from 'fast-check';
import {
  CONNECTIONS_PER_PROVIDER_OPERATION,
  ConnectionBudgetError,
  DEFAULT_ADMIN_MAX_CONNECTIONS,
  InstanceConsumers,
  MAX_DEFAULT_ADMIN_CONNECTIONS,
  adminProviderLanes,
  adminProviderPoolSize,
  checkConnectionBudget,
  connectionBudget,
  defaultAdminConnections,
  engineParallelism,
} from '../../../src/core/budget';
import { ValidationError } from '../../../src/core/errors';
import { expectFieldError } from './helpers';

const instance = (name: string, kratos: number, gateway: number): InstanceConsumers => ({
  instance: name,
  consumers: [
    { name: 'kratos', maxConnections: kratos },
    { name: 'gateway', maxConnections: gateway },
  ],
});

const TEN = Array.from({ length: 10 }, (_, i) => instance(`app${i}`, 10, 10));

describe('checkConnectionBudget: the seed\'s 10-instance example', () => {
  test('10 × (Kratos 10 + gateway 10) against max_connections 100 with 3 reserved throws ConnectionBudgetError', () => {
    let error: unknown;
    try {
      checkConnectionBudget({ maxConnections: 100, reservedConnections: 3 }, TEN);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConnectionBudgetError);
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ConnectionBudgetError;
    expect(e.name).toBe('ConnectionBudgetError');
    expect(e.field).toBe('instances');
    expect(e.message).toContain('10 instances need 200 connections but the server allows 97');
    expect(e.message).toContain('max_connections 100 − 3 reserved');
    for (let i = 0; i < 10; i++) expect(e.message).toContain(`app${i} 20 (kratos 10 + gateway 10)`);
    expect(e.message).toContain('At most 9 connections per instance fit');
    expect(e.report).toMatchObject({ maxConnections: 100, reservedConnections: 3, available: 97, total: 200, headroom: -103, perInstanceMaxThatFits: 9 });
    expect(e.report.shares.map((s) => s.connections)).toEqual(Array(10).fill(20));
  });

  test('the suggested per-instance share (9) does fit when applied, e.g. Kratos 5 + gateway 4', () => {
    const report = checkConnectionBudget(
      { maxConnections: 100, reservedConnections: 3 },
      Array.from({ length: 10 }, (_, i) => instance(`app${i}`, 5, 4)),
    );
    expect(report.total).toBe(90);
    expect(report.headroom).toBe(7);
  });

  test('a share different per instance is listed per instance, extra consumers included', () => {
    const e = (() => {
      try {
        checkConnectionBudget({ maxConnections: 25, reservedConnections: 3 }, [
          instance('blog', 5, 5),
          { instance: 'api', consumers: [{ name: 'kratos', maxConnections: 10 }, { name: 'gateway', maxConnections: 5 }, { name: 'worker', maxConnections: 3 }] },
        ]);
      } catch (err) {
        return err as ConnectionBudgetError;
      }
      throw new Error('expected ConnectionBudgetError');
    })();
    expect(e.message).toContain('blog 10 (kratos 5 + gateway 5)');
    expect(e.message).toContain('api 18 (kratos 10 + gateway 5 + worker 3)');
    expect(e.message).toContain('At most 11 connections per instance fit');
  });
});

describe('checkConnectionBudget: budgets that fit', () => {
  test('a fitting budget reports total, available, headroom and the per-instance maximum', () => {
    const report = checkConnectionBudget({ maxConnections: 100, reservedConnections: 3 }, [instance('blog', 5, 5), instance('admin', 5, 5), instance('api', 5, 5)]);
    expect(report).toMatchObject({ maxConnections: 100, reservedConnections: 3, available: 97, total: 30, headroom: 67, perInstanceMaxThatFits: 32 });
    expect(report.shares.map((s) => [s.instance, s.connections])).toEqual([
      ['blog', 10],
      ['admin', 10],
      ['api', 10],
    ]);
  });

  test('an exact fit (total = available) does not throw and has headroom 0', () => {
    const report = checkConnectionBudget({ maxConnections: 23, reservedConnections: 3 }, [instance('a', 10, 10)]);
    expect(report.headroom).toBe(0);
  });

  test('one connection over the exact fit throws', () => {
    expect(() => checkConnectionBudget({ maxConnections: 23, reservedConnections: 3 }, [instance('a', 11, 10)])).toThrow(ConnectionBudgetError);
  });

  test('no instances: everything is available and nothing is used', () => {
    expect(checkConnectionBudget({ maxConnections: 100, reservedConnections: 3 }, [])).toMatchObject({ total: 0, headroom: 97, perInstanceMaxThatFits: 97 });
  });
});

describe('connectionBudget validation', () => {
  test.each([
    [{ maxConnections: 0, reservedConnections: 0 }, 'server.maxConnections'],
    [{ maxConnections: 100.5, reservedConnections: 3 }, 'server.maxConnections'],
    [{ maxConnections: 100, reservedConnections: 100 }, 'server.reservedConnections'],
    [{ maxConnections: 100, reservedConnections: -1 }, 'server.reservedConnections'],
  ])('capacity %j is rejected naming %s', (capacity, field) => {
    expectFieldError(() => connectionBudget(capacity, [instance('a', 1, 1)]), field);
  });

  test('a negative or fractional consumer is rejected naming the instance and consumer', () => {
    expectFieldError(
      () => connectionBudget({ maxConnections: 100, reservedConnections: 3 }, [instance('a', 1, 1), instance('blog', 1, -1)]),
      'instances[1].consumers[1].maxConnections (blog/gateway)',
    );
    expectFieldError(
      () => connectionBudget({ maxConnections: 100, reservedConnections: 3 }, [instance('blog', 1.5, 1)]),
      'instances[0].consumers[0].maxConnections (blog/kratos)',
    );
  });
});

describe('budget properties', () => {
  const capacityAndInstances = fc
    .integer({ min: 1, max: 500 })
    .chain((maxConnections) =>
      fc.record({
        maxConnections: fc.constant(maxConnections),
        reservedConnections: fc.integer({ min: 0, max: maxConnections - 1 }),
        instances: fc.array(
          fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 0, maxLength: 4 }).map((sizes) => sizes.map((n, j) => ({ name: `c${j}`, maxConnections: n }))),
          { minLength: 0, maxLength: 12 },
        ),
      }),
    );

  test('checkConnectionBudget throws iff the sum of shares exceeds maxConnections − reserved; the per-instance maximum always fits', () => {
    fc.assert(
      fc.property(capacityAndInstances, ({ maxConnections, reservedConnections, instances }) => {
        const specs: InstanceConsumers[] = instances.map((consumers, i) => ({ instance: `i${i}`, consumers }));
        const sum = instances.flat().reduce((s, c) => s + c.maxConnections, 0);
        const available = maxConnections - reservedConnections;
        const report = connectionBudget({ maxConnections, reservedConnections }, specs);
        expect(report.total).toBe(sum);
        expect(report.available).toBe(available);
        expect(report.headroom).toBe(available - sum);
        if (specs.length > 0) {
          expect(report.perInstanceMaxThatFits * specs.length).toBeLessThanOrEqual(available);
          expect((report.perInstanceMaxThatFits + 1) * specs.length).toBeGreaterThan(available);
        }
        let threw = false;
        try {
          checkConnectionBudget({ maxConnections, reservedConnections }, specs);
        } catch (e) {
          expect(e).toBeInstanceOf(ConnectionBudgetError);
          threw = true;
        }
        expect(threw).toBe(sum > available);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the admin provider, maintenance headroom and claimed shares', () => {
  test('are deducted from what app roles may use, and named in the error', () => {
    const claimed = [{ instance: 'other/blog', connections: 20, consumers: [] }];
    const capacity = { maxConnections: 100, reservedConnections: 3, adminConnections: 4, maintenanceConnections: 3 };
    expect(connectionBudget(capacity, [instance('a', 10, 10)], 'server', claimed)).toMatchObject({
      available: 90,
      total: 40,
      headroom: 50,
      perInstanceMaxThatFits: 70,
      adminConnections: 4,
      maintenanceConnections: 3,
    });
    const e = (() => {
      try {
        checkConnectionBudget(capacity, [instance('a', 40, 40)], 'instances', claimed);
      } catch (err) {
        return err as ConnectionBudgetError;
      }
      throw new Error('expected ConnectionBudgetError');
    })();
    expect(e.message).toContain(
      '1 instance needs 80 connections but the server allows 70 (max_connections 100 − 3 reserved − 4 admin (deploys: 2 instances at once) − 3 maintenance headroom − 20 already claimed on this server by other/blog 20)',
    );
    expect(e.message).toContain('At most 70 connections per instance fit');
  });

  test('capacity numbers that leave nothing are refused', () => {
    expectFieldError(
      () => connectionBudget({ maxConnections: 10, reservedConnections: 3, adminConnections: 4, maintenanceConnections: 3 }, []),
      'server.maxConnections',
      'leaves no slot for app roles after 3 reserved + 4 for the admin (deploys) + 3 maintenance headroom',
    );
    expectFieldError(() => connectionBudget({ maxConnections: 10, reservedConnections: 0, adminConnections: 1.5 }, []), 'server.adminConnections');
  });
});

describe('adminProviderLanes: instances `pulumi up` provisions at once', () => {
  test('a share of 4 gives 2 lanes; 20 gives 10', () => {
    expect(adminProviderLanes(DEFAULT_ADMIN_MAX_CONNECTIONS)).toBe(2);
    expect(adminProviderLanes(20)).toBe(10);
  });

  test('a share of 1 cannot hold one database operation (a locked transaction + its statement): refused naming the field', () => {
    expectFieldError(() => adminProviderLanes(1), 'adminMaxConnections', /fewer than one database operation .* holds at once \(2/);
    expectFieldError(() => adminProviderLanes(0, 'ExternalPostgres.adminMaxConnections'), 'ExternalPostgres.adminMaxConnections', /whole number/);
  });

  test('property: the instances at once, each holding at most 2 connections, never hold more than the share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 1000 }), (share) => {
        const lanes = adminProviderLanes(share);
        expect(lanes * CONNECTIONS_PER_PROVIDER_OPERATION).toBeLessThanOrEqual(share);
        expect(lanes).toBeGreaterThanOrEqual(1);
        // and no connection of the share is left unused by more than one
        expect(share - lanes * CONNECTIONS_PER_PROVIDER_OPERATION).toBeLessThan(CONNECTIONS_PER_PROVIDER_OPERATION);
      }),
    );
  });
});

describe('defaultAdminConnections: the admin\'s share sized from the server', () => {
  test('a tenth of max_connections − reserved, from 4 to 16', () => {
    expect(defaultAdminConnections(100, 3)).toBe(9);
    expect(defaultAdminConnections(60, 3)).toBe(5);
    expect(defaultAdminConnections(49, 3)).toBe(4);
    expect(defaultAdminConnections(10, 3)).toBe(DEFAULT_ADMIN_MAX_CONNECTIONS);
    expect(defaultAdminConnections(200, 5)).toBe(16);
    expect(defaultAdminConnections(5000, 5)).toBe(MAX_DEFAULT_ADMIN_CONNECTIONS);
  });

  test('numbers that are not whole connections give the smallest share (the budget check names them)', () => {
    expect(defaultAdminConnections(Number.NaN, 3)).toBe(DEFAULT_ADMIN_MAX_CONNECTIONS);
    expect(defaultAdminConnections(3, 100)).toBe(DEFAULT_ADMIN_MAX_CONNECTIONS);
  });

  test('property: the default share and its headroom fit every server the budget accepts with more than 30 usable slots, and grow with it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 262143 }), fc.integer({ min: 0, max: 20 }), (max, reserved) => {
        const share = defaultAdminConnections(max, reserved);
        expect(share).toBeGreaterThanOrEqual(DEFAULT_ADMIN_MAX_CONNECTIONS);
        expect(share).toBeLessThanOrEqual(MAX_DEFAULT_ADMIN_CONNECTIONS);
        expect(defaultAdminConnections(max + 10, reserved)).toBeGreaterThanOrEqual(share);
        if (max - reserved > 30) expect(() => connectionBudget({ maxConnections: max, reservedConnections: reserved, adminConnections: share, maintenanceConnections: 3 }, [])).not.toThrow();
      }),
    );
  });
});

describe('adminProviderPoolSize', () => {
  test('the provider\'s pool is the server\'s max_connections: it never makes an operation wait before the server refuses', () => {
    expect(adminProviderPoolSize(100)).toBe(100);
    expect(adminProviderPoolSize(2500)).toBe(2500);
  });
});

describe('engineParallelism: the --parallel of refresh and destroy inside the share', () => {
  test('half the share, at least 1; the budget report carries it', () => {
    expect([engineParallelism(16), engineParallelism(9), engineParallelism(4), engineParallelism(3), engineParallelism(1), engineParallelism(0)]).toEqual([8, 4, 2, 1, 1, 1]);
    expect(connectionBudget({ maxConnections: 100, reservedConnections: 3, adminConnections: 9 }, []).adminParallel).toBe(4);
  });

  test('property: every reader holding one connection and one still closing stays inside the share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 1000 }), (share) => {
        expect(engineParallelism(share) * 2).toBeLessThanOrEqual(share);
      }),
    );
  });
});
