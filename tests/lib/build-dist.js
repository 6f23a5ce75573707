// jest globalSetup: suites that run the built CLIs (dist/) get a dist/ built from the sources they
// test: `make build-if-stale` rebuilds only when a source is newer than the last build.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function buildDist() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  execFileSync('make', ['-s', 'build-if-stale'], { cwd: root, stdio: 'inherit' });
}
