// The function's entry point: flags → credentials → gRPC server → wait for SIGTERM/SIGINT →
// graceful shutdown. `runMain` takes the handler as an argument so tests can run it with
// their own; the block at the bottom runs it with the real function when this file is the
// program (node dist/functions/secure-bucket/src/main.js, the image's ENTRYPOINT).

import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { createLogger, errorMessage, type Logger } from './logger.js';
import {
  boundAddress,
  CONNECTION_LIMITS,
  createFunctionServer,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_TLS_CERTS_DIR,
  listen,
  loadServerCredentials,
  shutdownGracefully,
  type RunFunctionHandler,
} from './server.js';
import { DEFAULT_CACHE_BYTES, prometheusText, ResponseCache } from './response-cache.js';

export const DEFAULT_ADDRESS = '0.0.0.0:9443';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export interface MainConfig {
  address: string;
  /** undefined with `insecure`. */
  tlsCertsDir: string | undefined;
  insecure: boolean;
  debug: boolean;
  maxMessageBytes: number;
  /** Response cache bound; 0 turns the cache off. */
  cacheBytes: number;
  /** host:port of the Prometheus /metrics endpoint; undefined: none. */
  metricsAddress: string | undefined;
  /** Connections end after this age (then a grace period), so clients resolve the replicas again. */
  maxConnectionAgeMs: number;
  help: boolean;
}

const HELP = `Usage: function-secure-bucket [flags]

Crossplane composition function for secure S3 buckets (gRPC RunFunction).

  --address <host:port>        listen address (default ${DEFAULT_ADDRESS})
  --tls-certs-dir <dir>        tls.key, tls.crt and ca.crt; client certificates are required
                               (default $TLS_SERVER_CERTS_DIR, else ${DEFAULT_TLS_CERTS_DIR})
  --insecure                   plaintext, no client authentication: local render only
  --debug                      debug logs (metadata only, never request bodies)
  --max-message-bytes <n>      largest request/response (default ${DEFAULT_MAX_MESSAGE_BYTES})
  --cache-bytes <n>            bound of the response cache, 0 turns it off (default ${DEFAULT_CACHE_BYTES})
  --metrics-address <host:port> serve the cache's figures as Prometheus text on /metrics (default: none)
  --max-connection-age-ms <n>  end each connection after this long, so clients re-resolve the replicas
                               (default ${CONNECTION_LIMITS['grpc.max_connection_age_ms']})
  -h, --help                   this text
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Flags win over the environment (TLS_SERVER_CERTS_DIR, set by Crossplane), which wins over defaults. */
export function parseMainArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): MainConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        address: { type: 'string' },
        'tls-certs-dir': { type: 'string' },
        insecure: { type: 'boolean' },
        debug: { type: 'boolean' },
        'max-message-bytes': { type: 'string' },
        'cache-bytes': { type: 'string' },
        'metrics-address': { type: 'string' },
        'max-connection-age-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  const insecure = values.insecure ?? false;
  if (insecure && values['tls-certs-dir'] !== undefined) {
    throw new UsageError('--insecure and --tls-certs-dir exclude each other');
  }
  return {
    address: values.address ?? DEFAULT_ADDRESS,
    tlsCertsDir: insecure ? undefined : (values['tls-certs-dir'] ?? (env.TLS_SERVER_CERTS_DIR || DEFAULT_TLS_CERTS_DIR)),
    insecure,
    debug: values.debug ?? false,
    maxMessageBytes: parseMessageBytes(values['max-message-bytes']),
    cacheBytes: parseCacheBytes(values['cache-bytes']),
    metricsAddress: values['metrics-address'],
    maxConnectionAgeMs: parseAge(values['max-connection-age-ms']),
    help: values.help ?? false,
  };
}

function parseMessageBytes(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_MAX_MESSAGE_BYTES;
  const n = Number(raw);
  // gRPC takes a signed 32-bit length.
  if (!/^\d+$/.test(raw) || n < 1 || n > 2 ** 31 - 1) {
    throw new UsageError(`--max-message-bytes must be an integer between 1 and ${2 ** 31 - 1}, got "${raw}"`);
  }
  return n;
}

function parseAge(raw: string | undefined): number {
  const fallback = Number(CONNECTION_LIMITS['grpc.max_connection_age_ms']);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 100 || !Number.isSafeInteger(Number(raw)))
    throw new UsageError(`--max-connection-age-ms must be an integer >= 100, got "${raw}"`);
  return Number(raw);
}

function parseCacheBytes(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_CACHE_BYTES;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new UsageError(`--cache-bytes must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

