// Hostile clients below the gRPC library: raw TCP bytes, hand-built HTTP/2 frames, and HTTP/2
// streams carrying broken gRPC messages. Each resolves with what the server did, never hangs.
import http2 from 'node:http2';
import { connect } from 'node:net';
import { FunctionRunnerServiceService } from '@crossplane-org/function-sdk-typescript';

export const RUN_FUNCTION_PATH = FunctionRunnerServiceService.runFunction.path;
export const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at), port: Number(address.slice(at + 1)) };
}

/** An HTTP/2 frame header (length, type, flags, stream) followed by `payload`. */
export function frame(type: number, flags: number, stream: number, payload: Buffer, declaredLength = payload.length): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(declaredLength, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

export const FRAME = { DATA: 0, HEADERS: 1, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;
export const FLAG = { END_STREAM: 1, END_HEADERS: 4 } as const;

export interface RawOutcome {
  /** The server closed the connection (it did not wait for more from us). */
  closedByServer: boolean;
  bytesReceived: number;
  localPort: number | undefined;
}

/**
 * Writes `bytes` and, if `halfClose`, ends our side. Resolves when the server closes the
 * connection or after `waitMs` (then closes it ourselves): a server that keeps a half-dead
 * connection open is not an error, a server that dies is (the next valid call shows it).
 */
export function sendRaw(address: string, bytes: Buffer, opts: { halfClose?: boolean; waitMs?: number } = {}): Promise<RawOutcome> {
  const { host, port } = hostPort(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = 0;
    let localPort: number | undefined;
    const timer = setTimeout(() => finish(false), opts.waitMs ?? 2000);
    const finish = (closedByServer: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ closedByServer, bytesReceived: received, localPort });
    };
    socket.on('connect', () => {
      localPort = socket.localPort;
      socket.write(bytes);
      if (opts.halfClose) socket.end();
    });
    socket.on('data', (d: Buffer) => (received += d.length));
    socket.on('close', () => finish(true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset from the server is a close; failing to connect at all is not.
      if (err.code === 'ECONNREFUSED') {
        clearTimeout(timer);
        reject(err);
      }
    });
  });
}

/** A gRPC length-prefixed message: compressed flag, 4-byte length (may lie), body. */
export function grpcMessage(body: Buffer, opts: { declaredLength?: number; compressed?: boolean } = {}): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(opts.compressed ? 1 : 0, 0);
  prefix.writeUInt32BE(opts.declaredLength ?? body.length, 1);
  return Buffer.concat([prefix, body]);
}

export interface StreamOutcome {
  /** grpc-status from the trailers (or trailers-only headers); undefined if none came. */
  grpcStatus: number | undefined;
  /** The stream or session ended without a status (reset, GOAWAY, our own abort). */
  aborted: boolean;
}

/**
 * Sends `chunks` on one RunFunction stream over a fresh HTTP/2 connection. `abortAfterMs`
 * cancels the stream (RST_STREAM) after writing instead of ending it; `destroySession` drops
 * the whole connection mid-request.
 */
export function sendStream(
  address: string,
  chunks: Buffer[],
  opts: { end?: boolean; abortAfterMs?: number; destroySession?: boolean; waitMs?: number } = {},
): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const session = http2.connect(`http://${address}`);
    session.on('error', () => undefined);
    let grpcStatus: number | undefined;
    let settled = false;
    const finish = (aborted: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.destroy();
      resolve({ grpcStatus, aborted });
    };
    const timer = setTimeout(() => finish(true), opts.waitMs ?? 5000);
    const stream = session.request({
      ':method': 'POST',
      ':path': RUN_FUNCTION_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('error', () => undefined);
    const readStatus = (headers: http2.IncomingHttpHeaders): void => {
      const s = headers['grpc-status'];
      if (typeof s === 'string') grpcStatus = Number(s);
    };
    stream.on('response', readStatus);
    stream.on('trailers', readStatus);
    stream.on('data', () => undefined);
    stream.on('close', () => finish(grpcStatus === undefined));
    for (const c of chunks) stream.write(c);
    if (opts.destroySession) {
      setTimeout(() => finish(true), opts.abortAfterMs ?? 0);
    } else if (opts.abortAfterMs !== undefined) {
      setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), opts.abortAfterMs);
    } else if (opts.end ?? true) {
      stream.end();
    }
  });
}
