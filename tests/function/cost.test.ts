// render --cost: a monthly estimate in USD for what each example claim creates, next to the same
// traffic through a NAT gateway, priced from the committed table. The figures are checked against
// the table and the rendered resources, not against numbers copied from the output.
import { beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { claimsDir, exampleClaims } from '../lib/function-fixtures.js';
import { assertBuilt, render } from '../lib/render-cli.js';
import { repoRoot } from '../lib/repo.js';
import { DEFAULT_ASSUMPTIONS, estimateCost, staysOf } from '../../functions/secure-bucket/cli/cost.js';
import { DEFAULT_PRICE_TABLE, pricesFor, readPriceTable } from '../../functions/secure-bucket/cli/prices.js';
import type { Lifecycle } from '../../functions/secure-bucket/src/core/index.js';

beforeAll(assertBuilt);

const table = readPriceTable(path.join(repoRoot, DEFAULT_PRICE_TABLE));
const usd = (text: string, label: string): number => {
  const m = new RegExp(`${label}\\s+([0-9,]+\\.[0-9]{2}) USD`).exec(text);
  if (!m) throw new Error(`no '${label} ... USD' line in:\n${text}`);
  return Number((m[1] as string).replace(/,/g, ''));
};
const lineSum = (text: string): number =>
  text
    .split('\n')
    .filter((l) => /^ {2}\S/.test(l) || /^ {4}\S/.test(l))
    .filter((l) => !/^ {2}(item|total)/.test(l) && !/^ {2}(NAT|The gateway|storage at)/.test(l) && !/^ {2}\d+% of/.test(l))
    .map((l) => Number((/([0-9,]+\.[0-9]{2})$/.exec(l)?.[1] ?? 'NaN').replace(/,/g, '')))
    .reduce((a, b) => a + b, 0);

describe.each(exampleClaims().map((c) => [c.file]))('render --cost %s', (file) => {
  const gb = 250;
  const run = render(['--cost', '--gb-per-month', String(gb), path.join(claimsDir, file)]);

  it("prints a total in USD with the NAT comparison, from the table's region, source and date", () => {
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const region = /\(([a-z]{2}-[a-z]+-\d)\), /.exec(run.stdout)?.[1] as string;
    const p = pricesFor(table, region);
    const total = usd(run.stdout, 'total with the S3 gateway endpoint');
    const nat = usd(run.stdout, 'total through a NAT gateway');
    expect(total).toBeGreaterThan(0);
    // Reads and writes both cross the NAT: the difference is exactly its data-processing charge.
    const traffic = gb * (1 + DEFAULT_ASSUMPTIONS.readsPerGbWritten);
    expect(nat - total).toBeCloseTo(traffic * p.natGateway.perGbProcessed, 1);
    expect(run.stdout).toContain(`as of ${table.asOf}`);
    expect(run.stdout).toContain(table.sources['s3']);
    expect(run.stdout).toMatch(/Assumptions: objects of \d+ MiB/);
    // The total is the sum of the printed lines (rounding aside).
    expect(Math.abs(lineSum(run.stdout) - total)).toBeLessThan(0.1);
  });

  it('doubling the data doubles the variable part, the fixed part (keys, alarms, metrics) stays', () => {
    const at = (n: number) => usd(render(['--cost', '--gb-per-month', String(n), path.join(claimsDir, file)]).stdout, 'total with the S3 gateway endpoint');
    const fixed = at(0);
    expect(fixed).toBeGreaterThanOrEqual(1); // at least one KMS key
    expect(at(2 * gb) - fixed).toBeCloseTo(2 * (usd(run.stdout, 'total with the S3 gateway endpoint') - fixed), 0);
  });
});

describe('the price table', () => {
  it('names its sources and date and prices every region the examples and clusters use', () => {
    expect(Object.values(table.sources).every((s) => s.startsWith('https://aws.amazon.com/'))).toBe(true);
    for (const region of ['us-east-1', 'eu-west-1', 'us-west-2']) expect(() => pricesFor(table, region)).not.toThrow();
    expect(() => pricesFor(table, 'ap-south-2')).toThrow(/no prices for ap-south-2/);
  });
});

describe('storage over the lifecycle', () => {
  const lifecycle = (transitions: Lifecycle['transitions'], expireAfterDays?: number): Lifecycle => ({
    transitions,
    abortIncompleteMultipartUploadDays: 7,
    rules: [],
    ...(expireAfterDays ? { expireAfterDays } : {}),
  });

  it('each GB sits in STANDARD, then each class, until it expires', () => {
    expect(staysOf(lifecycle([{ days: 30, storageClass: 'STANDARD_IA' }], 100), 730)).toEqual([
      { storageClass: 'STANDARD', from: 0, to: 30 },
      { storageClass: 'STANDARD_IA', from: 30, to: 100 },
    ]);
  });

  it('a class left before its minimum stay is billed for the minimum, with a note', () => {
    const spec = { region: 'us-east-1', lifecycle: lifecycle([{ days: 30, storageClass: 'GLACIER_IR' }], 60) };
    const e = estimateCost({ claim: 't/x', spec, resources: {} }, table);
    expect(e.lines.some((l) => /GLACIER_IR minimum stay \(90 days\)/.test(l.item))).toBe(true);
    expect(e.notes.join('\n')).toMatch(/GLACIER_IR keeps objects 30 days but bills at least 90/);
    const longer = estimateCost(
      { claim: 't/x', spec: { ...spec, lifecycle: lifecycle([{ days: 30, storageClass: 'GLACIER_IR' }], 120) }, resources: {} },
      table,
    );
    expect(longer.notes.join('\n')).not.toMatch(/minimum/);
  });
});
