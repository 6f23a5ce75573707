// ESM + TypeScript: ts-jest transpiles each file (type checking is `npm run typecheck`).
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 60000,
  // dist/ is rebuilt when stale before any suite runs (several run the built CLIs).
  globalSetup: '<rootDir>/tests/lib/build-dist.js',
};
