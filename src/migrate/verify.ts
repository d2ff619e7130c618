/**
 * The verification's comparison (pure): what the two sides read, compared
 * item by item, with a count of differences. Any difference makes the run
 * fail (exit 1).
 */
import { DbObject, Inventory, SequenceState, TableSum } from './catalog';

/** What one side read. */
export interface SideReading {
  inventory: Inventory;
  tables: Map<string, TableSum>;
  /** Sequences; on the source, read at the copy's snapshot (before pg_dump started). */
  sequences: Map<string, SequenceState>;
  /**
   * The source's sequences read again after the copy: a sequence is not
   * covered by the snapshot, so pg_dump read a value between the two.
   * @default the same as `sequences`
   */
  sequencesAfter?: Map<string, SequenceState>;
  largeObjects: TableSum;
  extensions: Map<string, string>;
  /** The target's privileges of the roles that use the owner's objects (absent: none to check). */
  privileges?: { roles: string[]; missing: string[] };
}

/** One table on both sides. */
export interface TableComparison {
  /** Qualified name, e.g. `public.users` or `"My Schema"."T"`. */
  table: string;
  /** null: the table is not there. */
  source: TableSum | null;
  target: TableSum | null;
  equal: boolean;
}

/** One sequence on both sides. */
export interface SequenceComparison {
  sequence: string;
  /** The source at the copy's snapshot. */
  source: SequenceState | null;
  target: SequenceState | null;
  /**
   * True when the target's next value lies between the source's at the
   * snapshot and after the copy (where pg_dump read it): equal when the
   * source did not move.
   */
  equal: boolean;
  /** The source after the copy, when it moved during the run (nextval on the source). */
  sourceAfter?: SequenceState;
  /** How many increments the source moved during the run (a decimal integer), when it did. */
  moved?: string;
  /**
   * When not equal, the side whose sequence is further along: `target` (it
   * handed out values the source has not: the target took writes since the
   * copy) or `source` (the source moved on since the copy was taken).
   */
  ahead?: 'source' | 'target';
}

/** One extension on both sides (versions may differ between majors; only presence counts). */
export interface ExtensionComparison {
  extension: string;
  /** Installed version, null when not installed. */
  source: string | null;
  target: string | null;
  equal: boolean;
}

/** Everything the verification compared. */
export interface Verification {
  tables: TableComparison[];
  sequences: SequenceComparison[];
  largeObjects: { source: TableSum; target: TableSum; equal: boolean };
  extensions: ExtensionComparison[];
  /** Objects (schemas, tables, views, sequences, functions, types, extensions) on one side only, as `"<kind> <name>"`. */
  objects: { onlyInSource: string[]; onlyInTarget: string[]; equal: boolean };
  /** Target objects (extensions aside) and large objects not owned by the target role. */
  ownership: { role: string; objects: number; notOwned: DbObject[]; largeObjectsNotOwned: number; equal: boolean };
  /**
   * The privileges the roles that use the owner's objects need (the
   * least-privilege shape's app and read-only roles: what the owner's default
   * privileges give them in schema public, in every schema) and those that
   * do not hold on the target, as `"<role>: <privilege> on <object>"`. No
   * roles in the owner shape.
   */
  privileges: { roles: string[]; missing: string[]; equal: boolean };
  /** How many items differ (0 = the copy is verified). */
  differences: number;
}

function keyOf(o: DbObject): string {
  return `${o.kind} ${o.name}`;
}

/** Whether two inventories hold the same objects (by kind and name; owners aside) and as many large objects. */
export function sameObjects(a: Inventory, b: Inventory): boolean {
  const ka = a.objects.map(keyOf).sort();
  const kb = b.objects.map(keyOf).sort();
  return a.largeObjects === b.largeObjects && ka.length === kb.length && ka.every((k, i) => k === kb[i]);
}

function union(a: Iterable<string>, b: Iterable<string>): string[] {
  return [...new Set([...a, ...b])].sort();
}

