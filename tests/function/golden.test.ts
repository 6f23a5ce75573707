// What every example claim renders, byte for byte, against the recorded output in tests/golden/:
// a refactor must not change a single byte (a deliberate change re-records with `make golden`).
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '../lib/repo.js';
import { claimsDir } from '../lib/function-fixtures.js';

const cli = path.join(repoRoot, 'dist/functions/secure-bucket/cli/render.js');
const claims = readdirSync(claimsDir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

/** `diff -u` of the recording and the render (make golden re-records an intended change). */
function goldenDiff(file: string, recorded: string, rendered: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'golden-'));
  writeFileSync(path.join(dir, 'rendered.yaml'), rendered);
  const diff = spawnSync(
    'diff',
    ['-u', '--label', `tests/golden/${file}`, '--label', 'rendered', path.join(repoRoot, 'tests/golden', file), path.join(dir, 'rendered.yaml')],
    { encoding: 'utf8' },
  );
  return `${diff.stdout || diff.stderr}\n(make golden re-records an intended change)`;
}

describe('golden renders of the example claims', () => {
  it('every example claim has a recording, and every recording a claim', () => {
    expect(readdirSync(path.join(repoRoot, 'tests/golden')).sort()).toEqual(claims);
  });

  it.each(claims)('%s renders exactly its recording', (file) => {
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'make build' (make test does it)`);
    const run = spawnSync(process.execPath, [cli, '--converge', path.join(claimsDir, file)], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(run.status).toBe(0);
    const recorded = readFileSync(path.join(repoRoot, 'tests/golden', file), 'utf8');
    // A failure here is a changed render, shown as a diff: if the change is intended, re-record with `make golden`.
    expect(run.stdout === recorded ? '' : goldenDiff(file, recorded, run.stdout)).toBe('');
    expect(run.stdout.length).toBeGreaterThan(1000);
  });
});
