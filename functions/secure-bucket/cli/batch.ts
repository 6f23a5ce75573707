// Renders loaded claims through the real function on loopback (one server for all of them), and
// prints the result as YAML or as the JSON document described in the README.
import { dump } from 'js-yaml';
import { startLocalFunction } from './control-plane/index.js';
import type { Json } from '../src/core/index.js';
import { runFunction } from '../src/function.js';
import { claimId, type LoadError, type LoadedClaim } from './inputs.js';
import { renderClaim, type RenderedClaim, type RenderOptions } from './control-plane/index.js';

export interface ClaimOutput {
  loaded: LoadedClaim;
  rendered: RenderedClaim;
}

export async function renderAll(claims: LoadedClaim[], opts: RenderOptions): Promise<ClaimOutput[]> {
  if (claims.length === 0) return [];
  const fn = await startLocalFunction(runFunction);
  try {
    const out: ClaimOutput[] = [];
    for (const loaded of claims) out.push({ loaded, rendered: await renderClaim(fn.client, loaded.claim, opts) });
    return out;
  } finally {
    await fn.stop();
  }
}

/** The resource as `crossplane render` prints it: named after its composition resource name. */
function printable(rendered: RenderedClaim, name: string, resource: Json): Json {
  const metadata = (resource['metadata'] ?? {}) as Json;
  const xrName = (rendered.composite['metadata'] as Json)['name'] as string;
  return {
    ...resource,
    metadata: {
      ...metadata,
      generateName: `${xrName}-`,
      annotations: { ...((metadata['annotations'] as Json | undefined) ?? {}), 'crossplane.io/composition-resource-name': name },
    },
  };
}

/** One YAML document per resource of every claim that rendered. */
export function asYaml(outputs: ClaimOutput[]): string {
  return outputs
    .filter((o) => !o.rendered.fatal)
    .flatMap(({ rendered }) => Object.entries(rendered.resources).map(([n, r]) => `---\n${dump(printable(rendered, n, r), { lineWidth: -1, noRefs: true })}`))
    .join('');
}

/** Always `{claims: [...], errors: [...]}`, whatever the number of claims (README: render --output json). */
export function asJson(outputs: ClaimOutput[], loadErrors: LoadError[], preview?: string): string {
  const claims = outputs
    .filter((o) => !o.rendered.fatal)
    .map(({ loaded, rendered }) => ({
      claim: { namespace: loaded.claim.metadata.namespace, name: loaded.claim.metadata.name, file: loaded.file },
      resources: Object.entries(rendered.resources).map(([n, r]) => printable(rendered, n, r)),
      status: rendered.status,
      results: rendered.results,
      passes: rendered.passes,
    }));
  const errors: LoadError[] = [
    ...loadErrors,
    ...outputs.filter((o) => o.rendered.fatal).map((o) => ({ source: claimId(o.loaded.claim), message: o.rendered.fatal as string })),
  ];
  return `${JSON.stringify({ ...(preview !== undefined ? { preview } : {}), claims, errors }, null, 2)}\n`;
}
