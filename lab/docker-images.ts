/**
 * The images the local strategy's examples name, built offline for the
 * lab's Docker engine (lab/docker.ts) and tagged with exactly those names,
 * so `examples/local` runs unchanged:
 *
 * - `postgres:17-alpine` (the library's default) and `postgres:15`: a
 *   Debian root (lab/debian-root.ts; trixie has PostgreSQL 17, bookworm 15)
 *   with Debian's server packages and `gosu`, the official image's
 *   `docker-entrypoint.sh` and `docker-ensure-initdb.sh` of that major and
 *   variant (from the docker-library/postgres archive in
 *   `../shared/image-src/`, a build input only: extracted into a temp folder,
 *   never into the repository), and the official image's contract: the
 *   `postgres` user with the variant's uid (70 for `-alpine`, 999 for the
 *   Debian ones), `PGDATA=/var/lib/postgresql/data` and that volume,
 *   `/docker-entrypoint-initdb.d`, `/var/run/postgresql` (3777),
 *   `listen_addresses = '*'` in the sample config, `LANG=en_US.utf8` (the
 *   locale generated), `STOPSIGNAL SIGINT`, `ENTRYPOINT
 *   ["docker-entrypoint.sh"]`, `CMD ["postgres"]`, `EXPOSE 5432`.
 * - `oryd/kratos:v1.3.1`: the Kratos binary the e2e suite builds from the Go
 *   module proxy (lab/go-consumers.ts; static, no cgo) at /usr/bin/kratos,
 *   user `ory` (uid 10000, home /home/ory, a volume), `ENTRYPOINT
 *   ["kratos"]`, `CMD ["serve"]`, `EXPOSE 4433 4434` — as Ory's image.
 *
 * Each image is made with `docker import` of a prepared root (no build
 * steps run inside the engine, no network) and carries a label with the
 * hash of its inputs: an image whose label matches is not rebuilt, so the
 * images are built once per machine (they live in the lab engine's data
 * root). `test/e2e/docker-images.test.ts` checks each stand-in keeps the
 * contract the local strategy relies on.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianRoot } from './debian-root';
import { DockerLab, withLabLock } from './docker';
import { KRATOS_CONSUMER, buildGoConsumer } from './go-consumers';
import { packageRoot } from './consumer';
import { runOk } from './run';

/** The label holding the hash of an image's inputs. */
export const LAB_IMAGE_LABEL = 'org.postgres-strategies.lab-key';
/** Bump to rebuild every lab image. */
const RECIPE_VERSION = 1;

/** A PostgreSQL stand-in. */
export interface PostgresImageSpec {
  /** The tag it stands in for, e.g. `postgres:17-alpine`. */
  name: string;
  major: number;
  /** Debian suite that ships `postgresql-<major>`. */
  suite: 'bookworm' | 'trixie';
  /** The official variant whose entrypoint and uid it takes: `alpine3.22` (uid 70) or a Debian suite (uid 999). */
  variant: string;
  uid: number;
}

/** `postgres:17-alpine`, the local strategy's default. */
export const POSTGRES_17_ALPINE: PostgresImageSpec = { name: 'postgres:17-alpine', major: 17, suite: 'trixie', variant: 'alpine3.22', uid: 70 };
/** `postgres:15` (Debian variant), the other major (the major-upgrade scenario starts there). */
export const POSTGRES_15: PostgresImageSpec = { name: 'postgres:15', major: 15, suite: 'bookworm', variant: 'bookworm', uid: 999 };
/** Every PostgreSQL stand-in. */
export const POSTGRES_IMAGES: readonly PostgresImageSpec[] = [POSTGRES_17_ALPINE, POSTGRES_15];
/** The Kratos stand-in's tag (the seed's pin). */
export const KRATOS_IMAGE = 'oryd/kratos:v1.3.1';
/** Uid of the OS user `ory` in Ory's images. */
export const KRATOS_UID = 10000;

