/**
 * The compatibility record and its comparison (pure).
 *
 * A record is, per fixed program, every kept child (force-new.ts) with its
 * URN and the values of its replacing and renaming inputs. Comparing the
 * working tree's record with a release's tells what `pulumi up` of the
 * unchanged program would do to a stack that release deployed:
 * - a child whose URN is gone (and no alias names it): deleted (or left
 *   behind when retained) and created anew;
 * - a replacing input with another value: replaced (a protected child
 *   fails the preview);
 * - a renaming input with another value: renamed in place.
 * An input the tree registers under `ignoreChanges` keeps the state's value
 * whatever the program gives (the engine diffs the old input), so it never
 * differs; one an old release ignored is recorded as `<ignored>` (its state
 * value is whatever the stack was created with) and differs from any value
 * a later release gives it without ignoring it.
 */
import { RecordedAlias, RecordedResource } from '../../lab/pulumi-mocks';
import { unwrapSecret } from '../support/graph';
import { KEPT } from './force-new';

/** Stands for an input the release registered under ignoreChanges. */
export const IGNORED = '<ignored>';

/** One kept child. */
export interface KeptChild {
  type: string;
  urn: string;
  /** Replacing inputs (absent: not given). */
  forceNew: Record<string, unknown>;
  /** Renaming inputs (absent: not given). */
  renames: Record<string, unknown>;
}

/** A release's record: per program, its kept children by logical name. */
export interface CompatRecord {
  /** Which release the record is of, e.g. `0.1.0 (2026-11-27, d3a8bcd)`. */
  release: string;
  programs: Record<string, Record<string, KeptChild>>;
}

/** A recorded child with what the comparison needs of it. */
export interface CurrentChild extends KeptChild {
  parent: string;
  aliases: RecordedAlias[];
}

/** JSON with sorted keys, secrets unwrapped: equal values print equal. */
export function canonical(value: unknown): unknown {
  const v = unwrapSecret(value).value;
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  }
  return v;
}

function pick(inputs: Record<string, unknown>, keys: readonly string[], ignored: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (ignored.includes(k)) out[k] = IGNORED;
    else if (inputs[k] !== undefined) out[k] = canonical(inputs[k]);
  }
  return out;
}

/**
 * The kept children of one program's registrations.
 * @throws Error for a protected or retained child whose type has no entry
 *   in force-new.ts, or two kept children with one logical name.
 */
export function keptChildren(resources: RecordedResource[]): Record<string, CurrentChild> {
  const out: Record<string, CurrentChild> = {};
  for (const r of resources) {
    const kept = KEPT[r.type];
    if (!kept) {
      if (r.custom && (r.protect || r.retainOnDelete)) {
        throw new Error(`${r.name} (${r.type}) is protected or retained, but test/compat/force-new.ts has no ForceNew set for its type: add it, with its source`);
      }
      continue;
    }
    if (out[r.name]) throw new Error(`two kept children are named ${r.name}`);
    out[r.name] = {
      type: r.type,
      urn: r.urn,
      forceNew: pick(r.inputs, kept.forceNew, r.ignoreChanges),
      renames: pick(r.inputs, kept.renames, r.ignoreChanges),
      parent: r.parent,
      aliases: r.aliases ?? [],
    };
  }
  return out;
}

/**
 * The inputs the engine diffs when a program registers `next` over a
 * resource whose state holds `old`: each `ignoreChanges` path (`a` or
 * `a.b`) takes the old value (pulumi/pulumi `processIgnoreChanges`).
 */
export function engineInputs(old: Record<string, unknown>, next: Pick<RecordedResource, 'inputs' | 'ignoreChanges'>): Record<string, unknown> {
  const out: Record<string, unknown> = JSON.parse(JSON.stringify(next.inputs)) as Record<string, unknown>;
  for (const path of next.ignoreChanges) {
    const keys = path.split('.');
    let from: unknown = old;
    let to: Record<string, unknown> = out;
    for (const [i, k] of keys.entries()) {
      const last = i === keys.length - 1;
      from = (from as Record<string, unknown> | undefined)?.[k];
      if (last) {
        if (from === undefined) delete to[k];
        else to[k] = from;
      } else {
        to[k] = (to[k] as Record<string, unknown> | undefined) ?? {};
        to = to[k] as Record<string, unknown>;
      }
    }
  }
  return out;
}

/** The replacing inputs of `type` whose values differ between two input sets (what the engine's diff would replace on). */
export function replaceReasons(type: string, old: Record<string, unknown>, next: Record<string, unknown>): string[] {
  return (KEPT[type]?.forceNew ?? []).filter((k) => JSON.stringify(canonical(old[k])) !== JSON.stringify(canonical(next[k])));
}

