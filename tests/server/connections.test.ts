// A peer that opens a connection and never finishes a request must not keep its socket: the
// server's keepalive and idle limits drop it (production values are minutes; shortened here).
import { afterEach, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import { CONNECTION_LIMITS, createFunctionServer, listen, shutdownGracefully } from '../../functions/secure-bucket/src/server.js';

const HTTP2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
// A SETTINGS frame header that announces 10 bytes, followed by only 2 of them.
const PARTIAL_FRAME = Buffer.from([0, 0, 10, 4, 0, 0, 0, 0, 0, 0, 3]);

let server: grpc.Server | undefined;
afterEach(async () => {
  if (server) await shutdownGracefully(server, 100);
  server = undefined;
});

/** Milliseconds until the server closes a silent peer's socket, or undefined if still open at `waitMs`. */
async function silentPeerClosedAfter(channelOptions: grpc.ChannelOptions, waitMs: number): Promise<number | undefined> {
  server = createFunctionServer({ handle: async () => ({}) as never, channelOptions });
  const port = await listen(server, '127.0.0.1:0', grpc.ServerCredentials.createInsecure());
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(HTTP2_PREFACE);
      socket.write(PARTIAL_FRAME);
    });
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, waitMs);
  });
}

describe('connection limits', () => {
  it('production limits are set: keepalive pings and an idle limit, in minutes not hours', () => {
    expect(CONNECTION_LIMITS['grpc.keepalive_time_ms']).toBeGreaterThan(0);
    expect(CONNECTION_LIMITS['grpc.keepalive_timeout_ms']).toBeGreaterThan(0);
    expect(CONNECTION_LIMITS['grpc.max_connection_idle_ms']).toBeLessThanOrEqual(15 * 60_000);
  });

  it('an idle limit closes a peer that sent a partial frame and went silent', async () => {
    expect(await silentPeerClosedAfter({ 'grpc.max_connection_idle_ms': 300 }, 5_000)).toBeDefined();
  });

  it('an unanswered keepalive ping closes it too', async () => {
    expect(await silentPeerClosedAfter({ 'grpc.keepalive_time_ms': 200, 'grpc.keepalive_timeout_ms': 200 }, 5_000)).toBeDefined();
  });

  it('without those limits the same peer would hold its socket (the limits are what closes it)', async () => {
    const noLimits = { 'grpc.keepalive_time_ms': 2 ** 31 - 1, 'grpc.max_connection_idle_ms': 2 ** 31 - 1 };
    expect(await silentPeerClosedAfter(noLimits, 1_500)).toBeUndefined();
  });
});
