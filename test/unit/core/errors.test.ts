/**
 * Issue 22 item 7: a ValidationError (and its subclasses) is a Pulumi
 * `RunError` as the Node.js SDK recognises one, so `pulumi preview` prints
 * its message alone, without "unhandled exception" and a stack trace (the
 * real engine's output is checked in test/e2e/engine/first-hour.test.ts).
 */
import * as pulumi from '@pulumi/pulumi';
import { ConnectionBudgetError } from '../../../src/core/budget';
import { ValidationError } from '../../../src/core/errors';
import { MigrateError } from '../../../src/migrate/errors';

describe('ValidationError under the Pulumi SDK', () => {
  it('is a RunError to the SDK (its stack is hidden), keeping its message', () => {
    const e = new ValidationError('ExternalPostgres.sslmode', '"prefer" is not allowed', 'Use verify-full');
    expect(pulumi.RunError.isInstance(e)).toBe(true);
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('ExternalPostgres.sslmode: "prefer" is not allowed. Use verify-full');
  });

  it('so are its subclasses', () => {
    const classes = [ConnectionBudgetError, MigrateError].map((c) => c.name);
    expect(classes).toEqual(['ConnectionBudgetError', 'MigrateError']);
    expect(Object.getPrototypeOf(ConnectionBudgetError.prototype)).toBe(ValidationError.prototype);
    expect(Object.getPrototypeOf(MigrateError.prototype)).toBe(ValidationError.prototype);
  });

  it('any other error is not', () => {
    expect(pulumi.RunError.isInstance(new Error('x'))).toBe(false);
  });
});
