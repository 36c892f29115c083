import { X509Certificate, createPrivateKey } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createSelfSignedCertificate } from '../../src/server/tls.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

describe('createSelfSignedCertificate', () => {
  it('makes an ECDSA P-256 serving certificate with the SANs and serverAuth', async () => {
    const { certPem, keyPem } = await createSelfSignedCertificate({
      commonName: 'eksauth-webhook',
      dnsNames: ['localhost', 'eksauth.kube-system.svc'],
      ipAddresses: ['127.0.0.1', '::1'],
      days: 30,
    });
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toBe('CN=eksauth-webhook');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.subjectAltName).toBe(
      'DNS:localhost, DNS:eksauth.kube-system.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(cert.ca).toBe(false);
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkHost('eksauth.kube-system.svc')).toBe('eksauth.kube-system.svc');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const lifetimeDays = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
    expect(Math.round(lifetimeDays)).toBe(30);
    expect(keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
  });

  it('makes a fresh key and serial number each time', async () => {
    const options = { commonName: 'x', dnsNames: ['localhost'] };
    const [a, b] = await Promise.all([createSelfSignedCertificate(options), createSelfSignedCertificate(options)]);
    expect(a.keyPem).not.toBe(b.keyPem);
    expect(new X509Certificate(a.certPem).serialNumber).not.toBe(new X509Certificate(b.certPem).serialNumber);
  });

  it('is trusted by a Node TLS client that pins it, for the names it lists', async () => {
    const { certPem, keyPem } = await createSelfSignedCertificate({ commonName: 'x', ipAddresses: ['127.0.0.1'] });
    const server = https.createServer({ cert: certPem, key: keyPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const body = await new Promise<string>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, ca: certPem, agent: false }, (res) => {
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        }).on('error', reject);
      });
      expect(body).toBe('ok');
    } finally {
      server.close();
    }
  });

  it.each([
    ['no names at all', { commonName: 'x' }],
    ['an empty common name', { commonName: ' ', dnsNames: ['localhost'] }],
    ['a DNS name with a space', { commonName: 'x', dnsNames: ['bad name'] }],
    ['a DNS name with a scheme', { commonName: 'x', dnsNames: ['https://localhost'] }],
    ['an IP that is not one', { commonName: 'x', ipAddresses: ['300.1.1.1'] }],
    ['zero days', { commonName: 'x', dnsNames: ['localhost'], days: 0 }],
    ['fractional days', { commonName: 'x', dnsNames: ['localhost'], days: 1.5 }],
  ])('refuses %s', async (_name, options) => {
    await expect(createSelfSignedCertificate(options)).rejects.toMatchObject({ name: 'EksAuthError', code: 'ERR_USAGE' });
  });
});
