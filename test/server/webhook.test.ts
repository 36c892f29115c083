/**
 * The TokenReview webhook over real HTTPS, against the STS emulator: answers in both versions, the reference
 * server's user shape, denials with reasons, bad requests, ops endpoints, metrics, logs without tokens, and a
 * graceful stop.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { tempDir } from '../support/tools.js';
import { ALICE, BOB, logSink, mintToken, request, review } from './helpers.js';

const CLUSTER = 'prod-eu';
const MAPPING = `mapUsers:
  - userarn: arn:aws:iam::111122223333:user/alice
    username: alice
    groups: [developers, viewers]
`;

describe('eksauth server webhook', () => {
  let emulator: Emulator;
  let server: RunningServer;
  const log = logSink();
  let aliceToken: string;

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    const dir = tempDir();
    writeFileSync(join(dir, 'mapping.yaml'), MAPPING);
    server = await startServer({
      clusterId: CLUSTER, port: 0, opsPort: 0, stateDir: join(dir, 'state'), mappingFile: join(dir, 'mapping.yaml'),
      stsEndpoint: emulator.url, generateKubeconfig: join(dir, 'kubeconfig.yaml'),
    }, { logDestination: log });
    aliceToken = await mintToken(ALICE, CLUSTER);
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
  });

  it.each(['v1', 'v1beta1'] as const)('authenticates a mapped user in TokenReview %s, with the reference server’s user shape', async (version) => {
    const answer = await review(server, aliceToken, version);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      apiVersion: `authentication.k8s.io/${version}`,
      kind: 'TokenReview',
      metadata: { creationTimestamp: null },
      spec: {},
      status: {
        authenticated: true,
        user: {
          username: 'alice',
          uid: 'aws-iam-authenticator:111122223333:AIDAEKSAUTHDEMOALICE1',
          groups: ['developers', 'viewers'],
          extra: {
            arn: ['arn:aws:iam::111122223333:user/alice'],
            canonicalArn: ['arn:aws:iam::111122223333:user/alice'],
            sessionName: [''],
            accessKeyId: [ALICE.accessKeyId],
            principalId: ['AIDAEKSAUTHDEMOALICE1'],
            'sigs.k8s.io/aws-iam-authenticator/principalId': ['AIDAEKSAUTHDEMOALICE1'],
          },
        },
      },
    });
  });

  it('asks STS once for a token, then answers from the cache', async () => {
    const token = await mintToken(ALICE, CLUSTER, new Date(Date.now() - 7_000));
    emulator.resetStats();
    const answers = await Promise.all(Array.from({ length: 10 }, () => review(server, token)));
    await review(server, token);
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(emulator.stats().requests).toBe(1);
  });

  it('denies an unmapped identity with 403 and the reason', async () => {
    const answer = await review(server, await mintToken(BOB, CLUSTER));
    expect(answer.status).toBe(403);
    expect(answer.body.status).toEqual({
      authenticated: false, user: {}, error: expect.stringContaining('arn:aws:iam::111122223333:user/bob is not mapped'),
    });
  });

  it('denies a token made for another cluster (STS refuses the signature)', async () => {
    const answer = await review(server, await mintToken(ALICE, 'other-cluster'));
    expect(answer.status).toBe(403);
    expect(answer.body.status?.error).toMatch(/ERR_STS_REJECTED/);
  });

  it('denies an expired token without asking STS', async () => {
    emulator.resetStats();
    const answer = await review(server, await mintToken(ALICE, CLUSTER, new Date(Date.now() - 20 * 60_000)));
    expect(answer.status).toBe(403);
    expect(answer.body.status?.error).toMatch(/ERR_TOKEN_EXPIRED/);
    expect(emulator.stats().requests).toBe(0);
  });

  it('denies garbage', async () => {
    const answer = await review(server, 'not-a-token');
    expect(answer.status).toBe(403);
    expect(answer.body.status?.error).toMatch(/ERR_TOKEN_PREFIX/);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['another kind', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SubjectAccessReview', spec: { token: 't' } }), /kind is "SubjectAccessReview"; expected TokenReview/],
    ['an unknown version', JSON.stringify({ apiVersion: 'authentication.k8s.io/v2', kind: 'TokenReview', spec: { token: 't' } }), /apiVersion "authentication.k8s.io\/v2" is not supported/],
    ['no token', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {} }), /spec.token is missing/],
    ['bad audiences', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 't', audiences: 'x' } }), /spec.audiences must be a list/],
  ])('answers 400 with the reason for %s', async (_, body, reason) => {
    const answer = await request(server.url, { method: 'POST', body, caPem: server.caPem });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400, message: expect.stringMatching(reason) });
  });

  it('refuses bodies over the size limit, other methods and other paths', async () => {
    const huge = await request(server.url, { method: 'POST', body: 'x'.repeat(100_000), caPem: server.caPem });
    expect(huge.status).toBe(413);
    expect((await request(server.url, { caPem: server.caPem })).status).toBe(405);
    expect((await request(server.url.replace('/authenticate', '/other'), { caPem: server.caPem })).status).toBe(404);
  });

  it('serves /healthz, /readyz and /metrics on both ports', async () => {
    const base = server.url.replace('/authenticate', '');
    for (const url of [base, server.opsUrl]) {
      expect((await request(`${url}/healthz`, { caPem: server.caPem })).text).toBe('ok\n');
      const ready = await request(`${url}/readyz`, { caPem: server.caPem });
      expect(ready.status).toBe(200);
      expect(ready.text).toContain('[+]mapping file:');
    }
    const metrics = (await request(`${server.opsUrl}/metrics`)).text;
    expect(metrics).toMatch(/eksauth_reviews_total\{outcome="authenticated"\} \d+/);
    expect(metrics).toMatch(/eksauth_reviews_total\{outcome="unmapped"\} \d+/);
    expect(metrics).toMatch(/eksauth_sts_request_duration_seconds_count\{host="sts.eu-west-1.amazonaws.com"\} \d+/);
    expect(metrics).toMatch(/eksauth_sts_errors_total\{host="sts.eu-west-1.amazonaws.com",code="ERR_STS_REJECTED"\} 1/);
    expect(metrics).toMatch(/eksauth_review_cache_lookups_total\{result="hit"\} \d+/);
    expect(metrics).toMatch(/eksauth_mapping_source_healthy\{source="file:.*mapping.yaml"\} 1/);
  });

  it('logs one JSON line per review, with the identity and never the token', () => {
    const entries = log.entries();
    expect(entries.find((e) => e.msg === 'access granted')).toMatchObject({ username: 'alice', outcome: 'authenticated', arn: ALICE.arn });
    expect(entries.find((e) => e.outcome === 'unmapped')).toMatchObject({ level: 'warn', reason: expect.stringContaining('not mapped') });
    const text = log.lines().join('\n');
    expect(text).not.toContain(aliceToken.slice(11, 60));
    expect(text).not.toContain('X-Amz-Signature');
    expect(text).not.toContain(ALICE.secretAccessKey);
  });

  it('writes the webhook kubeconfig with the port it bound', () => {
    expect(server.kubeconfigPath).toBeDefined();
  });
});

describe('eksauth server shutdown', () => {
  it('drains a review in flight, then stops', async () => {
    const emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    const dir = tempDir();
    writeFileSync(join(dir, 'mapping.yaml'), MAPPING);
    const server = await startServer({
      clusterId: CLUSTER, port: 0, opsPort: null, stateDir: join(dir, 'state'), mappingFile: join(dir, 'mapping.yaml'), stsEndpoint: emulator.url,
    }, { logDestination: logSink() });
    try {
      emulator.setFault({ latencyMs: 300 });
      const inFlight = review(server, await mintToken(ALICE, CLUSTER));
      // In flight means STS has the request (held there by the latency fault): wait for that, not for a guessed time.
      await expect.poll(() => emulator.stats().requests).toBeGreaterThan(0);
      let stopped = false;
      const closing = server.close().then(() => { stopped = true; });
      expect(server.ready()).toBe(false);
      const answer = await inFlight;
      expect(answer.status).toBe(200);
      await closing;
      expect(stopped).toBe(true);
      await expect(review(server, 'x')).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      await server.close();
      await emulator.close();
    }
  });
});
