// The pinned upstream binaries (upstream/versions.env, built into .upstream/bin by `make upstream`)
// for the tests that run the real Crossplane tools. A missing binary or Go toolchain is a failure
// that says how to fix it, never a skip: these suites are the evidence that our emulation holds.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export { runUpstream, upstreamBinary, upstreamPins, type Ran, type UpstreamBinary } from '../../functions/secure-bucket/cli/upstream.js';
import { upstreamPins } from '../../functions/secure-bucket/cli/upstream.js';

/** Crossplane core's own CRDs (cluster/crds of the pinned core module), from the Go module cache the build filled. */
export function coreCrdsDir(): string {
  let modCache: string;
  try {
    modCache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('the Go toolchain is missing: the core CRDs come from the module cache of `make upstream`');
  }
  const dir = path.join(modCache, `github.com/crossplane/crossplane/v2@${upstreamPins()['CROSSPLANE_CORE_VERSION']}`, 'cluster/crds');
  if (!existsSync(dir)) throw new Error(`${dir} is missing: run \`make upstream\``);
  return dir;
}
