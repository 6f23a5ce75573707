// The committed price table `render --cost` prices with (pricing/aws-prices.json): AWS list prices
// per region, with the pages they come from and the date they were taken.
import { readFileSync } from 'node:fs';
import type { StorageClass } from '../src/core/index.js';

export type PricedClass = StorageClass | 'STANDARD' | 'ONEZONE_IA';

export interface RegionPrices {
  s3: {
    storagePerGbMonth: Record<PricedClass, number>;
    putPer1000: number;
    getPer1000: number;
    transitionPer1000: Record<Exclude<PricedClass, 'STANDARD'>, number>;
    intelligentTieringMonitoringPer1000Objects: number;
    inventoryPerMillionObjects: number;
  };
  kms: { keyPerMonth: number; requestsPer10000: number };
  cloudwatch: { alarmPerMonth: number; metricPerMonth: number };
  eventbridge: { awsServiceEventsPerMillion: number };
  natGateway: { perGbProcessed: number; perHour: number };
  interRegionTransferPerGb: number;
}

export interface PriceTable {
  sources: Record<string, string>;
  asOf: string;
  regions: Record<string, RegionPrices>;
  minimumStorageDays: Record<PricedClass, number>;
}

export const DEFAULT_PRICE_TABLE = 'functions/secure-bucket/pricing/aws-prices.json';

/** Every number must be a finite price >= 0: a typo must fail loudly, not price at NaN. */
function checkNumbers(value: unknown, where: string): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`${where}: ${value} is not a price`);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkNumbers(v, `${where}.${k}`);
  } else throw new Error(`${where}: expected a number, got ${JSON.stringify(value)}`);
}

export function readPriceTable(file = DEFAULT_PRICE_TABLE): PriceTable {
  const table = JSON.parse(readFileSync(file, 'utf8')) as PriceTable;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(String(table.asOf))) throw new Error(`${file}: asOf must be the date the prices were taken (YYYY-MM-DD)`);
  if (typeof table.sources !== 'object' || Object.keys(table.sources ?? {}).length === 0) throw new Error(`${file}: sources must name the pricing pages`);
  checkNumbers(table.regions, `${file}: regions`);
  checkNumbers(table.minimumStorageDays, `${file}: minimumStorageDays`);
  return table;
}

export function pricesFor(table: PriceTable, region: string): RegionPrices {
  const prices = table.regions[region];
  if (prices === undefined)
    throw new Error(
      `the price table has no prices for ${region} (it has ${Object.keys(table.regions).join(', ')}): add them from ${table.sources['s3'] ?? 'the AWS pricing pages'}`,
    );
  return prices;
}
