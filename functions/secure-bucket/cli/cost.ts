// `render --cost`: the monthly bill of what one claim creates, from its rendered resources and the
// committed price table, for a given amount of data written a month; and the same traffic
// through a NAT gateway instead of the S3 gateway endpoint. A model with stated assumptions,
// not a quote.
import { type BucketSpec, type Json, type Lifecycle } from '../src/core/index.js';
import { pricesFor, type PriceTable, type PricedClass, type RegionPrices } from './prices.js';

export interface CostAssumptions {
  gbPerMonth: number;
  /** Average object size: sets the number of objects and requests per GB. */
  objectSizeMiB: number;
  /** Each GB written is read this many times. */
  readsPerGbWritten: number;
  /** With an S3 bucket key, the share of S3 requests that still call KMS. */
  kmsCallsPerRequest: number;
  accessLogBytesPerRequest: number;
  /** S3 request metrics a filter reports for this traffic. */
  requestMetricsPerFilter: number;
  /** Storage is priced at this age of the bucket when nothing expires. */
  horizonDays: number;
}

export const DEFAULT_ASSUMPTIONS: CostAssumptions = {
  gbPerMonth: 100,
  objectSizeMiB: 1,
  readsPerGbWritten: 1,
  kmsCallsPerRequest: 0.01,
  accessLogBytesPerRequest: 350,
  requestMetricsPerFilter: 12,
  horizonDays: 730,
};

export interface CostLine {
  item: string;
  quantity: string;
  usd: number;
}

export interface CostEstimate {
  claim: string;
  region: string;
  lines: CostLine[];
  total: number;
  nat: { trafficGb: number; processing: number; hourly: number; total: number };
  notes: string[];
}

const DAY_MONTH = 30;
/** S3 pricing page: each archived object carries 32 KiB billed at its class and 8 KiB at STANDARD. */
const ARCHIVE_OVERHEAD_KIB: Partial<Record<PricedClass, { own: number; standard: number }>> = {
  GLACIER: { own: 32, standard: 8 },
  DEEP_ARCHIVE: { own: 32, standard: 8 },
};
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const round = (n: number, digits = 2): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function ofKind(resources: Record<string, Json>, kind: string): Json[] {
  return Object.values(resources).filter((r) => r['kind'] === kind);
}

function regionOf(r: Json, fallback: string): string {
  return String(((r['spec'] as Json | undefined)?.['forProvider'] as Json | undefined)?.['region'] ?? fallback);
}

interface Stay {
  storageClass: PricedClass;
  from: number;
  to: number;
}

/** What the cost model needs of a lifecycle: the whole-bucket transitions and expiration. */
export type CostLifecycle = Pick<Lifecycle, 'transitions' | 'expireAfterDays'>;

/** Where a GB written today sits over its life: its first class (STANDARD), then each transition, until it expires. */
export function staysOf(lifecycle: CostLifecycle, horizonDays: number, first: PricedClass = 'STANDARD'): Stay[] {
  const steps = [...lifecycle.transitions].sort((a, b) => a.days - b.days);
  const end = lifecycle.expireAfterDays ?? Math.max(horizonDays, (steps.at(-1)?.days ?? 0) + 365);
  const points: Array<{ storageClass: PricedClass; from: number }> = [
    { storageClass: first, from: 0 },
    ...steps.map((t) => ({ storageClass: t.storageClass as PricedClass, from: t.days })),
  ];
  return points.map((p, i) => ({ storageClass: p.storageClass, from: p.from, to: Math.min(points[i + 1]?.from ?? end, end) })).filter((s) => s.to > s.from);
}

