// Turns AWS's published ip-ranges.json into the platform's list of S3 address ranges per region.
// The NetworkPolicies allow egress to exactly these ranges on 443; the S3 gateway endpoint routes
// the same prefixes (its prefix list), so a pod with the policy still reaches S3.
//
//   node dist/cdk8s/s3-ranges.js <ip-ranges.json> <region>... [--out cdk8s/s3-ranges.yaml]
import { readFileSync, writeFileSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { pathToFileURL } from 'node:url';
import { dump } from 'js-yaml';

export interface RegionRanges {
  ipv4: string[];
  ipv6: string[];
}

export interface S3RangesFile {
  source: { syncToken: string; createDate: string };
  regions: Record<string, RegionRanges>;
}

const S3_SERVICE = 'S3';

function entries(doc: Record<string, unknown>, key: string): Array<Record<string, unknown>> {
  const list = doc[key];
  if (!Array.isArray(list)) throw new Error(`ip-ranges.json: '${key}' must be a list`);
  return list.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null);
}

function checkedCidr(value: unknown, family: 4 | 6): string {
  const text = String(value);
  const [address, bits, extra] = text.split('/');
  const max = family === 4 ? 32 : 128;
  const ok =
    extra === undefined &&
    address !== undefined &&
    (family === 4 ? isIPv4(address) : isIPv6(address)) &&
    bits !== undefined &&
    /^[0-9]{1,3}$/.test(bits) &&
    Number(bits) <= max;
  if (!ok) throw new Error(`ip-ranges.json: '${text}' is not an IPv${family} CIDR`);
  return text;
}

function ipv4Key(cidr: string): number {
  const [address = '', bits = '0'] = cidr.split('/');
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0) * 64 + Number(bits);
}

/** The S3 prefixes of one region (service "S3" only: "AMAZON" is the superset of all services). */
export function s3Prefixes(ipRanges: unknown, region: string): RegionRanges {
  if (typeof ipRanges !== 'object' || ipRanges === null) throw new Error('ip-ranges.json: not a JSON object');
  const doc = ipRanges as Record<string, unknown>;
  const pick = (key: string, field: string, family: 4 | 6) => [
    ...new Set(
      entries(doc, key)
        .filter((e) => e['service'] === S3_SERVICE && e['region'] === region)
        .map((e) => checkedCidr(e[field], family)),
    ),
  ];
  return {
    ipv4: pick('prefixes', 'ip_prefix', 4).sort((a, b) => ipv4Key(a) - ipv4Key(b)),
    ipv6: pick('ipv6_prefixes', 'ipv6_prefix', 6).sort(),
  };
}

export function buildS3RangesFile(ipRanges: unknown, regions: string[]): S3RangesFile {
  const doc = ipRanges as Record<string, unknown>;
  const out: S3RangesFile = { source: { syncToken: String(doc['syncToken']), createDate: String(doc['createDate']) }, regions: {} };
  for (const region of [...regions].sort()) {
    const ranges = s3Prefixes(ipRanges, region);
    if (ranges.ipv4.length === 0) throw new Error(`ip-ranges.json lists no S3 prefix for region '${region}'`);
    out.regions[region] = ranges;
  }
  return out;
}

export const S3_RANGES_CONFIG_NAME = 'secure-bucket-s3-ranges';

/** An EnvironmentConfig, the shape the list takes once the function's environment carries it. */
export function renderS3RangesFile(file: S3RangesFile): string {
  const config = { apiVersion: 'apiextensions.crossplane.io/v1beta1', kind: 'EnvironmentConfig', metadata: { name: S3_RANGES_CONFIG_NAME }, data: file };
  return (
    '# Generated from AWS ip-ranges.json (service S3) by `node dist/cdk8s/s3-ranges.js <ip-ranges.json> <region>... --out cdk8s/s3-ranges.yaml`.\n' +
    '# Do not edit: regenerate when AWS publishes new ranges (syncToken below). Read by cdk8s at synth time, not applied.\n' +
    dump(config, { lineWidth: -1, noRefs: true })
  );
}

function main(argv: string[]): void {
  const outAt = argv.indexOf('--out');
  const out = outAt >= 0 ? argv[outAt + 1] : undefined;
  const rest = argv.filter((_, i) => outAt < 0 || (i !== outAt && i !== outAt + 1));
  const [input, ...regions] = rest;
  if (input === undefined || regions.length === 0) {
    process.stderr.write('usage: s3-ranges <ip-ranges.json> <region>... [--out FILE]\n');
    process.exit(2);
  }
  const text = renderS3RangesFile(buildS3RangesFile(JSON.parse(readFileSync(input, 'utf8')), regions));
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
