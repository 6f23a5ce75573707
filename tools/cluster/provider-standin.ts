// Plays provider-aws in the local control plane (make cluster-up): watches every managed kind
// installed (cluster *.aws.upbound.io and namespaced *.aws.m.upbound.io CRDs of category
// "managed") and reconciles each XR's composed resources with the same simulated AWS account the
// render loop uses (functions/secure-bucket/cli/control-plane/fake-provider.ts): status.atProvider,
// Ready/Synced conditions and the external-name annotation on the object; on deletion the account
// keeps what the deletion policy says (Orphan) and the finalizer is released. The account is written
// to --account-file after every change, and read back on start (a restart keeps AWS's state).
// usage: node dist/tools/cluster/provider-standin.js --kubeconfig F --account-file F
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ApiextensionsV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { canonicalJson, EXTERNAL_NAME, isObject, keepsExternalOnDelete, type Json } from '../../functions/secure-bucket/src/core/index.js';
import { FakeAccount, type AccountState, type FakeProvider } from '../../functions/secure-bucket/cli/control-plane/index.js';

/** The finalizer a real provider puts on every managed resource it reconciles (crossplane-runtime). */
export const FINALIZER = 'finalizer.managedresource.crossplane.io';
const COMPOSITE_LABEL = 'crossplane.io/composite';
const RESOURCE_NAME = 'crossplane.io/composition-resource-name';

interface Kind {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

interface Managed extends Json {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    resourceVersion?: string;
  };
}

const log = (message: string): void => console.log(`${new Date().toISOString()} ${message}`);

/**
 * The XR a managed resource belongs to: `<namespace>/<composite>` (namespace empty for the legacy
 * API). One the platform applies directly (permissions boundaries, the STS endpoint) is its own group.
 */
function groupOf(mr: Managed): string {
  const composite = mr.metadata.labels?.[COMPOSITE_LABEL];
  return composite === undefined ? `${mr.metadata.namespace ?? ''}/${mr.kind}:${mr.metadata.name}` : `${mr.metadata.namespace ?? ''}/${composite}`;
}

function keyOf(mr: Managed): string {
  return `${mr.apiVersion}/${mr.kind}/${mr.metadata.namespace ?? ''}/${mr.metadata.name}`;
}

/** Crossplane conditions carry lastTransitionTime; keep the old one when nothing changed (no status churn). */
function withTimes(conditions: Json[], previous: unknown): Json[] {
  const old = Array.isArray(previous) ? (previous as Json[]) : [];
  return conditions.map((c) => {
    const before = old.find((o) => o['type'] === c['type']);
    const same = before !== undefined && before['status'] === c['status'] && before['reason'] === c['reason'] && before['message'] === c['message'];
    return { ...c, lastTransitionTime: same ? before['lastTransitionTime'] : new Date().toISOString() };
  });
}

export class ProviderStandIn {
  private readonly objects = new Map<string, Managed>();
  private readonly kinds = new Map<string, Kind>();
  private readonly providers = new Map<string, FakeProvider>();
  private readonly dirty = new Set<string>();
  private account: FakeAccount | undefined;
  private readonly api: CustomObjectsApi;
  private running = false;
  /**
   * The status last written per object (uid): the apiserver stores keys sorted and prunes fields
   * its schema lacks, so comparing with what it returns would write again on every event, and each
   * write is a watch event for the XR (Crossplane's circuit breaker opens).
   */
  private readonly written = new Map<string, string>();
  private writes = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly accountFile: string,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  /** The account the EnvironmentConfig names (as render does), with what the file already holds. */
  private async accountFor(): Promise<FakeAccount> {
    if (this.account !== undefined) return this.account;
    const list = (await this.api.listClusterCustomObject({ group: 'apiextensions.crossplane.io', version: 'v1beta1', plural: 'environmentconfigs' })) as {
      items: Json[];
    };
    const env = list.items.find((e) => isObject(e['data']) && e['data']['accountId'] !== undefined);
    const data = isObject(env?.['data']) ? env['data'] : {};
    const state = existsSync(this.accountFile) ? ((JSON.parse(readFileSync(this.accountFile, 'utf8')) as { state?: AccountState }).state ?? {}) : {};
    this.account = new FakeAccount({ accountId: String(data['accountId'] ?? '000000000000'), partition: String(data['partition'] ?? 'aws') }, state);
    return this.account;
  }

