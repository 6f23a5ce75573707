// The gRPC adapter around the function: message limits, mTLS credentials, a handler wrapper
// that turns every failure into a Fatal result, binding that reports failure, and graceful
// shutdown. It replaces the SDK's runtime, which accepts TLS clients without a certificate,
// keeps gRPC's 4 MiB receive cap, exits 0 when it cannot bind and crashes without certs.

import { readFileSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { FunctionRunnerServiceService, RunFunctionRequest, RunFunctionResponse, Severity, type State } from '@crossplane-org/function-sdk-typescript';
import { errorMessage, silentLogger, type Logger } from './logger.js';
import { exactKey, normalisedKey, normaliseRequest } from './request-key.js';
import type { CachedResponse, ResponseCache } from './response-cache.js';
import { decodeRequest, encodeResponse, encodeResponseMeta } from './wire.js';

export type RunFunctionHandler = (req: RunFunctionRequest) => Promise<RunFunctionResponse>;

/** Large XRs with many observed resources exceed gRPC's 4 MiB default; Crossplane allows more. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Crossplane mounts the function's certificates here and sets TLS_SERVER_CERTS_DIR to it. */
export const DEFAULT_TLS_CERTS_DIR = '/tls/server';
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/** The same channel options on both ends, so neither side is the smaller bottleneck. */
export function messageLimits(maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  };
}

export interface FunctionServerOptions {
  handle: RunFunctionHandler;
  logger?: Logger;
  maxMessageBytes?: number;
  /** Extra channel options (tests shorten the connection limits below). */
  channelOptions?: grpc.ChannelOptions;
  /** Answers by request (response-cache.ts); without it every call runs the handler. */
  cache?: ResponseCache;
}

/**
 * Connection hygiene: ping idle peers and drop dead or silent ones, so a client that opens a
 * connection and never finishes a request cannot hold a socket forever. Crossplane reconnects.
 * Every connection also ends after a bounded age (GOAWAY, then a grace period for calls in flight):
 * Crossplane's client resolves the function's headless Service only when it connects
 * (crossplane/crossplane#7585), so without this a replica added later never gets a call.
 */
export const CONNECTION_LIMITS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_connection_idle_ms': 300_000,
  'grpc.max_connection_age_ms': 120_000,
  'grpc.max_connection_age_grace_ms': 30_000,
};

/** RunFunction with the messages left as bytes: the server decodes and encodes itself (wire.ts). */
const RAW_RUN_FUNCTION = {
  ...FunctionRunnerServiceService.runFunction,
  requestDeserialize: (b: Buffer): Buffer => b,
  responseSerialize: (b: Buffer): Buffer => b,
};

export function createFunctionServer(opts: FunctionServerOptions): grpc.Server {
  const logger = opts.logger ?? silentLogger;
  // Keep grpc-js's channelz on (its default): with 'grpc.enable_channelz': 0, grpc-js 1.14 never
  // records a session, so forceShutdown cannot cancel calls still running when the grace period
  // ends (tests/server/main.test.ts caught it); turning it off saved about a tenth of a call.
  const server = new grpc.Server({ ...CONNECTION_LIMITS, ...messageLimits(opts.maxMessageBytes), ...opts.channelOptions });
  const answer = answerer(opts.handle, logger, opts.cache);
  const runFunction: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    // answer never rejects; the catch covers a throwing callback, so no unhandled rejection.
    answer(call.request)
      .then((rsp) => (typeof rsp === 'string' ? callback({ code: grpc.status.INVALID_ARGUMENT, details: rsp }) : callback(null, rsp)))
      .catch((err: unknown) => logger.error('RunFunction reply failed', { error: errorMessage(err) }));
  };
  server.addService({ runFunction: RAW_RUN_FUNCTION }, { runFunction });
  return server;
}

/** Calls between two debug lines with the cache's figures. */
const CACHE_LOG_EVERY = 1000;

/**
 * Request bytes to response bytes (or a message when the bytes are no RunFunctionRequest): the
 * cache by exact bytes, then by the normalised request, then the handler. A response protobuf
 * cannot encode (a BigInt, a function in a Struct) is answered with a Fatal result instead of a
 * bare INTERNAL error.
 */
