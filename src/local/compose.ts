/**
 * The local stack as a docker-compose.yml and the files next to it — the
 * seed's Strategy 1 compose file, rendered from the same
 * {@link LocalStackPlan} the Pulumi component deploys.
 *
 * - No password in the YAML nor in any container's environment (`docker
 *   inspect` shows environments): the superuser's password is a compose
 *   secret (`./secrets/postgres-password`, mounted at
 *   `/run/secrets/postgres-password`, read through `POSTGRES_PASSWORD_FILE`),
 *   and Kratos' DSN sits in its mounted config file (`./kratos/kratos.yml`),
 *   as Kratos has no `*_FILE` convention.
 * - Every `$` is written as `$$`, which compose reads as a literal `$`.
 * - Files are bind-mounted read-only from `./postgres/…` and `./kratos/…`.
 * - The bootstrap shares the server's socket directory (the `postgres_socket`
 *   volume) and logs in by `peer` as the OS user postgres, as in Pulumi.
 *   The TLS key is mounted root-owned; the wrapper entrypoint copies it for
 *   the OS user postgres, exactly as in the Pulumi deployment.
 */
import { stringify } from 'yaml';
import { BootstrapMode, COMPOSE_SOURCES, ContainerPlan, FileContent, ImageRef, LocalStackPlan } from './plan';

/** The compose volume of the data directory (the seed's name). */
export const COMPOSE_DATA_VOLUME = 'postgres_data';
/** The compose volume of the server's Unix socket, shared with postgres-bootstrap. */
export const COMPOSE_SOCKET_VOLUME = 'postgres_socket';

/** Writes `$` as `$$` (compose's escape for a literal dollar sign). */
export function escapeComposeValue(text: string): string {
  return text.replace(/\$/g, '$$$$');
}

/** Where compose mounts secrets (`/run/secrets/<name>`). */
const SECRETS_DIR = '/run/secrets/';

/** The compose secret a file is, when it is mounted under /run/secrets/. */
function secretName(path: string): string | undefined {
  return path.startsWith(SECRETS_DIR) ? path.slice(SECRETS_DIR.length) : undefined;
}

function portSpec(address: string, external: number, internal: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${external}:${internal}`;
}

/** One compose service from a container's plan, running `image`. */
export function composeService(c: ContainerPlan, image: string): Record<string, unknown> {
  const s: Record<string, unknown> = { image: escapeComposeValue(image) };
  if (c.entrypoint) s['entrypoint'] = c.entrypoint.map(escapeComposeValue);
  s['command'] = c.command.map(escapeComposeValue);
  if (c.user !== undefined) s['user'] = escapeComposeValue(c.user);
  s['restart'] = c.restart;
  if (c.env.length > 0) s['environment'] = Object.fromEntries(c.env.map((e) => [e.name, escapeComposeValue(e.value)]));
  const volumes = [
    ...(c.dataVolumePath ? [`${COMPOSE_DATA_VOLUME}:${c.dataVolumePath}`] : []),
    ...(c.socketVolumePath ? [`${COMPOSE_SOCKET_VOLUME}:${c.socketVolumePath}`] : []),
    ...c.files.filter((f) => secretName(f.path) === undefined).map((f) => `${COMPOSE_SOURCES[f.content]}:${escapeComposeValue(f.path)}:ro`),
  ];
  if (volumes.length > 0) s['volumes'] = volumes;
  const secrets = c.files.flatMap((f) => secretName(f.path) ?? []);
  if (secrets.length > 0) s['secrets'] = secrets;
  if (c.ports.length > 0) s['ports'] = c.ports.map((p) => portSpec(p.address, p.external, p.internal));
  if (c.healthcheck) {
    const h = c.healthcheck;
    s['healthcheck'] = {
      test: h.test.map(escapeComposeValue),
      interval: `${h.intervalSeconds}s`,
      timeout: `${h.timeoutSeconds}s`,
      retries: h.retries,
      start_period: `${h.startPeriodSeconds}s`,
    };
  }
  if (c.dependsOn.length > 0) s['depends_on'] = Object.fromEntries(c.dependsOn.map((d) => [d.service, { condition: d.condition }]));
  return s;
}

/**
 * The docker-compose.yml of the stack: the services in dependency order
 * (postgres with its healthcheck, the one-shot bootstrap, kratos-migrate,
 * kratos) and the data volume. Containers reach the server as `postgres`
 * (the service name) on compose's default network.
 */
export function renderComposeFile(plan: LocalStackPlan): string {
  const secrets = new Map<string, string>();
  for (const c of plan.containers) {
    for (const f of c.files) {
      const name = secretName(f.path);
      if (name !== undefined) secrets.set(name, COMPOSE_SOURCES[f.content]);
    }
  }
  const doc = {
    services: Object.fromEntries(plan.containers.map((c) => [c.service, composeService(c, c.image === ImageRef.Postgres ? plan.postgres.image : (plan.kratos?.image as string))])),
    volumes: { [COMPOSE_DATA_VOLUME]: {}, ...(plan.oneShotBootstrap ? { [COMPOSE_SOCKET_VOLUME]: {} } : {}) },
    ...(secrets.size > 0 ? { secrets: Object.fromEntries([...secrets].map(([name, file]) => [name, { file }])) } : {}),
  };
  const header = [
    '# docker-compose.yml rendered by postgres-strategies (local strategy, the seed\'s Strategy 1).',
    '# Put the files of composeFiles next to it (keep secrets/ and kratos/kratos.yml private); then: docker compose up -d --wait',
    '# It holds no password: the superuser\'s is a compose secret (POSTGRES_PASSWORD_FILE), Kratos\' DSN is in its config file.',
    plan.hasBootstrapSql && plan.bootstrap !== BootstrapMode.OneShot
      ? '# The init script runs only while the postgres_data volume is empty; postgres-bootstrap (if present) re-runs it.'
      : undefined,
    plan.oneShotBootstrap
      ? '# postgres-bootstrap logs in on the server\'s Unix socket (postgres_socket) as the OS user postgres and sets the superuser\'s password (its verifier is in bootstrap.sql), also on a kept volume.'
      : undefined,
  ].filter((l): l is string => l !== undefined);
  return composeYamlText(header, doc);
}

/** Compose's YAML text of a document (double-quoted strings, no line wrapping). */
export function composeYamlText(header: string[], doc: Record<string, unknown>): string {
  return `${header.join('\n')}\n${stringify(doc, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 })}`;
}

/** The files the compose file mounts, by path next to it. */
export function composeFileSources(plan: Pick<LocalStackPlan, 'containers'>): Array<{ source: string; content: FileContent; mode: string }> {
  const seen = new Map<string, { source: string; content: FileContent; mode: string }>();
  for (const c of plan.containers) {
    for (const f of c.files) {
      const source = COMPOSE_SOURCES[f.content];
      if (!seen.has(source)) seen.set(source, { source: source.replace(/^\.\//, ''), content: f.content, mode: f.mode });
    }
  }
  return [...seen.values()];
}
