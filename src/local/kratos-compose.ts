/**
 * Kratos alone in Docker Compose, against a PostgreSQL that runs elsewhere
 * (the primary seed's `external_url` switch, Strategy 2): the one-shot
 * `kratos-migrate` (`migrate sql -e --yes`) and `kratos serve` once it
 * exited 0, no PostgreSQL container, pointed at the Kratos DSN of an
 * `ExternalPostgres`/`SharedPostgres` (or any strategy's) instance. The
 * same Kratos containers `LocalPostgres` plans (`planKratos`), rendered
 * with the same compose rules.
 *
 * The DSN (with the role's password) is written only into the mounted
 * config file `kratos/kratos.yml`, never into the compose file or an
 * environment. With `caPem`, the CA is mounted at
 * `/etc/postgres-strategies/ca.crt` and the DSN's `sslrootcert` points there
 * (the instance's `kratosDsn` names the file as the deploying machine has
 * it).
 */
import { check } from '../core/errors';
import { kratosConfigWithDsn } from '../core/kratos';
import { composeFileSources, composeService, composeYamlText } from './compose';
import { FileContent } from './containers';
import { LocalKratosOptions, planKratos } from './kratos';
import { CONTAINER_PATHS } from './paths';
import { checkDistinctPorts } from './publish';

/** Kratos in compose against an outside server. */
export interface ExternalKratosComposeOptions extends Omit<LocalKratosOptions, 'instance'> {
  /**
   * The instance's Kratos DSN (`instances[name].kratosDsn` of
   * `SharedPostgres`, `ExternalPostgres`, …): a secret, written only into
   * `kratos/kratos.yml`.
   */
  dsn: string;
  /** The CA certificate (PEM) the DSN's `sslrootcert` names; mounted, and the DSN pointed at it. */
  caPem?: string;
  /** Host address the published ports bind to. @default "127.0.0.1" */
  publishAddress?: string;
  /**
   * Extra `/etc/hosts` entries of both containers (compose `extra_hosts`),
   * host name → address, e.g. `{ "db.internal": "host-gateway" }` for a
   * server on the Docker host.
   * @default {}
   */
  extraHosts?: Record<string, string>;
}

/** A compose file and the files next to it. */
export interface ComposeBundle {
  /** docker-compose.yml (no password in it). */
  composeYaml: string;
  /** Files by path next to it (secret: kratos/kratos.yml holds the DSN). */
  files: Record<string, string>;
  /** Octal modes of the files, by path. */
  modes: Record<string, string>;
}

/** The DSN with `sslrootcert` set to `path` (kept as given otherwise). */
export function withSslRootCert(dsn: string, path: string): string {
  const encoded = encodeURIComponent(path).replace(/%2F/g, '/');
  if (/[?&]sslrootcert=/.test(dsn)) return dsn.replace(/([?&])sslrootcert=[^&#]*/, `$1sslrootcert=${encoded}`);
  return `${dsn}${dsn.includes('?') ? '&' : '?'}sslrootcert=${encoded}`;
}

/**
 * Renders Kratos' compose stack for an outside server.
 * @throws ValidationError for a bad image, publish port or address, URL,
 *   config (or one with `dsn`), a DSN that is not a postgres URL, a host
 *   port published twice, or a bad extra host.
 */
export function renderExternalKratosCompose(options: ExternalKratosComposeOptions): ComposeBundle {
  check(typeof options.dsn === 'string' && /^postgres(ql)?:\/\//.test(options.dsn), 'dsn', 'is not a postgres:// URL', 'Give the instance\'s kratosDsn output');
  checkDistinctPorts([
    { field: 'publishPublicPort', port: options.publishPublicPort },
    { field: 'publishAdminPort', port: options.publishAdminPort },
  ]);
  const extraHosts = Object.entries(options.extraHosts ?? {});
  for (const [host, address] of extraHosts) {
    check(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host), `extraHosts.${host}`, 'is not a host name', 'Give a DNS name, e.g. "db.internal"');
    check(/^(host-gateway|[0-9A-Fa-f.:]+)$/.test(address), `extraHosts.${host}`, `"${address}" is not an IP address or host-gateway`, 'Give an IP address, or "host-gateway" for the Docker host');
  }
  const tls = options.caPem !== undefined;
  const { kratos, containers, staticFiles } = planKratos(options, {
    instance: 'external',
    tls,
    publishAddress: options.publishAddress,
    configSupplied: options.config !== undefined,
    // No server container here: the migration waits for nothing.
    paths: CONTAINER_PATHS,
  });
  const planned = containers;
  const dsn = tls ? withSslRootCert(options.dsn, CONTAINER_PATHS.clientCaFile) : options.dsn;
  const contents: Partial<Record<FileContent, string>> = {
    ...staticFiles,
    [FileContent.KratosConfig]: kratosConfigWithDsn(options.config ?? (kratos.config as string), dsn, 'config'),
    ...(tls ? { [FileContent.CaCert]: options.caPem as string } : {}),
  };
  const services = Object.fromEntries(
    planned.map((c) => {
      const s = composeService(c, kratos.image);
      if (extraHosts.length > 0) s['extra_hosts'] = extraHosts.map(([h, a]) => `${h}:${a}`);
      return [c.service, s];
    }),
  );
  const composeYaml = composeYamlText(
    [
      '# docker-compose.yml rendered by postgres-strategies: Ory Kratos (migrate, then serve) against an outside PostgreSQL (the seed\'s external_url switch).',
      '# Put the files next to it (keep kratos/kratos.yml private: it holds the DSN); then: docker compose up -d --wait',
    ],
    { services },
  );
  const files: Record<string, string> = {};
  const modes: Record<string, string> = {};
  for (const f of composeFileSources({ containers: planned })) {
    files[f.source] = contents[f.content] as string;
    modes[f.source] = f.mode;
  }
  return { composeYaml, files, modes };
}
