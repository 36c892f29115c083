/**
 * eksauth server under load and hostile clients; load tests, so they share this one file and run one after another.
 *
 * - Floods of idle TCP and TLS connections and slowloris senders on the webhook and the ops listener of a server
 *   process with a low open-files limit: its memory and descriptors stay under a bound, the server closes the flood,
 *   and real reviews keep passing meanwhile.
 * - A slow STS: 150 reviews at once, every token different, while STS takes 1 s to answer and the review deadline
 *   is 2 s. None may wait for a connection to STS long enough to miss the deadline; identical tokens arriving
 *   together still make one STS call.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_EMULATOR_CONFIG } from '../../src/emulator/config.js';
import { startEmulator, type Emulator } from '../../src/emulator/server.js';
import { startServer, type RunningServer } from '../../src/server/run.js';
import { freePort, tempDir } from '../support/tools.js';
import { footprint, idleFlood, slowlorisFlood, startServerProcess, watchFootprint, type Flood, type ServerProcess } from './flood.js';
import { ALICE, distinctTokens, eventually, logSink, request, review } from './helpers.js';

const CLUSTER = 'prod-eu';
const MAX_CONNECTIONS = 200;
const OPS_MAX_CONNECTIONS = 16;
const IDLE_TIMEOUT_S = 3;
const READ_TIMEOUT_S = 3;
// Low enough that an uncapped flood on either listener runs the server out of descriptors.
const MAX_OPEN_FILES = 1024;
// The server's own files, STS connections and the reviews' connections, above the connection caps.
const FD_HEADROOM = 100;
// The first flood grows V8's heap to its working size (about 35 MiB, whatever the flood's size); the connections
// themselves cost about 31 KiB each (TLS, measured), so the cap holds them to 6 MiB.
const RSS_GROWTH_LIMIT_MIB = 48;
// The peak the Dockerfile's NODE_OPTIONS are tuned for (bench:server), well under the pod limit of 256 Mi.
const RSS_LIMIT_MIB = 150;
// Closed by the server within its timeout plus Node's 1 s check and scheduling slack.
const CLOSE_WITHIN_MS = 8_000;
// The slow-STS load.
const CONCURRENT = 150;
const STS_LATENCY_MS = 1_000;
const REVIEW_TIMEOUT_MS = 2_000;

describe('eksauth server under hostile clients', () => {
  let emulator: Emulator;
  let server: ServerProcess;
  let webhook: { url: string; caPem: string; port: number };
  let opsPort: number;
  const freshTokens = distinctTokens(ALICE, CLUSTER);
  const floods: Flood[] = [];

  beforeAll(async () => {
    emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
    const dir = tempDir();
    writeFileSync(join(dir, 'mapping.yaml'), `mapUsers:\n  - userarn: ${ALICE.arn}\n    username: alice\n`);
    const port = await freePort();
    opsPort = await freePort();
    server = await startServerProcess([
      '--cluster-id', CLUSTER, '--port', String(port), '--ops-port', String(opsPort), '--state-dir', join(dir, 'state'),
      '--mapping-file', join(dir, 'mapping.yaml'), '--sts-endpoint', emulator.url,
      '--max-connections', String(MAX_CONNECTIONS), '--ops-max-connections', String(OPS_MAX_CONNECTIONS),
      '--idle-timeout', `${IDLE_TIMEOUT_S}s`, '--read-timeout', `${READ_TIMEOUT_S}s`,
    ], { maxOpenFiles: MAX_OPEN_FILES });
    webhook = { url: `https://127.0.0.1:${port}/authenticate`, caPem: readFileSync(join(dir, 'state', 'cert.pem'), 'utf8'), port };
    // Warm up (code loaded, heap grown to its working size), so that the floods' cost is what is measured.
    await realReviews(30);
  });
  afterAll(async () => {
    floods.forEach((flood) => flood.destroy());
    await server?.stop();
    await emulator?.close();
  });

  /** `count` reviews at once, each with a token of its own (so each asks STS) on a connection of its own. */
  async function realReviews(count: number): Promise<(number | string)[]> {
    const tokens = await freshTokens(count);
    return (await Promise.all(tokens.map((token) => review(webhook, token).then((a) => a.status, (err: Error) => err.message))));
  }
  const metrics = async () => (await request(`http://127.0.0.1:${opsPort}/metrics`)).text;
  const counted = (text: string, listener: string, reason: string) =>
    Number(new RegExp(`eksauth_connections_closed_total\\{listener="${listener}",reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);

  /**
   * Runs `attack`, then real reviews and a probe while it holds; returns their statuses, the peak footprint, and
   * whether the server closed every attacking connection within CLOSE_WITHIN_MS.
   */
  async function underAttack(attack: () => Promise<Flood[]>) {
    const before = footprint(server.pid);
    const watch = watchFootprint(server.pid);
    const attackers = await attack();
    floods.push(...attackers);
    const statuses = await realReviews(30);
    const probe = (await request(`http://127.0.0.1:${opsPort}/healthz`).catch((err: Error) => ({ status: err.message }))).status;
    const floodClosed = await eventually(() => attackers.every((flood) => flood.closed() === flood.sockets.length), 'the flood closed', CLOSE_WITHIN_MS)
      .then(() => true, () => false);
    watch.stop();
    return { before, peak: watch.peak(), statuses, probe, floodClosed };
  }

  it('idle TLS and TCP floods on the webhook: at most maxConnections held, each closed by the server, reviews pass', async () => {
    const { before, peak, statuses, floodClosed } = await underAttack(async () => [
      await idleFlood(webhook.port, 1_500, webhook.caPem),
      await idleFlood(webhook.port, 1_000),
    ]);
    expect(statuses).toEqual(Array(30).fill(200));
    expect(peak.fds).toBeLessThan(before.fds + MAX_CONNECTIONS + FD_HEADROOM);
    expect(peak.rssMiB).toBeLessThan(before.rssMiB + RSS_GROWTH_LIMIT_MIB);
    expect(peak.rssMiB).toBeLessThan(RSS_LIMIT_MIB);
    expect(floodClosed).toBe(true);
    const text = await metrics();
    expect(counted(text, 'webhook', 'evicted')).toBeGreaterThan(0);
    expect(counted(text, 'webhook', 'idle') + counted(text, 'webhook', 'handshake_timeout')).toBeGreaterThan(0);
  });

  it('an idle flood on the ops port, past the open-files limit: capped apart, so reviews and probes still pass', async () => {
    const { before, peak, statuses, probe, floodClosed } = await underAttack(async () => [await idleFlood(opsPort, 1_500)]);
    expect(statuses).toEqual(Array(30).fill(200));
    expect(probe).toBe(200);
    expect(peak.fds).toBeLessThan(before.fds + OPS_MAX_CONNECTIONS + FD_HEADROOM);
    expect(peak.rssMiB).toBeLessThan(before.rssMiB + RSS_GROWTH_LIMIT_MIB);
    expect(peak.rssMiB).toBeLessThan(RSS_LIMIT_MIB);
    expect(floodClosed).toBe(true);
    expect(counted(await metrics(), 'ops', 'evicted')).toBeGreaterThan(0);
  });

  it('slowloris on both listeners: cut at the read timeout, reviews pass meanwhile', async () => {
    const { before, peak, statuses, floodClosed } = await underAttack(async () => [
      await slowlorisFlood(webhook.port, 150, 500, webhook.caPem),
      await slowlorisFlood(opsPort, 150, 500),
    ]);
    expect(statuses).toEqual(Array(30).fill(200));
    expect(peak.fds).toBeLessThan(before.fds + MAX_CONNECTIONS + OPS_MAX_CONNECTIONS + FD_HEADROOM);
    expect(floodClosed).toBe(true);
    const text = await metrics();
    expect(counted(text, 'webhook', 'read_timeout')).toBeGreaterThan(0);
    expect(counted(text, 'ops', 'read_timeout')).toBeGreaterThan(0);
  });

  it('after the floods: every connection closed, descriptors back to where they were', async () => {
    const text = await metrics();
    expect(text).toMatch(/eksauth_connections\{listener="webhook"\} [0-2]\n/);
    expect(footprint(server.pid).fds).toBeLessThan(100);
  });
});

