/**
 * Kratos alone in compose against an outside server (renderExternalKratosCompose):
 * the two Kratos services and nothing else, the DSN only in kratos/kratos.yml
 * (with sslrootcert pointed at the mounted CA), extra hosts, ports on
 * 127.0.0.1; bad input refused by field. Compose itself runs it in
 * test/e2e/engine/local-compose.test.ts.
 */
import { parse } from 'yaml';
import { renderExternalKratosCompose, withSslRootCert } from '../../../src/local/kratos-compose';

const dsn = 'postgres://ext_kratos:p%40ss%2Fw@db.internal:5432/ext_kratos?sslmode=verify-full&sslrootcert=global-bundle.pem&connect_timeout=10&max_conns=10';

test('migrate then serve, no server container; the DSN only in the secret config, pointed at the mounted CA', () => {
  const b = renderExternalKratosCompose({ dsn, caPem: '-----BEGIN CERTIFICATE-----\n', publishAdminPort: 4434, extraHosts: { 'db.internal': 'host-gateway' } });
  const doc = parse(b.composeYaml) as { services: Record<string, Record<string, any>> };
  expect(Object.keys(doc.services)).toEqual(['kratos-migrate', 'kratos']);
  expect(doc.services['kratos-migrate']!['depends_on']).toBeUndefined();
  expect(doc.services['kratos']!['depends_on']).toEqual({ 'kratos-migrate': { condition: 'service_completed_successfully' } });
  expect(doc.services['kratos']!['ports']).toEqual(['127.0.0.1:4434:4434']);
  for (const s of Object.values(doc.services)) {
    expect(s['extra_hosts']).toEqual(['db.internal:host-gateway']);
    expect(s['environment']).toBeUndefined();
  }
  expect(b.composeYaml).not.toContain('p%40ss');
  expect(Object.keys(b.files).sort()).toEqual(['kratos/identity.schema.json', 'kratos/kratos.yml', 'postgres/tls/ca.crt']);
  expect(parse(b.files['kratos/kratos.yml'] as string)['dsn']).toBe(dsn.replace('sslrootcert=global-bundle.pem', 'sslrootcert=/etc/postgres-strategies/ca.crt'));
  expect(b.modes['kratos/kratos.yml']).toBe('0644');
});

test('without a CA the DSN is kept as given; sslrootcert is added when missing', () => {
  const plain = 'postgres://u:p@db:5432/d?sslmode=disable';
  expect(parse(renderExternalKratosCompose({ dsn: plain }).files['kratos/kratos.yml'] as string)['dsn']).toBe(plain);
  expect(withSslRootCert('postgres://u:p@db/d', '/etc/x/ca.crt')).toBe('postgres://u:p@db/d?sslrootcert=/etc/x/ca.crt');
  expect(withSslRootCert('postgres://u:p@db/d?sslmode=require', '/etc/x/ca.crt')).toBe('postgres://u:p@db/d?sslmode=require&sslrootcert=/etc/x/ca.crt');
});

test('bad input is refused by field', () => {
  expect(() => renderExternalKratosCompose({ dsn: 'mysql://x' })).toThrow(/^dsn: is not a postgres:\/\/ URL/);
  expect(() => renderExternalKratosCompose({ dsn, extraHosts: { 'db.internal': 'somewhere' } })).toThrow(/^extraHosts\.db\.internal: "somewhere" is not an IP address or host-gateway/);
  expect(() => renderExternalKratosCompose({ dsn, publishPublicPort: 4433, publishAdminPort: 4433 })).toThrow(/^publishAdminPort: host port 4433 is already published by publishPublicPort/);
  expect(() => renderExternalKratosCompose({ dsn, config: 'dsn: x\n' })).toThrow(/config\.dsn: is set in the config file/);
});
