// The server requires a client certificate that chains to ca.crt and is within its validity.
// Each refused client is the valid client with exactly one thing changed.

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connectFunction, type FunctionClient } from '../../functions/secure-bucket/cli/control-plane/index.js';
import { boundAddress, createFunctionServer, listen, loadServerCredentials, shutdownGracefully } from '../../functions/secure-bucket/src/server.js';
import { createTestPki, writeServerCertsDir, type KeyPairPem, type TestPki } from '../lib/certs.js';
import { echoHandler, expectGrpcError, requestWithPayload, tlsClientCredentials, TLS_CONNECT } from './harness.js';

describe('mTLS', () => {
  let pki: TestPki;
  let certsDir: string;
  let server: grpc.Server;
  let address: string;
  let handled = 0;
  const clients: FunctionClient[] = [];

  beforeAll(async () => {
    pki = createTestPki();
    certsDir = writeServerCertsDir(mkdtempSync(join(tmpdir(), 'sb-mtls-')), pki);
    server = createFunctionServer({
      handle: async (req) => {
        handled++;
        return echoHandler(req);
      },
    });
    address = boundAddress('127.0.0.1:0', await listen(server, '127.0.0.1:0', loadServerCredentials(certsDir)));
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    await shutdownGracefully(server, 1000);
    rmSync(certsDir, { recursive: true, force: true });
  });

  const clientWith = (pair?: KeyPairPem): FunctionClient => {
    const c = connectFunction(address, tlsClientCredentials(pki, pair), TLS_CONNECT);
    clients.push(c);
    return c;
  };

  it('serves a client whose certificate the CA signed', async () => {
    const before = handled;
    const rsp = await clientWith(pki.client).runFunction(requestWithPayload('valid'), 5000);
    expect(rsp.meta?.tag).toBe('valid');
    expect(handled).toBe(before + 1);
  });

  // The handshake fails, so the call never reaches the handler: UNAVAILABLE, handler untouched.
  it.each<[string, 'foreignClient' | 'expiredClient' | undefined]>([
    ['no client certificate', undefined],
    ['a certificate from another CA', 'foreignClient'],
    ['an expired certificate from the right CA', 'expiredClient'],
  ])('refuses a client with %s', async (_label, pairName) => {
    const before = handled;
    const client = clientWith(pairName === undefined ? undefined : pki[pairName]);
    await expectGrpcError(client.runFunction(requestWithPayload('refused'), 5000), grpc.status.UNAVAILABLE);
    expect(handled).toBe(before);
  });

  it('refuses a plaintext client', async () => {
    const client = connectFunction(address, grpc.credentials.createInsecure());
    clients.push(client);
    await expectGrpcError(client.runFunction(requestWithPayload('plain'), 5000), grpc.status.UNAVAILABLE);
  });

  it('names every missing certificate file', () => {
    const empty = mkdtempSync(join(tmpdir(), 'sb-nocerts-'));
    try {
      expect(() => loadServerCredentials(empty)).toThrow(new RegExp(['tls.key', 'tls.crt', 'ca.crt'].map((f) => `${join(empty, f)}: ENOENT`).join('.*')));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
