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
  ok: boolean;
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
    const r = await psql(p.url, "SELECT current_user || ' ' || current_database() || ' ' || coalesce((SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl), 'no TLS')");
    const [user, db, tls] = r.stdout.trim().split(' ');
    check(
      `${p.instance} connects with sslmode=${new URL(p.url).searchParams.get('sslmode')}`,
      r.code === 0 && user === p.user && db === p.database && tls !== 'no',
      r.code === 0 ? `as ${user} to ${db} over ${tls}` : firstLine(r.stderr),
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
  if (first) {
    const plain = await psql(variant(first.url, { sslmode: SslMode.Disable }), 'SELECT 1');
    check(
      'a connection without TLS is refused',
      plain.code !== 0,
      plain.code !== 0 ? firstLine(plain.stderr).replace(/^.*FATAL:\s*/, '') : 'CONNECTED without TLS — the server accepts plain text',
    );
  }
  return checks;
}
