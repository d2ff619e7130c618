/**
 * Ory Kratos next to a local PostgreSQL (the primary seed's Strategy 1):
 * its image, the one-shot migration command, a minimal valid config file,
 * the exit-code gate between the migration and the server, and the way back
 * from a Kratos DSN to a libpq URL.
 *
 * Sources: the seed's compose file (`oryd/kratos:v1.3.1`, `migrate sql -e
 * --yes` reading `DSN` from the environment — or, Kratos v1.3.1's
 * `cmd/migrate/sql.go`, from the config file's `dsn` key — Kratos after
 * `service_completed_successfully`), provider-facts.md (Kratos strips
 * `max_conns`, `max_idle_conns`, `max_conn_lifetime`, `max_conn_idle_time`;
 * without `--yes` the migration exits 0 having done nothing; Docker's
 * `attach` never fails on a non-zero exit), Kratos v1.3.1's config schema
 * (required: `identity.schemas`, `dsn` — here from the `DSN` variable —
 * and `selfservice.default_browser_return_url`).
 */
import type * as Yaml from 'yaml';
import { ValidationError, check } from './errors';
import { LIBPQ_KEYWORDS } from './params';

/** `yaml` is loaded on first use: the root entry point stays quick to require (see the bench). */
function yaml(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('yaml') as typeof Yaml;
}

/** The image the seed pins. */
export const KRATOS_DEFAULT_IMAGE = 'oryd/kratos:v1.3.1';
/** Kratos' public API port. */
export const KRATOS_PUBLIC_PORT = 4433;
/** Kratos' admin API port (no authentication: never publish it beyond this machine). */
export const KRATOS_ADMIN_PORT = 4434;
/** The migration (the image's entrypoint is `kratos`); `-e` reads the DSN from `DSN`, `--yes` applies without asking. */
export const KRATOS_MIGRATE_COMMAND: readonly string[] = ['migrate', 'sql', '-e', '--yes'];

/** `kratos serve` with a config file; `--dev` allows cookies over plain HTTP. */
export function kratosServeCommand(configPath: string, dev: boolean): string[] {
  return ['serve', '-c', configPath, ...(dev ? ['--dev'] : [])];
}

/**
 * A minimal identity schema: one email address that is the password
 * identifier.
 */
export const KRATOS_IDENTITY_SCHEMA = `${JSON.stringify(
  {
    $id: 'https://schemas.postgres-strategies.dev/identity.email.schema.json',
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'Person',
    type: 'object',
    properties: {
      traits: {
        type: 'object',
        properties: {
          email: {
            type: 'string',
            format: 'email',
            title: 'E-Mail',
            'ory.sh/kratos': { credentials: { password: { identifier: true } } },
          },
        },
        required: ['email'],
        additionalProperties: false,
      },
    },
  },
  null,
  2,
)}\n`;

/** What the rendered config needs. */
export interface KratosConfigOptions {
  /** Kratos' public URL as browsers reach it, e.g. `http://127.0.0.1:4433/`. */
  publicBaseUrl: string;
  /** Kratos' admin URL on the private network, e.g. `http://kratos:4434/`. */
  adminBaseUrl: string;
  /** Where browsers return after self-service flows. */
  returnUrl: string;
  /** Path of the identity schema in the container. */
  identitySchemaPath: string;
}

function checkUrl(url: string, field: string): void {
  let ok = false;
  try {
    const u = new URL(url);
    ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
  } catch {
    ok = false;
  }
  check(ok, field, `"${url}" is not an http(s) URL`, 'Give a URL like "http://127.0.0.1:4433/"');
}

/**
 * Kratos' config file (YAML): the public and admin URLs, the password
 * method, the identity schema and the return URL. No `dsn` (it comes from
 * the `DSN` variable) and no secrets: Kratos then generates a cookie secret
 * at each start, so sessions end when the container restarts — give your own
 * config (with `secrets`) for anything beyond local use.
 * @throws ValidationError for a URL that is not http(s).
 */
export function renderKratosConfig(options: KratosConfigOptions, field = 'kratos'): string {
  checkUrl(options.publicBaseUrl, `${field}.publicBaseUrl`);
  checkUrl(options.returnUrl, `${field}.returnUrl`);
  checkUrl(options.adminBaseUrl, `${field}.adminBaseUrl`);
  const config = {
    serve: {
      public: { base_url: options.publicBaseUrl },
      admin: { base_url: options.adminBaseUrl },
    },
    selfservice: {
      default_browser_return_url: options.returnUrl,
      allowed_return_urls: [options.returnUrl],
      methods: { password: { enabled: true } },
    },
    identity: {
      default_schema_id: 'default',
      schemas: [{ id: 'default', url: `file://${options.identitySchemaPath}` }],
    },
    log: { level: 'info', format: 'json' },
  };
  return `# Kratos config rendered by postgres-strategies. \`dsn\` is added where the file is mounted (a secret).\n${yaml().stringify(config)}`;
}

