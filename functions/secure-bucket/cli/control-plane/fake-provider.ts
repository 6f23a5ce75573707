// Stands in for provider-aws and the AWS account behind it during `render --converge`. The account
// holds external resources keyed by kind and external name (their settings and tags, as the
// provider reports them in status.atProvider). Each pass the fake does what the provider would:
// an Observe-only resource is reported from the account (or "external resource does not exist"),
// a managed one is written to the account first; a composed resource that disappears is deleted
// from the account unless its deletion policy is Orphan.
import { createHash } from 'node:crypto';
import {
  COMPONENT_LABEL,
  EXTERNAL_NAME,
  externalNameOf,
  INSTALLATION_TAG,
  isObject,
  type Json,
  keepsExternalOnDelete,
  OBSERVE_ONLY,
} from '../../src/core/index.js';

export interface Account {
  accountId: string;
  partition: string;
}

/** What an AWS account holds: kind -> external name -> settings (atProvider). */
export type AccountState = Record<string, Record<string, Json>>;

function fakeId(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

function specOf(resource: Json): Json {
  return isObject(resource['spec']) ? resource['spec'] : {};
}

function forProviderOf(resource: Json): Json {
  const forProvider = specOf(resource)['forProvider'];
  return isObject(forProvider) ? forProvider : {};
}

function isObserveOnly(resource: Json): boolean {
  const policies = specOf(resource)['managementPolicies'];
  return Array.isArray(policies) && policies.length === OBSERVE_ONLY.length && policies[0] === OBSERVE_ONLY[0];
}

/** The name AWS gives a resource the claim does not name (a key id, an access point's id). */
function generatedName(name: string, resource: Json, composite: string): string {
  const seed = `${composite}/${name}`;
  if (resource['kind'] === 'Key')
    return `${fakeId(seed, 8)}-${fakeId(seed + 'a', 4)}-${fakeId(seed + 'b', 4)}-${fakeId(seed + 'c', 4)}-${fakeId(seed + 'd', 12)}`;
  return fakeId(seed, 12);
}

/** The identifiers the provider reports beside the settings. */
function identifiers(kind: unknown, externalName: string, forProvider: Json, account: Account): Json {
  const region = (forProvider['region'] as string | undefined) ?? 'us-east-1';
  const { accountId, partition } = account;
  switch (kind) {
    case 'Key':
      return { id: externalName, keyId: externalName, arn: `arn:${partition}:kms:${region}:${accountId}:key/${externalName}` };
    case 'VPCEndpoint': {
      const id = `vpce-${fakeId(externalName, 17)}`;
      return { id, arn: `arn:${partition}:ec2:${region}:${accountId}:vpc-endpoint/${id}` };
    }
    case 'Bucket':
      return { id: externalName, arn: `arn:${partition}:s3:::${externalName}` };
    case 'Role': {
      const path = (forProvider['path'] as string | undefined) ?? '/';
      return { id: externalName, arn: `arn:${partition}:iam::${accountId}:role${path}${externalName}` };
    }
    case 'AccessPoint': {
      const apName = forProvider['name'] as string;
      return {
        id: `${accountId}:${apName}`,
        arn: `arn:${partition}:s3:${region}:${accountId}:accesspoint/${apName}`,
        alias: `${apName.slice(0, 20)}-${fakeId(externalName, 22)}-s3alias`,
      };
    }
    case 'TopicSubscription':
      // An e-mail subscription stays pending until a person confirms it: the fake never does.
      return {
        arn: `${String(forProvider['topicArn'])}:${fakeId(externalName, 8)}-${fakeId(externalName + 'a', 4)}`,
        pendingConfirmation: forProvider['protocol'] === 'email',
      };
    default:
      return { id: externalName };
  }
}

const READY = [
  { type: 'Ready', status: 'True', reason: 'Available' },
  { type: 'Synced', status: 'True', reason: 'ReconcileSuccess' },
];
/**
 * A Bucket entry of the account state may say it is another account's (`ownerAccountId`): bucket
 * names are global, so a same-named bucket elsewhere is visible by name. AWS refuses any request
 * carrying `x-amz-expected-bucket-owner` (`expectedBucketOwner`) that names another owner.
 */
export const OWNER_ACCOUNT_KEY = 'ownerAccountId';
const OWNER_REFUSED = [
  {
    type: 'Synced',
    status: 'False',
    reason: 'ReconcileError',
    message: 'observe failed: AccessDenied: Access Denied (status code: 403): the bucket owner is not the expected bucket owner',
  },
];
const DOES_NOT_EXIST = [{ type: 'Synced', status: 'False', reason: 'ReconcileError', message: 'observe failed: external resource does not exist' }];

/** One AWS account: what it holds, shared by every claim rendered against it. */
export class FakeAccount {
  readonly state: AccountState;

  constructor(
    readonly account: Account,
    state: AccountState = {},
  ) {
    this.state = structuredClone(state);
  }

  /** The provider's view for one XR's composed resources. */
  providerFor(compositeName: string): FakeProvider {
    return new FakeProvider(this, compositeName);
  }
}

/** The provider reconciling one XR's composed resources against the account. */
export class FakeProvider {
  /** Composed resource -> the external name it got when it was created (Crossplane keeps it on the MR). */
  private readonly assigned = new Map<string, string>();
  private previous: Record<string, Json> = {};
  private readonly state: AccountState;
  private readonly account: Account;

  constructor(
    aws: FakeAccount,
    /** Seeds generated names, so two claims' keys never share an id. */
    private readonly seed: string,
  ) {
    this.state = aws.state;
    this.account = aws.account;
  }

  private externalName(name: string, resource: Json): string | undefined {
    return externalNameOf(resource) ?? this.assigned.get(name);
  }

  /**
   * AWS never hands out an id twice: two installations' XRs of one name in one account (the seed)
   * get different ones. Within one installation the seed stays idempotent, as tests re-reconcile.
   */
  private freshName(name: string, resource: Json, kind: string): string {
    const tags = forProviderOf(resource)['tags'];
    const installation = isObject(tags) ? tags[INSTALLATION_TAG] : undefined;
    const taken = (id: string) => {
      const held = this.state[kind]?.[id];
      const heldTags = held !== undefined && isObject(held['tags']) ? held['tags'] : undefined;
      if (held === undefined) return false;
      // Untagged kinds (an event target): another XR's when a setting it names differs.
      const differs = Object.entries(forProviderOf(resource)).some(([k, v]) => typeof v === 'string' && typeof held[k] === 'string' && held[k] !== v);
      return heldTags?.[INSTALLATION_TAG] !== installation || differs;
    };
    let generated = generatedName(name, resource, this.seed);
    for (let n = 1; taken(generated); n++) generated = generatedName(name, resource, `${this.seed}#${n}`);
    return generated;
  }

  /** `<field>Selector` matching a sibling by component label: resolved to the sibling's ARN (or id), as Crossplane does. */
  private resolve(value: unknown, arns: Map<string, string>): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, arns));
    if (!isObject(value)) return value;
    const out: Json = {};
    for (const [key, v] of Object.entries(value)) {
      const labels = isObject(v) && isObject(v['matchLabels']) ? v['matchLabels'] : undefined;
      const component = labels?.[COMPONENT_LABEL];
      if (key.endsWith('Selector') && typeof component === 'string') {
        const arn = arns.get(component);
        if (arn !== undefined) out[key.slice(0, -'Selector'.length)] = arn;
        continue;
      }
      out[key] = this.resolve(v, arns);
    }
    return out;
  }

  /** One provider pass over the desired composed resources: what Crossplane observes afterwards. */
  reconcile(desired: Record<string, Json>): Record<string, Json> {
    for (const [name, resource] of Object.entries(this.previous)) if (!(name in desired)) this.deleteOne(name, resource);
    this.previous = desired;
    const arns = new Map<string, string>();
    const managed: Array<[string, Json, string]> = [];
    const out: Record<string, Json> = {};
    for (const [name, resource] of Object.entries(desired)) {
      const kind = String(resource['kind']);
      let externalName = this.externalName(name, resource);
      if (this.refusedAsOwner(resource)) {
        out[name] = { ...resource, status: { atProvider: {}, conditions: OWNER_REFUSED } };
        continue;
      }
      if (isObserveOnly(resource)) {
        const stored = externalName === undefined ? undefined : this.state[kind]?.[externalName];
        const held = stored === undefined ? undefined : withoutOwner(stored);
        out[name] = { ...resource, status: held ? { atProvider: held, conditions: READY } : { atProvider: {}, conditions: DOES_NOT_EXIST } };
        if (held && typeof held['arn'] === 'string') arns.set(componentOf(resource), held['arn']);
        continue;
      }
      externalName ??= this.freshName(name, resource, kind);
      this.assigned.set(name, externalName);
      const ids = identifiers(kind, externalName, forProviderOf(resource), this.account);
      if (typeof ids['arn'] === 'string') arns.set(componentOf(resource), ids['arn']);
      managed.push([name, resource, externalName]);
    }
    for (const [name, resource, externalName] of managed) {
      const kind = String(resource['kind']);
      const forProvider = forProviderOf(resource);
      const settings = { ...(this.resolve(forProvider, arns) as Json), ...identifiers(kind, externalName, forProvider, this.account) };
      (this.state[kind] ??= {})[externalName] = settings;
      const metadata = isObject(resource['metadata']) ? resource['metadata'] : {};
      const annotations = isObject(metadata['annotations']) ? metadata['annotations'] : {};
      out[name] = {
        ...resource,
        metadata: { ...metadata, annotations: { ...annotations, [EXTERNAL_NAME]: externalName } },
        status: { atProvider: settings, conditions: READY },
      };
    }
    return out;
  }

  /** AWS's answer to a request with `expectedBucketOwner` on a bucket of another account. */
  private refusedAsOwner(resource: Json): boolean {
    const forProvider = forProviderOf(resource);
    const expected = forProvider['expectedBucketOwner'];
    const bucket = this.state['Bucket']?.[String(forProvider['bucket'])];
    const owner = bucket?.[OWNER_ACCOUNT_KEY] ?? this.account.accountId;
    return typeof expected === 'string' && bucket !== undefined && owner !== expected;
  }

  private deleteOne(name: string, resource: Json): void {
    const externalName = this.externalName(name, resource);
    if (keepsExternalOnDelete(resource) || isObserveOnly(resource) || externalName === undefined) return;
    const kind = String(resource['kind']);
    delete this.state[kind]?.[externalName];
    if (Object.keys(this.state[kind] ?? {}).length === 0) delete this.state[kind];
  }

  /**
   * One composed resource is deleted (a real cluster's provider sees each MR's deletion on its own,
   * tools/cluster/provider-standin.ts): AWS keeps it when Orphan or Observe-only.
   */
  delete(name: string, resource: Json): void {
    this.deleteOne(name, resource);
    delete this.previous[name];
    this.assigned.delete(name);
  }

  /** The claim is deleted: Crossplane deletes every composed resource, AWS keeps the Orphan ones. */
  deleteComposite(): void {
    for (const [name, resource] of Object.entries(this.previous)) this.deleteOne(name, resource);
    this.previous = {};
    this.assigned.clear();
  }
}

/** The provider reports what AWS says about a bucket, not whose it is. */
function withoutOwner(settings: Json): Json {
  const { [OWNER_ACCOUNT_KEY]: _owner, ...rest } = settings;
  return rest;
}

function componentOf(resource: Json): string {
  const metadata = isObject(resource['metadata']) ? resource['metadata'] : {};
  const labels = isObject(metadata['labels']) ? metadata['labels'] : {};
  return String(labels[COMPONENT_LABEL]);
}