/** GET /metrics on host:port: the response cache's figures; resolves once listening. */
function serveMetrics(address: string, cache: ResponseCache): Promise<Server> {
  const m = /^(.*):(\d+)$/.exec(address);
  if (!m) return Promise.reject(new Error(`--metrics-address must be host:port, got "${address}"`));
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheusText(cache.stats()));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(m[2]), m[1]!.replace(/^\[|\]$/g, ''), () => resolve(server));
  });
}

export interface RunMainOptions {
  env?: NodeJS.ProcessEnv;
  /** Where SIGTERM/SIGINT come from: the process, or a test's EventEmitter. */
  signals?: NodeJS.EventEmitter;
  logger?: Logger;
  /** Help text and usage errors go here (stderr by default). */
  writeErr?: (text: string) => void;
  shutdownGraceMs?: number;
  /** Extra gRPC server options (tests shorten the connection age). */
  channelOptions?: grpc.ChannelOptions;
  /** Called once the server accepts calls; tests use it to learn the port. */
  onListening?: (address: string) => void;
}

/** Runs the server until a signal stops it; resolves with the process exit code. */
export async function runMain(argv: string[], handle: RunFunctionHandler, opts: RunMainOptions = {}): Promise<number> {
  const writeErr = opts.writeErr ?? ((text: string) => process.stderr.write(text));
  let config: MainConfig;
  try {
    config = parseMainArgs(argv, opts.env);
  } catch (err) {
    writeErr(`function-secure-bucket: ${errorMessage(err)}\n\n${HELP}`);
    return EXIT.usage;
  }
  if (config.help) {
    writeErr(HELP);
    return EXIT.ok;
  }
  const logger = opts.logger ?? createLogger(config.debug ? 'debug' : 'info');
  const cache = config.cacheBytes > 0 ? new ResponseCache(config.cacheBytes) : undefined;
  const server = createFunctionServer({
    handle,
    logger,
    maxMessageBytes: config.maxMessageBytes,
    ...(cache ? { cache } : {}),
    channelOptions: { 'grpc.max_connection_age_ms': config.maxConnectionAgeMs, ...opts.channelOptions },
  });
  let address: string;
  let metrics: Server | undefined;
  try {
    if (config.metricsAddress !== undefined) {
      if (cache === undefined) throw new Error('--metrics-address serves the response cache figures: it needs --cache-bytes > 0');
      metrics = await serveMetrics(config.metricsAddress, cache);
    }
    const credentials = config.tlsCertsDir === undefined ? grpc.ServerCredentials.createInsecure() : loadServerCredentials(config.tlsCertsDir);
    address = boundAddress(config.address, await listen(server, config.address, credentials));
  } catch (err) {
    logger.error('function-secure-bucket cannot start', { error: errorMessage(err) });
    server.forceShutdown();
    metrics?.close();
    return EXIT.failure;
  }
  const metricsAt = metrics?.address();
  logger.info('function-secure-bucket listening', {
    address,
    ...(metricsAt && typeof metricsAt === 'object' ? { metrics: `${metricsAt.address}:${metricsAt.port}` } : {}),
    tls: config.insecure ? 'insecure' : 'mutual',
    maxMessageBytes: config.maxMessageBytes,
    cacheBytes: config.cacheBytes,
  });
  opts.onListening?.(address);

  const signal = await nextSignal(opts.signals ?? process);
  logger.info('shutting down', { signal, graceMs: opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS });
  const how = await shutdownGracefully(server, opts.shutdownGraceMs);
  metrics?.close();
  logger.info('stopped', { how, ...(cache ? cache.stats() : {}) });
  return EXIT.ok;
}

/** Resolves with the first SIGTERM or SIGINT and stops listening for both. */
function nextSignal(source: NodeJS.EventEmitter): Promise<string> {
  return new Promise((resolve) => {
    const names = ['SIGTERM', 'SIGINT'] as const;
    const handlers = names.map((name) => {
      const handler = (): void => {
        names.forEach((n, i) => source.off(n, handlers[i]!));
        resolve(name);
      };
      source.on(name, handler);
      return handler;
    });
  });
}

/** True when this module is the program node was started with (not when a test imports it). */
function isEntryPoint(moduleUrl: string): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl;
  } catch {
    return false;
  }
}

if (isEntryPoint(import.meta.url)) {
  // Imported here, not at the top, so tests can load runMain without the real function.
  const { runFunction } = await import('./function.js');
  process.exit(await runMain(process.argv.slice(2), runFunction));
}
