/**
 * The live checks of the demo, on any server and whichever path provisioned
 * it (the rendered SQL through psql, or `pulumi up` on the real engine):
 * every instance logs in over TLS as its own role into its own database, no
 * instance reaches another's database, and a connection without TLS is
 * refused.
 */
import { SslMode } from '../src/core/tls';
import { psql } from '../lab/psql';

/** One named check and what was seen. */
export interface Check {
  name: string;
  /** Passed, or skipped. */
  ok: boolean;
  /** Not run: it does not apply to this server (e.g. the TLS check under sslmode=disable). */
  skipped?: boolean;
  detail: string;
}

/** An instance as the checks see it: its names and its libpq URL (with the password). */
export interface CheckedInstance {
  instance: string;
  database: string;
  user: string;
  url: string;
}

/** The URL with another database, or another sslmode (and no root certificate), through WHATWG URL. */
function variant(url: string, change: { database?: string; sslmode?: SslMode }): string {
  const u = new URL(url);
  if (change.database !== undefined) u.pathname = `/${encodeURIComponent(change.database)}`;
  if (change.sslmode !== undefined) {
    u.searchParams.set('sslmode', change.sslmode);
    u.searchParams.delete('sslrootcert');
  }
  return u.toString();
}

/** The first line of a libpq error worth showing. */
export function firstLine(s: string): string {
  return (s.split('\n').find((l) => /FATAL|ERROR|error/.test(l)) ?? s.split('\n')[0] ?? '').trim();
}

/** Connects as every instance (psql) and to every other instance's database, then once without TLS. */
export async function connectionChecks(instances: CheckedInstance[]): Promise<Check[]> {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string): void => {
    checks.push({ name, ok, detail });
  };
  for (const p of instances) {
    // The TLS version of this session, or an empty field without TLS (sslmode=disable).
    const r = await psql(p.url, "SELECT current_user, current_database(), coalesce((SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl), '')", ['-F', '\t']);
    const [user, db, tls] = r.stdout.replace(/\n$/, '').split('\t');
    const sslmode = new URL(p.url).searchParams.get('sslmode') ?? SslMode.Prefer;
    // sslmode=disable asks for no TLS: the check is then that the login works, and says so.
    const wantTls = sslmode !== SslMode.Disable;
    check(
      `${p.instance} connects with sslmode=${sslmode}`,
      r.code === 0 && user === p.user && db === p.database && (!wantTls || Boolean(tls)),
      r.code !== 0 ? firstLine(r.stderr) : `as ${user} to ${db} ${tls ? `over ${tls}` : wantTls ? 'WITHOUT TLS' : 'without TLS (sslmode=disable: not encrypted)'}`,
    );
    for (const other of instances.filter((o) => o !== p)) {
      const x = await psql(variant(p.url, { database: other.database }), 'SELECT 1');
      check(
        `${p.instance} cannot connect to ${other.database}`,
        x.code !== 0 && x.stderr.includes('permission denied for database'),
        x.code !== 0 ? firstLine(x.stderr).replace(/^.*FATAL:\s*/, '') : 'CONNECTED — isolation is broken',
      );
    }
  }
  const first = instances[0];
  if (first && new URL(first.url).searchParams.get('sslmode') === SslMode.Disable) {
    checks.push({ name: 'a connection without TLS is refused', ok: true, skipped: true, detail: 'not checked: the server is used with sslmode=disable' });
  } else if (first) {
    const plain = await psql(variant(first.url, { sslmode: SslMode.Disable }), 'SELECT 1');
    check(
      'a connection without TLS is refused',
      plain.code !== 0,
      plain.code !== 0 ? firstLine(plain.stderr).replace(/^.*FATAL:\s*/, '') : 'CONNECTED without TLS — the server accepts plain text',
    );
  }
  return checks;
}
