// Encryption at rest: a customer-managed KMS key per bucket (rotation on), its alias, and SSE-KMS
// as the bucket default with a bucket key (fewer KMS calls: the cost lever). The key policy
// separates administrators from users: nobody may decrypt except through S3.
import { KMS_KEY, type RenderContext } from './context.js';
import { kmsAliasName } from './naming.js';
import { replicationPrincipals } from './replication.js';
import { policy, renderPolicy, type Statement } from './policy.js';
import { externalNameOf, heldInAws } from './adoption.js';
import { isObject } from './fields.js';
import { bucketConfiguration, managed, sameXrSelector, type ManagedOptions } from './resources.js';
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

/** Principals that may use the key, each only for what its access level needs. */
export function keyUsers(ctx: RenderContext): { decrypt: string[]; generate: string[] } {
  const readers = ctx.consumers.map((c) => c.roleArn);
  const writers = ctx.consumers.filter((c) => c.access !== 'Read').map((c) => c.roleArn);
  // Break-glass principals may read in an emergency; they never get to write new data keys.
  // The replication role reads source objects to copy them (S3 decrypts on its behalf).
  return { decrypt: [...readers, ...ctx.env.access.breakGlassPrincipalArns, ...replicationPrincipals(ctx)], generate: writers };
}

/** Who may administer (never use) the key: the root user, the platform's key admins, the provider. */
export function keyAdministrators(ctx: RenderContext): string[] {
  const { env } = ctx;
  return [`arn:${env.partition}:iam::${env.accountId}:root`, ...env.kms.keyAdminArns, env.access.providerRoleArn];
}

export function keyPolicy(ctx: RenderContext): string {
  const { env } = ctx;
  const root = `arn:${env.partition}:iam::${env.accountId}:root`;
  const users = keyUsers(ctx);
  // Principals are matched by aws:PrincipalArn, not named in Principal: KMS refuses a policy that
  // names a role which does not exist yet, and consumer roles are created in the same pass.
  const viaS3 = (actions: string[], principals: string[], sid: string): Statement => ({
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: root },
    Action: actions,
    Resource: '*',
    Condition: {
      StringEquals: { 'kms:ViaService': s3ViaService(ctx.spec.region), 'kms:CallerAccount': env.accountId },
      ArnEquals: { 'aws:PrincipalArn': principals },
    },
  });
  // Administration by name only. An unconditioned `Principal: root` would hand kms:PutKeyPolicy to
  // every role of the account whose IAM policy says kms:*, and PutKeyPolicy grants Decrypt. The
  // provider's role stays in: it creates and updates this key (and KMS refuses a policy that locks
  // out its caller); the account's root user stays in so the key can never become unmanageable.
  const statements: Statement[] = [
    {
      Sid: 'KeyAdministrators',
      Effect: 'Allow',
      Principal: { AWS: root },
      Action: KEY_ADMIN_ACTIONS,
      Resource: '*',
      Condition: { ArnEquals: { 'aws:PrincipalArn': keyAdministrators(ctx) } },
    },
  ];
  if (users.decrypt.length > 0) statements.push(viaS3(['kms:Decrypt'], users.decrypt, 'DecryptViaS3'));
  if (users.generate.length > 0) statements.push(viaS3(['kms:GenerateDataKey'], users.generate, 'GenerateDataKeyViaS3'));
  return renderPolicy(policy(statements));
}

export function encryptionResources(ctx: RenderContext): Record<string, ManagedResource> {
  const { identity, spec, bucketName, env } = ctx;
  const region = spec.region;
  return {
    // Orphan on delete: deleting the key would make every object unreadable.
    [KMS_KEY]: managed(
      identity,
      'kms.aws.upbound.io/v1beta1',
      'Key',
      KMS_KEY,
      {
        region,
        description: `SSE-KMS key of s3://${bucketName} (${identity.claimNamespace}/${identity.claimName})`,
        enableKeyRotation: true,
        deletionWindowInDays: env.kms.deletionWindowInDays,
        keyUsage: 'ENCRYPT_DECRYPT',
        policy: keyPolicy(ctx),
        tags: ctx.tags,
      },
      keyToKeep(ctx, KMS_KEY, 'bucket-encryption', bucketName, region),
    ),
    'kms-alias': managed(identity, 'kms.aws.upbound.io/v1beta1', 'Alias', 'kms-alias', {
      region,
      targetKeyIdSelector: sameXrSelector(KMS_KEY),
    }, { externalName: kmsAliasName(bucketName) }),
    'bucket-encryption': managed(identity, 's3.aws.upbound.io/v1beta2', 'BucketServerSideEncryptionConfiguration', 'encryption', {
      region,
      bucket: bucketName,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyIdSelector: sameXrSelector(KMS_KEY) },
          bucketKeyEnabled: true,
          blockedEncryptionTypes: ['SSE-C'],
        },
      ],
    }, bucketConfiguration(bucketName)),
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
 * Orphan, and named so the bucket's data never moves off the key that encrypts it: the key this
 * composed Key already is, else the key the bucket's encryption names in AWS (a re-created claim
 * takes over its orphaned key instead of creating a second one), else a new key.
 */
export function keyToKeep(ctx: RenderContext, component: string, encryptionComponent: string, bucket: string, region: string): ManagedOptions {
  const current = externalNameOf(ctx.observed[component]?.resource);
  if (current !== undefined) return { externalName: current, keepOnDelete: true };
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
  return { externalName: own[1]!, keepOnDelete: true };
}
