/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  testMatch: ['**/*.test.ts'],
  // test/e2e builds or runs outside consumers first: `npm run e2e` (jest.e2e.config.js).
  // Most suites wait on a PostgreSQL child process, a psql or a docker-compose run rather than on
  // the CPU: three workers on two cores keep `npm test` near three minutes (jest's default is one).
  maxWorkers: 3,
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/e2e/'],
};