/** The folder of the docker-library/postgres archive: $POSTGRES_STRATEGIES_IMAGE_SRC, ../shared/image-src, /work/shared/image-src. */
export function imageSourcesDir(): string {
  for (const candidate of [process.env['POSTGRES_STRATEGIES_IMAGE_SRC'], join(packageRoot(), '..', 'shared', 'image-src'), '/work/shared/image-src']) {
    if (candidate && existsSync(join(candidate, 'SHA256SUMS'))) return candidate;
  }
  throw new Error('the image sources (docker-library-postgres-*.tar.gz and SHA256SUMS) were not found: set POSTGRES_STRATEGIES_IMAGE_SRC');
}

function entrypointArchive(): { path: string; sha256: string } {
  const dir = imageSourcesDir();
  const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8');
  const line = sums.split('\n').find((l) => /docker-library-postgres-[0-9a-f]+\.tar\.gz$/.test(l.trim()));
  if (!line) throw new Error(`no docker-library-postgres archive is listed in ${dir}/SHA256SUMS`);
  const [sha256, file] = line.trim().split(/\s+/) as [string, string];
  const path = join(dir, file.replace(/^\*/, ''));
  const actual = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (actual !== sha256) throw new Error(`${path} does not match its checksum in SHA256SUMS`);
  return { path, sha256 };
}

/** The label value of an image, or undefined when there is no such image. */
async function imageKey(lab: DockerLab, name: string): Promise<string | undefined> {
  const r = await lab.docker(['image', 'inspect', '--format', `{{ index .Config.Labels "${LAB_IMAGE_LABEL}" }}`, name]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/**
 * `docker import` of a root folder, then a metadata-only `docker build` on
 * it (`import --change` takes no STOPSIGNAL): no step runs in a container,
 * nothing is pulled. Tagged `name`.
 */
async function importRoot(lab: DockerLab, rootDir: string, name: string, instructions: string[]): Promise<void> {
  const tar = `${rootDir}.tar`;
  const context = `${rootDir}.context`;
  const base = `postgres-strategies-lab-root:${process.pid}-${Date.now()}`;
  try {
    await runOk('tar', ['--numeric-owner', '--xattrs', '-C', rootDir, '-cf', tar, '.']);
    await lab.dockerOk(['import', tar, base]);
    rmSync(tar, { force: true });
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), [`FROM ${base}`, ...instructions, ''].join('\n'));
    await lab.dockerOk(['build', '-q', '-t', name, context], { env: { DOCKER_BUILDKIT: '0' } });
  } finally {
    rmSync(tar, { force: true });
    rmSync(context, { recursive: true, force: true });
    await lab.docker(['rmi', base]);
  }
}

function postgresRootSpec(spec: PostgresImageSpec, log: (l: string) => void): Parameters<typeof ensureDebianRoot>[0] {
  return {
    suite: spec.suite,
    packages: [`postgresql-${spec.major}`, 'gosu', 'locales'],
    // Debian's package creates no cluster of its own (the entrypoint runs initdb).
    preseedFiles: { '/etc/postgresql-common/createcluster.conf': 'create_main_cluster = false\n' },
    // The postgres user with the official variant's uid, before the package would pick one.
    preinstallCommands: [
      ['groupadd', '-r', '--gid', String(spec.uid), 'postgres'],
      ['useradd', '-r', '-g', 'postgres', '--uid', String(spec.uid), '--home-dir', '/var/lib/postgresql', '--shell', '/bin/bash', 'postgres'],
    ],
    log,
  };
}

/**
 * Builds one PostgreSQL stand-in unless the engine has it for the same inputs.
 * @returns whether it was built now
 */
