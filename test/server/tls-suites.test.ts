/**
 * The webhook's TLS: a real client offering one suite at a time. Only AEAD suites with forward secrecy are accepted,
 * as the Kubernetes components' secure defaults: for TLS 1.2 ECDHE with AES-GCM or ChaCha20-Poly1305 (no CBC, no
 * SHA-1 MAC, no CCM8), for TLS 1.3 the GCM and ChaCha20 suites (no CCM); nothing older than TLS 1.2.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { tempDir } from '../support/tools.js';
import { logSink } from './helpers.js';

type Version = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

describe('eksauth server TLS suites', () => {
  let server: RunningServer;
  let port: number;

  beforeAll(async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'mapping.yaml'), 'mapUsers: []\n');
    server = await startServer({
      clusterId: 'prod', port: 0, opsPort: null, stateDir: join(dir, 'state'), mappingFile: join(dir, 'mapping.yaml'),
    }, { logDestination: logSink() });
    port = Number(new URL(server.url).port);
  });
  afterAll(async () => server?.close());

  /** The suite the handshake settled on, or the error that ended it. */
  function handshake(version: Version, suite: string): Promise<string> {
    const tls13 = version === 'TLSv1.3';
    return new Promise((resolve) => {
      const socket = tls.connect({
        port, host: '127.0.0.1', ca: server.caPem, checkServerIdentity: () => undefined, minVersion: version, maxVersion: version,
        // A TLS 1.3 client offers only `ciphersuites`; a TLS 1.2 one only `ciphers` (TLS 1.3 is off).
        ...(tls13 ? { ciphers: suite } : { ciphers: `${suite}:@SECLEVEL=0` }),
      }, () => {
        resolve(socket.getCipher().standardName);
        socket.destroy();
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(`refused (${err.code ?? err.message})`));
    });
  }

  it.each([
    ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
    ['TLSv1.2', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
    ['TLSv1.2', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
    ['TLSv1.3', 'TLS_AES_128_GCM_SHA256', 'TLS_AES_128_GCM_SHA256'],
    ['TLSv1.3', 'TLS_AES_256_GCM_SHA384', 'TLS_AES_256_GCM_SHA384'],
    ['TLSv1.3', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_CHACHA20_POLY1305_SHA256'],
  ] as const)('%s %s is accepted', async (version, suite, standardName) => {
    expect(await handshake(version, suite)).toBe(standardName);
  });

  it.each([
    ['TLSv1.2', 'ECDHE-ECDSA-AES128-SHA'],
    ['TLSv1.2', 'ECDHE-ECDSA-AES256-SHA'],
    ['TLSv1.2', 'ECDHE-ECDSA-AES128-SHA256'],
    ['TLSv1.2', 'ECDHE-ECDSA-AES256-SHA384'],
    ['TLSv1.2', 'ECDHE-ECDSA-AES128-CCM8'],
    ['TLSv1.2', 'ECDHE-ECDSA-AES256-CCM8'],
    ['TLSv1.2', 'ECDHE-ECDSA-AES128-CCM'],
    ['TLSv1.2', 'ECDHE-ECDSA-AES256-CCM'],
    ['TLSv1.2', 'ECDHE-ECDSA-ARIA128-GCM-SHA256'],
    ['TLSv1.3', 'TLS_AES_128_CCM_SHA256'],
    ['TLSv1.3', 'TLS_AES_128_CCM_8_SHA256'],
    ['TLSv1.1', 'ECDHE-ECDSA-AES128-SHA'],
  ] as const)('%s %s is refused', async (version, suite) => {
    expect(await handshake(version, suite)).toMatch(/^refused/);
  });
});
