/**
 * Encryption at rest with a key the user holds, and the integrity of what
 * the bucket holds.
 *
 * - The key: 32 random bytes, given as base64 (`openssl rand -base64 32`)
 *   or 64 hex digits, in an environment variable or a file — never on the
 *   command line. The store never sees it.
 * - Per backup, HKDF-SHA256 derives from it (salt: the backup's id) a data
 *   key for AES-256-GCM (a random 96-bit nonce per backup, in the manifest;
 *   the 16-byte tag after the ciphertext), a key whose HMAC of a fixed text
 *   is the manifest's `keyCheck` (a wrong key is refused before anything is
 *   downloaded), and a key for the manifest's HMAC (an altered manifest is
 *   refused).
 * - Every dump, encrypted or not, has the SHA-256 and size of its stored
 *   bytes in the manifest: a restore streams and hashes them, and releases
 *   the last bytes to pg_restore only when both match (and, encrypted, the
 *   GCM tag verifies), so altered bytes never commit.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CipherGCM, DecipherGCM } from 'node:crypto';
import { BackupError, BackupErrorCode } from './errors';

/** The cipher of encrypted dumps. */
export const CIPHER = 'aes-256-gcm';
/** Bytes of the GCM tag stored after the ciphertext. */
export const TAG_BYTES = 16;

/**
 * Parses a key: base64 of 32 bytes, or 64 hex digits (surrounding white space ignored).
 * @throws BackupError (`key`) naming `field`; the message never holds the key.
 */
export function parseBackupKey(text: string, field: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/]{43}=?$/.test(t) ? Buffer.from(t, 'base64') : undefined;
  if (key === undefined || key.length !== 32) {
    throw new BackupError(BackupErrorCode.Key, field, 'is not a backup key (32 bytes as base64 or 64 hex digits)', 'Make one with `openssl rand -base64 32`, keep it outside the bucket, and give the same key to backup and restore');
  }
  return key;
}

function derive(key: Buffer, salt: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.from(salt, 'utf8'), Buffer.from(`postgres-strategies backup ${purpose}`, 'utf8'), 32));
}

/** The key's check value for a backup (hex): equal for the same key and backup id only. */
export function keyCheck(key: Buffer, backupId: string): string {
  return createHmac('sha256', derive(key, backupId, 'check')).update('key check').digest('hex').slice(0, 32);
}

/** Whether `key` is the one a manifest's `keyCheck` was made with. */
export function keyMatches(key: Buffer, backupId: string, check: string): boolean {
  const mine = Buffer.from(keyCheck(key, backupId), 'hex');
  const theirs = Buffer.from(check, 'hex');
  return mine.length === theirs.length && timingSafeEqual(mine, theirs);
}

/** HMAC-SHA256 (hex) of a manifest's canonical text. */
export function manifestMac(key: Buffer, backupId: string, text: string): string {
  return createHmac('sha256', derive(key, backupId, 'manifest')).update(text, 'utf8').digest('hex');
}

/** Whether a manifest's MAC is right. */
export function macMatches(key: Buffer, backupId: string, text: string, mac: string): boolean {
  const mine = Buffer.from(manifestMac(key, backupId, text), 'hex');
  const theirs = Buffer.from(mac, 'hex');
  return mine.length === theirs.length && timingSafeEqual(mine, theirs);
}

/** A new random GCM nonce (hex). */
export function newNonce(): string {
  return randomBytes(12).toString('hex');
}

/** The encryption of one backup's dump (append `final()` and the tag after the updates). */
export function encryptor(key: Buffer, backupId: string, nonceHex: string): CipherGCM {
  return createCipheriv(CIPHER, derive(key, backupId, 'data'), Buffer.from(nonceHex, 'hex'));
}

/** The decryption of one backup's dump (set the tag before `final()`). */
export function decryptor(key: Buffer, backupId: string, nonceHex: string): DecipherGCM {
  return createDecipheriv(CIPHER, derive(key, backupId, 'data'), Buffer.from(nonceHex, 'hex'));
}
