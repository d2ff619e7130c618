/**
 * The files the local server runs on: postgresql.conf (defaults, the user's
 * `pgConfig`, managed TLS settings), pg_hba.conf, the TLS wrapper
 * entrypoint, the server certificate's names, and the superuser part of the
 * bootstrap script.
 *
 * Sources: seed 004 (TLS server settings, `hostssl` + reject), seed 002
 * (`pg_config` key rules), the official postgres image's entrypoint (init
 * scripts through psql on the Unix socket as the OS user `postgres`;
 * `POSTGRES_PASSWORD` is applied by initdb only, i.e. to an empty data
 * directory).
 */
import { DEFAULT_MAINTENANCE_CONNECTIONS, ServerCapacity, capacityFromPgConfig, defaultAdminConnections } from '../core/budget';
import { ServerCertificatePlan, planServerCertificates } from '../core/certificates';
import { ValidationError, check } from '../core/errors';
import { shellQuote } from '../core/shell';
import { quoteIdent, quoteLiteral } from '../core/identifiers';
import { CHANGE_NOTICE_PREFIX } from '../core/render-sql';
import { isScramVerifier } from '../core/scram';
import {
  ConfValue,
  HbaMethod,
  HbaRule,
  MANAGED_CONF_KEYS,
  standardHba,
  tlsServerSettings,
  validatePgConfig,
} from '../core/server-config';
import { CONTAINER_PATHS, LOCAL_SERVER_HOST, LOCAL_SUPERUSER, LocalPaths } from './paths';
import { PublishPlan } from './publish';

/**
 * Keys the local strategy manages on top of the general ones: the server
 * must listen on the private network, the entrypoint needs its Unix socket,
 * and passwords are SCRAM verifiers.
 */
export const LOCAL_MANAGED_CONF_KEYS: ReadonlySet<string> = new Set([
  ...MANAGED_CONF_KEYS,
  'listen_addresses',
  'unix_socket_directories',
  'password_encryption',
]);

/**
 * Defaults of the local server. The container passes its own
 * postgresql.conf (`config_file`), so the file initdb wrote is not read: the
 * settings initdb would have chosen are restated here.
 */
export const LOCAL_DEFAULT_SETTINGS: Readonly<Record<string, ConfValue>> = {
  listen_addresses: '*',
  max_connections: 100,
  password_encryption: 'scram-sha-256',
  shared_buffers: '128MB',
  dynamic_shared_memory_type: 'posix',
  max_wal_size: '1GB',
  min_wal_size: '80MB',
  timezone: 'Etc/UTC',
  log_timezone: 'Etc/UTC',
  datestyle: 'iso, mdy',
  default_text_search_config: 'pg_catalog.english',
};

/**
 * The server's settings: defaults, then the user's `pgConfig`, then the
 * socket directory the bootstrap container shares, then the managed TLS
 * settings (`ssl = on`, TLSv1.2 minimum, the certificate and the key the
 * wrapper copies) or `ssl = off`.
 * @param major the image's PostgreSQL major: `pgConfig` is checked against
 *   its own parameters (see `validatePgConfig`); without it, against every
 *   supported major. @param minor the minor release the image tag pins, if
 *   any: a parameter a later minor release added is refused.
 * @throws ValidationError for a key that fails ^[a-z][a-z0-9_.]*$, a managed
 *   key, a name the major does not have, or a value of the wrong type, unit
 *   or range (or one postgresql.conf cannot hold).
 */
export function localServerSettings(pgConfig: Record<string, ConfValue>, tls: boolean, paths: LocalPaths = CONTAINER_PATHS, major?: number, minor?: number): Record<string, ConfValue> {
  check(
    pgConfig !== null && typeof pgConfig === 'object' && !Array.isArray(pgConfig),
    'pgConfig',
    'is not a map of setting names to values',
    'Give an object such as { shared_buffers: "256MB", max_connections: 200 }',
  );
  // Against the image's major's own parameters when it is known (names, types, units, ranges).
  if (major !== undefined) validatePgConfig(pgConfig, major, 'pgConfig', LOCAL_MANAGED_CONF_KEYS, minor);
  else validatePgConfig(pgConfig, 'pgConfig', LOCAL_MANAGED_CONF_KEYS);
  const settings: Record<string, ConfValue> = { ...LOCAL_DEFAULT_SETTINGS, ...pgConfig, unix_socket_directories: paths.socketDir };
  if (tls) Object.assign(settings, tlsServerSettings({ certFile: paths.certFile, keyFile: paths.keyFile }));
  else settings['ssl'] = false;
  return settings;
}

/**
 * The server's connection capacity from its settings (read by the core's
 * `capacityFromPgConfig`, as the server reads them), with the admin
 * provider's connections and the maintenance headroom counted exactly as the
 * server handle counts them, so the plan's budget check and the handle's
 * agree. @param major the image's major, when known. @throws ValidationError
 */
