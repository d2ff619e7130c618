/**
 * The PostgreSQL image of the local strategy: its major version (from the
 * tag, or given) and where the data volume is mounted for that major.
 */
import { check, checkInteger, ValidationError } from '../core/errors';

/** The image the seed pins. */
export const DEFAULT_LOCAL_IMAGE = 'postgres:17-alpine';
/** The oldest major this library supports (seed 001: PostgreSQL ≥ 14). */
export const MIN_POSTGRES_MAJOR = 14;

/** A pinned image reference (registry, path, tag, digest): what `image` and `kratos.image` accept. */
export const IMAGE_REFERENCE = /^[a-z0-9][a-z0-9._\-/:]*(@sha256:[a-f0-9]{64})?$/i;

/** A PostgreSQL image and its major version. */
export interface PostgresImage {
  /** The image reference as given. */
  image: string;
  /** Its PostgreSQL major version. */
  major: number;
  /** Its minor release, when the tag pins one (`17.2-alpine` → 2). */
  minor?: number;
}

/** The tag of an image reference (`registry:5000/postgres:17-alpine@sha256:…` → `17-alpine`), or undefined. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] as string;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? undefined : withoutDigest.slice(colon + 1);
}

/**
 * Parses the image reference and derives the PostgreSQL major from its tag
 * (`17-alpine`, `17.2`, `16-bookworm` → 17, 17, 16).
 * @throws ValidationError for an empty or malformed reference, a tag without
 *   a major (`latest`, no tag, a digest only) unless `majorVersion` is given,
 *   a major that disagrees with the tag, or a major below 14.
 */
export function parsePostgresImage(image: string, majorVersion?: number, field = 'image'): PostgresImage {
  check(
    typeof image === 'string' && IMAGE_REFERENCE.test(image),
    field,
    `"${String(image)}" is not an image reference`,
    'Give a reference like "postgres:17-alpine" or "registry.example.com/postgres:17.2"',
  );
  const tag = imageTag(image);
  const fromTag = tag !== undefined && /^(\d+)(\.\d+)*([-_].*)?$/.test(tag) ? Number(/^\d+/.exec(tag)![0]) : undefined;
  if (majorVersion !== undefined) {
    checkInteger(majorVersion, 'majorVersion', MIN_POSTGRES_MAJOR, 99, 'major version');
    check(
      fromTag === undefined || fromTag === majorVersion,
      'majorVersion',
      `${majorVersion} disagrees with the image tag "${tag}" (major ${fromTag})`,
      'Remove majorVersion, or pin an image of that major',
    );
  }
  const major = majorVersion ?? fromTag;
  if (major === undefined) {
    throw new ValidationError(
      field,
      `the tag of "${image}" does not name a PostgreSQL major version, and the data directory layout and the upgrade path depend on it`,
      'Pin a tag with the major, e.g. "postgres:17-alpine" or "postgres:17.2-alpine", or give majorVersion for a custom image',
    );
  }
  check(
    major >= MIN_POSTGRES_MAJOR,
    field,
    `PostgreSQL ${major} is older than the supported ${MIN_POSTGRES_MAJOR}`,
    `Use PostgreSQL ${MIN_POSTGRES_MAJOR} or newer (the default image is ${DEFAULT_LOCAL_IMAGE})`,
  );
  // The minor release, when the tag pins one of the major it names (`17.2`, `17.2-alpine`).
  const pinned = tag !== undefined ? /^(\d+)\.(\d+)([-_].*)?$/.exec(tag) : null;
  const minor = pinned && Number(pinned[1]) === major ? Number(pinned[2]) : undefined;
  return { image, major, ...(minor !== undefined ? { minor } : {}) };
}

/**
 * Where the data volume is mounted: `/var/lib/postgresql` from 18 on (the 18
 * images keep PGDATA in `/var/lib/postgresql/18/docker`, so that
 * `pg_upgrade --link` can see old and new data on one mount), and
 * `/var/lib/postgresql/data` (= PGDATA) before.
 */
export function dataMountPath(major: number): string {
  return major >= 18 ? '/var/lib/postgresql' : '/var/lib/postgresql/data';
}

/** What a data volume was last deployed with (kept by the component's `LocalDataMajor` guard). */
export interface DataGeneration {
  /** The data volume's Docker name. */
  volume: string;
  image: string;
  major: number;
}

/**
 * Whether the server may move from `previous` to `next`: a new image of
 * the same major, or any image on another volume, yes; another major over
 * the same volume, no — PostgreSQL cannot open another major's data
 * directory, so the new container would only crash-loop (the image's
 * entrypoint skips initdb on a non-empty volume).
 * @returns the refusal (naming `image`, with the upgrade procedure), or
 *   undefined when the change is safe.
 */
export function checkLocalMajorChange(previous: DataGeneration, next: DataGeneration): ValidationError | undefined {
  if (previous.volume !== next.volume || previous.major === next.major) return undefined;
  return new ValidationError(
    'image',
    `${previous.image} → ${next.image} changes PostgreSQL ${previous.major} → ${next.major}, but the data volume "${previous.volume}" holds a PostgreSQL ${previous.major} data directory, which PostgreSQL ${next.major} cannot open (the new server would crash-loop)`,
    `Keep image "${previous.image}". To upgrade: add a second LocalPostgres on ${next.image} (another name and publishPort), \`pulumi up\`, copy each database with \`npx postgres-strategies migrate --from-env FROM --to-env TO\` (FROM and TO: the old and new instances' hostUrl outputs), move Kratos and your apps to the new one, \`pulumi up\`, and remove the old one when you no longer need it (https://github.com/VibeWarden/postgres-strategies/blob/main/docs/local-docker.md#a-new-postgresql-major)`,
  );
}