function answerer(handle: RunFunctionHandler, logger: Logger, cache: ResponseCache | undefined): (bytes: Buffer) => Promise<Buffer | string> {
  let calls = 0;
  const logStats = (): void => {
    if (cache !== undefined && ++calls % CACHE_LOG_EVERY === 0) logger.debug('response cache', { ...cache.stats() });
  };
  return async (bytes) => {
    const exact = cache !== undefined ? exactKey(bytes) : '';
    const hit = cache?.get(exact);
    if (hit !== undefined) {
      logStats();
      // Equal bytes, equal tag: the one this entry was stored for.
      return fromCache(hit, hit.answerTag ?? hit.tag);
    }
    let req: RunFunctionRequest;
    try {
      req = decodeRequest(bytes);
    } catch (err) {
      // debug, not error: anyone who reaches the port could otherwise fill the log.
      logger.debug('RunFunction request cannot be decoded', { error: errorMessage(err), bytes: bytes.length });
      return `cannot decode RunFunctionRequest: ${errorMessage(err)}`;
    }
    const tag = req.meta?.tag ?? '';
    let normalised = '';
    if (cache !== undefined) {
      normaliseRequest(req);
      normalised = normalisedKey(req);
      const near = cache.get(normalised, true);
      if (near !== undefined) {
        cache.set(exact, { ...near, answerTag: tag });
        logStats();
        return fromCache(near, tag);
      }
      cache.miss();
    }
    const { rsp, handled } = await invokeSafelyReporting(handle, req, logger);
    let out: Buffer;
    try {
      out = encodeResponse(rsp);
    } catch (err) {
      logger.error('RunFunction response cannot be serialized', { tag, error: errorMessage(err) });
      return encodeResponse(fatalResponse({ tag }, `internal error in function-secure-bucket: its response cannot be serialized: ${errorMessage(err)}`));
    }
    // Kept: answers the function says last (meta.ttl beyond the SDK's 60 s: converged, core's own
    // statement), not a failure of ours (a throw) that the next poll should try again. A first pass
    // waits for provider values, and its next request differs anyway: caching it only costs.
    if (cache !== undefined && handled && (rsp.meta?.ttl?.seconds ?? 0) > DEFAULT_TTL_SECONDS) {
      // Deflated: steady-state answers are 20-50 KB and shrink four to six times, so the same bound
      // holds that many more XRs (a cache smaller than the polled set hits nothing under LRU).
      const entry = { body: deflateRawSync(out, { level: 1 }), tag, bodyOffset: metaLength(out) };
      cache.set(exact, { ...entry, answerTag: tag });
      cache.set(normalised, entry);
    }
    logStats();
    return out;
  };
}

/** The SDK's default meta.ttl (to(req)). */
const DEFAULT_TTL_SECONDS = 60;

/** A cached answer for a request with `tag`: the stored response, with a new meta field when the tag differs. */
function fromCache(entry: CachedResponse, tag: string): Buffer {
  const full = inflateRawSync(entry.body);
  if (entry.tag === tag) return full;
  const meta = entry.bodyOffset === 0 ? undefined : RunFunctionResponse.decode(full.subarray(0, entry.bodyOffset)).meta;
  return Buffer.concat([encodeResponseMeta({ tag, ttl: meta?.ttl }), full.subarray(entry.bodyOffset)]);
}

