// The S3 host names a claim's consumers dial (virtual-hosted style and access points), built from
// the same names the function gives the bucket and access points.
import {
  accessPointName,
  bucketName,
  type BucketSpec,
  type ClaimIdentity,
  type PlatformEnvironment,
  shortHash,
} from '../functions/secure-bucket/src/core/index.js';

export function dnsSuffix(partition: string): string {
  return partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
}

export function stsHost(env: PlatformEnvironment, region: string): string {
  return `sts.${region}.${dnsSuffix(env.partition)}`;
}

export function s3Hosts(identity: ClaimIdentity, spec: BucketSpec, env: PlatformEnvironment): string[] {
  const suffix = dnsSuffix(env.partition);
  const hosts = [`${bucketName(identity, spec, env)}.s3.${spec.region}.${suffix}`];
  for (const consumer of spec.consumers) {
    if (consumer.accessPoint) hosts.push(`${accessPointName(identity, consumer, env)}-${env.accountId}.s3-accesspoint.${spec.region}.${suffix}`);
  }
  return hosts;
}

/** A short, stable key for a host: Istio subset and object names. */
export function hostKey(host: string): string {
  return `s3-${shortHash(host)}`;
}
