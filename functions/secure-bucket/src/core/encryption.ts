// Encryption at rest: a customer-managed KMS key per bucket (rotation on), its alias, and SSE-KMS
// as the bucket default with a bucket key (fewer KMS calls: the cost lever). The key policy
// separates administrators from users: nobody may decrypt except through S3. Every bucket the
// claim owns (source and replica) gets its key from encryptionResourcesFor.
import type { RenderContext } from './context.js';
import { accountRootArn, kmsAliasName } from './naming.js';
import { bucketPart, type OwnedBucket } from './owned-bucket.js';
import { policy, renderPolicy, type Statement } from './policy.js';
import { externalNameOf, heldInAws, isManaged, observation } from './adoption.js';
import { isObject } from './fields.js';
import { managed, sameXrSelector, type ManagedOptions } from './resources.js';
import { ClaimError, type ManagedResource } from './types.js';

/** Administration without use: these never include Decrypt, Encrypt or GenerateDataKey. */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

export function s3ViaService(region: string): string {
  return `s3.${region}.amazonaws.com`;
}

/** What the provider's role needs to create and keep a key: create, tag, describe, rotate, re-policy, alias. */
export const PROVIDER_KEY_ACTIONS = [
  'kms:CreateAlias',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListResourceTags',
  // KMS refuses a key policy that would stop its caller from changing it again (lockout check).
  'kms:PutKeyPolicy',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
];

/** Who administers (never uses) a key: the account's root user and the platform's named key admins. */
export function keyAdministrators(ctx: RenderContext): string[] {
  const { env } = ctx;
  return [accountRootArn(env), ...env.kms.keyAdminArns];
}

/**
 * The key policy of any bucket the claim owns. Principals are matched by aws:PrincipalArn, never
 * by an unconditioned `Principal: root`: that would hand kms:PutKeyPolicy (and with it Decrypt) to
 * every role of the account whose IAM policy says kms:*. They are not named in Principal either:
 * KMS refuses a policy naming a role that does not exist yet, and the roles are created alongside.
 * The provider's role keeps only what it needs (keys are Orphan: the platform never disables or
 * deletes one); only the root user and the named key admins can disable, delete or restore a key.
 */
export function keyPolicyFor(ctx: RenderContext, b: OwnedBucket): string {
  const { env } = ctx;
  const root = accountRootArn(env);
  const named = (sid: string, actions: string[], principals: string[]): Statement => ({
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: root },
    Action: actions,
    Resource: '*',
    Condition: { ArnEquals: { 'aws:PrincipalArn': principals } },
  });
  const viaS3 = (sid: string, action: string, principals: string[]): Statement => ({
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: root },
    Action: [action],
    Resource: '*',
    Condition: {
      StringEquals: { 'kms:ViaService': s3ViaService(b.region), 'kms:CallerAccount': env.accountId },
      ArnEquals: { 'aws:PrincipalArn': principals },
    },
  });
  const statements: Statement[] = [
    named('KeyAdministrators', KEY_ADMIN_ACTIONS, keyAdministrators(ctx)),
    named('ProviderManagesKey', PROVIDER_KEY_ACTIONS, [env.access.providerRoleArn]),
  ];
  if (b.users.decrypt.length > 0) statements.push(viaS3('DecryptViaS3', 'kms:Decrypt', b.users.decrypt));
  if (b.users.generateDataKey.length > 0) statements.push(viaS3('GenerateDataKeyViaS3', 'kms:GenerateDataKey', b.users.generateDataKey));
  if (b.users.encrypt.length > 0) statements.push(viaS3('EncryptViaS3', 'kms:Encrypt', b.users.encrypt));
  return renderPolicy(policy(statements));
}

