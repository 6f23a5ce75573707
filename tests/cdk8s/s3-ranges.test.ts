import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { load } from 'js-yaml';
import { buildS3RangesFile, renderS3RangesFile, s3Prefixes } from '../../cdk8s/s3-ranges.js';
import { loadModels } from '../../cdk8s/synth.js';
import { repoRoot } from '../lib/repo.js';

const fixture = JSON.parse(readFileSync(path.join(repoRoot, 'tests/fixtures/ip-ranges.json'), 'utf8')) as Record<string, unknown>;

describe('S3 ranges from AWS ip-ranges.json', () => {
  // The fixture mixes in what must be left out: the same prefixes under service AMAZON, EC2 of the
  // region, S3 of other regions, a duplicate S3 entry, and IPv6 of another service.
  it('yields exactly the S3 prefixes of the region, deduplicated and sorted', () => {
    expect(s3Prefixes(fixture, 'us-east-1')).toEqual({
      ipv4: ['16.15.192.0/18', '18.34.0.0/19', '52.216.0.0/15', '54.231.0.0/16'],
      ipv6: ['2600:1fec:b400::/48', '2600:1ff4:8000::/39'],
    });
    expect(s3Prefixes(fixture, 'eu-west-1').ipv4).toEqual(['3.5.72.0/23', '52.218.0.0/17']);
    expect(s3Prefixes(fixture, 'us-east-2').ipv6).toEqual([]);
  });

  it('refuses a region without S3 prefixes and malformed prefixes', () => {
    expect(() => buildS3RangesFile(fixture, ['ap-south-7'])).toThrow(/no S3 prefix for region 'ap-south-7'/);
    const broken = { ...fixture, prefixes: [{ ip_prefix: '52.216.0.0/33', region: 'us-east-1', service: 'S3' }] };
    expect(() => s3Prefixes(broken, 'us-east-1')).toThrow(/not an IPv4 CIDR/);
  });

  it('renders an EnvironmentConfig that names its source and reads back to the same lists', () => {
    const text = renderS3RangesFile(buildS3RangesFile(fixture, ['us-east-1', 'eu-west-1']));
    const doc = load(text) as { kind: string; data: { source: { syncToken: string }; regions: Record<string, unknown> } };
    expect(doc.kind).toBe('EnvironmentConfig');
    expect(doc.data.source.syncToken).toBe(fixture['syncToken']);
    expect(doc.data.regions['us-east-1']).toEqual(s3Prefixes(fixture, 'us-east-1'));
  });

  it('the committed cdk8s/s3-ranges.yaml covers the region of every committed claim', () => {
    const doc = load(readFileSync(path.join(repoRoot, 'cdk8s/s3-ranges.yaml'), 'utf8')) as { data: { regions: Record<string, { ipv4: string[] }> } };
    const regions = [...new Set(loadModels({ repoRoot }).map((m) => m.spec.region))];
    expect(regions.length).toBeGreaterThan(0);
    expect(regions.filter((r) => (doc.data.regions[r]?.ipv4.length ?? 0) === 0)).toEqual([]);
  });
});
