// Claim files in: files or folders of them. A file that is missing or does not parse is reported
// by name and skipped, so the other claims still render (the CLI exits 1 at the end).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { isObject } from '../src/core/index.js';
import { asClaim, type Claim } from './control-plane/index.js';
import { isNamespacedXrDocument } from './xr/namespaced.js';

export interface LoadedClaim {
  claim: Claim;
  file: string;
}

export interface LoadError {
  source: string;
  message: string;
}

export interface LoadedClaims {
  claims: LoadedClaim[];
  /** One per file (or document) that could not be read; the message starts with the file's name. */
  errors: LoadError[];
}

export function readYamlDocuments(file: string): unknown[] {
  return loadAll(readFileSync(file, 'utf8'), { filename: file }).filter((d) => d !== null && d !== undefined);
}

/** YAML files under a folder, in path order; `generated/` (cdk8s output) and dot-folders skipped. */
function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) return e.name === 'generated' || e.name.startsWith('.') ? [] : yamlFilesUnder(full);
      return /\.ya?ml$/.test(e.name) ? [full] : [];
    })
    .sort();
}

function describeError(file: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT') return `${file}: no such file or folder`;
  if (e.code === 'EACCES') return `${file}: permission denied`;
  if ((err as { name?: string }).name === 'YAMLException') return `${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A file named on the command line must hold only claims (anything else is an error naming it);
 * in a folder, documents of other kinds (kustomization.yaml, EnvironmentConfigs) are skipped.
 */
export function loadClaims(inputs: string[]): LoadedClaims {
  const out: LoadedClaims = { claims: [], errors: [] };
  const readFile = (file: string, strict: boolean) => {
    try {
      for (const doc of readYamlDocuments(file)) {
        if (!strict && !(isObject(doc) && (doc['kind'] === 'XSecureBucketClaim' || isNamespacedXrDocument(doc)))) continue;
        try {
          out.claims.push({ claim: asClaim(doc, file), file });
        } catch (err) {
          out.errors.push({ source: file, message: describeError(file, err) });
        }
      }
    } catch (err) {
      out.errors.push({ source: file, message: describeError(file, err) });
    }
  };
  for (const input of inputs) {
    let isDir: boolean;
    try {
      isDir = statSync(input).isDirectory();
    } catch (err) {
      out.errors.push({ source: input, message: describeError(input, err) });
      continue;
    }
    if (isDir) for (const file of yamlFilesUnder(input)) readFile(file, false);
    else readFile(input, true);
  }
  return out;
}

export const claimId = (claim: Claim): string => `${claim.metadata.namespace}/${claim.metadata.name}`;