/** `label`: '' for the bucket, 'replica (<region>) ' for the replica; `first`: the class objects arrive in. */
function storageLines(
  lifecycle: CostLifecycle,
  p: RegionPrices,
  table: PriceTable,
  a: CostAssumptions,
  notes: string[],
  label = '',
  first: PricedClass = 'STANDARD',
): CostLine[] {
  const objectsPerMonth = (a.gbPerMonth * 1024) / a.objectSizeMiB;
  const lines: CostLine[] = [];
  const stays = staysOf(lifecycle, a.horizonDays, first);
  const who = label === '' ? '' : `${label.trim()}: `;
  for (const [i, s] of stays.entries()) {
    const gbMonths = (a.gbPerMonth * (s.to - s.from)) / DAY_MONTH;
    lines.push({
      item: `${label}S3 storage ${s.storageClass} (days ${s.from}-${s.to})`,
      quantity: `${round(gbMonths, 1)} GB-month`,
      usd: gbMonths * p.s3.storagePerGbMonth[s.storageClass],
    });
    const minimum = table.minimumStorageDays[s.storageClass];
    const leaves = i < stays.length - 1 || lifecycle.expireAfterDays !== undefined;
    if (leaves && s.to - s.from < minimum) {
      const extra = (a.gbPerMonth * (minimum - (s.to - s.from))) / DAY_MONTH;
      lines.push({
        item: `  ${s.storageClass} minimum stay (${minimum} days) charged`,
        quantity: `${round(extra, 1)} GB-month`,
        usd: extra * p.s3.storagePerGbMonth[s.storageClass],
      });
      notes.push(
        `${who}${s.storageClass} keeps objects ${s.to - s.from} days but bills at least ${minimum}: move the next step later or drop ${s.storageClass}`,
      );
    }
    // Objects arriving in their first class (a replica written to a colder class) are not transitioned.
    if (s.storageClass !== 'STANDARD' && i > 0) {
      lines.push({
        item: `  lifecycle transitions to ${s.storageClass}`,
        quantity: `${round(objectsPerMonth, 0)} objects`,
        usd: (objectsPerMonth / 1000) * p.s3.transitionPer1000[s.storageClass],
      });
    }
    const overhead = ARCHIVE_OVERHEAD_KIB[s.storageClass];
    if (overhead !== undefined) {
      const objects = gbMonths * (1024 / a.objectSizeMiB);
      const usd = (objects * overhead.own * p.s3.storagePerGbMonth[s.storageClass] + objects * overhead.standard * p.s3.storagePerGbMonth.STANDARD) / 2 ** 20;
      lines.push({
        item: `  ${s.storageClass} index overhead (${overhead.own}+${overhead.standard} KiB/object)`,
        quantity: `${round(objects, 0)} object-months`,
        usd,
      });
    }
    if (s.storageClass === 'INTELLIGENT_TIERING') {
      const objects = (objectsPerMonth * (s.to - s.from)) / DAY_MONTH;
      lines.push({
        item: '  Intelligent-Tiering monitoring',
        quantity: `${round(objects, 0)} objects`,
        usd: (objects / 1000) * p.s3.intelligentTieringMonitoringPer1000Objects,
      });
    }
  }
  if (lifecycle.expireAfterDays === undefined)
    notes.push(
      `${who}nothing expires: storage is priced at month ${Math.round((stays.at(-1)?.to ?? a.horizonDays) / DAY_MONTH)} and keeps growing by ${a.gbPerMonth} GB a month`,
    );
  return lines;
}

/** Everything but storage and requests, from the rendered resources. */
function serviceLines(
  resources: Record<string, Json>,
  region: string,
  table: PriceTable,
  a: CostAssumptions,
  storedObjects: number,
  requests: number,
): CostLine[] {
  const lines: CostLine[] = [];
  for (const key of ofKind(resources, 'Key')) {
    const r = regionOf(key, region);
    lines.push({ item: `KMS key (${r})`, quantity: '1 key', usd: pricesFor(table, r).kms.keyPerMonth });
  }
  const p = pricesFor(table, region);
  const replicating = ofKind(resources, 'BucketReplicationConfiguration').length > 0;
  const kmsRequests = requests * a.kmsCallsPerRequest * (replicating ? 1.5 : 1);
  lines.push({ item: 'KMS requests (S3 bucket key)', quantity: `${round(kmsRequests, 0)} requests`, usd: (kmsRequests / 10_000) * p.kms.requestsPer10000 });
  const alarms = ofKind(resources, 'MetricAlarm').length;
  if (alarms > 0) lines.push({ item: 'CloudWatch alarms', quantity: plural(alarms, 'alarm'), usd: alarms * p.cloudwatch.alarmPerMonth });
  const filters = ofKind(resources, 'BucketMetric').length;
  if (filters > 0) {
    const metrics = filters * a.requestMetricsPerFilter;
    lines.push({ item: 'S3 request metrics (CloudWatch)', quantity: plural(metrics, 'metric'), usd: metrics * p.cloudwatch.metricPerMonth });
  }
  const rules = ofKind(resources, 'Rule').length;
  if (rules > 0)
    lines.push({ item: 'EventBridge rule on CloudTrail S3 events', quantity: plural(rules, 'rule'), usd: 0 * p.eventbridge.awsServiceEventsPerMillion });
  for (const inv of ofKind(resources, 'BucketInventory')) {
    const frequency = String((((inv['spec'] as Json)['forProvider'] as Json)['schedule'] as Json | undefined)?.['frequency'] ?? 'Weekly');
    const runs = frequency === 'Daily' ? 365 / 12 : 52 / 12;
    lines.push({
      item: `S3 inventory (${frequency})`,
      quantity: `${round(storedObjects * runs, 0)} objects listed`,
      usd: ((storedObjects * runs) / 1e6) * p.s3.inventoryPerMillionObjects,
    });
  }
  if (ofKind(resources, 'BucketLogging').length > 0) {
    const gb = (requests * a.accessLogBytesPerRequest) / 2 ** 30;
    lines.push({ item: 'server access logs (a month of them, STANDARD)', quantity: `${round(gb, 3)} GB`, usd: gb * p.s3.storagePerGbMonth.STANDARD });
  }
  return lines;
}