  private saveAccount(account: FakeAccount): void {
    const tmp = `${this.accountFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ account: account.account, state: account.state }, null, 2) + '\n');
    renameSync(tmp, this.accountFile);
  }

  /** Every installed managed kind: provider-aws CRDs of category managed, at their storage version. */
  async discover(): Promise<Kind[]> {
    const crds = await this.kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    const found: Kind[] = [];
    for (const crd of crds.items) {
      const { group, names, scope, versions } = crd.spec;
      if (!/\.aws\.(m\.)?upbound\.io$/.test(group) || !(names.categories ?? []).includes('managed')) continue;
      const version = versions.find((v) => v.storage)?.name ?? versions[0]?.name;
      if (version === undefined) continue;
      found.push({ group, version, plural: names.plural, kind: names.kind, namespaced: scope === 'Namespaced' });
    }
    return found;
  }

  private watchKind(kind: Kind): void {
    const watch = new Watch(this.kc);
    const start = (): void => {
      void watch
        .watch(
          `/apis/${kind.group}/${kind.version}/${kind.plural}`,
          { allowWatchBookmarks: false },
          (phase, obj: Managed) => {
            const key = keyOf(obj);
            if (phase === 'DELETED') this.objects.delete(key);
            else this.objects.set(key, obj);
            if (phase !== 'DELETED') this.dirty.add(groupOf(obj));
          },
          (err: unknown) => {
            // A watch ends (timeout, apiserver restart): start it again while running.
            if (err !== null && err !== undefined && this.running) log(`watch ${kind.plural}.${kind.group} ended: ${String(err)}`);
            if (this.running) setTimeout(start, 1000);
          },
        )
        .catch((err: unknown) => {
          log(`watch ${kind.plural}.${kind.group} failed: ${String(err)}`);
          if (this.running) setTimeout(start, 2000);
        });
    };
    start();
  }

  async start(): Promise<void> {
    this.running = true;
    const refresh = async (): Promise<void> => {
      for (const kind of await this.discover()) {
        const id = `${kind.plural}.${kind.group}`;
        if (this.kinds.has(id)) continue;
        this.kinds.set(id, kind);
        this.watchKind(kind);
      }
    };
    await refresh();
    log(`watching ${this.kinds.size} managed kinds`);
    // CRDs installed later (a new provider family member) are picked up too.
    setInterval(() => void refresh().catch((e: unknown) => log(`discovery failed: ${String(e)}`)), 30_000).unref();
    setInterval(() => {
      if (this.writes > 0) log(`${this.writes} status writes`);
      this.writes = 0;
    }, 10_000).unref();
    for (;;) {
      const groups = [...this.dirty];
      this.dirty.clear();
      for (const group of groups) {
        try {
          await this.reconcile(group);
        } catch (error) {
          log(`reconcile ${group} failed (retrying): ${(error as Error).message}`);
          this.dirty.add(group);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, groups.length > 0 ? 100 : 300));
    }
  }

  private kindOf(mr: Managed): Kind {
    const group = mr.apiVersion.split('/')[0] as string;
    const kind = [...this.kinds.values()].find((k) => k.group === group && k.kind === mr.kind);
    if (kind === undefined) throw new Error(`unknown managed kind ${mr.apiVersion} ${mr.kind}`);
    return kind;
  }

  private async patchMeta(mr: Managed, metadata: Json): Promise<void> {
    const k = this.kindOf(mr);
    const opts = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const common = { group: k.group, version: mr.apiVersion.split('/')[1] as string, plural: k.plural, name: mr.metadata.name, body: { metadata } };
    if (k.namespaced) await this.api.patchNamespacedCustomObject({ ...common, namespace: mr.metadata.namespace as string }, opts);
    else await this.api.patchClusterCustomObject(common, opts);
  }

  private async patchStatus(mr: Managed, status: Json): Promise<void> {
    const k = this.kindOf(mr);
    const opts = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const common = { group: k.group, version: mr.apiVersion.split('/')[1] as string, plural: k.plural, name: mr.metadata.name, body: { status } };
    if (k.namespaced) await this.api.patchNamespacedCustomObjectStatus({ ...common, namespace: mr.metadata.namespace as string }, opts);
    else await this.api.patchClusterCustomObjectStatus(common, opts);
  }

  /** One provider pass over one XR's managed resources, as render --converge does it. */
  private async reconcile(group: string): Promise<void> {
    const account = await this.accountFor();
    const members = [...this.objects.values()].filter((mr) => groupOf(mr) === group);
    let provider = this.providers.get(group);
    if (provider === undefined) {
      provider = account.providerFor(group.split('/')[1] as string);
      this.providers.set(group, provider);
    }
    const before = JSON.stringify(account.state);
    const nameOf = (mr: Managed): string => mr.metadata.annotations?.[RESOURCE_NAME] ?? mr.metadata.name;

    // Deleted: AWS keeps it when the deletion policy says Orphan; then the object may go.
    for (const mr of members.filter((m) => m.metadata.deletionTimestamp !== undefined)) {
      if (!(mr.metadata.finalizers ?? []).includes(FINALIZER)) continue;
      provider.delete(nameOf(mr), mr);
      this.saveIfChanged(account, before);
      await this.patchMeta(mr, { finalizers: (mr.metadata.finalizers ?? []).filter((f) => f !== FINALIZER), resourceVersion: mr.metadata.resourceVersion });
      log(`deleted ${keyOf(mr)} (${keepsExternalOnDelete(mr) ? 'orphaned: AWS keeps it' : 'deleted in AWS'})`);
    }

    const alive = members.filter((m) => m.metadata.deletionTimestamp === undefined);
    const desired: Record<string, Json> = {};
    for (const mr of alive) desired[nameOf(mr)] = mr;
    const observed = provider.reconcile(desired);
    for (const mr of alive) {
      const out = observed[nameOf(mr)];
      if (out === undefined) continue;
      const annotations = (isObject(out['metadata']) && isObject(out['metadata']['annotations']) ? out['metadata']['annotations'] : {}) as Record<
        string,
        string
      >;
      const externalName = annotations[EXTERNAL_NAME];
      const finalizers = mr.metadata.finalizers ?? [];
      if (!finalizers.includes(FINALIZER) || (externalName !== undefined && mr.metadata.annotations?.[EXTERNAL_NAME] !== externalName)) {
        await this.patchMeta(mr, {
          finalizers: finalizers.includes(FINALIZER) ? finalizers : [...finalizers, FINALIZER],
          ...(externalName !== undefined ? { annotations: { [EXTERNAL_NAME]: externalName } } : {}),
        });
      }
      const status = (isObject(out['status']) ? out['status'] : {}) as Json;
      const current = (isObject(mr['status']) ? mr['status'] : {}) as Json;
      const next = { atProvider: status['atProvider'] ?? {}, conditions: withTimes((status['conditions'] as Json[] | undefined) ?? [], current['conditions']) };
      const wanted = canonicalJson({ atProvider: next.atProvider, conditions: next.conditions.map(({ lastTransitionTime: _t, ...c }) => c) });
      if (this.written.get(mr.metadata.uid) !== wanted) {
        await this.patchStatus(mr, next);
        this.written.set(mr.metadata.uid, wanted);
        this.writes++;
      }
    }
    this.saveIfChanged(account, before);
    if (members.length > 0 && alive.length === 0) this.providers.delete(group);
  }

  private saveIfChanged(account: FakeAccount, before: string): void {
    if (JSON.stringify(account.state) !== before || !existsSync(this.accountFile)) this.saveAccount(account);
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, 'account-file': { type: 'string' } } });
  if (values.kubeconfig === undefined || values['account-file'] === undefined) {
    console.error('usage: provider-standin --kubeconfig FILE --account-file FILE');
    process.exit(2);
  }
  const kc = new KubeConfig();
  kc.loadFromFile(values.kubeconfig);
  const standIn = new ProviderStandIn(kc, values['account-file']);
  process.on('SIGTERM', () => process.exit(0));
  standIn.start().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
