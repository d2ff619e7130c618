/**
 * A Debian root for tests that run what a Debian server would run (the
 * Hetzner cloud-init setup): `debootstrap` of one suite with a package list,
 * cached under /var/cache/postgres-strategies/debian-root-<hash> and reused
 * between runs on one machine. The hash covers the suite, the mirror and the
 * packages, so a change builds a new root.
 *
 * The mirror is the one apt on this machine uses (read from
 * /etc/apt/sources.list and /etc/apt/sources.list.d/*); no other host is
 * contacted. Building needs root (debootstrap, chroot) and takes a few
 * minutes once; later runs find the finished root (marked by a `.complete`
 * file) and return at once.
 *
 * Files written into the root before the packages are installed
 * (`preseedFiles`) take part in the hash; the Hetzner setup gives Debian's
 * `createcluster.conf` here, exactly as its user data writes it before
 * `apt-get install`, so the package creates no cluster of its own.
 *
 * The e2e suite builds the root on its first run (test/e2e/hetzner-setup.test.ts
 * prints the progress); later runs reuse it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runOk } from './run';

/** Where cached roots live. */
export const DEBIAN_ROOT_CACHE = process.env['POSTGRES_STRATEGIES_CACHE'] ?? '/var/cache/postgres-strategies';

/** What the root holds. */
export interface DebianRootSpec {
  /** Debian suite. @default "bookworm" */
  suite?: string;
  /** Packages installed with apt-get after debootstrap. */
  packages: string[];
  /** Files written (path inside the root → content) before the packages are installed. */
  preseedFiles?: Record<string, string>;
  /**
   * Commands run inside the root (chroot) after the preseed files and before
   * the packages are installed, e.g. creating the `postgres` user with the
   * uid an image needs before the package would pick one.
   */
  preinstallCommands?: string[][];
  /** Progress lines. @default console.log */
  log?: (line: string) => void;
}

/** The `deb` mirror of the main archive that apt on this machine uses. */
export function systemDebianMirror(): string {
  const files: string[] = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d').sort()) {
      if (f.endsWith('.list') || f.endsWith('.sources')) files.push(join('/etc/apt/sources.list.d', f));
    }
  }
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    // deb822: a stanza with "Types: deb" and "URIs: …"; the main archive, not debian-security.
    for (const stanza of text.split(/\n\s*\n/)) {
      if (!/^Types:.*\bdeb\b/m.test(stanza)) continue;
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      if (uri && /\/debian\/?$/.test(uri)) return uri.replace(/\/$/, '');
    }
    // one-line format: deb [options] URI suite components
    for (const line of text.split('\n')) {
      const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/.exec(line.trim());
      if (m && /\/debian\/?$/.test(m[1] as string)) return (m[1] as string).replace(/\/$/, '');
    }
  }
  throw new Error('no Debian main-archive mirror found in /etc/apt/sources.list{,.d/*}');
}

/**
 * The path of a finished Debian root with the packages installed, building
 * it first when this machine has none.
 * @throws Error when not root or a build step fails (the partial root is removed).
 */
export async function ensureDebianRoot(spec: DebianRootSpec): Promise<string> {
  const log = spec.log ?? ((l: string) => console.log(l));
  const suite = spec.suite ?? 'bookworm';
  const mirror = systemDebianMirror();
  const preseed = spec.preseedFiles ?? {};
  const preinstall = spec.preinstallCommands ?? [];
  const hash = createHash('sha256')
    // (preinstall joins the hash only when given, so the roots built before it keep their names)
    .update(JSON.stringify({ suite, mirror, packages: [...spec.packages].sort(), preseed, v: 1, ...(preinstall.length > 0 ? { preinstall } : {}) }))
    .digest('hex')
    .slice(0, 16);
  const root = join(DEBIAN_ROOT_CACHE, `debian-root-${hash}`);
  if (existsSync(join(root, '.complete'))) {
    log(`debian root: cached ${root}`);
    return root;
  }
  if (process.getuid?.() !== 0) throw new Error('building the Debian root needs root (debootstrap, chroot)');
  mkdirSync(DEBIAN_ROOT_CACHE, { recursive: true });
  const building = `${root}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  try {
    const started = Date.now();
    log(`debian root: debootstrap ${suite} from ${mirror} into ${building} (once per machine)`);
    await runOk('debootstrap', ['--variant=minbase', suite, building, mirror]);
    // Services must not start inside the root while packages install.
    writeFileSync(join(building, 'usr/sbin/policy-rc.d'), '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    for (const [path, content] of Object.entries(preseed)) {
      const target = join(building, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    for (const command of preinstall) {
      await runOk('chroot', [building, ...command], { env: { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    }
    log(`debian root: apt-get install ${spec.packages.join(' ')}`);
    await runOk('chroot', [building, 'apt-get', 'install', '-y', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confold', ...spec.packages], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    await runOk('chroot', [building, 'apt-get', 'clean']);
    writeFileSync(join(building, '.complete'), `${new Date().toISOString()} ${suite} ${mirror} ${spec.packages.join(' ')}\n`);
    renameSync(building, root);
    log(`debian root: ready in ${Math.round((Date.now() - started) / 1000)} s: ${root}`);
    return root;
  } catch (e) {
    rmSync(building, { recursive: true, force: true });
    throw e;
  }
}