/** Bytes taken by the leading meta field (field 1, length-delimited) of an encoded response; 0 without one. */
function metaLength(rsp: Buffer): number {
  if (rsp.length === 0 || rsp[0] !== 10) return 0;
  let len = 0;
  let shift = 0;
  let p = 1;
  for (;;) {
    const b = rsp[p++]!;
    len |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return p + len;
}

/**
 * Runs the handler and always resolves: a thrown error, a rejected promise or a result that
 * is not a response becomes a response with one Fatal result. Logs carry only metadata.
 */
export async function invokeSafely(handle: RunFunctionHandler, req: RunFunctionRequest, logger: Logger = silentLogger): Promise<RunFunctionResponse> {
  return (await invokeSafelyReporting(handle, req, logger)).rsp;
}

/** invokeSafely, telling whether the handler answered (false: the response is our Fatal for its failure). */
async function invokeSafelyReporting(
  handle: RunFunctionHandler,
  req: RunFunctionRequest,
  logger: Logger,
): Promise<{ rsp: RunFunctionResponse; handled: boolean }> {
  const started = performance.now();
  const tag = req.meta?.tag ?? '';
  const composite = compositeIdentity(req);
  try {
    const rsp: unknown = await handle(req);
    if (typeof rsp !== 'object' || rsp === null) {
      throw new Error(`handler returned ${rsp === null ? 'null' : typeof rsp} instead of a RunFunctionResponse`);
    }
    logger.debug('RunFunction done', { tag, composite, ms: elapsedMs(started) });
    return { rsp: rsp as RunFunctionResponse, handled: true };
  } catch (err) {
    const message = errorMessage(err);
    logger.error('RunFunction handler failed', { tag, composite, error: message, ms: elapsedMs(started) });
    return { rsp: fatalResponse({ tag, desired: req.desired }, `internal error in function-secure-bucket: ${message}`), handled: false };
  }
}

/** A response with the request's tag and desired state (as the SDK's `to` keeps them) and one Fatal result. */
export function fatalResponse(from: { tag: string; desired?: State | undefined }, message: string): RunFunctionResponse {
  return RunFunctionResponse.fromPartial({
    meta: { tag: from.tag },
    desired: from.desired,
    results: [{ severity: Severity.SEVERITY_FATAL, message }],
  });
}

/** `apiVersion/kind/name` of the observed XR: enough to find it, nothing of its spec. */
function compositeIdentity(req: RunFunctionRequest): string {
  const xr: unknown = req.observed?.composite?.resource;
  if (typeof xr !== 'object' || xr === null) return '';
  const { apiVersion, kind, metadata } = xr as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  return [apiVersion, kind, metadata?.name].map((part) => (typeof part === 'string' ? part : '?')).join('/');
}

function elapsedMs(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

/** Binds and starts the server; rejects (instead of logging and carrying on) when it cannot. */
export function listen(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => {
      if (err) reject(new Error(`cannot listen on ${address}: ${err.message}`));
      else resolve(port);
    });
  });
}

/** The address with its port replaced by the one actually bound (`127.0.0.1:0` → `127.0.0.1:40123`). */
export function boundAddress(address: string, port: number): string {
  return /:\d+$/.test(address) ? address.replace(/:\d+$/, `:${port}`) : address;
}

export const TLS_FILES = { key: 'tls.key', cert: 'tls.crt', ca: 'ca.crt' } as const;

/** Thrown when certificate files are missing or unreadable; the message names every path. */
export class CertificatesError extends Error {
  override name = 'CertificatesError';
}

/**
 * mTLS server credentials from `<dir>/tls.key`, `tls.crt` and `ca.crt`. Client certificates
 * are required and must chain to `ca.crt` (Crossplane's client certificate does).
 */
export function loadServerCredentials(certsDir: string): grpc.ServerCredentials {
  const problems: string[] = [];
  const read = (file: string): Buffer => {
    const path = join(certsDir, file);
    try {
      return readFileSync(path);
    } catch (err) {
      problems.push(`${path}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`);
      return Buffer.alloc(0);
    }
  };
  const privateKey = read(TLS_FILES.key);
  const certChain = read(TLS_FILES.cert);
  const ca = read(TLS_FILES.ca);
  if (problems.length > 0) {
    throw new CertificatesError(
      `cannot read TLS certificates (use --tls-certs-dir or TLS_SERVER_CERTS_DIR, or --insecure for local use): ${problems.join('; ')}`,
    );
  }
  return grpc.ServerCredentials.createSsl(ca, [{ private_key: privateKey, cert_chain: certChain }], true);
}

/**
 * Stops accepting connections and lets in-flight calls finish; after `graceMs` cancels what
 * is left. Resolves with how it ended.
 */
export function shutdownGracefully(server: grpc.Server, graceMs: number = DEFAULT_SHUTDOWN_GRACE_MS): Promise<'graceful' | 'forced'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve('forced');
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve('graceful');
    });
  });
}
