/**
 * The test API server's webhook token authenticator behaves like kube-apiserver's: it reads the webhook kubeconfig,
 * sends the TokenReview in the configured version, retries what kube-apiserver retries, and caches when asked.
 */
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebhookKubeconfig } from '../../src/server/init.js';
import { createSelfSignedCertificate } from '../../src/server/tls.js';
import { webhookAuthenticator, WebhookError } from '../../src/testbed/webhook-client.js';
import { tempDir } from '../support/tools.js';

interface Received {
  path: string;
  body: { apiVersion?: string; kind?: string; spec?: { token?: string; audiences?: string[] } };
}

describe('webhookAuthenticator', () => {
  let server: https.Server;
  let kubeconfigPath: string;
  const received: Received[] = [];
  // Answers queued per test: a status and whether the user is authenticated.
  let answers: { status: number; authenticated?: boolean }[] = [];

  beforeAll(async () => {
    const { certPem, keyPem } = await createSelfSignedCertificate({ commonName: 'webhook', ipAddresses: ['127.0.0.1'] });
    server = https.createServer({ cert: certPem, key: keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Received['body'];
        received.push({ path: req.url ?? '', body });
        const { status, authenticated = true } = answers.shift() ?? { status: 200 };
        const user = authenticated ? { username: 'alice', uid: 'u-1', groups: ['dev'], extra: { arn: ['a'] } } : {};
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: body.apiVersion, kind: 'TokenReview', status: { authenticated, user, ...(authenticated ? {} : { error: 'no' }) } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    kubeconfigPath = join(tempDir(), 'webhook.yaml');
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/authenticate`;
    writeFileSync(kubeconfigPath, buildWebhookKubeconfig({ url, caPem: certPem }));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each(['v1', 'v1beta1'] as const)('posts a TokenReview %s to the kubeconfig’s URL and returns the user', async (version) => {
    answers = [{ status: 200 }];
    const authenticate = webhookAuthenticator({ kubeconfigPath, version, audiences: ['https://kubernetes.default.svc'] });
    expect(await authenticate('tok')).toEqual({ username: 'alice', uid: 'u-1', groups: ['dev'], extra: { arn: ['a'] } });
    expect(received.at(-1)).toEqual({
      path: '/authenticate',
      body: expect.objectContaining({
        apiVersion: `authentication.k8s.io/${version}`, kind: 'TokenReview', spec: { token: 'tok', audiences: ['https://kubernetes.default.svc'] },
      }),
    });
  });

  it('treats authenticated: false as unauthenticated, and a non-2xx answer as an error', async () => {
    answers = [{ status: 200, authenticated: false }, { status: 403, authenticated: false }];
    const authenticate = webhookAuthenticator({ kubeconfigPath });
    expect(await authenticate('tok')).toBeUndefined();
    await expect(authenticate('tok')).rejects.toMatchObject({ code: 'webhook-http-403' });
  });

  it('retries 429, 500 and 504 with back-off, as kube-apiserver does', async () => {
    answers = [{ status: 429 }, { status: 500 }, { status: 504 }, { status: 200 }];
    const authenticate = webhookAuthenticator({ kubeconfigPath, retry: { initialDelayMs: 1 } });
    const before = received.length;
    expect((await authenticate('tok'))?.username).toBe('alice');
    expect(received.length - before).toBe(4);
    expect(authenticate.exchanges().at(-1)).toMatchObject({ status: 200, attempts: 4, authenticated: true });
  });

  it('does not retry 503: the review failed closed', async () => {
    answers = [{ status: 503, authenticated: false }];
    const authenticate = webhookAuthenticator({ kubeconfigPath, retry: { initialDelayMs: 1 } });
    const error = await authenticate('tok').catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WebhookError);
    expect((error as WebhookError).exchange).toMatchObject({ status: 503, attempts: 1, error: 'no' });
  });

  it('caches answers for the configured TTL', async () => {
    answers = [{ status: 200 }];
    const authenticate = webhookAuthenticator({ kubeconfigPath, cacheTtlMs: 60_000 });
    const before = received.length;
    await authenticate('cached-token');
    await authenticate('cached-token');
    expect(received.length - before).toBe(1);
  });
});
