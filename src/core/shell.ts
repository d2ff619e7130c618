/**
 * Quoting for POSIX sh (pure). Every shell text the strategies render — the
 * local TLS entrypoint, the Hetzner settings files and setup payload — quotes
 * its words here.
 *
 * Source: POSIX.1-2017 XCU 2.2 "Quoting": inside single quotes every
 * character is literal and a single quote cannot occur, so `'` is written as
 * `'\''` (close, escaped quote, reopen). Characters outside the quoting set
 * of 2.2 (`| & ; < > ( ) $ \` \\ " '` space, tab, newline, and `* ? [ # ~ = %`
 * where they start a pattern, comment or tilde-prefix) are left bare.
 */

// Never special to sh anywhere in a word: letters, digits and _ . / = : , @ % + -
// (= and % only matter in the positions above, which a bare word of these cannot reach).
const BARE_WORD = /^[A-Za-z0-9_./=:,@%+-]+$/;

/**
 * Quotes a word for POSIX sh: left bare when it holds only characters that
 * are never special, else single-quoted with `'` written as `'\''`; the empty
 * word is `''`. `sh -c "printf %s $(shellQuote(x))"` prints exactly `x`, for
 * any string without NUL (what an argument cannot hold).
 */
export function shellQuote(word: string): string {
  return BARE_WORD.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
