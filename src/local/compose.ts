/**
 * The local stack as a docker-compose.yml, a .env file and the files next
 * to them — the seed's Strategy 1 compose file, rendered from the same
 * {@link LocalStackPlan} the Pulumi component deploys.
 *
 * - No password in the YAML: secrets are `${VAR}` references, filled from
 *   the `.env` file (`${VAR:?…}` so compose refuses to start without them).
 *   The Kratos DSN is one variable holding the whole percent-encoded URL,
 *   so a password never has to be spliced into a URL by compose.
 * - Every other `$` is written as `$$`, which compose reads as a literal `$`.
 * - .env values are single-quoted, which compose takes literally (no
 *   interpolation); a value with `'` or a line break is refused.
 * - Files are bind-mounted read-only from `./postgres/…` and `./kratos/…`.
 * - The bootstrap shares the server's socket directory (the `postgres_socket`
 *   volume) and logs in by `peer` as the OS user postgres, as in Pulumi.
 *   The TLS key is mounted root-owned; the wrapper entrypoint copies it for
 *   the OS user postgres, exactly as in the Pulumi deployment.
 */
import { stringify } from 'yaml';
import { ValidationError, check } from '../core/errors';
import { BootstrapMode, COMPOSE_SOURCES, ContainerPlan, EnvSecret, FileContent, ImageRef, LocalStackPlan } from './plan';

/** The compose volume of the data directory (the seed's name). */
export const COMPOSE_DATA_VOLUME = 'postgres_data';
/** The compose volume of the server's Unix socket, shared with postgres-bootstrap. */
export const COMPOSE_SOCKET_VOLUME = 'postgres_socket';

/** Writes `$` as `$$` (compose's escape for a literal dollar sign). */
export function escapeComposeValue(text: string): string {
  return text.replace(/\$/g, '$$$$');
}

function secretRef(secret: EnvSecret): string {
  return `\${${secret}:?set ${secret} in the .env file next to docker-compose.yml}`;
}

function portSpec(address: string, external: number, internal: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${external}:${internal}`;
}

function service(c: ContainerPlan, plan: LocalStackPlan): Record<string, unknown> {
  const image = c.image === ImageRef.Postgres ? plan.postgres.image : (plan.kratos?.image as string);
  const s: Record<string, unknown> = { image: escapeComposeValue(image) };
  if (c.entrypoint) s['entrypoint'] = c.entrypoint.map(escapeComposeValue);
  s['command'] = c.command.map(escapeComposeValue);
  if (c.user !== undefined) s['user'] = escapeComposeValue(c.user);
  s['restart'] = c.restart;
  s['environment'] = Object.fromEntries(c.env.map((e) => [e.name, e.secret !== undefined ? secretRef(e.secret) : escapeComposeValue(e.value ?? '')]));
  const volumes = [
    ...(c.dataVolumePath ? [`${COMPOSE_DATA_VOLUME}:${c.dataVolumePath}`] : []),
    ...(c.socketVolumePath ? [`${COMPOSE_SOCKET_VOLUME}:${c.socketVolumePath}`] : []),
    ...c.files.map((f) => `${COMPOSE_SOURCES[f.content]}:${escapeComposeValue(f.path)}:ro`),
  ];
  if (volumes.length > 0) s['volumes'] = volumes;
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
  const doc = {
    services: Object.fromEntries(plan.containers.map((c) => [c.service, service(c, plan)])),
    volumes: { [COMPOSE_DATA_VOLUME]: {}, ...(plan.oneShotBootstrap ? { [COMPOSE_SOCKET_VOLUME]: {} } : {}) },
  };
  const header = [
    '# docker-compose.yml rendered by postgres-strategies (local strategy, the seed\'s Strategy 1).',
    `# Put the files of composeFiles next to it and the composeEnv output in .env; then: docker compose up -d`,
    `# Secrets come from .env (${[...new Set(plan.containers.flatMap((c) => c.env.flatMap((e) => (e.secret ? [e.secret] : []))))].join(', ')}); this file holds none.`,
    plan.hasBootstrapSql && plan.bootstrap !== BootstrapMode.OneShot
      ? '# The init script runs only while the postgres_data volume is empty; postgres-bootstrap (if present) re-runs it.'
      : undefined,
    plan.oneShotBootstrap
      ? '# postgres-bootstrap logs in on the server\'s Unix socket (postgres_socket) as the OS user postgres and sets the superuser\'s password (its verifier is in bootstrap.sql), also on a kept volume.'
      : undefined,
  ].filter((l): l is string => l !== undefined);
  return `${header.join('\n')}\n${stringify(doc, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 })}`;
}

/** The files the compose file mounts, by path next to it. */
export function composeFileSources(plan: LocalStackPlan): Array<{ source: string; content: FileContent; mode: string }> {
  const seen = new Map<string, { source: string; content: FileContent; mode: string }>();
  for (const c of plan.containers) {
    for (const f of c.files) {
      const source = COMPOSE_SOURCES[f.content];
      if (!seen.has(source)) seen.set(source, { source: source.replace(/^\.\//, ''), content: f.content, mode: f.mode });
    }
  }
  return [...seen.values()];
}

/**
 * A compose `.env` file: `NAME='value'` lines. Single quotes make compose
 * take the value literally (no `$` interpolation).
 * @throws ValidationError for a name that is not an environment variable
 *   name, or a value with `'`, a line break or NUL (which no quoting form
 *   of compose's .env carries safely).
 */
export function renderDotEnv(values: Record<string, string>, field = 'composeEnv'): string {
  const lines = Object.keys(values).map((name) => {
    check(/^[A-Za-z_][A-Za-z0-9_]*$/.test(name), `${field}.${name}`, `"${name}" is not an environment variable name`, 'Use letters, digits and "_"');
    const value = values[name] as string;
    if (/['\r\n\0]/.test(value)) {
      throw new ValidationError(
        `${field}.${name}`,
        'contains a single quote, a line break or NUL, which a .env value cannot hold safely',
        'Percent-encode it (URLs from this library already are) or use another value',
      );
    }
    return `${name}='${value}'`;
  });
  return ['# .env for docker-compose.yml, rendered by postgres-strategies. Secret: keep it out of version control.', ...lines, ''].join('\n');
}