const forProviderOf = (r: Json): Json => ((r['spec'] as Json | undefined)?.['forProvider'] as Json | undefined) ?? {};

/**
 * The whole-bucket lifecycle a rendered bucket gets: its BucketLifecycleConfiguration's enabled
 * rules without a prefix (the function's `default` rule), as S3 applies them.
 */
export function renderedLifecycle(resources: Record<string, Json>, bucket: string): CostLifecycle {
  const config = ofKind(resources, 'BucketLifecycleConfiguration').find((r) => forProviderOf(r)['bucket'] === bucket);
  const rules = ((config === undefined ? [] : forProviderOf(config)['rule']) as Json[] | undefined) ?? [];
  const whole = rules.filter((r) => r['status'] === 'Enabled' && (r['filter'] as Json[] | undefined)?.every((f) => Object.keys(f).length === 0) !== false);
  const transitions = whole.flatMap((r) =>
    ((r['transition'] as Json[] | undefined) ?? []).map((t) => ({
      days: Number(t['days']),
      storageClass: t['storageClass'] as Lifecycle['transitions'][number]['storageClass'],
    })),
  );
  const expiries = whole.flatMap((r) =>
    ((r['expiration'] as Json[] | undefined) ?? []).map((e) => e['days']).filter((d): d is number => typeof d === 'number'),
  );
  return { transitions, ...(expiries.length > 0 ? { expireAfterDays: Math.min(...expiries) } : {}) };
}

/** The replica: transfer and PUTs, then its storage with its own lifecycle and arrival class, in its region. */
function replicationLines(resources: Record<string, Json>, region: string, table: PriceTable, a: CostAssumptions, writes: number, notes: string[]): CostLine[] {
  const replication = ofKind(resources, 'BucketReplicationConfiguration')[0];
  if (replication === undefined) return [];
  const destination = (((forProviderOf(replication)['rule'] as Json[] | undefined) ?? [])[0]?.['destination'] ?? {}) as Json;
  const bucket = String(destination['bucket'] ?? '').replace(/^arn:[^:]+:s3:::/, '');
  const replica = ofKind(resources, 'Bucket').find((b) => b['metadata'] !== undefined && forProviderOf(b)['region'] !== region);
  const to = replica === undefined ? region : regionOf(replica, region);
  const dp = pricesFor(table, to);
  const first = (destination['storageClass'] as PricedClass | undefined) ?? 'STANDARD';
  return [
    { item: `replication transfer ${region} -> ${to}`, quantity: `${a.gbPerMonth} GB`, usd: a.gbPerMonth * pricesFor(table, region).interRegionTransferPerGb },
    { item: `replica PUT requests (${to})`, quantity: `${round(writes, 0)} requests`, usd: (writes / 1000) * dp.s3.putPer1000 },
    ...storageLines(renderedLifecycle(resources, bucket), dp, table, a, notes, `replica (${to}) `, first),
  ];
}

