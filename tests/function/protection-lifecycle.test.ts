// Lifecycle: multipart uploads always aborted, noncurrent versions expired whenever versioning is
// on, transitions and expiration as asked; invalid orders rejected with the rule's name and the fix.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { NONCURRENT_VERSION_DEFAULT_DAYS } from '../../functions/secure-bucket/src/core/index.js';
import { exampleClaim, withSpec, type Json } from '../lib/function-fixtures.js';
import { fp, render, renderOk } from './protection-fixtures.js';
import { propertySeed } from '../lib/seed.js';

const scratch = exampleClaim('scratch');

async function rules(claim: ReturnType<typeof exampleClaim>): Promise<Array<Json>> {
  return fp(await renderOk(claim), 'bucket-lifecycle')['rule'] as Json[];
}

const byId = (rs: Json[], id: string) => rs.find((r) => r['id'] === id);

describe('rendered rules', () => {
  it('scratch: only the multipart-abort rule (7 days), whole bucket', async () => {
    const rs = await rules(scratch);
    expect(rs).toEqual([
      { id: 'abort-incomplete-multipart-uploads', status: 'Enabled', filter: [{}], abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }] },
    ]);
  });

  it('sales-events: IA at 30, Glacier IR at 90, expire at 365; not versioned, so no noncurrent rule', async () => {
    const rs = await rules(exampleClaim('sales-events'));
    expect(byId(rs, 'default')).toEqual({
      id: 'default',
      status: 'Enabled',
      filter: [{}],
      transition: [
        { days: 30, storageClass: 'STANDARD_IA' },
        { days: 90, storageClass: 'GLACIER_IR' },
      ],
      expiration: [{ days: 365 }],
    });
    expect(byId(rs, 'noncurrent-versions')).toBeUndefined();
    expect(byId(rs, 'abort-incomplete-multipart-uploads')).toBeDefined();
  });

  it('audit-archive (versioned by lock): noncurrent versions expire after the claim’s 30 days', async () => {
    const rs = await rules(exampleClaim('audit-archive'));
    expect(byId(rs, 'noncurrent-versions')).toMatchObject({
      noncurrentVersionExpiration: [{ noncurrentDays: 30 }],
      expiration: [{ expiredObjectDeleteMarker: true }],
    });
  });

  it(`versioning on without a claim value: noncurrent versions expire after the default ${NONCURRENT_VERSION_DEFAULT_DAYS} days`, async () => {
    const rs = await rules(withSpec(scratch, (s) => (s['versioning'] = 'Enabled')));
    expect(byId(rs, 'noncurrent-versions')?.['noncurrentVersionExpiration']).toEqual([{ noncurrentDays: 90 }]);
  });

  it('per-prefix rules and a custom abort age', async () => {
    const rs = await rules(
      withSpec(scratch, (s) => {
        s['lifecycle'] = {
          abortIncompleteMultipartUploadDays: 2,
          rules: [{ name: 'tmp-cleanup', prefix: 'tmp/', transitions: [{ days: 0, storageClass: 'INTELLIGENT_TIERING' }], expireAfterDays: 14 }],
        };
      }),
    );
    expect(byId(rs, 'abort-incomplete-multipart-uploads')?.['abortIncompleteMultipartUpload']).toEqual([{ daysAfterInitiation: 2 }]);
    expect(byId(rs, 'tmp-cleanup')).toEqual({
      id: 'tmp-cleanup',
      status: 'Enabled',
      filter: [{ prefix: 'tmp/' }],
      transition: [{ days: 0, storageClass: 'INTELLIGENT_TIERING' }],
      expiration: [{ days: 14 }],
    });
  });
});

