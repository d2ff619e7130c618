/**
 * Validation of `Input` arguments at the earliest moment each can be seen:
 * a plain value in the constructor (so the error comes before any resource
 * is registered), a value known only at deploy (another resource's output)
 * inside `apply`, with the same message.
 */
import * as pulumi from '@pulumi/pulumi';

function isPlain<T>(value: pulumi.Input<T>): value is T {
  return !pulumi.Output.isInstance(value) && !(value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function');
}

/**
 * Runs `check` on a plain value now and returns it unchanged; for an Output
 * or a Promise returns an Output that runs `check` when the value is known
 * (keeping it secret when it was). `check` throws a ValidationError.
 */
export function checkedInput<T extends string | number>(value: pulumi.Input<T>, check: (v: T) => unknown): pulumi.Input<T> {
  if (isPlain(value)) {
    check(value);
    return value;
  }
  return pulumi.output(value).apply((v) => {
    check(v as T);
    return v;
  }) as pulumi.Output<T>;
}
