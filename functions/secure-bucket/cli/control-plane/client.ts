// A RunFunction client over real gRPC, for the render CLI and the tests. `startLocalFunction`
// serves a handler in-process on loopback (plaintext) so render exercises the same wire path,
// serialisation and limits as Crossplane does.

import * as grpc from '@grpc/grpc-js';
import { FunctionRunnerServiceService, RunFunctionRequest, RunFunctionResponse } from '@crossplane-org/function-sdk-typescript';
import { runFunction } from '../../src/function.js';
import type { Logger } from '../../src/logger.js';
import { boundAddress, createFunctionServer, listen, messageLimits, shutdownGracefully, type RunFunctionHandler } from '../../src/server.js';

export const DEFAULT_DEADLINE_MS = 30_000;

/** The function called in process, behind the same interface: no wire, the same RunFunction. */
export const inProcessFunction: FunctionClient = { runFunction: (req) => runFunction(req), close: () => {} };

export interface FunctionClient {
  /** Rejects with a grpc.ServiceError (it has a `code`) when the call fails. */
  runFunction(req: RunFunctionRequest, deadlineMs?: number): Promise<RunFunctionResponse>;
  close(): void;
}

type UnaryCall = (
  req: RunFunctionRequest,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, rsp?: RunFunctionResponse) => void,
) => grpc.ClientUnaryCall;

const FunctionRunnerClient = grpc.makeGenericClientConstructor(FunctionRunnerServiceService, 'apiextensions.fn.proto.v1.FunctionRunnerService');

export interface ConnectOptions {
  maxMessageBytes?: number;
  /** Extra channel options, e.g. `grpc.ssl_target_name_override`. */
  channelOptions?: grpc.ChannelOptions;
}

export function connectFunction(
  address: string,
  creds: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  opts: ConnectOptions = {},
): FunctionClient {
  const client = new FunctionRunnerClient(address, creds, {
    ...messageLimits(opts.maxMessageBytes),
    ...opts.channelOptions,
  });
  const call = (client as unknown as { runFunction: UnaryCall }).runFunction.bind(client);
  return {
    runFunction(req, deadlineMs = DEFAULT_DEADLINE_MS) {
      return new Promise((resolve, reject) => {
        call(req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, rsp) => {
          if (err) reject(err);
          else if (rsp === undefined) reject(new Error('RunFunction returned neither a response nor an error'));
          else resolve(rsp);
        });
      });
    },
    close: () => client.close(),
  };
}

export interface LocalFunction {
  address: string;
  client: FunctionClient;
  stop(): Promise<void>;
}

/** Serves `handle` on 127.0.0.1 (a free port, plaintext) and connects a client to it. */
export async function startLocalFunction(handle: RunFunctionHandler, opts: { logger?: Logger; maxMessageBytes?: number } = {}): Promise<LocalFunction> {
  const server = createFunctionServer({ handle, ...opts });
  const address = boundAddress('127.0.0.1:0', await listen(server, '127.0.0.1:0', grpc.ServerCredentials.createInsecure()));
  const client = connectFunction(address, grpc.credentials.createInsecure(), { maxMessageBytes: opts.maxMessageBytes });
  return {
    address,
    client,
    async stop() {
      client.close();
      await shutdownGracefully(server, 1_000);
    },
  };
}
