/**
 * Every option combination whose docker-compose.yml the unit tests render
 * (plan.test.ts, component.test.ts, examples/local): the unit tests check
 * the YAML's structure, test/integration/compose.test.ts has Debian's
 * `docker-compose config` validate each one with its .env.
 */
import { RoleShape } from '../../../src/core/plan';
import { BootstrapMode, LocalStackOptions } from '../../../src/local/plan';

export const COMPOSE_CASES: ReadonlyArray<[string, LocalStackOptions]> = [
  ['defaults (server and the bootstrap only)', {}],
  ['TLS, published, Kratos on an app instance with its public API (plan.test)', { tls: true, publishPort: 5433, instances: [{ name: 'blog' }], kratos: { instance: 'blog', publishPublicPort: 4433 } }],
  [
    'TLS, published, a least-privilege instance, Kratos (component.test "auth")',
    { tls: true, publishPort: 5432, namePrefix: 'vw_', instances: [{ name: 'blog' }, { name: 'api', shape: RoleShape.LeastPrivilege }], kratos: { instance: 'blog' } },
  ],
  ['Kratos on its own instance, no TLS (component.test "dev")', { kratos: {} }],
  ['examples/local with TLS and an app instance', { tls: true, publishPort: 5432, instances: [{ name: 'kratos' }, { name: 'blog' }], kratos: { instance: 'kratos' } }],
  ['published on ::1 (an IPv6 bind)', { publishPort: 5432, publishAddress: '::1' }],
  ['every interface, Kratos\' public and admin APIs, dev mode', { publishPort: 15432, publishAddress: '0.0.0.0', kratos: { publishPublicPort: 4433, publishAdminPort: 4434, dev: true } }],
  ['init script only (no bootstrap container)', { instances: [{ name: 'blog' }], bootstrap: BootstrapMode.InitScript, kratos: { instance: 'blog' } }],
  ['init script and one-shot', { instances: [{ name: 'blog' }], bootstrap: BootstrapMode.InitScriptAndOneShot }],
  ['PostgreSQL 18, own database, pgConfig', { image: 'postgres:18-alpine', database: 'app', pgConfig: { max_connections: 200, shared_buffers: '256MB' }, instances: [{ name: 'blog' }] }],
  ['a custom image with majorVersion and a digest', { image: `registry.example.com:5000/team/postgres@sha256:${'a'.repeat(64)}`, majorVersion: 16, tls: true }],
];