export async function ensurePostgresImage(lab: DockerLab, spec: PostgresImageSpec, log: (l: string) => void = () => undefined): Promise<boolean> {
  const rootSpec = postgresRootSpec(spec, log);
  const archive = entrypointArchive();
  const key = createHash('sha256').update(JSON.stringify({ RECIPE_VERSION, spec, rootSpec: { ...rootSpec, log: undefined }, archive: archive.sha256 })).digest('hex').slice(0, 16);
  if ((await imageKey(lab, spec.name)) === key) return false;
  return withLabLock(`image-${spec.name.replace(/[^a-z0-9]+/gi, '_')}`, async () => {
    if ((await imageKey(lab, spec.name)) === key) return false;
    const started = Date.now();
    log(`[docker-images] building ${spec.name} (Debian ${spec.suite} postgresql-${spec.major}, uid ${spec.uid}; the Debian root once per machine)`);
    const debianRoot = await ensureDebianRoot(rootSpec);
    const work = mkdtempSync(join(tmpdir(), 'ps-image-'));
    try {
      const root = join(work, 'root');
      await runOk('cp', ['-a', debianRoot, root]);
      for (const f of ['.complete', 'usr/sbin/policy-rc.d']) rmSync(join(root, f), { force: true });
      for (const d of ['var/cache/apt', 'var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info']) {
        rmSync(join(root, d), { recursive: true, force: true });
        mkdirSync(join(root, d), { recursive: true });
      }
      // The official entrypoint of this major and variant.
      const src = join(work, 'src');
      mkdirSync(src);
      await runOk('tar', ['-xzf', archive.path, '-C', src, '--strip-components=1', '--wildcards', `*/${spec.major}/${spec.variant}/docker-*.sh`]);
      for (const f of ['docker-entrypoint.sh', 'docker-ensure-initdb.sh']) {
        copyFileSync(join(src, String(spec.major), spec.variant, f), join(root, 'usr/local/bin', f));
        chmodSync(join(root, 'usr/local/bin', f), 0o755);
      }
      symlinkSync('docker-ensure-initdb.sh', join(root, 'usr/local/bin/docker-enforce-initdb.sh'));
      mkdirSync(join(root, 'docker-entrypoint-initdb.d'), { recursive: true });
      const own = (path: string, mode: number): void => {
        mkdirSync(path, { recursive: true });
        chownSync(path, spec.uid, spec.uid);
        chmodSync(path, mode);
      };
      own(join(root, 'var/lib/postgresql'), 0o1777);
      own(join(root, 'run/postgresql'), 0o3777);
      own(join(root, 'var/lib/postgresql/data'), 0o1777);
      const sample = join(root, `usr/share/postgresql/${spec.major}/postgresql.conf.sample`);
      writeFileSync(sample, readFileSync(sample, 'utf8').replace(/^#?(listen_addresses)\s*=\s*\S+.*$/m, "$1 = '*'"));
      await runOk('chroot', [root, 'localedef', '-i', 'en_US', '-c', '-f', 'UTF-8', '-A', '/usr/share/locale/locale.alias', 'en_US.UTF-8'], {
        env: { ...process.env, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
      });
      await importRoot(lab, root, spec.name, [
        `ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/${spec.major}/bin`,
        'ENV LANG=en_US.utf8',
        `ENV PG_MAJOR=${spec.major}`,
        'ENV PGDATA=/var/lib/postgresql/data',
        'VOLUME /var/lib/postgresql/data',
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        'STOPSIGNAL SIGINT',
        'EXPOSE 5432',
        'CMD ["postgres"]',
        `LABEL ${LAB_IMAGE_LABEL}=${key}`,
      ]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    log(`[docker-images] built ${spec.name} in ${Math.round((Date.now() - started) / 1000)} s`);
    return true;
  });
}

/**
 * Builds the Kratos stand-in unless the engine has it for the same binary.
 * @returns whether it was built now
 */
export async function ensureKratosImage(lab: DockerLab, log: (l: string) => void = () => undefined): Promise<boolean> {
  const binary = await buildGoConsumer(KRATOS_CONSUMER);
  const key = createHash('sha256').update(`${RECIPE_VERSION}\0`).update(readFileSync(binary)).digest('hex').slice(0, 16);
  if ((await imageKey(lab, KRATOS_IMAGE)) === key) return false;
  return withLabLock('image-kratos', async () => {
    if ((await imageKey(lab, KRATOS_IMAGE)) === key) return false;
    log(`[docker-images] building ${KRATOS_IMAGE} from ${binary}`);
    const work = mkdtempSync(join(tmpdir(), 'ps-image-'));
    try {
      const root = join(work, 'root');
      for (const d of ['usr/bin', 'etc', 'tmp', 'home/ory']) mkdirSync(join(root, d), { recursive: true });
      chmodSync(join(root, 'tmp'), 0o1777);
      chownSync(join(root, 'home/ory'), KRATOS_UID, KRATOS_UID);
      copyFileSync(binary, join(root, 'usr/bin/kratos'));
      chmodSync(join(root, 'usr/bin/kratos'), 0o755);
      writeFileSync(join(root, 'etc/passwd'), `root:x:0:0:root:/root:/sbin/nologin\nory:x:${KRATOS_UID}:${KRATOS_UID}:ory:/home/ory:/sbin/nologin\n`);
      writeFileSync(join(root, 'etc/group'), `root:x:0:\nory:x:${KRATOS_UID}:\n`);
      await importRoot(lab, root, KRATOS_IMAGE, [
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'VOLUME /home/ory',
        'EXPOSE 4433 4434',
        'USER ory',
        'ENTRYPOINT ["kratos"]',
        'CMD ["serve"]',
        `LABEL ${LAB_IMAGE_LABEL}=${key}`,
      ]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return true;
  });
}

/** Every lab image, built when missing (PostgreSQL stand-ins one after another: each debootstrap and import is I/O-bound). */
export async function ensureLabImages(lab: DockerLab, options: { log?: (l: string) => void; postgres?: readonly PostgresImageSpec[]; kratos?: boolean } = {}): Promise<void> {
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const kratos = (options.kratos ?? true) ? ensureKratosImage(lab, log) : Promise.resolve(false);
  for (const spec of options.postgres ?? POSTGRES_IMAGES) await ensurePostgresImage(lab, spec, log);
  await kratos;
}


/** The stand-in of LocalBackup's image: the lab's `postgres:15` (its client tools) with this machine's `node`. */
export const BACKUP_IMAGE = 'postgres-strategies-lab/backup:15';

/**
 * Builds the backup stand-in unless the engine has it for the same `node`:
 * FROM the lab's postgres:15 (Debian 12: pg_dump 15, so LocalBackup's
 * program installs nothing at start, which needs no network), with this
 * machine's `node` binary (Debian 12 too, glibc) as /usr/local/bin/node; the
 * image's entrypoint cleared (LocalBackup gives `sh -c <program>`).
 * @returns whether it was built now
 */
export async function ensureBackupImage(lab: DockerLab, log: (l: string) => void = () => undefined): Promise<boolean> {
  await ensurePostgresImage(lab, POSTGRES_15, log);
  const node = realpathSync(process.execPath);
  const base = await lab.dockerOk(['image', 'inspect', '--format', '{{.Id}}', POSTGRES_15.name]);
  const key = createHash('sha256').update(`${RECIPE_VERSION}\0${base.stdout.trim()}\0`).update(readFileSync(node)).digest('hex').slice(0, 16);
  if ((await imageKey(lab, BACKUP_IMAGE)) === key) return false;
  return withLabLock('image-backup', async () => {
    if ((await imageKey(lab, BACKUP_IMAGE)) === key) return false;
    log(`[docker-images] building ${BACKUP_IMAGE} from ${POSTGRES_15.name} and ${node}`);
    const context = mkdtempSync(join(tmpdir(), 'ps-image-'));
    try {
      copyFileSync(node, join(context, 'node'));
      chmodSync(join(context, 'node'), 0o755);
      writeFileSync(join(context, 'Dockerfile'), [`FROM ${POSTGRES_15.name}`, 'COPY node /usr/local/bin/node', 'ENTRYPOINT []', 'CMD ["node", "--version"]', `LABEL ${LAB_IMAGE_LABEL}=${key}`, ''].join('\n'));
      await lab.dockerOk(['build', '-q', '-t', BACKUP_IMAGE, context], { env: { DOCKER_BUILDKIT: '0' } });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
    return true;
  });
}
