/**
 * The package as a consumer meets it: its package.json, what `npm pack`
 * ships, its entries, and (from lab/consumer.ts, which the bench shares) a
 * throwaway consumer directory whose node_modules holds the package under
 * its own name, so that `require('postgres-strategies/...')` goes through
 * the `exports` map.
 *
 * These tests read `dist/`: `npm test` builds it first (`tsc`); when running
 * jest alone, run `npx tsc -p tsconfig.json` before.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../../lab/consumer';

export { ROOT, consumerDir, packageOf, specifier } from '../../../lab/consumer';

export interface ConditionalTarget {
  types: string;
  default: string;
}

export interface PackageJson {
  name: string;
  license: string;
  main: string;
  types: string;
  exports: Record<string, ConditionalTarget | string>;
  typesVersions?: Record<string, Record<string, string[]>>;
  files: string[];
  scripts: Record<string, string>;
  repository?: { type: string; url: string };
  keywords?: string[];
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies: Record<string, string>;
}

export function packageJson(): PackageJson {
  return JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
}

/**
 * The entry points the package promises, each with the provider SDKs that
 * loading it may pull in (`allowed`) and must not (`forbidden`), and a
 * named export that proves the entry is the right module.
 */
export interface Entry {
  subpath: string;
  /** Source folder below src/ ('' for the root). */
  folder: string;
  /** A value the entry must export (when the entry's author has named one). */
  exportName?: string;
  /** Values the entry must not export (they belong to another entry). */
  notExported: string[];
  /** Packages a fresh process must not load when requiring the entry ('@pulumi/' = any Pulumi package). */
  forbidden: string[];
  /** Packages it does load (proves the check sees what it is looking for). */
  loads: string[];
}

export const ENTRIES: Entry[] = [
  {
    subpath: '.',
    folder: '',
    exportName: 'SharedPostgres',
    notExported: ['LocalPostgres', 'RdsPostgres', 'HetznerPostgres'],
    forbidden: ['@pulumi/docker', '@pulumi/aws', '@pulumi/hcloud', '@pulumi/tls'],
    loads: ['@pulumi/pulumi', '@pulumi/postgresql', '@pulumi/random'],
  },
  {
    subpath: './core',
    folder: 'core',
    exportName: 'renderBootstrapSql',
    notExported: ['SharedPostgres', 'ExternalPostgres', 'LocalPostgres'],
    forbidden: ['@pulumi/'],
    loads: [],
  },
  {
    subpath: './local',
    folder: 'local',
    exportName: 'LocalPostgres',
    notExported: ['RdsPostgres', 'HetznerPostgres'],
    forbidden: ['@pulumi/aws', '@pulumi/hcloud'],
    loads: ['@pulumi/docker', '@pulumi/tls'],
  },
  {
    subpath: './rds',
    folder: 'rds',
    exportName: 'RdsPostgres',
    notExported: ['LocalPostgres', 'HetznerPostgres'],
    forbidden: ['@pulumi/docker', '@pulumi/hcloud', '@pulumi/tls'],
    loads: ['@pulumi/aws'],
  },
  {
    subpath: './hetzner',
    folder: 'hetzner',
    exportName: 'HetznerPostgres',
    notExported: ['LocalPostgres', 'RdsPostgres'],
    forbidden: ['@pulumi/docker', '@pulumi/aws'],
    loads: ['@pulumi/hcloud'],
  },
  {
    subpath: './managed',
    folder: 'managed',
    exportName: 'neonServer',
    notExported: ['LocalPostgres', 'RdsPostgres', 'HetznerPostgres'],
    forbidden: ['@pulumi/docker', '@pulumi/aws', '@pulumi/hcloud', '@pulumi/tls'],
    loads: [],
  },
  {
    // `pg` is loaded when migrateDatabase connects, not when the entry is required.
    subpath: './migrate',
    folder: 'migrate',
    exportName: 'migrateDatabase',
    notExported: ['SharedPostgres', 'ExternalPostgres', 'LocalPostgres'],
    forbidden: ['@pulumi/', 'pg'],
    loads: ['pg-connection-string'],
  },
  {
    // `pg` when a backup connects, the AWS SDK when it opens the store: neither when the entry is required.
    subpath: './backup',
    folder: 'backup',
    exportName: 'backupDatabase',
    notExported: ['SharedPostgres', 'LocalPostgres', 'migrateDatabase'],
    forbidden: ['@pulumi/', 'pg', '@aws-sdk/client-s3', '@aws-sdk/lib-storage'],
    loads: ['pg-connection-string'],
  },
  {
    subpath: './preview-guard',
    folder: 'preview-guard',
    exportName: 'checkPreview',
    notExported: ['SharedPostgres', 'ExternalPostgres', 'LocalPostgres', 'RdsPostgres', 'HetznerPostgres'],
    forbidden: ['@pulumi/'],
    loads: [],
  },
];

/** dist/src/<folder>/index.{js,d.ts}, relative to the package root. */
export function distEntry(folder: string, ext: '.js' | '.d.ts'): string {
  return ['dist', 'src', ...(folder ? [folder] : []), `index${ext}`].join('/');
}

export const execFileAsync = promisify(execFile);

export interface RequireReport {
  resolved: string;
  exports: string[];
  loaded: string[];
}

/** Requires `spec` in a fresh `node -e` run from `cwd` and reports what it resolved to, exported and loaded. */
export async function requireInFreshProcess(spec: string, cwd: string): Promise<RequireReport> {
  const script = `
    const spec = process.argv[1];
    const m = require(spec);
    process.stdout.write(JSON.stringify({ resolved: require.resolve(spec), exports: Object.keys(m), loaded: Object.keys(require.cache) }));
  `;
  const { stdout } = await execFileAsync(process.execPath, ['-e', script, spec], { cwd, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as RequireReport;
}
