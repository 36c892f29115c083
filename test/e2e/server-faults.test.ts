/**
 * eksauth server against an STS that misbehaves, with the emulator's fault modes: slow, 5xx, throttling, garbage and
 * down. Every review is answered before the client gives up, with the status kube-apiserver acts on (429 is retried,
 * the rest fail closed with the reason in the answer and the log), and the server stays up and healthy.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import type { EmulatorFault } from '../../src/emulator/faults.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { startTestApiServer, type TestApiServer } from '../../src/testbed/apiserver.js';
import { webhookAuthenticator } from '../../src/testbed/webhook-client.js';
import { tempDir } from '../support/tools.js';
import { ALICE, logSink, mintToken, request, review } from '../server/helpers.js';

const CLUSTER = 'prod-eu';
const REVIEW_TIMEOUT_MS = 1_000;
// The client waits well past the server's own deadline: an answer must come from the server, not from giving up.
const CLIENT_TIMEOUT_MS = 10_000;

describe('eksauth server when STS misbehaves', () => {
  let emulator: Emulator;
  let server: RunningServer;
  let api: TestApiServer;
  const log = logSink();
  // Tokens signed in different seconds differ, so none is answered from the cache.
  const start = Date.now();
  let signedSecondsAgo = 0;
  const freshToken = () => mintToken(ALICE, CLUSTER, new Date(start - 1000 * ++signedSecondsAgo));

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    const dir = tempDir();
    writeFileSync(join(dir, 'mapping.yaml'), 'mapUsers:\n  - userarn: arn:aws:iam::111122223333:user/alice\n    username: alice\n');
    server = await startServer({
      clusterId: CLUSTER, port: 0, opsPort: null, stateDir: join(dir, 'state'), mappingFile: join(dir, 'mapping.yaml'),
      stsEndpoint: emulator.url, reviewTimeoutMs: REVIEW_TIMEOUT_MS, generateKubeconfig: join(dir, 'webhook.yaml'),
    }, { logDestination: log });
    api = await startTestApiServer({
      authenticate: webhookAuthenticator({ kubeconfigPath: join(dir, 'webhook.yaml'), version: 'v1', retry: { initialDelayMs: 20, attempts: 3 } }),
    });
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
    await emulator?.close();
  });

  async function reviewWithFault(fault: EmulatorFault) {
    emulator.setFault(fault);
    try {
      return await review(server, await freshToken(), 'v1', CLIENT_TIMEOUT_MS);
    } finally {
      emulator.setFault(undefined);
    }
  }
  async function expectStillServing(): Promise<void> {
    expect((await request(server.url.replace('/authenticate', '/healthz'), { caPem: server.caPem })).status).toBe(200);
    expect((await review(server, await freshToken())).status).toBe(200);
  }

  it.each([
    { sts: 'slow (past the review deadline)', fault: { latencyMs: 5_000 }, status: 503, reason: /no answer within \d+ ms.*ERR_STS_UNAVAILABLE/ },
    { sts: 'failing with 500', fault: { status: 500 }, status: 503, reason: /InternalFailure.*ERR_STS_UNAVAILABLE/ },
    { sts: 'failing with 503', fault: { status: 503 }, status: 503, reason: /ServiceUnavailable.*ERR_STS_UNAVAILABLE/ },
    { sts: 'throttling', fault: { throttle: true }, status: 429, reason: /throttled.*ERR_STS_THROTTLED/ },
    { sts: 'answering garbage', fault: { garbage: true }, status: 502, reason: /ERR_STS_RESPONSE/ },
  ])('STS $sts: answered with $status and the reason, and the server stays up', async ({ fault, status, reason }) => {
    const answer = await reviewWithFault(fault);
    expect(answer.status).toBe(status);
    expect(answer.body.status).toEqual({ authenticated: false, user: {}, error: expect.stringMatching(reason) });
    expect(log.entries().at(-1)).toMatchObject({ status, reason: expect.stringMatching(reason) });
    await expectStillServing();
  });

  it('a slow STS that answers within the deadline still authenticates', async () => {
    const answer = await reviewWithFault({ latencyMs: 200 });
    expect(answer.status).toBe(200);
  });

  it('through the API server: throttling is retried as kube-apiserver does, then the request is Unauthorized', async () => {
    emulator.setFault({ throttle: true });
    try {
      const token = await freshToken();
      const answer = await request(`${api.url}/api`, { caPem: api.caPem, headers: { Authorization: `Bearer ${token}` }, timeoutMs: CLIENT_TIMEOUT_MS });
      expect(answer.status).toBe(401);
    } finally {
      emulator.setFault(undefined);
    }
    const authenticate = api.requests().at(-1);
    expect(authenticate?.authError).toBe('webhook-http-429');
  });

  it('counts each failure by STS host and code', async () => {
    const metrics = (await request(server.url.replace('/authenticate', '/metrics'), { caPem: server.caPem })).text;
    for (const code of ['ERR_STS_UNAVAILABLE', 'ERR_STS_THROTTLED', 'ERR_STS_RESPONSE']) {
      expect(metrics).toMatch(new RegExp(`eksauth_sts_errors_total\\{host="sts.eu-west-1.amazonaws.com",code="${code}"\\} [1-9]`));
    }
    for (const outcome of ['sts_unavailable', 'sts_throttled', 'sts_bad_response']) {
      expect(metrics).toMatch(new RegExp(`eksauth_reviews_total\\{outcome="${outcome}"\\} [1-9]`));
    }
  });

  it('STS down: 503 with the reason, and the server stays up (last, since it stops the emulator)', async () => {
    await emulator.close();
    const answer = await review(server, await freshToken(), 'v1', CLIENT_TIMEOUT_MS);
    expect(answer.status).toBe(503);
    expect(answer.body.status?.error).toMatch(/connection refused.*ERR_STS_UNAVAILABLE/);
    expect((await request(server.url.replace('/authenticate', '/healthz'), { caPem: server.caPem })).status).toBe(200);
    expect(server.ready()).toBe(true);
  });
});

describe('eksauth server when a mapping lookup hangs', () => {
  // A node's role session, whose aws-auth row needs {{EC2PrivateDNSName}}: an EC2 lookup that never answers.
  const NODE = {
    accessKeyId: 'ASIAEKSAUTHDEMONODE1', secretAccessKey: 'eksauth/demo/node/not+a+real+secret/0001', sessionToken: 'node-session-token',
    arn: 'arn:aws:sts::111122223333:assumed-role/eks-node/i-0123456789abcdef0', userId: 'AROAEKSAUTHDEMONODE01:i-0123456789abcdef0',
  };

  it('answers 503 at the review deadline, and keeps serving', async () => {
    const emulator = await startEmulator({ identities: [...DEMO_EMULATOR_CONFIG.identities, NODE] });
    const dir = tempDir();
    writeFileSync(join(dir, 'mapping.yaml'), [
      'mapRoles:',
      '  - rolearn: arn:aws:iam::111122223333:role/eks-node',
      '    username: system:node:{{EC2PrivateDNSName}}',
      '    groups: [system:nodes]',
      'mapUsers:',
      '  - userarn: arn:aws:iam::111122223333:user/alice',
      '    username: alice',
      '',
    ].join('\n'));
    const log = logSink();
    const server = await startServer({
      clusterId: CLUSTER, port: 0, opsPort: null, stateDir: join(dir, 'state'), mappingFile: join(dir, 'mapping.yaml'),
      stsEndpoint: emulator.url, reviewTimeoutMs: REVIEW_TIMEOUT_MS,
    }, { logDestination: log, ec2PrivateDnsName: () => new Promise<string>(() => undefined) });
    try {
      const answer = await review(server, await mintToken(NODE, CLUSTER), 'v1', CLIENT_TIMEOUT_MS);
      expect(answer.status).toBe(503);
      expect(answer.body.status?.error).toMatch(/no answer within 1000 ms .*fails closed/);
      expect(log.entries().at(-1)).toMatchObject({ outcome: 'timeout', level: 'error' });
      expect((await review(server, await mintToken(ALICE, CLUSTER))).status).toBe(200);
    } finally {
      await server.close();
      await emulator.close();
    }
  });
});
