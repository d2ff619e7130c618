/**
 * The one shellQuote (src/core/shell.ts), which the local TLS entrypoint and
 * the Hetzner settings files and setup payload all use. The two copies it
 * replaces disagreed: src/local left plain words bare, src/hetzner quoted
 * every value. Decision: plain words stay bare (what a reader expects, and
 * both are equally correct sh), everything else single-quoted. Pinned by a
 * property against its real consumer, dash (Debian's /bin/sh): any string
 * comes back unchanged as one word.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { shellQuote } from '../../../src/core/shell';

/** What sh makes of `printf %s <quoted> <quoted>`, split at the NUL printf writes between them. */
function throughSh(words: string[]): string[] {
  const r = spawnSync('sh', ['-c', `printf '%s\\0' ${words.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sh exited ${r.status}: ${r.stderr}`);
  return r.stdout.split('\0').slice(0, -1);
}

test('plain words stay bare; anything else is single-quoted with \' as \'\\\'\'', () => {
  expect(shellQuote('/run/postgres-strategies')).toBe('/run/postgres-strategies');
  expect(shellQuote('postgresql-15')).toBe('postgresql-15');
  expect(shellQuote('https://fsn1.your-objectstorage.com')).toBe('https://fsn1.your-objectstorage.com');
  expect(shellQuote("a b'c")).toBe(`'a b'\\''c'`);
  expect(shellQuote('')).toBe("''");
  expect(shellQuote('$HOME')).toBe("'$HOME'");
  expect(shellQuote('~')).toBe("'~'");
});

test('property: every string (no NUL) reaches sh as exactly one word, unchanged', () => {
  const special = fc.constantFrom(...' \'"\\$`!*?[]{}()<>|&;#~=%\t\n-'.split(''));
  const text = fc.string({ unit: fc.oneof(special, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })) }).filter((s) => !s.includes('\0'));
  fc.assert(
    fc.property(fc.array(text, { minLength: 1, maxLength: 4 }), (words) => {
      expect(throughSh(words)).toEqual(words);
    }),
    { numRuns: 150 },
  );
});

test('property (the decision): a word of characters that are never special stays bare, any other is quoted', () => {
  const safe = fc.string({ unit: fc.constantFrom(...'abcXYZ019_./=:,@%+-'.split('')), minLength: 1 });
  fc.assert(fc.property(safe, (w) => shellQuote(w) === w));
  fc.assert(fc.property(fc.string().filter((w) => !/^[A-Za-z0-9_./=:,@%+-]+$/.test(w)), (w) => shellQuote(w).startsWith("'") && shellQuote(w).endsWith("'")));
});
