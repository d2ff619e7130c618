/**
 * Issue 7 item 13: an `exports` map with one subpath per strategy, so a stack
 * that uses one strategy never loads another's provider SDK, and the pure
 * core importable alone. Every entry is required through the package's own
 * name from a consumer directory, in a fresh process, and the modules it
 * loaded are read from `require.cache`.
 */
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { ENTRIES, ROOT, RequireReport, consumerDir, distEntry, execFileAsync, packageJson, packageOf, requireInFreshProcess, specifier } from './consumer';

// Fresh Node processes that load the Pulumi SDK, several at once on a shared machine.
jest.setTimeout(60_000);

const pkg = packageJson();
/** The real path, or the path itself when it does not exist (the test then fails on a readable path). */
const real = (f: string): string => (existsSync(f) ? realpathSync(f) : f);
const consumer = consumerDir(pkg.name);
afterAll(() => consumer.remove());

describe('package.json exports', () => {
  it('has exactly the root, one subpath per strategy, ./core, ./migrate, ./backup, ./preview-guard and ./package.json', () => {
    expect(Object.keys(pkg.exports).sort()).toEqual([...ENTRIES.map((e) => e.subpath), './package.json'].sort());
  });

  it.each(ENTRIES)('$subpath points at dist/src/<folder>/index, with types first', ({ subpath, folder }) => {
    const target = pkg.exports[subpath];
    expect(target).toEqual({ types: `./${distEntry(folder, '.d.ts')}`, default: `./${distEntry(folder, '.js')}` });
    // "types" must come before "default": conditions match in object order.
    expect(Object.keys(target as object)).toEqual(['types', 'default']);
  });

  it('keeps main/types for tools that ignore exports, on the root entry', () => {
    expect(pkg.main).toBe(distEntry('', '.js'));
    expect(pkg.types).toBe(distEntry('', '.d.ts'));
  });

  it('maps every subpath in typesVersions for TypeScript moduleResolution "node" (node10)', () => {
    const map = pkg.typesVersions?.['*'] ?? {};
    expect(map).toEqual(Object.fromEntries(ENTRIES.filter((e) => e.folder).map((e) => [e.folder, [distEntry(e.folder, '.d.ts')]])));
  });

  it.each(ENTRIES)('$subpath: the built files exist (npm test builds dist; a missing strategy folder fails here)', ({ folder }) => {
    const missing = [distEntry(folder, '.js'), distEntry(folder, '.d.ts'), ['src', ...(folder ? [folder] : []), 'index.ts'].join('/')].filter((f) => !existsSync(join(ROOT, f)));
    expect(missing).toEqual([]);
  });
});

describe('requiring each entry by the package name, in a fresh process', () => {
  const reports = new Map<string, Promise<RequireReport>>();
  const report = (subpath: string): Promise<RequireReport> => {
    let r = reports.get(subpath);
    if (!r) {
      r = requireInFreshProcess(specifier(pkg.name, subpath), consumer.dir);
      reports.set(subpath, r);
    }
    return r;
  };
  // Start every process at once; each test awaits its own.
  beforeAll(() => {
    for (const e of ENTRIES) report(e.subpath).catch(() => undefined);
  });

  it.each(ENTRIES)('$subpath resolves to its dist entry and exports what it should', async ({ subpath, folder, exportName, notExported }) => {
    const r = await report(subpath);
    expect(real(r.resolved)).toBe(real(join(ROOT, distEntry(folder, '.js'))));
    if (exportName) expect(r.exports).toContain(exportName);
    expect(r.exports.length).toBeGreaterThan(0);
    expect(r.exports.filter((n) => notExported.includes(n))).toEqual([]);
  });

  it.each(ENTRIES)('$subpath loads only its own provider SDKs', async ({ subpath, forbidden, loads }) => {
    const r = await report(subpath);
    const packages = [...new Set(r.loaded.map(packageOf).filter((p): p is string => p !== undefined))].sort();
    expect(packages.filter((p) => forbidden.some((f) => (f.endsWith('/') ? p.startsWith(f) : p === f)))).toEqual([]);
    for (const p of loads) expect(packages).toContain(p);
  });

  it('the root entry re-exports migrateDatabase without loading pg', async () => {
    const r = await report('.');
    expect(r.exports).toContain('migrateDatabase');
    expect(r.loaded.map(packageOf)).not.toContain('pg');
  });

  it.each(['core', 'preview-guard'])('%s loads no Pulumi file at all, not even through a path outside node_modules', async (folder) => {
    const r = await report(`./${folder}`);
    expect(r.loaded.filter((f) => f.includes('@pulumi'))).toEqual([]);
    // Everything of ours that it loads lies below dist/src/<folder>.
    const ours = r.loaded.filter((f) => packageOf(f) === undefined).map(real);
    expect(ours.filter((f) => !f.startsWith(join(realpathSync(ROOT), 'dist', 'src', folder) + '/'))).toEqual([]);
  });
});

describe('what a consumer cannot or can reach', () => {
  it('refuses deep imports of files that are not entries', async () => {
    const script = `
      try { require(process.argv[1]); console.log('loaded'); }
      catch (e) { console.log(e.code); }
    `;
    const { stdout } = await execFileAsync(process.execPath, ['-e', script, `${pkg.name}/dist/src/local/component.js`], { cwd: consumer.dir });
    expect(stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('an ES module consumer gets the named exports of every entry', async () => {
    const withName = ENTRIES.filter((e) => e.exportName);
    const source = [
      ...withName.map((e, i) => `import { ${e.exportName} as e${i} } from '${specifier(pkg.name, e.subpath)}';`),
      `console.log(JSON.stringify([${withName.map((_, i) => `typeof e${i}`).join(', ')}]));`,
    ].join('\n');
    const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', source], { cwd: consumer.dir });
    expect(JSON.parse(stdout) as string[]).toEqual(withName.map(() => 'function'));
  });

  // TypeScript finds each entry's declarations under every module resolution
  // a consumer's tsconfig may use (node10 through typesVersions).
  const resolutions: Array<[string, ts.CompilerOptions]> = [
    ['node10', { moduleResolution: ts.ModuleResolutionKind.Node10, module: ts.ModuleKind.CommonJS }],
    ['node16', { moduleResolution: ts.ModuleResolutionKind.Node16, module: ts.ModuleKind.Node16 }],
    ['nodenext', { moduleResolution: ts.ModuleResolutionKind.NodeNext, module: ts.ModuleKind.NodeNext }],
    ['bundler', { moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext }],
  ];
  it.each(resolutions)('TypeScript moduleResolution %s resolves every entry to its .d.ts', (_name, options) => {
    const containing = join(consumer.dir, 'index.ts');
    const found = ENTRIES.map((e) => {
      const r = ts.resolveModuleName(specifier(pkg.name, e.subpath), containing, options, ts.sys).resolvedModule;
      return r ? real(r.resolvedFileName) : undefined;
    });
    expect(found).toEqual(ENTRIES.map((e) => real(join(ROOT, distEntry(e.folder, '.d.ts')))));
  });
});
