// `node lab/fresh.mjs <dist/…/main.js> [args…]`: runs a compiled entry point of this repository
// (the demo, the server) from the build `npm install` made, rebuilding first only when a source is
// newer than its output. Plain JavaScript, so it runs before anything is compiled.
//
// Staleness: every .ts file of the folders tsconfig.json compiles is compared (mtime) with its
// dist/ output, and tsconfig.json and package.json with the oldest output; a stat per file, a few
// milliseconds. A rebuild says so on stderr (stdout stays the program's: `--json` parses).
// The exit code and a terminating signal are the program's; Ctrl-C reaches the program (same
// process group), and this launcher waits for it to finish.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The .ts sources (not .d.ts) below `dir`, skipping node_modules. */
function sources(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : sources(p);
    return d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The first source whose output is missing or older, or the config file newer than an output; undefined when the build is current. */
export function staleSource(root = repoRoot) {
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  const outDir = join(root, config.compilerOptions?.outDir ?? 'dist');
  const configTime = Math.max(...['tsconfig.json', 'package.json'].map((f) => statSync(join(root, f)).mtimeMs));
  for (const src of (config.include ?? []).flatMap((d) => sources(join(root, d)))) {
    const out = join(outDir, relative(root, src)).replace(/\.ts$/, '.js');
    if (!existsSync(out)) return relative(root, src);
    const outTime = statSync(out).mtimeMs;
    if (outTime < statSync(src).mtimeMs) return relative(root, src);
    if (outTime < configTime) return 'tsconfig.json or package.json';
  }
  return undefined;
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) {
    console.error('usage: node lab/fresh.mjs <dist/…/main.js> [args…]');
    process.exit(2);
  }
  const stale = staleSource();
  if (stale) {
    console.error(`${stale} changed since the last build: rebuilding (tsc -p tsconfig.json) …`);
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: repoRoot, stdio: ['ignore', 2, 2] });
    if (tsc.status !== 0) process.exit(tsc.status ?? 1);
  }
  const child = spawn(process.execPath, [join(repoRoot, entry), ...args], { stdio: 'inherit' });
  // The terminal sends Ctrl-C to the whole process group: the program handles it, this launcher waits.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (signal !== 'SIGINT') child.kill(signal);
    });
  }
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
