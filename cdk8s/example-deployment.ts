// The consumer Deployment pattern tenants copy: the consumer's ServiceAccount and pod labels, and
// the pod-security settings the platform expects. Generated with replicas 0: it validates and shows
// the shape without running anything until a tenant copies it.
import { ApiObject, Chart, Duration, JsonPatch, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { accessPointArn, accessPointName, bucketName, type Consumer } from '../functions/secure-bucket/src/core/index.js';
import { inMesh, type ClaimModel } from './chart.js';
import { consumerPodLabels, generatedLabels, objectName } from './labels.js';
import { dnsSuffix } from './s3-hosts.js';

export const EXAMPLE_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.17.0';
const RUN_AS = 65532;

/** Istio must not capture the Pod Identity agent's link-local traffic: the agent is on the node. */
function podAnnotations(model: ClaimModel): Record<string, string> {
  if (!inMesh(model) || model.env.identity.mode !== 'PodIdentity') return {};
  return { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': model.network.podIdentityAgent.cidrs.join(',') };
}

function target(model: ClaimModel, consumer: Consumer): string {
  const { identity, spec, env } = model;
  return consumer.accessPoint ? accessPointArn(env, spec.region, accessPointName(identity, consumer, env)) : bucketName(identity, spec, env);
}

function exampleDeployment(chart: Chart, model: ClaimModel, consumer: Consumer): void {
  const labels = consumerPodLabels(model.identity, consumer);
  const env: Record<string, kplus.EnvValue> = {
    AWS_REGION: kplus.EnvValue.fromValue(model.spec.region),
    BUCKET: kplus.EnvValue.fromValue(target(model, consumer)),
    PREFIX: kplus.EnvValue.fromValue(consumer.prefixes[0] ?? ''),
    HOME: kplus.EnvValue.fromValue('/tmp'),
  };
  // In the mesh the application speaks HTTP to S3 and the egress gateway originates TLS.
  if (inMesh(model)) env['AWS_ENDPOINT_URL_S3'] = kplus.EnvValue.fromValue(`http://s3.${model.spec.region}.${dnsSuffix(model.env.partition)}`);
  const deployment = new kplus.Deployment(chart, `example-${consumer.name}`, {
    metadata: { name: objectName(model.identity, consumer.name, 'example') },
    replicas: 0,
    select: false,
    podMetadata: { labels, annotations: podAnnotations(model) },
    serviceAccount: kplus.ServiceAccount.fromServiceAccountName(chart, `sa-ref-${consumer.name}`, consumer.serviceAccount),
    automountServiceAccountToken: false,
    securityContext: { ensureNonRoot: true, user: RUN_AS, group: RUN_AS, fsGroup: RUN_AS },
    containers: [
      {
        name: 'app',
        image: EXAMPLE_IMAGE,
        imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
        command: ['/bin/sh', '-c', 'while true; do aws s3 ls "s3://$BUCKET/$PREFIX"; sleep 300; done'],
        envVariables: env,
        securityContext: {
          ensureNonRoot: true,
          user: RUN_AS,
          group: RUN_AS,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: [kplus.Capability.ALL] },
          seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
        },
        resources: {
          cpu: { request: kplus.Cpu.millis(50), limit: kplus.Cpu.millis(250) },
          memory: { request: Size.mebibytes(64), limit: Size.mebibytes(256) },
          ephemeralStorage: { request: Size.gibibytes(1), limit: Size.gibibytes(2) },
        },
        volumeMounts: [{ path: '/tmp', volume: kplus.Volume.fromEmptyDir(chart, `tmp-${consumer.name}`, 'tmp', { sizeLimit: Size.gibibytes(1) }) }],
      },
    ],
    terminationGracePeriod: Duration.seconds(30),
  });
  deployment.select(kplus.LabelSelector.of({ labels }));
  // cdk8s-plus labels every pod template with its construct path; the pattern does not need it.
  ApiObject.of(deployment).addJsonPatch(JsonPatch.remove('/spec/template/metadata/labels/cdk8s.io~1metadata.addr'));
}

export class ExampleChart extends Chart {
  constructor(scope: Construct, id: string, model: ClaimModel) {
    super(scope, id, { namespace: model.identity.claimNamespace, disableResourceNameHashes: true, labels: generatedLabels(model.identity) });
    for (const consumer of model.spec.consumers) exampleDeployment(this, model, consumer);
  }
}