export interface CostInput {
  claim: string;
  spec: Pick<BucketSpec, 'region' | 'lifecycle' | 'replication'>;
  /** The rendered managed resources, by composition resource name. */
  resources: Record<string, Json>;
}

export function estimateCost(input: CostInput, table: PriceTable, a: CostAssumptions = DEFAULT_ASSUMPTIONS): CostEstimate {
  const region = input.spec.region;
  const lifecycle = input.spec.lifecycle;
  const p = pricesFor(table, region);
  const notes: string[] = [];
  const perGb = 1024 / a.objectSizeMiB;
  const writes = a.gbPerMonth * perGb;
  const reads = a.gbPerMonth * a.readsPerGbWritten * perGb;
  const stays = staysOf(lifecycle, a.horizonDays);
  const storedGb = (a.gbPerMonth * (stays.at(-1)?.to ?? 0)) / DAY_MONTH;
  const lines: CostLine[] = [
    ...storageLines(lifecycle, p, table, a, notes),
    { item: 'S3 PUT requests', quantity: `${round(writes, 0)} requests`, usd: (writes / 1000) * p.s3.putPer1000 },
    { item: 'S3 GET requests', quantity: `${round(reads, 0)} requests`, usd: (reads / 1000) * p.s3.getPer1000 },
    ...serviceLines(input.resources, region, table, a, storedGb * perGb, writes + reads),
    ...replicationLines(input.resources, region, table, a, writes, notes),
    { item: 'S3 gateway endpoint (no hourly or per-GB charge)', quantity: `${round(a.gbPerMonth * (1 + a.readsPerGbWritten), 0)} GB`, usd: 0 },
  ];
  const total = lines.reduce((s, l) => s + l.usd, 0);
  const trafficGb = a.gbPerMonth * (1 + a.readsPerGbWritten);
  const processing = trafficGb * p.natGateway.perGbProcessed;
  return { claim: input.claim, region, lines, total, nat: { trafficGb, processing, hourly: p.natGateway.perHour * 730, total: total + processing }, notes };
}

export function formatCost(e: CostEstimate, table: PriceTable, a: CostAssumptions = DEFAULT_ASSUMPTIONS): string {
  const width = Math.max(48, ...e.lines.map((l) => l.item.length + 2));
  const qWidth = Math.max(22, ...e.lines.map((l) => l.quantity.length + 2));
  const row = (item: string, quantity: string, usd: string) => `  ${item.padEnd(width)}${quantity.padEnd(qWidth)}${usd.padStart(12)}`;
  const p = pricesFor(table, e.region);
  return [
    `Monthly cost estimate for ${e.claim} (${e.region}), ${a.gbPerMonth} GB written a month`,
    `Prices: AWS list prices as of ${table.asOf} (${Object.values(table.sources).join(', ')})`,
    `Assumptions: objects of ${a.objectSizeMiB} MiB (${1024 / a.objectSizeMiB} PUT requests per GB written), each GB read ${a.readsPerGbWritten}x (${(1024 / a.objectSizeMiB) * a.readsPerGbWritten} GET per GB),`,
    `  ${a.kmsCallsPerRequest * 100}% of requests call KMS (bucket key), ${a.accessLogBytesPerRequest} bytes of access log per request, ${a.requestMetricsPerFilter} request metrics per filter,`,
    `  storage at steady state when objects expire, else at day ${a.horizonDays} (or a year after the last transition); overwrites and noncurrent versions not modelled; first pricing tiers.`,
    '',
    row('item', 'quantity', 'USD/month'),
    ...e.lines.map((l) => row(l.item, l.quantity, round(l.usd))),
    row('total with the S3 gateway endpoint', '', `${round(e.total)} USD`),
    '',
    `Same traffic through a NAT gateway instead of the gateway endpoint:`,
    row(`NAT data processing (${round(e.nat.trafficGb, 0)} GB x $${p.natGateway.perGbProcessed}/GB)`, '', round(e.nat.processing)),
    row('total through a NAT gateway', '', `${round(e.nat.total)} USD`),
    `  The gateway endpoint saves ${round(e.nat.processing)} USD a month, before the NAT gateway's own ${round(e.nat.hourly)} USD a month (shared with other traffic, not counted).`,
    ...e.notes.map((n) => `Note: ${n}`),
  ].join('\n');
}
