// The last line of `make test`: 'N passed, N failed', from jest's --json results. A test file that
// failed to load or crashed has no test results of its own: it counts as one failed test and is
// named, so tests that never ran cannot hide behind a green-looking count.
//   node dist/tools/test-summary.js .test-results.json [jest's exit status]
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface SuiteResult {
  name: string;
  status?: string;
  message?: string;
  testExecError?: { message?: string } | null;
  assertionResults?: unknown[];
}

export interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  numFailedTestSuites?: number;
  testResults?: SuiteResult[];
}

/** Suites that could not run: an exec error, or failed without a single test result. */
export function suitesThatDidNotRun(r: JestJson): SuiteResult[] {
  return (r.testResults ?? []).filter(
    (s) => (s.testExecError !== undefined && s.testExecError !== null) || (s.status === 'failed' && (s.assertionResults ?? []).length === 0),
  );
}

export function summaryLine(r: JestJson, root = process.cwd()): string {
  const broken = suitesThatDidNotRun(r);
  const failed = r.numFailedTests + broken.length;
  const base = `${r.numPassedTests} passed, ${failed} failed`;
  if (broken.length === 0) return base;
  const names = broken.map((s) => path.relative(root, s.name).split(path.sep).join('/'));
  return `${base} (${broken.length} of them test file(s) that failed to load or crashed, their tests not run: ${names.join(', ')})`;
}

function main(argv: string[]): number {
  const file = argv[0] ?? '.test-results.json';
  const status = Number(argv[1] ?? '0');
  if (!existsSync(file)) {
    process.stdout.write(`0 passed, 1 failed (jest wrote no ${file}: it crashed before running any test, exit ${status})\n`);
    return 1;
  }
  const r = JSON.parse(readFileSync(file, 'utf8')) as JestJson;
  process.stdout.write(`${summaryLine(r)}\n`);
  // Jest's own status already fails on a suite that did not run; this keeps it so if jest did not.
  return suitesThatDidNotRun(r).length > 0 || r.numFailedTests > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && path.basename(process.argv[1]) === 'test-summary.js') process.exitCode = main(process.argv.slice(2));