export function localCapacity(settings: Record<string, ConfValue>, major?: number): ServerCapacity {
  const { maxConnections, reservedConnections } = capacityFromPgConfig(settings, major === undefined ? {} : { major });
  return {
    maxConnections,
    reservedConnections,
    adminConnections: defaultAdminConnections(maxConnections, reservedConnections),
    maintenanceConnections: DEFAULT_MAINTENANCE_CONNECTIONS,
  };
}

/**
 * pg_hba rules of the local server: `local all postgres peer` first (the
 * entrypoint runs initdb scripts through psql on the Unix socket as the OS
 * user postgres), SCRAM for every other socket login, and over TCP SCRAM
 * from any address (the Docker network's subnet is chosen by the engine) —
 * only over TLS when `tls`, with every `hostnossl` connection rejected —
 * then a final reject.
 */
export function localHbaRules(tls: boolean): HbaRule[] {
  return standardHba({ tls, localPeerUser: LOCAL_SUPERUSER, localMethod: HbaMethod.ScramSha256 });
}

/**
 * The TLS wrapper entrypoint (POSIX sh). PostgreSQL refuses a key file that
 * is not owned by its OS user (or root) or that others can read, and
 * uploaded files belong to root; the wrapper runs as root before the image's
 * entrypoint drops privileges, copies the key into a directory only the OS
 * user `postgres` can read (whatever its uid: 70 in the alpine images, 999
 * in the Debian ones), and hands over to `docker-entrypoint.sh` with the
 * same arguments.
 */
export function renderTlsEntrypoint(paths: LocalPaths = CONTAINER_PATHS): string {
  return [
    '#!/bin/sh',
    '# Rendered by postgres-strategies. Gives the TLS key to the OS user postgres, which',
    '# PostgreSQL requires (owner-only key file), then starts the image\'s entrypoint.',
    'set -eu',
    `install -d -m 0700 -o postgres -g postgres ${shellQuote(paths.keyDir)}`,
    `install -m 0600 -o postgres -g postgres ${shellQuote(paths.keyUpload)} ${shellQuote(paths.keyFile)}`,
    'exec docker-entrypoint.sh "$@"',
    '',
  ].join('\n');
}

/** Names in the server certificate: the network alias, localhost, 127.0.0.1, and a specific published address. */
export function localCertificatePlan(publish: PublishPlan | undefined): ServerCertificatePlan {
  const ips = ['127.0.0.1'];
  if (publish && !publish.allInterfaces && !ips.includes(publish.address)) ips.push(publish.address);
  if (publish?.address === '::') ips.push('::1');
  return planServerCertificates({ dnsNames: [LOCAL_SERVER_HOST, 'localhost'], ipAddresses: ips });
}

/**
 * The superuser part of the bootstrap script: sets the superuser's password
 * to the stack's current SCRAM verifier when the stored one differs. The
 * image applies `POSTGRES_PASSWORD` only when it initialises an empty data
 * directory, so a kept volume (a new stack, `destroy` + `up`, a new
 * password) still holds the old one; the bootstrap logs in through the Unix
 * socket by `peer`, which needs no password, and repairs it. Idempotent;
 * reports a change as `NOTICE:  postgres-strategies: …`.
 * @throws ValidationError when `verifier` is not a SCRAM-SHA-256 verifier
 *   (a plain password is never written into a script).
 */
export function renderSuperuserPasswordSql(verifier: string, superuser: string = LOCAL_SUPERUSER): string {
  if (!isScramVerifier(verifier)) {
    throw new ValidationError('superuserPassword', 'is not a SCRAM-SHA-256 verifier; plain passwords are never written into scripts', 'Pass scramSha256Verifier(password, salt)');
  }
  const tag = '$ps_superuser$';
  return [
    `-- The superuser's password as the stack's current SCRAM-SHA-256 verifier (the image sets`,
    '-- POSTGRES_PASSWORD only on an empty data directory; a kept volume keeps the old one).',
    '\\set ON_ERROR_STOP on',
    `DO ${tag}`,
    'BEGIN',
    `  IF (SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = ${quoteLiteral(superuser)}) IS DISTINCT FROM ${quoteLiteral(verifier)} THEN`,
    `    ALTER ROLE ${quoteIdent(superuser)} PASSWORD ${quoteLiteral(verifier)};`,
    `    RAISE NOTICE '%', ${quoteLiteral(`${CHANGE_NOTICE_PREFIX} set the password of role ${superuser}`)};`,
    '  END IF;',
    'END',
    `${tag};`,
    '',
  ].join('\n');
}

/**
 * The local bootstrap script: the superuser's password, then the
 * instances' idempotent script (empty without instances).
 */
export function renderLocalBootstrapSql(superuserVerifier: string, instancesSql: string, superuser: string = LOCAL_SUPERUSER): string {
  return renderSuperuserPasswordSql(superuserVerifier, superuser) + instancesSql;
}