/** A sequence's next value (`nextval` would return it), times the sign of its increment: larger is further along. */
function position(s: SequenceState): bigint {
  const inc = BigInt(s.increment);
  const next = s.isCalled ? BigInt(s.lastValue) + inc : BigInt(s.lastValue);
  return inc < 0n ? -next : next;
}

/**
 * Compares one sequence: the target was copied from a value pg_dump read
 * between `before` and `after` (the source's states at the snapshot and
 * after the copy), so it is correct when its position lies between theirs.
 */
export function compareSequence(sequence: string, before: SequenceState | null, after: SequenceState | null, target: SequenceState | null): SequenceComparison {
  const out: SequenceComparison = { sequence, source: before, target, equal: false };
  if (before === null || target === null) return out;
  const end = after ?? before;
  const [b, e, t] = [position(before), position(end), position(target)];
  if (e !== b) {
    out.sourceAfter = end;
    const step = BigInt(before.increment);
    out.moved = ((e - b) / (step < 0n ? -step : step)).toString();
  }
  // Not moved: exactly as at the snapshot. Moved (even backwards, by setval): anywhere between.
  const [lo, hi] = b <= e ? [b, e] : [e, b];
  out.equal = e === b ? target.lastValue === before.lastValue && target.isCalled === before.isCalled : lo <= t && t <= hi;
  if (!out.equal) {
    if (t > hi) out.ahead = 'target';
    else if (t < lo) out.ahead = 'source';
  }
  return out;
}

/** Compares the two readings; `role` is who must own every object on the target. */
export function compare(source: SideReading, target: SideReading, role: string): Verification {
  const tables = union(source.tables.keys(), target.tables.keys()).map((table) => {
    const s = source.tables.get(table) ?? null;
    const t = target.tables.get(table) ?? null;
    return { table, source: s, target: t, equal: s !== null && t !== null && s.rows === t.rows && s.checksum === t.checksum };
  });
  const sequences = union(source.sequences.keys(), target.sequences.keys()).map((sequence) =>
    compareSequence(sequence, source.sequences.get(sequence) ?? null, (source.sequencesAfter ?? source.sequences).get(sequence) ?? null, target.sequences.get(sequence) ?? null),
  );
  const los = source.largeObjects;
  const lot = target.largeObjects;
  const largeObjects = { source: los, target: lot, equal: los.rows === lot.rows && los.checksum === lot.checksum };
  const extensions = union(source.extensions.keys(), target.extensions.keys()).map((extension) => {
    const s = source.extensions.get(extension) ?? null;
    const t = target.extensions.get(extension) ?? null;
    return { extension, source: s, target: t, equal: s !== null && t !== null };
  });
  const sk = new Set(source.inventory.objects.map(keyOf));
  const tk = new Set(target.inventory.objects.map(keyOf));
  const onlyInSource = [...sk].filter((k) => !tk.has(k)).sort();
  const onlyInTarget = [...tk].filter((k) => !sk.has(k)).sort();
  const owned = target.inventory.objects.filter((o) => o.kind !== 'extension');
  const notOwned = owned.filter((o) => o.owner !== role);
  const ownership = {
    role,
    objects: owned.length + target.inventory.largeObjects,
    notOwned,
    largeObjectsNotOwned: target.inventory.largeObjectsNotOwned,
    equal: notOwned.length === 0 && target.inventory.largeObjectsNotOwned === 0,
  };
  const privileges = { roles: target.privileges?.roles ?? [], missing: target.privileges?.missing ?? [], equal: (target.privileges?.missing.length ?? 0) === 0 };
  const differences =
    privileges.missing.length +
    tables.filter((x) => !x.equal).length +
    sequences.filter((x) => !x.equal).length +
    (largeObjects.equal ? 0 : 1) +
    extensions.filter((x) => !x.equal).length +
    onlyInSource.length +
    onlyInTarget.length +
    notOwned.length +
    (target.inventory.largeObjectsNotOwned > 0 ? 1 : 0);
  return {
    tables,
    sequences,
    largeObjects,
    extensions,
    objects: { onlyInSource, onlyInTarget, equal: onlyInSource.length === 0 && onlyInTarget.length === 0 },
    ownership,
    privileges,
    differences,
  };
}
