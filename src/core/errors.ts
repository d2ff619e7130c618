/**
 * Errors raised by the pure core. Every validation error names the field that
 * is wrong and says how to fix it, so that a `pulumi preview` fails with a
 * message a reviewer can act on before any resource is created.
 */

/**
 * A bad input, caught before anything is created.
 *
 * `field` is the dotted path of the offending argument as the user wrote it
 * (for example `instances[1].database` or `tls.sslmode`); `message` is
 * `"<field>: <problem>. <fix>"`.
 *
 * Under `pulumi preview`/`up` it reads as one of Pulumi's own errors
 * (`error: <message>`, no JavaScript stack trace): the Node.js SDK recognises
 * its `RunError` by the `__pulumiRunError` brand (`RunError.isInstance`, so
 * that two copies of the SDK agree) and then logs the message alone. The
 * brand is a plain property: the core stays free of any Pulumi import.
 */
export class ValidationError extends Error {
  readonly field: string;
  readonly problem: string;
  readonly fix: string;
  /** The Node.js SDK's `RunError` brand: the program's failure is reported without a stack trace. */
  readonly __pulumiRunError = true;

  constructor(field: string, problem: string, fix: string) {
    super(`${field}: ${problem}. ${fix}`);
    this.name = 'ValidationError';
    this.field = field;
    this.problem = problem;
    this.fix = fix;
  }
}

/** Throws a {@link ValidationError} unless `condition` holds. */
export function check(condition: boolean, field: string, problem: string, fix: string): asserts condition {
  if (!condition) throw new ValidationError(field, problem, fix);
}

/** Validates a whole number within bounds (inclusive); `unit` names it in the message. */
export function checkInteger(value: number, field: string, min: number, max: number, unit: string): void {
  check(
    Number.isInteger(value) && value >= min && value <= max,
    field,
    `${String(value)} is not a whole number of ${unit} between ${min} and ${max}`,
    `Give a whole number of ${unit} from ${min} to ${max}`,
  );
}
