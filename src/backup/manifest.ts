/**
 * A backup's manifest (pure): what the dump holds, read by `migrate`'s own
 * catalog code in the dump's snapshot — the objects, per-table row counts
 * and content checksums, sequences, large objects, extensions — plus the
 * server and tool versions, how rows were hashed (and the probes that tell
 * whether another server hashes the same), and the dump's size and SHA-256.
 * A restore reads the target the same way and compares with migrate's
 * `compare`.
 *
 * Layout in the bucket, under the location's prefix:
 * `<database>/<stamp>/dump` (pg_dump's custom format; encrypted when the
 * manifest says so) and `<database>/<stamp>/manifest.json`, written last —
 * a backup without its manifest is incomplete and never restored.
 */
import { Inventory, RowHash, SequenceState, TableSum } from '../migrate/catalog';
import { SideReading } from '../migrate/verify';
import { BackupError, BackupErrorCode } from './errors';

/** The manifest's format tag. */
export const MANIFEST_FORMAT = 'postgres-strategies-backup/1';
/** The manifest's object name in a backup's folder. */
export const MANIFEST_NAME = 'manifest.json';
/** The dump's object name in a backup's folder. */
export const DUMP_NAME = 'dump';

/** A backup's manifest. */
export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  /** `<database>/<stamp>`: the backup's folder under the prefix. */
  id: string;
  /** When the dump's snapshot was taken (RFC 3339, UTC). */
  createdAt: string;
  source: { host: string; port: number; database: string; user: string; serverVersion: string; serverVersionNum: number };
  tools: { pgDump: string; major: number };
  dump: {
    /** Bytes stored (ciphertext and tag when encrypted). */
    bytes: number;
    /** SHA-256 (hex) of the stored bytes. */
    sha256: string;
    /** Absent: not encrypted. */
    encryption?: { cipher: string; nonce: string; keyCheck: string };
  };
  /** How rows were hashed, and the probes a restore's server must reproduce. */
  hashing: { text: RowHash; recordTables: string[]; textProbe: string; recordProbe: string | null };
  inventory: Inventory;
  tables: Record<string, TableSum>;
  /** Every sequence at the dump's snapshot. */
  sequences: Record<string, SequenceState>;
  /**
   * The sequences read again after the dump, when some moved meanwhile (a
   * sequence is not covered by the snapshot: pg_dump read a value between
   * the two, so a restored one must lie between them). Absent: none moved.
   */
  sequencesAfter?: Record<string, SequenceState>;
  largeObjects: TableSum;
  extensions: Record<string, string>;
  seconds: { dump: number; total: number };
  /** HMAC-SHA256 of the rest (encrypted backups). */
  mac?: string;
}

/** `YYYYMMDDTHHMMSSmmmZ` of a time: sorts as the time does. */
export function backupStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('.', '');
}

/** The backup id of a database at a time. */
export function backupId(database: string, at: Date): string {
  return `${database}/${backupStamp(at)}`;
}

/** The canonical text the MAC covers: the manifest without `mac`, keys in their written order. */
export function canonicalText(m: BackupManifest): string {
  const { mac: _mac, ...rest } = m;
  return JSON.stringify(rest);
}

/** The manifest as stored. */
export function renderManifest(m: BackupManifest): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/**
 * Reads a manifest.
 * @throws BackupError (`altered`) when it is not one of this format.
 */
export function parseManifest(text: string, where: string): BackupManifest {
  let m: BackupManifest;
  try {
    m = JSON.parse(text) as BackupManifest;
  } catch {
    throw new BackupError(BackupErrorCode.Altered, '--from', `${where} is not JSON`, 'Restore another backup (backups list); this one\'s manifest was altered or truncated');
  }
  const ok =
    m !== null && typeof m === 'object' && m.format === MANIFEST_FORMAT && typeof m.id === 'string' && typeof m.dump?.sha256 === 'string' &&
    Number.isInteger(m.dump?.bytes) && typeof m.tables === 'object' && typeof m.inventory === 'object' && Array.isArray(m.inventory?.objects);
  if (!ok) throw new BackupError(BackupErrorCode.Altered, '--from', `${where} is not a ${MANIFEST_FORMAT} manifest`, 'Restore another backup (backups list), made by this package');
  return m;
}

/** The source side of a restore's verification, from the manifest. */
export function manifestReading(m: BackupManifest): SideReading {
  return {
    inventory: m.inventory,
    tables: new Map(Object.entries(m.tables)),
    sequences: new Map(Object.entries(m.sequences ?? {})),
    ...(m.sequencesAfter !== undefined ? { sequencesAfter: new Map(Object.entries(m.sequencesAfter)) } : {}),
    largeObjects: m.largeObjects,
    extensions: new Map(Object.entries(m.extensions)),
  };
}

/** The reading's parts as the manifest stores them. */
export function readingParts(r: SideReading): Pick<BackupManifest, 'inventory' | 'tables' | 'sequences' | 'sequencesAfter' | 'largeObjects' | 'extensions'> {
  const after = r.sequencesAfter;
  const moved = after !== undefined && [...after].some(([name, s]) => JSON.stringify(s) !== JSON.stringify(r.sequences.get(name)));
  return {
    inventory: r.inventory,
    tables: Object.fromEntries(r.tables),
    sequences: Object.fromEntries(r.sequences),
    ...(moved ? { sequencesAfter: Object.fromEntries(after) } : {}),
    largeObjects: r.largeObjects,
    extensions: Object.fromEntries(r.extensions),
  };
}
