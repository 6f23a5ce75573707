// Answers already given, by request: Crossplane sends every XR's request again on every poll,
// and in steady state it is the same bytes (or differs only in fields the function never reads:
// request-key.ts). The function is pure, so the answer is the same too. Bounded in bytes, least
// recently used evicted first; a Map keeps insertion order, so re-inserting on a hit is the LRU.

export interface CachedResponse {
  /** The whole encoded response as first sent, deflated (server.ts); shared by the keys of one answer. */
  body: Buffer;
  /** The request tag it answered (its meta.tag). */
  tag: string;
  /** Where the response's meta field ends: the rest is the same for any tag. */
  bodyOffset: number;
  /** Under an exact key: the tag of the requests with those bytes (when it differs from `tag`). */
  answerTag?: string;
}

export interface CacheStats {
  hits: number;
  /** Hits by the normalised key (request bytes differed only in fields the function never reads). */
  normalisedHits: number;
  misses: number;
  evictions: number;
  entries: number;
  bytes: number;
  maxBytes: number;
}

/** Per key besides the response: the key string, the Map slot and the entry object. */
const OVERHEAD_BYTES = 200;

export const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;

export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private size = 0;
  private readonly counts = { hits: 0, normalisedHits: 0, misses: 0, evictions: 0 };

  constructor(readonly maxBytes: number = DEFAULT_CACHE_BYTES) {}

  /** `normalised`: the lookup is by the normalised key (counted apart). */
  get(key: string, normalised = false): CachedResponse | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    if (normalised) this.counts.normalisedHits++;
    else this.counts.hits++;
    return hit;
  }

  /** A lookup that found nothing under either key. */
  miss(): void {
    this.counts.misses++;
  }

  /** One body may sit under several keys (exact ones, the normalised one): its bytes count once. */
  private readonly refs = new WeakMap<Buffer, number>();

  private ref(value: CachedResponse, delta: 1 | -1): void {
    const n = (this.refs.get(value.body) ?? 0) + delta;
    this.refs.set(value.body, n);
    if (delta === 1 && n === 1) this.size += value.body.length;
    if (delta === -1 && n === 0) this.size -= value.body.length;
    this.size += delta * OVERHEAD_BYTES;
  }

  set(key: string, value: CachedResponse): void {
    // A response larger than the whole cache would evict everything and still not fit.
    if (value.body.length + OVERHEAD_BYTES > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.ref(old, -1);
    }
    this.entries.set(key, value);
    this.ref(value, 1);
    while (this.size > this.maxBytes) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, CachedResponse];
      this.entries.delete(oldestKey);
      this.ref(oldest, -1);
      this.counts.evictions++;
    }
  }

  stats(): CacheStats {
    return { ...this.counts, entries: this.entries.size, bytes: this.size, maxBytes: this.maxBytes };
  }
}

/** Prometheus text exposition of the cache's figures (served by main.ts --metrics-address). */
export function prometheusText(s: CacheStats): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, value: number, labels = ''): void => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${labels} ${value}`);
  };
  lines.push('# HELP function_response_cache_lookups_total RunFunction calls by cache outcome.', '# TYPE function_response_cache_lookups_total counter');
  lines.push(`function_response_cache_lookups_total{result="hit"} ${s.hits}`);
  lines.push(`function_response_cache_lookups_total{result="normalised_hit"} ${s.normalisedHits}`);
  lines.push(`function_response_cache_lookups_total{result="miss"} ${s.misses}`);
  metric('function_response_cache_evictions_total', 'counter', 'Responses evicted (least recently used) to stay within the byte bound.', s.evictions);
  metric('function_response_cache_entries', 'gauge', 'Keys cached (exact and normalised keys of one response count apart).', s.entries);
  metric('function_response_cache_bytes', 'gauge', 'Bytes the cache accounts for (responses and per-key overhead).', s.bytes);
  metric('function_response_cache_max_bytes', 'gauge', 'The bound on function_response_cache_bytes.', s.maxBytes);
  const lookups = s.hits + s.normalisedHits + s.misses;
  metric(
    'function_response_cache_hit_ratio',
    'gauge',
    'Hits (exact and normalised) over all lookups since start.',
    lookups === 0 ? 0 : (s.hits + s.normalisedHits) / lookups,
  );
  return `${lines.join('\n')}\n`;
}
