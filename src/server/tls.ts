/**
 * Serving certificates for eksauth's HTTPS endpoints (the TokenReview webhook, the end-to-end test API server).
 * Generated in-process with WebCrypto so that no `openssl` binary is needed on the host.
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import type * as X509 from '@peculiar/x509';
import { EksAuthError } from '../errors.js';

export interface SelfSignedCertificateOptions {
  /** Subject common name. Clients match host names against the SANs only, so list the names in `dnsNames` too. */
  commonName: string;
  /** DNS subject alternative names, e.g. `['localhost', 'eksauth.kube-system.svc']`. */
  dnsNames?: string[];
  /** IP subject alternative names, IPv4 or IPv6, e.g. `['127.0.0.1']`. */
  ipAddresses?: string[];
  /** Validity in days from now; default 365. */
  days?: number;
}

export interface SelfSignedCertificate {
  /** The certificate, PEM. Clients trust it directly (it is its own issuer), e.g. as `certificate-authority-data`. */
  certPem: string;
  /** The ECDSA P-256 private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
  keyPem: string;
}

const DEFAULT_VALIDITY_DAYS = 365;
/** Backdate notBefore so that a client whose clock runs a little behind still accepts a brand-new certificate. */
const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;
const DAY_MS = 24 * 60 * 60_000;
const ECDSA_P256: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
// Passed explicitly: x509's default provider depends on a global `crypto`.
const crypto = webcrypto;

/**
 * Creates a self-signed ECDSA P-256 serving certificate with the given SANs and the serverAuth extended key usage.
 *
 * @example
 * ```ts
 * const { certPem, keyPem } = await createSelfSignedCertificate({
 *   commonName: 'eksauth', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'],
 * });
 * https.createServer({ cert: certPem, key: keyPem }, handler);
 * ```
 */
export async function createSelfSignedCertificate(options: SelfSignedCertificateOptions): Promise<SelfSignedCertificate> {
  const commonName = requireCommonName(options.commonName);
  const sanEntries = subjectAltNames(options);
  const validity = validityPeriod(options.days);
  const x509 = await loadX509();
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      name: [{ CN: [commonName] }],
      ...validity,
      signingAlgorithm: ECDSA_P256,
      keys,
      // A leaf, not a CA: clients pin this exact certificate, and it can never vouch for another one.
      extensions: await servingExtensions(x509, keys.publicKey, sanEntries),
    },
    crypto,
  );
  return { certPem: certificate.toString('pem') + '\n', keyPem: await privateKeyPem(keys.privateKey) };
}

/** A local certificate authority: its certificate to trust, and serving certificates it signs. */
export interface CertificateAuthority {
  /** The CA certificate, PEM: what clients trust, e.g. as a cluster's `certificate-authority-data`. */
  certPem: string;
  /** Issues an ECDSA P-256 serving certificate for the given names, signed by this CA. */
  issue(options: SelfSignedCertificateOptions): Promise<SelfSignedCertificate>;
}

/**
 * Creates a certificate authority that lives in memory only (its key is never written anywhere), for test beds whose
 * clusters need a CA certificate that really signed their API server's certificate.
 *
 * @example
 * ```ts
 * const ca = await createCertificateAuthority({ commonName: 'eksauth local CA' });
 * const { certPem, keyPem } = await ca.issue({ commonName: 'apiserver', ipAddresses: ['127.0.0.1'] });
 * // clients trust ca.certPem; the server presents certPem + ca.certPem
 * ```
 */
