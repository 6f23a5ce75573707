// One schema, two XRDs: the committed XRD files carry exactly compositions/schema/secure-bucket.yaml
// under openAPIV3Schema (make xrds writes them), so the claim API and the namespaced API can
// never drift apart.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { generatedXrds, SCHEMA_SOURCE, withSchema, XRD_FILES } from '../../compositions/generate-xrds.js';
import { readYaml, versionSchema } from '../lib/cel.js';
import { repoRoot } from '../lib/repo.js';
import { XR_VERSION } from './xrds.js';

const schemaText = readFileSync(path.join(repoRoot, SCHEMA_SOURCE), 'utf8');

describe('the XRDs are generated from one schema source', () => {
  it('covers the v1 claim API and the v2 namespaced API', () => {
    expect(XRD_FILES.map((f) => readYaml<{ apiVersion: string }>(f).apiVersion)).toEqual(['apiextensions.crossplane.io/v1', 'apiextensions.crossplane.io/v2']);
  });

  it.each(generatedXrds(repoRoot).map((x) => [x.file, x] as const))('%s is what `make xrds` writes (text, comments included)', (_file, x) => {
    expect(x.current).toBe(x.generated);
  });

  it.each(XRD_FILES.map((f) => [f]))('%s parses to the same openAPIV3Schema as the source', (file) => {
    expect(versionSchema(readYaml(file), XR_VERSION)).toEqual(load(schemaText));
  });

  it('notices a rule changed in one XRD only (the check can fail)', () => {
    const committed = readFileSync(path.join(repoRoot, XRD_FILES[1]!), 'utf8');
    const edited = committed.replace('maxItems: 20', 'maxItems: 200');
    expect(edited).not.toBe(committed);
    expect(withSchema(edited, schemaText)).toBe(committed);
  });

  it('refuses an XRD without an openAPIV3Schema to fill in', () => {
    expect(() => withSchema('apiVersion: v1\nkind: X\n', schemaText)).toThrow(/no openAPIV3Schema/);
  });
});
