// upstream/versions.env is the one place upstream versions are pinned: the wrapper modules build
// exactly those versions, the binaries in .upstream/bin are those builds, and function-auto-ready
// is the release the clusters install.
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadYamlDocuments, repoRoot } from '../lib/repo.js';
import { upstreamBinary, upstreamPins } from '../lib/upstream.js';

const pins = upstreamPins();
const goMod = (dir: string) => readFileSync(path.join(repoRoot, 'upstream', dir, 'go.mod'), 'utf8');
const stamp = (name: string) => readFileSync(path.join(repoRoot, '.upstream/stamps', name), 'utf8').trim();
type Pkg = { kind: string; metadata: { name: string }; spec: { package: string; dependsOn?: Array<{ package: string; version: string }> } };

describe('upstream/versions.env', () => {
  it('pins the CLI, core and function-auto-ready to exact versions', () => {
    for (const key of ['CROSSPLANE_CLI_VERSION', 'CROSSPLANE_CORE_VERSION', 'FUNCTION_AUTO_READY_VERSION']) expect(pins[key]).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  it('is what the wrapper modules require (no second pin in a go.mod)', () => {
    // A direct require, alone or in a block: `require M V` or `\tM V`.
    const requires = (dir: string, module: string, version: string | undefined) =>
      expect(goMod(dir)).toMatch(new RegExp(`^(require )?\\s*${module.replace(/[.]/g, '\\.')} ${version}( // indirect)?$`, 'm'));
    requires('cli', pins['CROSSPLANE_CLI_MODULE']!, pins['CROSSPLANE_CLI_VERSION']);
    requires('core', pins['CROSSPLANE_CORE_MODULE']!, pins['CROSSPLANE_CORE_VERSION']);
    // apis/v2 at the same tag: core's own replace => ./apis does not apply to a dependency.
    requires('core', 'github.com/crossplane/crossplane/apis/v2', pins['CROSSPLANE_CORE_VERSION']);
    requires('function-auto-ready', pins['FUNCTION_AUTO_READY_MODULE']!, pins['FUNCTION_AUTO_READY_VERSION']);
    expect(goMod('function-auto-ready')).toContain(
      `${pins['FUNCTION_AUTO_READY_MODULE']} => ${pins['FUNCTION_AUTO_READY_SOURCE']} ${pins['FUNCTION_AUTO_READY_VERSION']}`,
    );
  });

  it('pins the function-auto-ready the clusters install and the Configuration depends on', () => {
    const installed = (loadYamlDocuments('clusters/base/crossplane-packages/functions.yaml') as Pkg[]).find((f) => f.metadata.name === 'function-auto-ready')!;
    expect(installed.spec.package).toBe(`xpkg.crossplane.io/crossplane-contrib/function-auto-ready:${pins['FUNCTION_AUTO_READY_VERSION']}`);
    const forRender = (loadYamlDocuments('compositions/examples/functions.yaml') as Pkg[]).find((f) => f.metadata.name === 'function-auto-ready')!;
    expect(forRender.spec.package).toBe(installed.spec.package);
    const meta = loadYamlDocuments('compositions/crossplane.yaml')[0] as Pkg;
    expect(meta.spec.dependsOn!.find((d) => d.package.endsWith('/function-auto-ready'))!.version).toBe(pins['FUNCTION_AUTO_READY_VERSION']);
  });
});

describe('.upstream/bin (make upstream)', () => {
  it.each([
    ['crossplane', `${pins['CROSSPLANE_CLI_MODULE']}@${pins['CROSSPLANE_CLI_VERSION']}`],
    ['crossplane-core', `${pins['CROSSPLANE_CORE_MODULE']}@${pins['CROSSPLANE_CORE_VERSION']}`],
    ['function-auto-ready', `${pins['FUNCTION_AUTO_READY_SOURCE']}@${pins['FUNCTION_AUTO_READY_VERSION']}`],
  ])('%s was built from its pin (%s)', (name, pin) => {
    upstreamBinary(name as 'crossplane');
    expect(stamp(name)).toBe(pin);
  });

  it('the CLI and core report the pinned versions (the version ldflag is set)', () => {
    expect(execFileSync(upstreamBinary('crossplane'), ['version', '--client'], { encoding: 'utf8' })).toContain(pins['CROSSPLANE_CLI_VERSION']);
    expect(execFileSync(upstreamBinary('crossplane-core'), ['--version'], { encoding: 'utf8' })).toContain(pins['CROSSPLANE_CORE_VERSION']);
  });
});
