import { connectTimeoutSeconds, formatGoDurationSeconds, parseGoDuration } from '../../../src/core/duration';
import { expectFieldError } from './helpers';

describe('parseGoDuration follows Go time.ParseDuration', () => {
  test.each([
    ['10s', 10],
    ['15s', 15],
    ['1m30s', 90],
    ['1.5h', 5400],
    ['1h1m1s', 3661],
    ['2h45m', 9900],
    ['250ms', 0.25],
    ['1500ms', 1.5],
    ['100us', 100e-6],
    ['100µs', 100e-6], // U+00B5 micro sign
    ['100μs', 100e-6], // U+03BC greek mu
    ['5000ns', 5e-6],
    ['.5s', 0.5],
    ['1.s', 1],
    ['0', 0],
    ['+0', 0],
    ['-0', 0],
    ['0s', 0],
    ['+5s', 5],
    ['-1s', -1],
    ['-1m30s', -90],
    ['1h1h', 7200], // Go sums repeated units
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseGoDuration(text, 'database.connect_timeout')).toBeCloseTo(seconds, 12);
  });

  test.each([
    '',
    '10', // missing unit
    '00',
    's',
    '.s',
    '.',
    '1x',
    '1S', // units are case-sensitive
    '1sec',
    '1 s',
    '1s2',
    '--1s',
    '+-1s',
    '1h-1m', // a sign only at the start
    '1e3s',
    'NaN',
    'ten seconds',
    '10s;DROP',
  ])('%j is not a Go duration and throws naming the field', (text) => {
    expectFieldError(() => parseGoDuration(text, 'database.connect_timeout'), 'database.connect_timeout', 'is not a Go duration');
  });
});

describe('connectTimeoutSeconds gives libpq a whole, positive number of seconds', () => {
  test.each([
    ['10s', 10],
    ['15s', 15],
    ['1m30s', 90],
    ['1500ms', 2],
    ['999ms', 1],
    ['1001ms', 2],
    ['1s', 1],
    ['1.5h', 5400],
  ])('%s becomes connect_timeout=%d (fractions round up)', (text, seconds) => {
    expect(connectTimeoutSeconds(text, 'database.connect_timeout')).toBe(seconds);
  });

  test.each(['0', '0s', '-1s', '-0', '-1m30s'])('%s is rejected because libpq waits forever for 0', (text) => {
    expectFieldError(() => connectTimeoutSeconds(text, 'database.connect_timeout'), 'database.connect_timeout', 'not a positive duration');
  });

  test('an invalid duration is rejected with the same field', () => {
    expectFieldError(() => connectTimeoutSeconds('10', 'database.connect_timeout'), 'database.connect_timeout', 'not a Go duration');
  });

  // BUG (src/core/duration.ts, connectTimeoutSeconds): Math.ceil(seconds - 1e-9)
  // turns "1ns" into 0 (and "0.5ns" into -0), i.e. connect_timeout=0, which
  // libpq reads as "wait forever" - the exact case the function exists to prevent.
  test('any positive duration, even "1ns", gives at least 1 second', () => {
    for (const text of ['1ns', '0.5ns', '1us']) {
      expect(connectTimeoutSeconds(text, 'f')).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('formatGoDurationSeconds', () => {
  test.each([
    [90, '90s'],
    [1, '1s'],
    [3600, '3600s'],
  ])('%d seconds is written %s and parses back to the same number', (seconds, text) => {
    expect(formatGoDurationSeconds(seconds)).toBe(text);
    expect(parseGoDuration(text, 'f')).toBe(seconds);
  });
});
