// Test PKI built in memory with node-forge (no openssl needed). RSA keys come from Node's
// native generator: forge's pure-JS key generation takes seconds per key.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

export interface KeyPairPem {
  key: string;
  cert: string;
}

export interface CertificateAuthority extends KeyPairPem {
  name: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

interface CertSpec {
  commonName: string;
  issuer?: CertificateAuthority;
  isCa?: boolean;
  usage?: 'server' | 'client';
  dnsNames?: string[];
  ips?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

function newKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const privateKey = forge.pki.privateKeyFromPem(pem);
  return { privateKey, publicKey: forge.pki.setRsaPublicKey(privateKey.n, privateKey.e), pem };
}

function issue(spec: CertSpec): KeyPairPem {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // Positive serial: clear the top bit of the first byte.
  cert.serialNumber = `0${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = spec.notBefore ?? new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = spec.notAfter ?? new Date(Date.now() + 30 * DAY_MS);
  const subject = [{ name: 'commonName', value: spec.commonName }];
  cert.setSubject(subject);
  const issuerKey = spec.issuer ? forge.pki.privateKeyFromPem(spec.issuer.key) : keys.privateKey;
  cert.setIssuer(spec.issuer ? forge.pki.certificateFromPem(spec.issuer.cert).subject.attributes : subject);
  const altNames = [...(spec.dnsNames ?? []).map((value) => ({ type: 2, value })), ...(spec.ips ?? []).map((ip) => ({ type: 7, ip }))];
  cert.setExtensions([
    { name: 'basicConstraints', cA: spec.isCa ?? false, critical: true },
    spec.isCa
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    ...(spec.usage ? [{ name: 'extKeyUsage', serverAuth: spec.usage === 'server', clientAuth: spec.usage === 'client' }] : []),
    ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(issuerKey, forge.md.sha256.create());
  return { key: keys.pem, cert: forge.pki.certificateToPem(cert) };
}

export function createCa(name: string): CertificateAuthority {
  return { name, ...issue({ commonName: name, isCa: true, notAfter: new Date(Date.now() + 365 * DAY_MS) }) };
}

/** A server certificate valid for localhost and 127.0.0.1. */
export function issueServerCert(ca: CertificateAuthority): KeyPairPem {
  return issue({ commonName: 'function-secure-bucket', issuer: ca, usage: 'server', dnsNames: ['localhost'], ips: ['127.0.0.1'] });
}

export function issueClientCert(ca: CertificateAuthority, validity: { notBefore?: Date; notAfter?: Date } = {}): KeyPairPem {
  return issue({ commonName: 'crossplane', issuer: ca, usage: 'client', ...validity });
}

export interface TestPki {
  ca: CertificateAuthority;
  server: KeyPairPem;
  client: KeyPairPem;
  /** Signed by a CA the server does not trust. */
  foreignClient: KeyPairPem;
  /** Signed by the trusted CA, but expired yesterday. */
  expiredClient: KeyPairPem;
}

export function createTestPki(): TestPki {
  const ca = createCa('secure-bucket test CA');
  return {
    ca,
    server: issueServerCert(ca),
    client: issueClientCert(ca),
    foreignClient: issueClientCert(createCa('some other CA')),
    expiredClient: issueClientCert(ca, {
      notBefore: new Date(Date.now() - 10 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    }),
  };
}

/** Writes the layout Crossplane mounts at /tls/server: tls.key, tls.crt, ca.crt. */
export function writeServerCertsDir(dir: string, pki: Pick<TestPki, 'ca' | 'server'>): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tls.key'), pki.server.key, { mode: 0o600 });
  writeFileSync(join(dir, 'tls.crt'), pki.server.cert);
  writeFileSync(join(dir, 'ca.crt'), pki.ca.cert);
  return dir;
}
