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
  // The examples import the package by its own name, as a user's program does; under jest that is
  // the sources (one module graph with the tests), as for tsc (self-name imports map to src).
  moduleNameMapper: {
    '^postgres-strategies$': '<rootDir>/src/index.ts',
    '^postgres-strategies/([a-z-]+)$': '<rootDir>/src/$1/index.ts',
  },
  testTimeout: 600000,
  maxWorkers: 1,
};