export async function createCertificateAuthority(options: { commonName: string; days?: number }): Promise<CertificateAuthority> {
  const name = [{ CN: [requireCommonName(options.commonName)] }];
  const x509 = await loadX509();
  const keys = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
  const caCertificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerialNumber(),
      name,
      ...validityPeriod(options.days),
      signingAlgorithm: ECDSA_P256,
      keys,
      extensions: [
        // Signs leaf certificates only (path length 0).
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  const certPem = caCertificate.toString('pem') + '\n';
  return {
    certPem,
    async issue(leaf) {
      const sanEntries = subjectAltNames(leaf);
      const leafKeys = await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify']);
      const certificate = await x509.X509CertificateGenerator.create(
        {
          serialNumber: randomSerialNumber(),
          subject: [{ CN: [requireCommonName(leaf.commonName)] }],
          issuer: caCertificate.subject,
          ...validityPeriod(leaf.days),
          signingAlgorithm: ECDSA_P256,
          publicKey: leafKeys.publicKey,
          signingKey: keys.privateKey,
          extensions: [
            ...(await servingExtensions(x509, leafKeys.publicKey, sanEntries)),
            await x509.AuthorityKeyIdentifierExtension.create(caCertificate, false, crypto),
          ],
        },
        crypto,
      );
      // The chain a server presents: its own certificate, then the CA's.
      return { certPem: certificate.toString('pem') + '\n' + certPem, keyPem: await privateKeyPem(leafKeys.privateKey) };
    },
  };
}

/** The extensions of a serving (leaf) certificate: not a CA, serverAuth, the SANs clients match. */
async function servingExtensions(x509: typeof X509, publicKey: webcrypto.CryptoKey, sanEntries: X509.JsonGeneralName[]): Promise<X509.Extension[]> {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
    new x509.SubjectAlternativeNameExtension(sanEntries, false),
    await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
  ];
}

/** From a little before now (a client whose clock runs behind still accepts it) for `days` (default 365). */
function validityPeriod(days: number | undefined): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Date.now() - CLOCK_SKEW_ALLOWANCE_MS);
  return { notBefore, notAfter: new Date(notBefore.getTime() + validityDays(days) * DAY_MS) };
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', new Uint8Array(await crypto.subtle.exportKey('pkcs8', key)));
}

/** @peculiar/x509 needs a Reflect metadata polyfill; load both only when a certificate is actually made. */
async function loadX509(): Promise<typeof X509> {
  await import('reflect-metadata');
  return import('@peculiar/x509');
}

function subjectAltNames(options: SelfSignedCertificateOptions): X509.JsonGeneralName[] {
  const dns = (options.dnsNames ?? []).map((name) => ({ type: 'dns' as const, value: requireDnsName(name) }));
  const ips = (options.ipAddresses ?? []).map((ip) => ({ type: 'ip' as const, value: requireIpAddress(ip) }));
  if (dns.length + ips.length === 0) {
    throw new EksAuthError('ERR_USAGE', 'A serving certificate needs at least one DNS name or IP address; clients match only those.');
  }
  return [...dns, ...ips];
}

function requireCommonName(commonName: string): string {
  if (commonName.trim() === '' || commonName.length > 64) {
    throw new EksAuthError('ERR_USAGE', 'The certificate common name must be 1 to 64 characters long.');
  }
  return commonName;
}

function requireDnsName(name: string): string {
  // Wildcards are allowed in the leftmost label only, as TLS clients match them.
  if (!/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(name) || name.length > 253) {
    throw new EksAuthError('ERR_USAGE', `"${name}" is not a valid DNS name for a certificate; use letters, digits, '-' and '.'.`);
  }
  return name.toLowerCase();
}

function requireIpAddress(ip: string): string {
  if (isIP(ip) === 0) throw new EksAuthError('ERR_USAGE', `"${ip}" is not an IPv4 or IPv6 address.`);
  return ip;
}

function validityDays(days: number | undefined): number {
  const value = days ?? DEFAULT_VALIDITY_DAYS;
  if (!Number.isInteger(value) || value < 1 || value > 3650) {
    throw new EksAuthError('ERR_USAGE', `Certificate validity must be a whole number of days from 1 to 3650 (got ${String(days)}).`);
  }
  return value;
}

/** 16 random bytes with the top bit cleared, so the DER INTEGER stays positive (RFC 5280 §4.1.2.2). */
function randomSerialNumber(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

function toPem(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * What the webhook offers, as the Kubernetes components' secure defaults: TLS 1.3's AEAD suites (OpenSSL's default
 * set, without the CCM ones), and for TLS 1.2 only ECDHE key exchange (forward secrecy) with AES-GCM or
 * ChaCha20-Poly1305. Node's default list also allows CBC with SHA-1 (`ECDHE-ECDSA-AES256-SHA`) and CCM8.
 */
export const SECURE_TLS_OPTIONS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
} as const;
