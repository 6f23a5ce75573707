// `make xrds`: copies the one schema source (schema/secure-bucket.yaml) under the
// openAPIV3Schema of each XRD, as text, so its comments travel with it and a diff shows exactly
// what changed. Everything else in an XRD file (names, scope, printer columns) is edited there.
//   node dist/compositions/generate-xrds.js [--check] [--root <repo>]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generatorMain } from './generator-main.js';

export const SCHEMA_SOURCE = 'compositions/schema/secure-bucket.yaml';
/** v1 (LegacyCluster, with the claim) and v2 (Namespaced): one API, two scopes. */
export const XRD_FILES = ['compositions/definition.yaml', 'compositions/definition-v2.yaml'];

const SCHEMA_KEY = /^( *)openAPIV3Schema:\s*$/;
const indentOf = (line: string): number => line.length - line.trimStart().length;

/** The schema's lines without the source's own leading comment block (it describes the file). */
function schemaBody(schemaText: string): string[] {
  const lines = schemaText.replace(/\n+$/, '').split('\n');
  const first = lines.findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  return lines.slice(first);
}

/** `xrdText` with the block under every `openAPIV3Schema:` replaced by the schema source. */
export function withSchema(xrdText: string, schemaText: string): string {
  const lines = xrdText.replace(/\n+$/, '').split('\n');
  const body = schemaBody(schemaText);
  const out: string[] = [];
  let replaced = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    out.push(line);
    const key = SCHEMA_KEY.exec(line);
    if (!key) continue;
    const pad = ' '.repeat(key[1]!.length + 2);
    out.push(...body.map((l) => (l === '' ? '' : pad + l)));
    // Skip the old block: every following line indented deeper than the key (or blank).
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || indentOf(lines[i + 1]!) > key[1]!.length)) i++;
    replaced++;
  }
  if (replaced === 0) throw new Error('no openAPIV3Schema: key to fill in');
  return `${out.join('\n')}\n`;
}

/** Each XRD file and its text with the current schema. */
export function generatedXrds(repoRoot: string): Array<{ file: string; current: string; generated: string }> {
  const schema = readFileSync(path.join(repoRoot, SCHEMA_SOURCE), 'utf8');
  return XRD_FILES.map((file) => {
    const current = readFileSync(path.join(repoRoot, file), 'utf8');
    return { file, current, generated: withSchema(current, schema) };
  });
}

function main(argv: string[]): number {
  return generatorMain(argv, import.meta.url, SCHEMA_SOURCE, generatedXrds);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
