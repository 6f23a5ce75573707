// The gRPC adapter around the function: message limits, mTLS credentials, a handler wrapper
// that turns every failure into a Fatal result, binding that reports failure, and graceful
// shutdown. It replaces the SDK's runtime, which accepts TLS clients without a certificate,
// keeps gRPC's 4 MiB receive cap, exits 0 when it cannot bind and crashes without certs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  FunctionRunnerServiceService,
  RunFunctionRequest,
  RunFunctionResponse,
  Severity,
  type State,
} from '@crossplane-org/function-sdk-typescript';
import { errorMessage, silentLogger, type Logger } from './logger.js';

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
}

/**
 * Connection hygiene: ping idle peers and drop dead or silent ones, so a client that opens a
 * connection and never finishes a request cannot hold a socket forever. Crossplane reconnects.
 */
export const CONNECTION_LIMITS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_connection_idle_ms': 300_000,
};

export function createFunctionServer(opts: FunctionServerOptions): grpc.Server {
  const logger = opts.logger ?? silentLogger;
  // Keep grpc-js's channelz on (its default): with 'grpc.enable_channelz': 0, grpc-js 1.14 never
  // records a session, so forceShutdown cannot cancel calls still running when the grace period
  // ends (tests/server/main.test.ts caught it); turning it off saved about a tenth of a call.
  const server = new grpc.Server({ ...CONNECTION_LIMITS, ...messageLimits(opts.maxMessageBytes), ...opts.channelOptions });
  const runFunction: grpc.handleUnaryCall<RunFunctionRequest, RunFunctionResponse> = (call, callback) => {
    // invokeSafely never rejects; the catch covers a throwing callback, so no unhandled rejection.
    invokeSafely(opts.handle, call.request, logger)
      .then((rsp) => callback(null, rsp))
      .catch((err: unknown) => logger.error('RunFunction reply failed', { error: errorMessage(err) }));
  };
  server.addService(safelySerialized(logger), { runFunction });
  return server;
}

/**
 * The SDK's service definition, except that a response protobuf cannot encode (a BigInt, a
 * function in a Struct) is answered with a Fatal result instead of a bare INTERNAL error.
 */
function safelySerialized(logger: Logger): typeof FunctionRunnerServiceService {
  const method = FunctionRunnerServiceService.runFunction;
  const responseSerialize = (rsp: RunFunctionResponse): Buffer => {
    try {
      return method.responseSerialize(rsp);
    } catch (err) {
      const tag = rsp.meta?.tag ?? '';
      logger.error('RunFunction response cannot be serialized', { tag, error: errorMessage(err) });
      return method.responseSerialize(
        fatalResponse({ tag }, `internal error in function-secure-bucket: its response cannot be serialized: ${errorMessage(err)}`),
      );
    }
  };
  return { runFunction: { ...method, responseSerialize } };
}

/**
 * Runs the handler and always resolves: a thrown error, a rejected promise or a result that
 * is not a response becomes a response with one Fatal result. Logs carry only metadata.
 */
export async function invokeSafely(
  handle: RunFunctionHandler,
  req: RunFunctionRequest,
  logger: Logger = silentLogger,
): Promise<RunFunctionResponse> {
  const started = performance.now();
  const tag = req.meta?.tag ?? '';
  const composite = compositeIdentity(req);
  try {
    const rsp: unknown = await handle(req);
    if (typeof rsp !== 'object' || rsp === null) {
      throw new Error(`handler returned ${rsp === null ? 'null' : typeof rsp} instead of a RunFunctionResponse`);
    }
    logger.debug('RunFunction done', { tag, composite, ms: elapsedMs(started) });
    return rsp as RunFunctionResponse;
  } catch (err) {
    const message = errorMessage(err);
    logger.error('RunFunction handler failed', { tag, composite, error: message, ms: elapsedMs(started) });
    return fatalResponse({ tag, desired: req.desired }, `internal error in function-secure-bucket: ${message}`);
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
export function shutdownGracefully(
  server: grpc.Server,
  graceMs: number = DEFAULT_SHUTDOWN_GRACE_MS,
): Promise<'graceful' | 'forced'> {
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