/**
 * Checks a user-supplied Kratos config: YAML, a mapping, without `dsn` (the
 * library adds the DSN itself, {@link kratosConfigWithDsn}).
 * @returns the config unchanged.
 * @throws ValidationError naming `field`.
 */
export function validateKratosConfig(text: string, field: string): string {
  check(typeof text === 'string' && text.trim().length > 0, field, 'is empty', 'Give Kratos\' config file as YAML text, or leave it out for the minimal one');
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (e) {
    throw new ValidationError(field, `is not valid YAML (${(e as Error).message.split('\n')[0]})`, 'Fix the YAML');
  }
  check(doc !== null && typeof doc === 'object' && !Array.isArray(doc), field, 'is not a YAML mapping', 'Give the config as a mapping (serve:, selfservice:, identity:, ...)');
  check(
    !Object.prototype.hasOwnProperty.call(doc, 'dsn'),
    `${field}.dsn`,
    'is set in the config file, where it would hold a password written by hand',
    'Remove `dsn`: the component adds the instance\'s DSN to the config file it mounts (as a secret)',
  );
  return text;
}

/**
 * Kratos' config file with its `dsn` key set (first), the rest of `config`
 * as it was, comments included. Kratos has no `*_FILE` convention for its
 * DSN, so a container gets the DSN (and its password) in this mounted file,
 * never in its environment, where `docker inspect` would show it; `kratos
 * serve -c <file>` and `kratos migrate sql -e -c <file>` both read it.
 * The result holds a password: treat it as a secret.
 * @throws ValidationError (naming `field`) for a config that fails
 *   {@link validateKratosConfig}.
 */
export function kratosConfigWithDsn(config: string, dsn: string, field = 'kratos.config'): string {
  validateKratosConfig(config, field);
  const doc = yaml().parseDocument(config);
  const map = doc.contents as Yaml.YAMLMap;
  map.items.unshift(doc.createPair('dsn', dsn));
  return doc.toString({ lineWidth: 0 });
}

/** Raised when a one-shot container (bootstrap, migration) did not exit 0. */
export class OneShotFailedError extends Error {
  readonly service: string;
  readonly exitCode: number;
  constructor(service: string, exitCode: number, message: string) {
    super(message);
    this.name = 'OneShotFailedError';
    this.service = service;
    this.exitCode = exitCode;
  }
}

/**
 * Removes credentials from log text: the password of every URL
 * (`scheme://user:password@`), `password=…` / `PGPASSWORD=…` values, and
 * SCRAM-SHA-256 verifiers (`SCRAM-SHA-256$<iterations>:<salt>$<keys>`, which
 * a failing psql echoes with its statement, also cut short, and which allow
 * an offline guess).
 */
export function redactLogs(text: string): string {
  return text
    .replace(/SCRAM-SHA-256\$[^\s'"]+/g, 'SCRAM-SHA-256$REDACTED')
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@\s]*@/gi, '$1:REDACTED@')
    .replace(/\b((?:pg)?password)=[^\s&]+/gi, '$1=REDACTED');
}

/**
 * The exit-code gate: a dependant of a one-shot container starts only when
 * it exited 0 (Docker's `attach` does not fail on a non-zero exit).
 * @param logs the container's output; its last 40 lines, with credentials
 *   redacted, go into the error.
 * @throws OneShotFailedError naming the container, its exit code, what is
 *   not started, and the fix.
 */
export function checkOneShotExit(service: string, exitCode: number | undefined, logs: string | undefined, blocked: string): void {
  if (exitCode === 0) return;
  const tail = redactLogs(logs ?? '').trimEnd().split('\n').slice(-40).join('\n');
  const code = exitCode === undefined ? 'no exit code (it did not run to completion)' : `exit code ${exitCode}`;
  throw new OneShotFailedError(
    service,
    exitCode ?? -1,
    `${service} finished with ${code}, so ${blocked} is not started. ` +
      `Fix the cause shown in its output, then run \`pulumi up\` again (the container is replaced when its image, command or environment changes; ` +
      `otherwise \`pulumi up --replace <its URN>\`).\n--- ${service} output (last 40 lines, credentials redacted) ---\n${tail || '(no output)'}`,
  );
}

/**
 * The libpq form of a Kratos DSN (for psql and pg_dump against the same
 * database): only libpq's own keywords are kept, so Kratos' pool keys
 * (`max_conns`, `max_idle_conns`, `max_conn_lifetime`, `max_conn_idle_time`)
 * and pgx's keys (`default_query_exec_mode` behind a transaction pooler) are
 * removed; libpq refuses any other URI parameter (`invalid URI query parameter`).
 */
export function kratosDsnToLibpq(dsn: string): string {
  const q = dsn.indexOf('?');
  if (q < 0) return dsn;
  const kept = dsn
    .slice(q + 1)
    .split('&')
    .filter((kv) => kv.length > 0 && LIBPQ_KEYWORDS.has(decodeURIComponent(kv.split('=')[0] as string)));
  return kept.length > 0 ? `${dsn.slice(0, q)}?${kept.join('&')}` : dsn.slice(0, q);
}
