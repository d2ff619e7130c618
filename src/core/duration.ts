/**
 * Go duration strings, as the auth gateway's `database.connect_timeout` and
 * Kratos' `max_conn_lifetime` take them ("10s", "1m30s", "1.5h", "250ms").
 *
 * Source: Go's `time.ParseDuration` grammar (a possibly signed sequence of
 * decimal numbers, each with optional fraction and a unit suffix: ns, us, µs,
 * ms, s, m, h; "0" on its own is zero).
 */
import { ValidationError } from './errors';

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9, us: 1e-6, 'µs': 1e-6, 'μs': 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600,
};

/**
 * Parses a Go duration into seconds (fractional).
 * @throws ValidationError naming `field` when the text is not a Go duration.
 */
export function parseGoDuration(text: string, field: string): number {
  const fail = (): never => {
    throw new ValidationError(field, `"${text}" is not a Go duration`, 'Write it like "10s", "1m30s" or "1h"');
  };
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest[0] === '-') sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') fail();
  const part = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let seconds = 0;
  while (rest.length > 0) {
    const m = part.exec(rest);
    if (!m) fail();
    const [whole, num, unit] = m as unknown as [string, string, string];
    seconds += Number(num) * (UNIT_SECONDS[unit] as number);
    rest = rest.slice(whole.length);
  }
  // Go's Duration is an int64 of nanoseconds (about 292 years).
  if (seconds > 9223372036.854775807) fail();
  return sign * seconds;
}

/**
 * Converts a Go duration to libpq's `connect_timeout`, a whole number of
 * seconds. Fractions are rounded up (and anything below a second is 1),
 * because libpq reads 0 as "wait forever".
 * @throws ValidationError when the duration is not positive.
 */
export function connectTimeoutSeconds(text: string, field: string): number {
  const seconds = parseGoDuration(text, field);
  if (!(seconds > 0)) {
    throw new ValidationError(
      field,
      `"${text}" is not a positive duration, and libpq waits forever when connect_timeout is 0`,
      'Give a timeout of at least "1s" (the seed default is "10s")',
    );
  }
  return Math.max(1, Math.ceil(seconds));
}

/** Formats whole seconds as a Go duration Go's parser accepts ("90s"). */
export function formatGoDurationSeconds(seconds: number): string {
  return `${seconds}s`;
}
