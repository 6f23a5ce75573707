// Small helpers every test uses to find the repository, the shared folder and the repo's YAML.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';

/**
 * Absolute path of the repository root (this file lives in tests/lib/; its compiled copy in
 * dist/tests/lib/, which tools/cluster imports, so a root named dist beside package.json is skipped).
 */
const nearRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoRoot = path.basename(nearRoot) === 'dist' && existsSync(path.join(nearRoot, '..', 'package.json')) ? path.dirname(nearRoot) : nearRoot;

/** The shared folder (upstream schemas, design notes): `../shared` beside the repo, or $SHARED_DIR. */
export const sharedDir = path.resolve(process.env.SHARED_DIR ?? path.join(repoRoot, '..', 'shared'));

/** Where the upstream CRD and OpenAPI files live (see its SOURCES.md). */
export const schemasDir = path.join(sharedDir, 'schemas');

/** Repo-relative path with forward slashes, for messages and test names. */
export function relativeToRepo(file: string): string {
  return path.relative(repoRoot, path.resolve(repoRoot, file)).split(path.sep).join('/');
}

/**
 * Every non-empty YAML document of a file (path absolute or repo-relative), parsed with the
 * YAML 1.2 core schema (no Date objects, duplicate keys rejected, as the apiserver's strict
 * decoding does). A parse error names the file.
 */
export function loadYamlDocuments(file: string): unknown[] {
  const absolute = path.resolve(repoRoot, file);
  const text = readFileSync(absolute, 'utf8');
  try {
    return loadAll(text, { filename: relativeToRepo(absolute) }).filter((doc) => doc !== null && doc !== undefined);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot parse YAML in ${relativeToRepo(absolute)}: ${message}`);
  }
}

// Build output and installed packages are never the repo's own YAML, even if one slipped into git.
const GENERATED_OR_VENDORED = /(^|\/)(node_modules|dist)\//;

function gitLsFiles(args: string[]): string[] {
  const output = execFileSync('git', ['ls-files', '-z', ...args, '--', '*.yaml', '*.yml'], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  return output.split('\0').filter((line) => line.length > 0);
}

/**
 * Repo-relative paths of the YAML files in git plus untracked files that are not ignored
 * (other engineers' work in progress counts too), sorted, without node_modules/ and dist/,
 * and without tracked files deleted from the work tree.
 */
export function listCommittedYamlFiles(): string[] {
  const files = new Set([...gitLsFiles(['--cached']), ...gitLsFiles(['--others', '--exclude-standard'])]);
  return [...files]
    .filter((file) => !GENERATED_OR_VENDORED.test(file))
    .filter((file) => existsSync(path.join(repoRoot, file)))
    .sort();
}

/** The example claims' names (compositions/examples/claims/<name>.yaml), sorted: tests derive from these, never a fixed list. */
export function exampleClaimNames(): string[] {
  return readdirSync(path.join(repoRoot, 'compositions/examples/claims'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''))
    .sort();
}
