// Both XRDs of the platform API, for the tests that must hold for each: the v1 claim API
// (LegacyCluster) and the namespaced v2 API serve one schema (compositions/schema/).
import { readYaml, versionSchema, type Schema } from '../lib/cel.js';
import { XRD_FILES } from '../../compositions/generate-xrds.js';

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
}
export interface XrdDoc {
  apiVersion: string;
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; plural: string };
    claimNames?: { kind: string; plural: string };
    scope: string;
    defaultCompositionRef?: { name: string };
    enforcedCompositionRef?: { name: string };
    versions: Array<{ name: string; served: boolean; referenceable: boolean; additionalPrinterColumns?: PrinterColumn[] }>;
  };
}
export interface XrdUnderTest {
  file: string;
  xrd: XrdDoc;
  root: Schema;
  spec: Schema;
  status: Schema;
}

/** The served version of both XRDs. */
export const XR_VERSION = 'v1alpha1';

export const XRDS: XrdUnderTest[] = XRD_FILES.map((file) => {
  const xrd = readYaml<XrdDoc>(file);
  const root = versionSchema(xrd, XR_VERSION);
  return { file, xrd, root, spec: root.properties?.['spec'] as Schema, status: root.properties?.['status'] as Schema };
});

/** For describe.each: [file, xrd]. */
export const eachXrd = XRDS.map((x) => [x.file, x] as const);
