/**
 * The auth gateway's database settings (the primary seed's `database.*`
 * config and its `VIBEWARDEN_DATABASE_*` environment overrides), and its DSN
 * merge rule, `DatabaseConfig.BuildDSN()`:
 *
 * - `tls_mode` is applied as `sslmode` only when the URL has no `sslmode`;
 * - `connect_timeout` (a Go duration) is applied in whole seconds, only when
 *   the URL has no `connect_timeout`;
 * - `pool.max_conns` → `pool_max_conns`, `pool.min_conns` → `pool_min_conns`,
 *   each only when the URL does not already carry it;
 * - parameters already present in the URL always win;
 * - defaults: tls_mode `require`, max_conns 10, min_conns 2, connect_timeout `10s`;
 * - `tls_mode` outside disable | require | verify-ca | verify-full is an error.
 */
import { ValidationError, check } from './errors';
import { connectTimeoutSeconds } from './duration';
import { ConnectionDescription, DEFAULT_CONNECT_TIMEOUT_SECONDS, DEFAULT_GATEWAY_POOL, GatewayPool, pgxBaseUrl, validateGatewayPool } from './dsn';
import { GATEWAY_TLS_MODES, SslMode, parseSslMode } from './tls';

/** The gateway's `database:` section, as in `vibewarden.yaml`. */
export interface GatewayDatabaseConfig {
  /** `database.external_url`: a postgres:// URL. */
  externalUrl: string;
  /** `database.tls_mode`. @default "require" */
  tlsMode?: string;
  /** `database.connect_timeout`, a Go duration. @default "10s" */
  connectTimeout?: string;
  /** `database.pool.max_conns`. @default 10 */
  maxConns?: number;
  /** `database.pool.min_conns`. @default 2 */
  minConns?: number;
}

export const DEFAULT_GATEWAY_TLS_MODE = SslMode.Require;
export const DEFAULT_GATEWAY_CONNECT_TIMEOUT = '10s';

/** Query keys present in a URL (decoded), in order. */
export function urlQueryKeys(url: string): string[] {
  const q = url.indexOf('?');
  if (q < 0) return [];
  const query = url.slice(q + 1).split('#')[0] as string;
  return query
    .split('&')
    .filter((kv) => kv.length > 0)
    .map((kv) => decodeURIComponent((kv.split('=')[0] as string).replace(/\+/g, ' ')));
}

/**
 * The primary seed's `BuildDSN`: merges tls_mode, connect_timeout and pool
 * settings into the external URL, keeping every parameter the URL already has.
 * @throws ValidationError for a non-postgres URL, an invalid tls_mode,
 *   connect_timeout or pool.
 */
export function buildGatewayDsn(config: GatewayDatabaseConfig): string {
  const url = config.externalUrl.trim();
  check(
    /^postgres(ql)?:\/\//.test(url),
    'database.external_url',
    'is not a postgres:// or postgresql:// URL',
    'Give a URL like postgres://user:password@host:5432/db',
  );
  const tlsMode = parseSslMode(config.tlsMode ?? DEFAULT_GATEWAY_TLS_MODE, 'database.tls_mode', GATEWAY_TLS_MODES);
  const timeout = connectTimeoutSeconds(config.connectTimeout ?? DEFAULT_GATEWAY_CONNECT_TIMEOUT, 'database.connect_timeout');
  const pool: GatewayPool = {
    maxConns: config.maxConns ?? DEFAULT_GATEWAY_POOL.maxConns,
    minConns: config.minConns ?? DEFAULT_GATEWAY_POOL.minConns,
  };
  validateGatewayPool(pool, 'database.pool');

  const present = new Set(urlQueryKeys(url));
  const additions: [string, string][] = [];
  const add = (key: string, value: string): void => {
    if (!present.has(key)) additions.push([key, value]);
  };
  add('sslmode', tlsMode);
  add('connect_timeout', String(timeout));
  add('pool_max_conns', String(pool.maxConns));
  add('pool_min_conns', String(pool.minConns));
  if (additions.length === 0) return url;
  const [base, fragment] = splitFragment(url);
  const sep = base.includes('?') ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return `${base}${sep}${additions.map(([k, v]) => `${k}=${v}`).join('&')}${fragment}`;
}

function splitFragment(url: string): [string, string] {
  const i = url.indexOf('#');
  return i < 0 ? [url, ''] : [url.slice(0, i), url.slice(i)];
}

/** The gateway's environment overrides for one connection (primary seed's env table). */
export interface GatewayEnv {
  VIBEWARDEN_DATABASE_EXTERNAL_URL: string;
  VIBEWARDEN_DATABASE_TLS_MODE: string;
  VIBEWARDEN_DATABASE_POOL_MAX_CONNS: string;
  VIBEWARDEN_DATABASE_POOL_MIN_CONNS: string;
  VIBEWARDEN_DATABASE_CONNECT_TIMEOUT: string;
}

/**
 * The gateway's env map: the pgx URL without pool keys (with sslmode, and
 * `default_query_exec_mode=exec` behind a transaction pooler) as
 * external_url, and the pool, TLS mode and timeout as their own variables.
 * @throws ValidationError when the sslmode is one the gateway does not accept
 *   (allow, prefer) or the pool is invalid.
 */
export function gatewayEnv(c: ConnectionDescription, pool: GatewayPool = DEFAULT_GATEWAY_POOL, field = 'connection'): GatewayEnv {
  if (!GATEWAY_TLS_MODES.includes(c.tls.sslmode)) {
    throw new ValidationError(
      `${field}.tls.sslmode`,
      `the gateway's tls_mode does not accept "${c.tls.sslmode}"`,
      `Use one of: ${GATEWAY_TLS_MODES.join(', ')}`,
    );
  }
  validateGatewayPool(pool, `${field}.pool`);
  return {
    VIBEWARDEN_DATABASE_EXTERNAL_URL: pgxBaseUrl(c, field),
    VIBEWARDEN_DATABASE_TLS_MODE: c.tls.sslmode,
    VIBEWARDEN_DATABASE_POOL_MAX_CONNS: String(pool.maxConns),
    VIBEWARDEN_DATABASE_POOL_MIN_CONNS: String(pool.minConns),
    VIBEWARDEN_DATABASE_CONNECT_TIMEOUT: `${c.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS}s`,
  };
}
