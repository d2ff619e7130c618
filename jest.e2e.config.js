/**
 * `npm run e2e`: the suites that build or run a real outside consumer first
 * (Go programs from the module proxy: pgx, Ory Kratos; a Debian root for the
 * Hetzner cloud-init run). Slower than `npm test`; `.ci/run` runs both.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/e2e'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  testMatch: ['**/*.test.ts'],
  testTimeout: 600000,
  maxWorkers: 1,
};