/** The record a fixture keeps of a program (no parent or alias: only what later releases are compared with). */
export function fixtureOf(children: Record<string, CurrentChild>): Record<string, KeptChild> {
  return Object.fromEntries(Object.entries(children).map(([name, c]) => [name, { type: c.type, urn: c.urn, forceNew: c.forceNew, renames: c.renames }]));
}

/** A URN's parts: `urn:pulumi:<stack>::<project>::<qualified type>::<name>`. */
function urnParts(urn: string): { prefix: string; qualifiedType: string; name: string } {
  const parts = urn.split('::');
  return { prefix: `${parts[0]}::${parts[1]}`, qualifiedType: parts[2] ?? '', name: parts.slice(3).join('::') };
}

/**
 * Every URN a child answers to: its own, and those its aliases and its
 * parents' aliases give it (the engine's inheritance: a child's old URN
 * under each of its parent's old URNs).
 */
export function urnsOf(name: string, children: Record<string, CurrentChild>, components: Map<string, { parent: string; aliases: RecordedAlias[] }>): Set<string> {
  const c = children[name] as CurrentChild;
  return answersTo(c.urn, c.parent, c.aliases, components);
}

function answersTo(urn: string, parent: string, aliases: RecordedAlias[], components: Map<string, { parent: string; aliases: RecordedAlias[] }>): Set<string> {
  const own = urnParts(urn);
  const type = own.qualifiedType.split('$').pop() as string;
  const parentUrns = parent ? [...answersTo(parent, components.get(parent)?.parent ?? '', components.get(parent)?.aliases ?? [], components)] : [];
  const with_ = (p: string | undefined, t: string, n: string): string => `${own.prefix}::${p ? `${urnParts(p).qualifiedType}$` : ''}${t}::${n}`;
  const out = new Set([urn, ...parentUrns.map((p) => with_(p, type, own.name))]);
  for (const a of aliases) {
    if (a.urn) {
      out.add(a.urn);
      continue;
    }
    const parents = a.noParent ? [undefined] : a.parentUrn ? [a.parentUrn] : parentUrns.length > 0 ? parentUrns : [undefined];
    for (const p of parents) out.add(with_(p, a.type ?? type, a.name ?? own.name));
  }
  return out;
}

/** One thing an upgrade would do to a stack the release deployed. */
export interface Difference {
  /** `program`, `program/child` or `program/child.input`: what CHANGELOG.md names to allow it. */
  key: string;
  release: string;
  what: string;
}

/**
 * What `pulumi up` of each unchanged program would replace, recreate or
 * rename in a stack `old` deployed.
 * @param current per program, its kept children now (null: the program no
 *   longer runs); and every component's parent and aliases by URN.
 */
export function compare(
  old: CompatRecord,
  current: Record<string, { children: Record<string, CurrentChild>; components: Map<string, { parent: string; aliases: RecordedAlias[] }> } | null>,
): Difference[] {
  const out: Difference[] = [];
  for (const [program, oldChildren] of Object.entries(old.programs)) {
    const now = current[program];
    if (!now) {
      out.push({ key: program, release: old.release, what: 'the program no longer runs' });
      continue;
    }
    const byUrn = new Map<string, CurrentChild>();
    for (const name of Object.keys(now.children)) {
      for (const u of urnsOf(name, now.children, now.components)) byUrn.set(u, now.children[name] as CurrentChild);
    }
    for (const [name, was] of Object.entries(oldChildren)) {
      const is = byUrn.get(was.urn);
      if (!is) {
        out.push({ key: `${program}/${name}`, release: old.release, what: `${was.type} ${was.urn} leaves the program: deleted (or left behind when retained) and created anew` });
        continue;
      }
      for (const [group, verb] of [['forceNew', 'replaces'], ['renames', 'renames']] as const) {
        const keys = new Set([...Object.keys(was[group]), ...Object.keys(is[group])]);
        for (const k of keys) {
          const a = was[group][k];
          const b = is[group][k];
          if (b === IGNORED || JSON.stringify(a) === JSON.stringify(b)) continue;
          out.push({ key: `${program}/${name}.${k}`, release: old.release, what: `${verb} ${was.type} (${name}): ${k} ${JSON.stringify(a) ?? 'unset'} → ${JSON.stringify(b) ?? 'unset'}` });
        }
      }
    }
  }
  return out;
}

/** The exceptions CHANGELOG.md lists: every `compat: <key>` code span. */
export function changelogExceptions(changelog: string): string[] {
  return [...changelog.matchAll(/`compat: ([^`\s]+)`/g)].map((m) => m[1] as string);
}

/** Whether an exception covers a difference: the same key, or a prefix of it at a `/` or `.` boundary. */
export function covers(exception: string, key: string): boolean {
  return key === exception || key.startsWith(`${exception}.`) || key.startsWith(`${exception}/`);
}
