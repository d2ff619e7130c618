/**
 * The `pulumi config set` lines `npm run server` prints for examples/shared,
 * as the tests of both flavours expect them for the admin URL and CA file it
 * printed (test/integration/server-cli.test.ts, test/e2e/docker-server.test.ts).
 */
export function expectedConfigLines(adminUrl: string, caFile: string): string[] {
  const url = new URL(adminUrl);
  return [
    `pulumi config set postgres-strategies:host ${url.hostname}`,
    `pulumi config set postgres-strategies:port ${url.port}`,
    'pulumi config set postgres-strategies:adminUser postgres',
    `pulumi config set --secret postgres-strategies:adminPassword ${decodeURIComponent(url.password)}`,
    'pulumi config set postgres-strategies:adminIsSuperuser true',
    'pulumi config set postgres-strategies:kind self-managed',
    'pulumi config set postgres-strategies:sslmode verify-full',
    `pulumi config set postgres-strategies:sslrootcert ${caFile}`,
    'pulumi config set postgres-strategies:maxConnections 100',
  ];
}
