// ESM + TypeScript: ts-jest transpiles each file (type checking is `npm run typecheck`).
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // tests/e2e needs a running control plane: only make e2e (E2E=1) runs it.
  testPathIgnorePatterns: process.env.E2E === '1' ? ['/node_modules/'] : ['/node_modules/', '<rootDir>/tests/e2e/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 60000,
  // dist/ is rebuilt when stale before any suite runs (several run the built CLIs).
  globalSetup: '<rootDir>/tests/lib/build-dist.js',
};