describe('invalid lifecycles are rejected with the rule name and the fix', () => {
  const cases: Array<[string, Json, RegExp]> = [
    [
      'STANDARD_IA before 30 days',
      { transitions: [{ days: 10, storageClass: 'STANDARD_IA' }] },
      /^spec\.lifecycle\.transitions\[0\]\.days: rule 'default' .*STANDARD_IA after 10 days; AWS needs at least 30\. Fix: set .* to 30 or more/,
    ],
    [
      'back up the waterfall',
      {
        transitions: [
          { days: 30, storageClass: 'GLACIER' },
          { days: 200, storageClass: 'STANDARD_IA' },
        ],
      },
      /^spec\.lifecycle\.transitions\[1\]\.storageClass: rule 'default' moves objects from GLACIER to STANDARD_IA.*Fix: list the transitions of 'default' in that order/,
    ],
    [
      'Glacier 15 days after Standard-IA',
      {
        transitions: [
          { days: 30, storageClass: 'STANDARD_IA' },
          { days: 45, storageClass: 'GLACIER' },
        ],
      },
      /^spec\.lifecycle\.transitions\[1\]\.days: .*must stay 30 days there\. Fix: set .* to 60 or more/,
    ],
    [
      'the same class twice',
      {
        transitions: [
          { days: 0, storageClass: 'GLACIER' },
          { days: 100, storageClass: 'GLACIER' },
        ],
      },
      /transitions\[1\]\.storageClass: rule 'default' moves objects from GLACIER to GLACIER/,
    ],
    [
      'expiration not after the last transition',
      { transitions: [{ days: 30, storageClass: 'DEEP_ARCHIVE' }], expireAfterDays: 30 },
      /^spec\.lifecycle\.expireAfterDays: rule 'default' expires .*DEEP_ARCHIVE at day 30\. Fix: set spec\.lifecycle\.expireAfterDays to 31 or more/,
    ],
    [
      'a per-prefix rule out of order',
      {
        rules: [
          {
            name: 'logs',
            prefix: 'logs/',
            transitions: [
              { days: 0, storageClass: 'DEEP_ARCHIVE' },
              { days: 400, storageClass: 'GLACIER_IR' },
            ],
          },
        ],
      },
      /^spec\.lifecycle\.rules\[0\]\.transitions\[1\]\.storageClass: rule 'logs' moves objects from DEEP_ARCHIVE to GLACIER_IR/,
    ],
    ['a reserved rule name', { rules: [{ name: 'default', prefix: 'a/' }] }, /^spec\.lifecycle\.rules\[0\]\.name: 'default' is reserved/],
    [
      'two rules on one prefix',
      {
        rules: [
          { name: 'a', prefix: 'x/', expireAfterDays: 30 },
          { name: 'b', prefix: 'x/', expireAfterDays: 30 },
        ],
      },
      /^spec\.lifecycle\.rules\[1\]\.prefix: 'x\/' has another rule already\. Fix: merge/,
    ],
    [
      'a per-prefix expiration the whole-bucket expiration would pre-empt',
      { expireAfterDays: 30, rules: [{ name: 'keep', prefix: 'keep/', expireAfterDays: 90 }] },
      /^spec\.lifecycle\.rules\[0\]\.expireAfterDays: rule 'keep' keeps keep\/ for 90 days, but .* deletes every object after 30\. Fix: lower/,
    ],
    [
      'noncurrent expiry on an unversioned bucket',
      { noncurrentVersionExpireAfterDays: 10 },
      /^spec\.lifecycle\.noncurrentVersionExpireAfterDays: is set but the bucket is not versioned.*Fix: remove it, or set spec\.versioning: Enabled/,
    ],
  ];
  it.each(cases)('%s', async (_what, lifecycle, message) => {
    const out = await render(withSpec(scratch, (s) => (s['lifecycle'] = lifecycle)));
    expect(out.fatal).toMatch(message);
  });
});

describe('every lifecycle the function accepts obeys S3’s transition rules (property)', () => {
  const classes = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const;
  it('accepted transitions are strictly later, strictly colder, and IA comes no earlier than day 30', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ days: fc.integer({ min: 0, max: 800 }), storageClass: fc.constantFrom(...classes) }), { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: 1, max: 2000 }), { nil: undefined }),
        async (transitions, expireAfterDays) => {
          const lifecycle: Json = { transitions, ...(expireAfterDays !== undefined ? { expireAfterDays } : {}) };
          const out = await render(withSpec(scratch, (s) => (s['lifecycle'] = lifecycle)));
          if (out.fatal !== undefined) return expect(out.fatal).toMatch(/^spec\.lifecycle\..*rule 'default'.*Fix: /);
          const rendered = byId(fp(out.resources, 'bucket-lifecycle')['rule'] as Json[], 'default')!['transition'] as Array<{
            days: number;
            storageClass: string;
          }>;
          rendered.forEach((t, i) => {
            if (t.storageClass === 'STANDARD_IA') expect(t.days).toBeGreaterThanOrEqual(30);
            const prev = rendered[i - 1];
            if (prev) {
              expect(t.days).toBeGreaterThan(prev.days);
              expect(classes.indexOf(t.storageClass as (typeof classes)[number])).toBeGreaterThan(
                classes.indexOf(prev.storageClass as (typeof classes)[number]),
              );
            }
          });
          if (expireAfterDays !== undefined) expect(expireAfterDays).toBeGreaterThan(rendered[rendered.length - 1]!.days);
        },
      ),
      { numRuns: 150, seed: propertySeed('LIFECYCLE_SEED') },
    );
  });
});
