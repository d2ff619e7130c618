/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  testMatch: ['**/*.test.ts'],
  // The examples import the package by its own name, as a user's program does; under jest that is
  // the sources (one module graph with the tests), as for tsc (self-name imports map to src).
  moduleNameMapper: {
    '^postgres-strategies$': '<rootDir>/src/index.ts',
    '^postgres-strategies/([a-z-]+)$': '<rootDir>/src/$1/index.ts',
  },
  // test/e2e builds or runs outside consumers first: `npm run e2e` (jest.e2e.config.js).
  // Most suites wait on a PostgreSQL child process, a psql or a docker-compose run rather than on
  // the CPU: three workers on two cores keep `npm test` near three minutes (jest's default is one).
  maxWorkers: 3,
  // Tests assert behaviour, not speed (that is `npm run bench`): a mock-runtime evaluation that takes
  // 1 s on a quiet machine can take 10 s on two busy cores, so no test or hook fails on jest's 5 s default.
  testTimeout: 60_000,
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/'],
};