describe('eksauth server connection caps and the open-files limit', () => {
  it('warns at start when the caps allow more descriptors than the process may open', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'mapping.yaml'), 'mapUsers: []\n');
    const log = logSink();
    const server = await startServer({
      clusterId: CLUSTER, port: 0, opsPort: null, stateDir: join(dir, 'state'), mappingFile: join(dir, 'mapping.yaml'), maxConnections: 10_000_000,
    }, { logDestination: log });
    await server.close();
    expect(log.entries()).toContainEqual(expect.objectContaining({
      level: 'warn', needed: 20_000_064, msg: expect.stringMatching(/exceed the open-files limit.*ulimit -n/),
    }));
  });
});

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

  it('reviews pipelined on one connection are answered one at a time: the rest get 429, and STS sees one call', async () => {
    const tokens = await freshTokens(20);
    emulator.resetStats();
    const statuses = await pipelined(tokens.map((token) => JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } })));
    // The 429 closes the connection; what was pipelined behind it is never read.
    expect(statuses).toEqual([200, 429]);
    expect(emulator.stats().byAction.GetCallerIdentity).toBe(1);
  });

  /**
   * Writes every review at once on one TLS connection (HTTP pipelining); returns the statuses answered by the time
   * the server closes it (or 10 s).
   */
  function pipelined(bodies: string[]): Promise<number[]> {
    const { port } = new URL(server.url);
    const requests = bodies.map((body) =>
      `POST /authenticate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ port: Number(port), host: '127.0.0.1', ca: server.caPem, checkServerIdentity: () => undefined }, () => socket.write(requests.join('')));
      let text = '';
      socket.on('data', (chunk: Buffer) => { text += chunk.toString('utf8'); });
      // A server that answers them all keeps the connection open: give up on it well after every answer is due.
      const giveUp = setTimeout(() => socket.destroy(), 10_000);
      socket.on('close', () => {
        clearTimeout(giveUp);
        resolve([...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map(([, status]) => Number(status)));
      });
      socket.on('error', reject);
    });
  }

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
