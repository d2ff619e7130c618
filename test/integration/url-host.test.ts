/**
 * Hosts in URLs as the real libpq (psql 15) reads them (issue 7, item 10).
 *
 * Proves:
 * - an IPv6 address with a zone (`fe80::1%lo`) is written `[fe80::1%25lo]`
 *   by `libpqUrl`, and libpq decodes it back to the zone address and tries
 *   to connect to exactly that host (on the loopback interface, where no
 *   link-local address exists, so the kernel refuses at once and nothing is
 *   sent); the unencoded spelling is refused by libpq's URI parser
 *   ("invalid percent-encoded token") — why the encoding matters;
 * - a reader URL (standbys first, then the primary, prefer-standby) is read
 *   by libpq as written: with the standby down it falls back to the primary;
 * - a plain IPv6 address in brackets logs in to a real PostgreSQL 17 on
 *   `::1` when the machine has IPv6 loopback (skipped, with a note, when not).
 */
import { libpqUrl, readerConnection } from '../../src/core/dsn';
import { SslMode } from '../../src/core/tls';
import { psql } from '../../lab/psql';
import { SERVER_TIMEOUT, describeFailure, useLabServer } from './support';
import { networkInterfaces } from 'node:os';
import { freePort } from '../../lab/server';

const zoned = { hosts: [{ host: 'fe80::1%lo', port: 5999 }], database: 'db', user: 'u', password: 'p', tls: { sslmode: SslMode.Disable }, connectTimeoutSeconds: 2 };

test('an IPv6 zone is written %25 and libpq connects to that very address', async () => {
  const url = libpqUrl(zoned);
  expect(url).toContain('@[fe80::1%25lo]:5999/');
  const r = await psql(url, 'SELECT 1;');
  expect(r.code).toBe(2);
  expect(r.stderr).not.toContain('invalid percent-encoded token');
  // libpq resolved "fe80::1%lo" and tried it: the host it names is the decoded zone address.
  expect(r.stderr).toMatch(/connection to server at "fe80::1%lo" \(fe80::1(%lo)?\), port 5999 failed/);
});

test('the unencoded zone is refused by libpq\'s URI parser', async () => {
  const url = libpqUrl(zoned).replace('%25lo', '%lo');
  const r = await psql(url, 'SELECT 1;');
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('invalid percent-encoded token');
});

// One PostgreSQL 17 for the suite, on IPv4 and (where the machine has it) IPv6 loopback.
const server = useLabServer(() => ({ version: 17, conf: { listen_addresses: '127.0.0.1,::1' } }));

const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.family === 'IPv6' && a.address === '::1'));

describe('an IPv6 host in brackets', () => {

  (hasIpv6Loopback ? test : test.skip)(
    'logs in to a real server on ::1',
    async () => {
      const admin = server().admin();
      const url = libpqUrl({ ...admin, hosts: [{ host: '::1', port: admin.hosts[0]!.port }] });
      expect(url).toContain('@[::1]:');
      const r = await psql(url, "SELECT inet_server_addr();");
      expect(describeFailure(r)).toBe('exit 0: ');
      expect(r.stdout.trim()).toBe('::1');
    },
    SERVER_TIMEOUT,
  );
});

describe('a reader URL (InstanceDatabase.readerUrl)', () => {

  test(
    'libpq tries the standby first and falls back to the primary while it is down',
    async () => {
      const admin = server().admin();
      // A loopback port nothing listens on: the standby is down.
      const standby = { host: '127.0.0.1', port: await freePort() };
      const url = libpqUrl(readerConnection(admin, [standby]));
      expect(url).toContain(`@127.0.0.1:${standby.port},`);
      expect(url).toContain('target_session_attrs=prefer-standby');
      const r = await psql(url, 'SELECT pg_is_in_recovery(), inet_server_port();');
      expect(describeFailure(r)).toBe('exit 0: ');
      expect(r.stdout.trim()).toBe(`f|${admin.hosts[0]!.port}`);
    },
    SERVER_TIMEOUT,
  );
});
