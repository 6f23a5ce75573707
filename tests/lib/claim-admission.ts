// What the apiserver says of a claim's spec, behind one function so the validator can be swapped:
// the real one (`crossplane resource validate` of the pinned CLI: the apiextensions-apiserver's
// schema checks, defaulting and CEL) when its binary and Crossplane core's CRDs are at hand, else
// the home-made stand-in (ajv with the apiserver's defaulting + the CEL engine of tests/lib/cel.ts).
//   CROSSPLANE_BIN        the crossplane CLI (default: .upstream/bin/crossplane of this checkout)
//   CROSSPLANE_CORE_CRDS  Crossplane core's cluster/crds (default: the Go module cache's, per upstream/versions.env)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dump } from 'js-yaml';
import { compileSchema, readYaml, validateLikeApiserver, versionSchema } from './cel.js';
import { repoRoot } from './repo.js';

type Json = Record<string, unknown>;

export interface Verdict {
  admitted: boolean;
  /** Why not, as the validator words it. */
  reasons: string[];
}

export interface ClaimValidator {
  /** Which validator answered (printed by the tests that use it). */
  name: string;
  /** One verdict per spec, in order: each as the spec of a new XSecureBucketClaim. */
  admit(specs: Json[]): Promise<Verdict[]>;
}

const XRD = 'compositions/definition.yaml';
const CLAIM_API_VERSION = 'platform.example.org/v1alpha1';

function pin(name: string): string | undefined {
  const file = path.join(repoRoot, 'upstream/versions.env');
  if (!existsSync(file)) return undefined;
  return new RegExp(`^${name}=(.+)$`, 'm').exec(readFileSync(file, 'utf8'))?.[1]?.trim();
}

function coreCrds(): string | undefined {
  if (process.env['CROSSPLANE_CORE_CRDS']) return process.env['CROSSPLANE_CORE_CRDS'];
  const version = pin('CROSSPLANE_CORE_VERSION');
  if (version === undefined) return undefined;
  try {
    const modCache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
    return path.join(modCache, `github.com/crossplane/crossplane/v2@${version}`, 'cluster/crds');
  } catch {
    return undefined;
  }
}

/** The real validator, or undefined when its binary or core's CRDs are missing. */
function crossplaneValidator(): ClaimValidator | undefined {
  const bin = process.env['CROSSPLANE_BIN'] ?? path.join(repoRoot, '.upstream/bin/crossplane');
  const crds = coreCrds();
  if (!existsSync(bin) || crds === undefined || !existsSync(crds)) return undefined;
  const work = mkdtempSync(path.join(tmpdir(), 'claim-admission-'));
  // Seeded as the cached "crossplane image" (cache.go reads <cache>/<image ':'->'@'>/package.yaml): nothing is downloaded.
  const image = 'xpkg.crossplane.io/crossplane/crossplane:v0.0.0-seeded';
  const seeded = path.join(work, 'cache', image.replace(/:([^:]+)$/, '@$1'));
  mkdirSync(seeded, { recursive: true });
  const files = readdirSync(crds)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  writeFileSync(path.join(seeded, 'package.yaml'), files.map((f) => readFileSync(path.join(crds, f), 'utf8')).join('\n---\n'));
  return {
    name: `crossplane resource validate (${bin})`,
    async admit(specs) {
      const file = path.join(work, `claims-${Date.now()}.yaml`);
      const objects = specs.map((spec, i) => ({
        apiVersion: CLAIM_API_VERSION,
        kind: 'XSecureBucketClaim',
        metadata: { name: `r${i}`, namespace: 'team-fuzz' },
        spec,
      }));
      // JSON round trip: structuredClone under jest makes objects of another realm, which js-yaml refuses.
      writeFileSync(file, objects.map((o) => `---\n${dump(JSON.parse(JSON.stringify(o)), { lineWidth: -1, noRefs: true })}`).join(''));
      const ran = spawnSync(
        bin,
        ['resource', 'validate', path.join(repoRoot, XRD), file, '--cache-dir', path.join(work, 'cache'), '--crossplane-image', image, '-o', 'json'],
        {
          encoding: 'utf8',
          maxBuffer: 256 * 1024 * 1024,
        },
      );
      const start = ran.stdout.indexOf('{');
      if (start < 0) throw new Error(`crossplane resource validate printed no report (exit ${String(ran.status)}):\n${ran.stderr}`);
      const report = JSON.parse(ran.stdout.slice(start)) as { resources: Array<{ name: string; status: string; errors?: Array<{ message: string }> }> };
      const byName = new Map(report.resources.map((r) => [r.name, r]));
      return objects.map((o) => {
        const r = byName.get(o.metadata.name);
        if (r === undefined) throw new Error(`no result for ${o.metadata.name}`);
        return { admitted: r.status === 'valid', reasons: (r.errors ?? []).map((e) => e.message) };
      });
    },
  };
}

/** The stand-in: the XRD's v1alpha1 schema with the apiserver's defaulting and strict fields, then its CEL rules. */
function homeMadeValidator(): ClaimValidator {
  const root = versionSchema(readYaml(XRD), 'v1alpha1');
  const validate = compileSchema(root);
  return {
    name: 'tests/lib/schema-validator + tests/lib/cel (stand-in: the real validator was not found)',
    admit(specs) {
      return Promise.resolve(
        specs.map((spec) => {
          const { schemaErrors, celViolations } = validateLikeApiserver(validate, root, { spec });
          const reasons = [...schemaErrors, ...celViolations.map((v) => `${v.path}: ${v.message}`)];
          return { admitted: reasons.length === 0, reasons };
        }),
      );
    },
  };
}

/** The real validator when present, else the stand-in; CLAIM_VALIDATOR=home-made forces the stand-in. */
export function claimValidator(): ClaimValidator {
  if (process.env['CLAIM_VALIDATOR'] === 'home-made') return homeMadeValidator();
  return crossplaneValidator() ?? homeMadeValidator();
}
