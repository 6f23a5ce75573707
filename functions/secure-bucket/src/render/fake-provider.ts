// Stands in for provider-aws during `render --converge`: for each desired resource it reports
// the well-formed status the real provider would (ids, ARNs, Ready), so later passes can use it.
import { createHash } from 'node:crypto';
import type { Json } from '../core/fields.js';

interface Account {
  accountId: string;
  partition: string;
}

function fakeId(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

function atProviderFor(name: string, resource: Json, account: Account): Json {
  const forProvider = ((resource['spec'] as Json | undefined)?.['forProvider'] ?? {}) as Json;
  const annotations = ((resource['metadata'] as Json | undefined)?.['annotations'] ?? {}) as Json;
  const externalName = (annotations['crossplane.io/external-name'] as string | undefined) ?? fakeId(name, 12);
  const region = (forProvider['region'] as string | undefined) ?? 'us-east-1';
  const { accountId, partition } = account;
  const seed = `${name}/${externalName}`;
  switch (resource['kind']) {
    case 'Key': {
      const id = `${fakeId(seed, 8)}-${fakeId(seed + 'a', 4)}-${fakeId(seed + 'b', 4)}-${fakeId(seed + 'c', 4)}-${fakeId(seed + 'd', 12)}`;
      return { id, keyId: id, arn: `arn:${partition}:kms:${region}:${accountId}:key/${id}` };
    }
    case 'VPCEndpoint':
      return { id: `vpce-${fakeId(seed, 17)}`, arn: `arn:${partition}:ec2:${region}:${accountId}:vpc-endpoint/vpce-${fakeId(seed, 17)}` };
    case 'Bucket':
      return { id: externalName, arn: `arn:${partition}:s3:::${externalName}` };
    case 'Role': {
      const path = (forProvider['path'] as string | undefined) ?? '/';
      return { id: externalName, arn: `arn:${partition}:iam::${accountId}:role${path}${externalName}` };
    }
    case 'AccessPoint': {
      const apName = forProvider['name'] as string;
      return { id: `${accountId}:${apName}`, arn: `arn:${partition}:s3:${region}:${accountId}:accesspoint/${apName}`, alias: `${apName.slice(0, 20)}-${fakeId(seed, 22)}-s3alias` };
    }
    case 'TopicSubscription':
      // An e-mail subscription stays pending until a person confirms it: the fake never does.
      return { arn: `${String(forProvider['topicArn'])}:${fakeId(seed, 8)}-${fakeId(seed + 'a', 4)}`, pendingConfirmation: forProvider['protocol'] === 'email' };
    default:
      return { id: externalName };
  }
}

/** The observed composed resources Crossplane would send after the provider applied `desired`. */
export function observeAll(desired: Record<string, Json>, account: Account): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [name, resource] of Object.entries(desired)) {
    out[name] = {
      ...resource,
      status: {
        atProvider: atProviderFor(name, resource, account),
        conditions: [
          { type: 'Ready', status: 'True', reason: 'Available' },
          { type: 'Synced', status: 'True', reason: 'ReconcileSuccess' },
        ],
      },
    };
  }
  return out;
}