/** The key, its alias and the bucket's default encryption (SSE-KMS, bucket key, SSE-C blocked), for any owned bucket. */
export function encryptionResourcesFor(ctx: RenderContext, b: OwnedBucket): Record<string, ManagedResource> {
  const { identity } = ctx;
  const { parts } = b;
  return {
    // Orphan on delete: deleting the key would make every object unreadable.
    [parts.key.name]: managed(identity, {
      kind: 'Key',
      component: parts.key.component,
      forProvider: {
        region: b.region,
        description: `SSE-KMS key of s3://${b.name} (${identity.claimNamespace}/${identity.claimName})`,
        enableKeyRotation: true,
        deletionWindowInDays: ctx.env.kms.deletionWindowInDays,
        keyUsage: 'ENCRYPT_DECRYPT',
        policy: keyPolicyFor(ctx, b),
        tags: ctx.tags,
      },
      ...keyToKeep(ctx, parts.key.name, parts.encryption.name, b.name, b.region),
    }),
    [parts.alias.name]: managed(identity, {
      kind: 'Alias',
      component: parts.alias.component,
      forProvider: {
        region: b.region,
        targetKeyIdSelector: sameXrSelector(parts.key.component),
      },
      externalName: kmsAliasName(b.name),
    }),
    ...bucketPart(ctx, b, {
      part: 'encryption',
      kind: 'BucketServerSideEncryptionConfiguration',
      fields: {
        rule: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyIdSelector: sameXrSelector(parts.key.component) },
            bucketKeyEnabled: true,
            blockedEncryptionTypes: ['SSE-C'],
          },
        ],
      },
    }),
  };
}

/** The KMS key a bucket's default encryption names in AWS, if any. */
function keyOfEncryption(held: Record<string, unknown> | undefined): { algorithm?: unknown; keyId?: unknown } {
  const rules = held?.['rule'];
  const rule = Array.isArray(rules) ? rules[0] : rules;
  const byDefault = isObject(rule) && isObject(rule['applyServerSideEncryptionByDefault']) ? rule['applyServerSideEncryptionByDefault'] : {};
  return { algorithm: byDefault['sseAlgorithm'], keyId: byDefault['kmsMasterKeyId'] };
}

/**
 * A key the bucket's encryption names that AWS reports absent is not free to replace: terraform reads
 * a key pending deletion as absent, and taking it over would create a new key and move the bucket's
 * default encryption to it, while the objects stay under the doomed one.
 */
function refuseVanishedKey(ctx: RenderContext, component: string, keyId: string, bucket: string): void {
  if (observation(ctx.observed, component, keyId).state !== 'absent') return;
  throw new ClaimError(
    ctx.spec.naming.strategy === 'Fixed' ? 'spec.naming.name' : 'spec.naming',
    `s3://${bucket} is encrypted in AWS with KMS key ${keyId}, which AWS reports does not exist (deleted, or pending deletion): its objects are readable only with that key; nothing was changed`,
    `ask the platform team to cancel the key's deletion (aws kms cancel-key-deletion --key-id ${keyId}) and enable it, then reconcile again`,
  );
}

/**
 * Orphan, and named so the bucket's data never moves off the key that encrypts it: the key this
 * composed Key already is, else the key the bucket's encryption names in AWS (a re-created claim
 * takes over its orphaned key instead of creating a second one), else a new key.
 */
export function keyToKeep(ctx: RenderContext, component: string, encryptionComponent: string, bucket: string, region: string): ManagedOptions {
  const seen = ctx.observed[component]?.resource;
  const current = externalNameOf(seen);
  const seenArn = seen?.status?.atProvider?.['arn'];
  // A key is regional: one of another region (a replica moved elsewhere) is not this bucket's key.
  if (current !== undefined && (typeof seenArn !== 'string' || seenArn.includes(`:kms:${region}:`))) {
    if (!isManaged(ctx.observed, component, current)) refuseVanishedKey(ctx, component, current, bucket);
    return { externalName: current, keepOnDelete: true };
  }
  const { algorithm, keyId } = keyOfEncryption(heldInAws(ctx, encryptionComponent, bucket));
  if (algorithm !== 'aws:kms' || typeof keyId !== 'string') return { keepOnDelete: true };
  const own = new RegExp(`^arn:${ctx.env.partition}:kms:${region}:${ctx.env.accountId}:key/([0-9a-f-]{36})$`).exec(keyId);
  if (own === null) {
    throw new ClaimError(
      ctx.spec.naming.strategy === 'Fixed' ? 'spec.naming.name' : 'spec.naming',
      `s3://${bucket} is encrypted in AWS with ${keyId}, not a key of account ${ctx.env.accountId} in ${region}: the platform never moves a bucket off the key that encrypts its objects; nothing was changed`,
      'choose another bucket name, or ask the platform team to move the bucket to a key of this account',
    );
  }
  const adopted = own[1]!;
  refuseVanishedKey(ctx, component, adopted, bucket);
  return { externalName: adopted, keepOnDelete: true };
}
