/**
 * eksauth server under load with a slow STS: 150 reviews at once, every token different, while STS takes 1 s to
 * answer and the review deadline is 2 s. None may wait for a connection to STS long enough to miss the deadline;
 * identical tokens arriving together still make one STS call. A load test: it runs alone in this file.
 */
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { tempDir } from '../support/tools.js';
import { ALICE, distinctTokens, logSink, request } from './helpers.js';

const CLUSTER = 'prod-eu';
const CONCURRENT = 150;
const STS_LATENCY_MS = 1_000;
const REVIEW_TIMEOUT_MS = 2_000;

describe('eksauth server with STS taking 1 s', () => {
  let emulator: Emulator;
  let server: RunningServer;
  const freshTokens = distinctTokens(ALICE, CLUSTER);
  const metric = async (name: string) =>
    Number(new RegExp(`^${name} (\\d+)`, 'm').exec((await request(`${server.opsUrl ?? ''}/metrics`)).text)?.[1] ?? Number.NaN);

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    const dir = tempDir();
    writeFileSync(join(dir, 'mapping.yaml'), `mapUsers:\n  - userarn: ${ALICE.arn}\n    username: alice\n`);
    server = await startServer({
      clusterId: CLUSTER, port: 0, opsPort: 0, stateDir: join(dir, 'state'), mappingFile: join(dir, 'mapping.yaml'),
      stsEndpoint: emulator.url, reviewTimeoutMs: REVIEW_TIMEOUT_MS,
    }, { logDestination: logSink() });
    emulator.setFault({ latencyMs: STS_LATENCY_MS });
  });
  afterAll(async () => {
    await server?.close();
    await emulator?.close();
  });

  /**
   * Reviews all at once, as kube-apiserver sends them: on connections already open (as its keep-alive pool), so
   * that none is held back by a TLS handshake.
   */
  async function reviewsAtOnce(tokens: string[]): Promise<(number | string)[]> {
    const agent = new https.Agent({ keepAlive: true, maxSockets: tokens.length, ca: server.caPem });
    const healthz = server.url.replace('/authenticate', '/healthz');
    try {
      await Promise.all(tokens.map(() => post(healthz, agent, 'GET')));
      const review = (token: string) => JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
      return await Promise.all(tokens.map((token) => post(server.url, agent, 'POST', review(token)).catch((err: Error) => err.message)));
    } finally {
      agent.destroy();
    }
  }

  it(`${CONCURRENT} concurrent reviews of distinct tokens all pass within the ${REVIEW_TIMEOUT_MS} ms deadline`, async () => {
    const tokens = await freshTokens(CONCURRENT);
    emulator.resetStats();
    const answers = await reviewsAtOnce(tokens);
    expect(answers.filter((status) => status !== 200)).toEqual([]);
    expect(emulator.stats().byAction.GetCallerIdentity).toBe(CONCURRENT);
    expect(await metric('eksauth_sts_pool_waits_total')).toBe(0);
    expect(await metric('eksauth_sts_requests_in_flight')).toBe(0);
  });

  it(`${CONCURRENT} concurrent reviews of one token make one STS call`, async () => {
    const [token = ''] = await freshTokens(1);
    emulator.resetStats();
    const answers = await reviewsAtOnce(Array(CONCURRENT).fill(token));
    expect(answers.filter((status) => status !== 200)).toEqual([]);
    expect(emulator.stats().byAction.GetCallerIdentity).toBe(1);
  });
});

/** One request on `agent`; resolves with the status once the answer is read. */
function post(url: string, agent: https.Agent, method: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer from ${url} within 30 s`)));
    req.on('error', reject);
    req.end(body);
  });
}
