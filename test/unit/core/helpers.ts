/**
 * Shared assertions for the core unit tests (not a test file itself).
 */
import { ValidationError } from '../../../src/core/errors';

/**
 * Runs `fn` and returns the ValidationError it throws; fails the test when it
 * throws nothing or something else.
 */
export function validationError(fn: () => unknown): ValidationError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error('expected a ValidationError, but nothing was thrown');
  if (!(thrown instanceof ValidationError)) {
    throw new Error(`expected a ValidationError, got ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : String(thrown)}`);
  }
  return thrown;
}

/**
 * Asserts that `fn` throws a ValidationError for `field` whose message has
 * the documented shape `"<field>: <problem>. <fix>"` and contains every
 * fragment given.
 */
export function expectFieldError(fn: () => unknown, field: string, ...fragments: Array<string | RegExp>): ValidationError {
  const e = validationError(fn);
  expect(e.field).toBe(field);
  expect(e.message).toBe(`${field}: ${e.problem}. ${e.fix}`);
  for (const f of fragments) {
    if (typeof f === 'string') expect(e.message).toContain(f);
    else expect(e.message).toMatch(f);
  }
  return e;
}

/** The query parameters of a URL, in order, decoded (duplicates kept). */
export function queryPairs(url: string): [string, string][] {
  const q = url.indexOf('?');
  if (q < 0) return [];
  return url
    .slice(q + 1)
    .split('#')[0]!
    .split('&')
    .filter((kv) => kv.length > 0)
    .map((kv) => {
      const i = kv.indexOf('=');
      const k = i < 0 ? kv : kv.slice(0, i);
      const v = i < 0 ? '' : kv.slice(i + 1);
      return [decodeURIComponent(k), decodeURIComponent(v)];
    });
}

/** The query keys of a URL, in order (duplicates kept). */
export function queryKeys(url: string): string[] {
  return queryPairs(url).map(([k]) => k);
}
