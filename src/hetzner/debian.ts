/**
 * Facts about Debian's PostgreSQL packaging that the Hetzner setup relies on
 * (pure data, no Pulumi import).
 *
 * Sources: Debian's postgresql-common (`pg_createcluster`, `pg_ctlcluster`,
 * `/etc/postgresql-common/createcluster.conf` and its `createcluster.d`: `create_main_cluster`), the
 * Debian package versions (bookworm ships PostgreSQL 15, trixie 17) and
 * Hetzner's image names (`debian-12`, `debian-13`).
 */
import { check } from '../core/errors';

/** PostgreSQL major Debian's own packages ship, by Hetzner image name. */
export const DEBIAN_POSTGRES_MAJOR: Readonly<Record<string, number>> = {
  'debian-12': 15,
  'debian-13': 17,
};

/** The Hetzner image used by default. */
export const DEFAULT_IMAGE = 'debian-12';

/**
 * A drop-in of Debian's `createcluster.conf` (read through its
 * `include_dir '/etc/postgresql-common/createcluster.d'`), written before
 * `apt-get install`: the package then creates no `main` cluster on the root
 * disk; the setup creates it on the volume itself. Debian's own
 * createcluster.conf stays as packaged, so new clusters keep its defaults
 * (`add_include_dir = 'conf.d'`, cluster_name, log_line_prefix).
 */
export const CREATECLUSTER_CONF = [
  '# postgres-strategies: the setup creates the cluster on the volume (pg_createcluster), not the package',
  'create_main_cluster = false',
  '',
].join('\n');

/** Path of the createcluster.conf drop-in. */
export const CREATECLUSTER_CONF_PATH = '/etc/postgresql-common/createcluster.d/postgres-strategies.conf';

/** The Debian package of a PostgreSQL major. */
export function postgresPackage(major: number): string {
  return `postgresql-${major}`;
}

/**
 * The PostgreSQL major of an image: `postgresMajor` when given (it must be
 * what the image's Debian release ships), else the table above.
 * @throws ValidationError for an image not in the table without `postgresMajor`.
 */
export function postgresMajorFor(image: string, postgresMajor?: number): number {
  if (postgresMajor !== undefined) {
    check(Number.isInteger(postgresMajor) && postgresMajor >= 13 && postgresMajor <= 18, 'postgresMajor', `${postgresMajor} is not a PostgreSQL major this setup supports (13-18)`, 'Give the major the image\'s Debian release ships, e.g. 15 for debian-12');
    return postgresMajor;
  }
  const major = DEBIAN_POSTGRES_MAJOR[image];
  check(
    major !== undefined,
    'image',
    `"${image}" is not an image whose PostgreSQL major is known (${Object.keys(DEBIAN_POSTGRES_MAJOR).join(', ')})`,
    'Use debian-12 (PostgreSQL 15) or debian-13 (PostgreSQL 17), or set postgresMajor to the major that image\'s Debian packages ship',
  );
  return major;
}
