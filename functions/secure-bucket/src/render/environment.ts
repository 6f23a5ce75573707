// The platform's EnvironmentConfig as the function would get it: the one named in the
// Composition's step input (or the default), looked up among the --environment file's objects.
import { isObject, type Json } from '../core/fields.js';
import { DEFAULT_ENVIRONMENT_CONFIG } from '../function.js';

export function environmentConfigName(input: Json | undefined): string {
  return typeof input?.['environmentConfigName'] === 'string' ? input['environmentConfigName'] : DEFAULT_ENVIRONMENT_CONFIG;
}

/** The EnvironmentConfig's `data`; throws naming the EnvironmentConfig when there is none. */
export function environmentData(clusterObjects: Json[], input: Json | undefined): unknown {
  const name = environmentConfigName(input);
  const env = clusterObjects.find((o) => o['kind'] === 'EnvironmentConfig' && isObject(o['metadata']) && o['metadata']['name'] === name);
  if (env === undefined) throw new Error(`no EnvironmentConfig named ${name} in the --environment file`);
  return env['data'];
}
