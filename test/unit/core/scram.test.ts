import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import {
  SCRAM_DEFAULT_ITERATIONS,
  SCRAM_SALT_BYTES,
  isScramVerifier,
  newScramSalt,
  preparePassword,
  scramSha256Verifier,
  scramSha256VerifierAsync,
  verifyScramPassword,
} from '../../../src/core/scram';
import { expectFieldError } from './helpers';

// RFC 7677 §3 example exchange (user "user", password "pencil").
const RFC = {
  password: 'pencil',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  iterations: 4096,
  clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinalWithoutProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  clientProof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

/** RFC 5802 / PostgreSQL scram_build_secret, computed here independently. */
function expectedVerifier(password: string, saltB64: string, iterations: number): string {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(saltB64, 'base64'), iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${saltB64}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function parts(verifier: string): { iterations: number; salt: string; storedKey: Buffer; serverKey: Buffer } {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier);
  if (!m) throw new Error(`not a verifier: ${verifier}`);
  return { iterations: Number(m[1]), salt: m[2]!, storedKey: Buffer.from(m[3]!, 'base64'), serverKey: Buffer.from(m[4]!, 'base64') };
}

const SALT = 'c2FsdHNhbHRzYWx0c2FsdA=='; // "saltsaltsaltsalt", 16 bytes

describe('scramSha256Verifier', () => {
  test('PostgreSQL defaults: 4096 iterations, 16-byte salts', () => {
    expect(SCRAM_DEFAULT_ITERATIONS).toBe(4096);
    expect(SCRAM_SALT_BYTES).toBe(16);
  });

  test('with a fixed salt it is deterministic and has the SCRAM-SHA-256$4096:salt$StoredKey:ServerKey format', () => {
    const a = scramSha256Verifier('correct horse battery staple', SALT);
    expect(scramSha256Verifier('correct horse battery staple', SALT)).toBe(a);
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:c2FsdHNhbHRzYWx0c2FsdA==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    const p = parts(a);
    expect(p.storedKey).toHaveLength(32);
    expect(p.serverKey).toHaveLength(32);
  });

  test.each([
    ['pencil', 'W22ZaJ0SNY7soEsUEjb6gQ==', 4096],
    ['correct horse battery staple', SALT, 4096],
    ["p@ss:w/rd?#%'\" +&=", SALT, 4096],
    ['x', SALT, 1],
    ['long-password-'.repeat(20), SALT, 10000],
  ])('password %j with salt %s and %d iterations matches an independent PBKDF2/HMAC/SHA-256 computation', (password, salt, iterations) => {
    expect(scramSha256Verifier(password, salt, iterations)).toBe(expectedVerifier(password, salt, iterations));
  });

  test('the RFC 7677 example: the verifier checks the RFC\'s client proof and reproduces its server signature', () => {
    const v = parts(scramSha256Verifier(RFC.password, RFC.salt, RFC.iterations));
    const authMessage = `${RFC.clientFirstBare},${RFC.serverFirst},${RFC.clientFinalWithoutProof}`;
    const clientSignature = createHmac('sha256', v.storedKey).update(authMessage).digest();
    const proof = Buffer.from(RFC.clientProof, 'base64');
    const clientKey = Buffer.from(proof.map((b, i) => b ^ clientSignature[i]!));
    expect(createHash('sha256').update(clientKey).digest().equals(v.storedKey)).toBe(true);
    expect(createHmac('sha256', v.serverKey).update(authMessage).digest('base64')).toBe(RFC.serverSignature);
  });

  test('a Buffer salt and its base64 give the same verifier', () => {
    expect(scramSha256Verifier('pw', Buffer.from(SALT, 'base64'))).toBe(scramSha256Verifier('pw', SALT));
  });

  test('a different salt, password or iteration count gives a different verifier', () => {
    const base = scramSha256Verifier('pw', SALT);
    expect(scramSha256Verifier('pw', 'b3RoZXJzYWx0b3RoZXJzYQ==')).not.toBe(base);
    expect(scramSha256Verifier('pw2', SALT)).not.toBe(base);
    expect(scramSha256Verifier('pw', SALT, 4097)).not.toBe(base);
  });

  test('an empty password throws naming "password"', () => {
    expectFieldError(() => scramSha256Verifier('', SALT), 'password', 'is empty');
  });

  test('a salt shorter than 8 bytes throws naming "salt"', () => {
    expectFieldError(() => scramSha256Verifier('pw', Buffer.alloc(7)), 'salt', 'is 7 bytes');
    expectFieldError(() => scramSha256Verifier('pw', ''), 'salt', 'is 0 bytes');
  });

  test.each([0, -1, 1.5])('iterations %d throws naming "iterations"', (iterations) => {
    expectFieldError(() => scramSha256Verifier('pw', SALT, iterations), 'iterations');
  });

  test('newScramSalt gives 16 fresh random bytes in base64', () => {
    const a = newScramSalt();
    const b = newScramSalt();
    expect(Buffer.from(a, 'base64')).toHaveLength(16);
    expect(a).not.toBe(b);
    expect(isScramVerifier(scramSha256Verifier('pw', a))).toBe(true);
  });
});

describe('verifyScramPassword and isScramVerifier', () => {
  const verifier = scramSha256Verifier('s3cret', SALT);

  test('the right password verifies', () => {
    expect(verifyScramPassword('s3cret', verifier)).toBe(true);
  });

  test.each(['S3cret', 's3cret ', 's3cre', 'x'])('the wrong password %j does not verify', (password) => {
    expect(verifyScramPassword(password, verifier)).toBe(false);
  });

  // BUG (src/core/scram.ts, verifyScramPassword): documented as "whether
  // password matches verifier" and returning false for non-matches, but an
  // empty password makes it throw ValidationError("password: is empty")
  // from scramSha256Verifier instead of returning false.
  test('the empty password does not verify (returns false rather than throwing)', () => {
    expect(verifyScramPassword('', verifier)).toBe(false);
  });

  test('a verifier with other iterations verifies with its own iterations', () => {
    expect(verifyScramPassword('pw', scramSha256Verifier('pw', SALT, 10000))).toBe(true);
  });

  test('garbage is not a verifier and verifies nothing', () => {
    expect(verifyScramPassword('s3cret', 's3cret')).toBe(false);
  });

  test.each([
    ['a real verifier', verifier, true],
    ['a verifier with other iterations', scramSha256Verifier('pw', SALT, 10000), true],
    ['a plain password', 's3cret', false],
    ['an md5 hash', 'md5' + 'a'.repeat(32), false],
    ['a verifier without ServerKey', verifier.split(':').slice(0, 2).join(':'), false],
    ['a verifier with a newline appended', `${verifier}\n`, false],
    ['a verifier with SQL appended', `${verifier}'; DROP ROLE x; --`, false],
    ['lower-case scheme', verifier.replace('SCRAM-SHA-256', 'scram-sha-256'), false],
  ])('isScramVerifier(%s) is %s', (_what, text, expected) => {
    expect(isScramVerifier(text)).toBe(expected);
  });
});

describe('preparePassword (pg_saslprep)', () => {
  test.each(['password', 'with space', 'TAB\there', '\x01\x02\x7f', "p@ss:w/rd?#%'\"", ''])('ASCII %j is used exactly as is, control characters included', (pw) => {
    expect(preparePassword(pw)).toBe(pw);
  });

  test.each([
    ['fullwidth ｐａｓｓ', 'ｐａｓｓ', 'pass'],
    ['roman numeral Ⅸ', 'Ⅸ', 'IX'],
    ['soft hyphen mapped to nothing', 'I\u00ADX', 'IX'],
    ['no-break space mapped to space', 'a\u00A0b', 'a b'],
    ['ligature ﬁ', 'ﬁle', 'file'],
  ])('non-ASCII: %s is NFKC/SASLprep-normalized', (_what, input, expected) => {
    expect(preparePassword(input)).toBe(expected);
  });

  test('already-normalized non-ASCII stays as is', () => {
    expect(preparePassword('pässwörd')).toBe('pässwörd');
  });

  test('a non-ASCII password SASLprep prohibits (a control character) falls back to the raw string', () => {
    expect(preparePassword('pä\u0007ss')).toBe('pä\u0007ss');
  });

  test('verifiers are computed on the prepared password: "ｐａｓｓ" and "pass" give the same verifier', () => {
    expect(scramSha256Verifier('ｐａｓｓ', SALT)).toBe(scramSha256Verifier('pass', SALT));
    expect(verifyScramPassword('pass', scramSha256Verifier('ｐａｓｓ', SALT))).toBe(true);
  });
});

describe('scramSha256VerifierAsync', () => {
  test('gives the same verifier as the synchronous function, for ASCII, SASLprep-normalized and raw passwords', async () => {
    const salt = Buffer.from('0123456789abcdef');
    for (const password of ['pencil', 'ｐａｓｓ', 'pass-🔑', "p@ss:/?#%'\" w"]) {
      expect(await scramSha256VerifierAsync(password, salt)).toBe(scramSha256Verifier(password, salt));
    }
    expect(await scramSha256VerifierAsync('pencil', salt.toString('base64'), 10)).toBe(scramSha256Verifier('pencil', salt, 10));
  });

  test('rejects the same bad inputs', async () => {
    await expect(scramSha256VerifierAsync('', Buffer.alloc(16))).rejects.toThrow(/password: is empty/);
    await expect(scramSha256VerifierAsync('x', Buffer.alloc(4))).rejects.toThrow(/salt: is 4 bytes/);
    await expect(scramSha256VerifierAsync('x', Buffer.alloc(16), 0)).rejects.toThrow(/iterations: 0 is not a whole number/);
  });
});
