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
  sequences: Map<string, SequenceState>;
  largeObjects: TableSum;
  extensions: Map<string, string>;
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
  source: SequenceState | null;
  target: SequenceState | null;
  equal: boolean;
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

/** Compares the two readings; `role` is who must own every object on the target. */
export function compare(source: SideReading, target: SideReading, role: string): Verification {
  const tables = union(source.tables.keys(), target.tables.keys()).map((table) => {
    const s = source.tables.get(table) ?? null;
    const t = target.tables.get(table) ?? null;
    return { table, source: s, target: t, equal: s !== null && t !== null && s.rows === t.rows && s.checksum === t.checksum };
  });
  const sequences = union(source.sequences.keys(), target.sequences.keys()).map((sequence) => {
    const s = source.sequences.get(sequence) ?? null;
    const t = target.sequences.get(sequence) ?? null;
    return { sequence, source: s, target: t, equal: s !== null && t !== null && s.lastValue === t.lastValue && s.isCalled === t.isCalled };
  });
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
  const differences =
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
    differences,
  };
}
