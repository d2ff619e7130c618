/**
 * The package as a consumer meets it, shared by the packaging tests
 * (test/unit/packaging) and the bench's require() section: the repository
 * root, the entries of the `exports` map as a consumer names them, and a
 * throwaway consumer directory whose node_modules holds the package under
 * its own name (a symlink to this repository), so that
 * `require('postgres-strategies/...')` goes through the `exports` map.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The repository root: the nearest folder above this file with a package.json (from lab/ or dist/lab/). */
export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** The repository root. */
export const ROOT = packageRoot();

/** `postgres-strategies` + `/core` etc.: how a consumer names the entry of an `exports` key. */
export function specifier(name: string, subpath: string): string {
  return subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
}

/** Every entry of the package's exports map as a consumer names it (the package's own name first). */
export function entrySpecifiers(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  return Object.keys(pkg.exports)
    .filter((k) => k !== './package.json')
    .map((k) => specifier(pkg.name, k));
}

/** A consumer project: <tmp>/node_modules/<name> → this repository. Call `remove()` when done. */
export function consumerDir(name: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ps-consumer-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', name), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The package a loaded file belongs to: the part after its last `node_modules/`. */
export function packageOf(file: string): string | undefined {
  const i = file.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const parts = file.slice(i + '/node_modules/'.length).split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}
