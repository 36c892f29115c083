/**
 * The local AWS STS emulator: a loopback HTTP server that answers like STS and checks SigV4 signatures for real, so
 * EKS tokens, the AWS CLI and the AWS SDKs can be tested offline. Admin endpoints under `/_emulator/` let a test
 * drive an emulator running in another process (statistics, fault injection).
 *
 * Routing is by path: `/` is STS (query protocol), or EC2 (DescribeInstances) for requests signed for service `ec2`;
 * `/clusters…` and `/access-policies` are EKS (REST-JSON: clusters, cluster access configuration, access entries and
 * access policies); `/_emulator/…` is admin.
 */
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { EksAuthError } from '../errors.js';
import type { EmulatorConfig } from './config.js';
import { parseEmulatorConfig } from './config.js';
import { createCertificateAuthority } from '../server/tls.js';
import type { EmulatorFault } from './faults.js';
import { FaultState, validateFault } from './faults.js';
import { KeyStore } from './credentials.js';
import { Ec2Service, isEc2Request } from './ec2.js';
import { EksService, isEksPath } from './eks.js';
import type { ReceivedRequest } from './request.js';
import { headerValue, parseParams, splitTarget } from './request.js';
import { StsService } from './sts.js';
import type { Reply } from './sts-wire.js';
import { renderError, StsError, wantsJson } from './sts-wire.js';
import { bracketHost, listen, readBody, unbracketHost } from '../lib/http.js';

export type { EmulatorFault } from './faults.js';

export interface EmulatorStats {
  /** STS, EKS and EC2 requests received (admin requests are not counted). */
  requests: number;
  /** STS and EC2 requests by their Action parameter ('(none)' when missing); EKS requests by operation (ListClusters, CreateAccessEntry, …). */
  byAction: Record<string, number>;
  /** Requests the emulator answered with an error of its own (bad signature, denied, invalid, not found); injected faults are not counted. */
  rejected: number;
}

export interface Emulator {
  /** `http://127.0.0.1:PORT`: use as `--endpoint-url`, `AWS_ENDPOINT_URL_STS` or an SDK client's `endpoint`. */
  url: string;
  port: number;
  /** Stops listening and drops open connections, including requests held by an injected latency. */
  close(): Promise<void>;
  /** Injects a fault into the following STS requests (EKS and EC2 requests are not affected); `undefined` clears it. */
  setFault(fault: EmulatorFault | undefined): void;
  stats(): EmulatorStats;
  resetStats(): void;
}

export interface EmulatorOptions {
  /** Address to bind; default 127.0.0.1. Host names must resolve to loopback addresses only. */
  host?: string;
  /** Port; default 0 (a free port). */
  port?: number;
  /** The clock used for signature age and credential expiry; tests pin it to check time limits. */
  now?: () => Date;
  /**
   * The CA whose certificate clusters without `certificateAuthorityData` report (PEM); say, the one that signed a
   * local API server's certificate. Default: a CA made at start, when a cluster needs one.
   */
  certificateAuthority?: { certPem: string };
  /**
   * Serve HTTPS with this certificate and key (PEM) instead of HTTP, as AWS does: for tests of CA bundles, proxies
   * (CONNECT tunnels) and `--no-verify-ssl`. `url` is then `https://…`.
   */
  tls?: { cert: string; key: string };
  /**
   * The credentials AssumeRole issues live at most this many seconds, whatever DurationSeconds asks (STS's minimum
   * is 900): a test sees role sessions expire, and the ExpiredToken STS then answers, in seconds of real time.
   */
  sessionLifetimeSeconds?: number;
}

const MAX_BODY_BYTES = 64 * 1024;
const ADMIN_PREFIX = '/_emulator/';

/**
 * Starts an emulator for the given identities and roles.
 *
 * @example
 * ```ts
 * const emulator = await startEmulator(DEMO_EMULATOR_CONFIG);
 * // aws sts get-caller-identity --endpoint-url ${emulator.url}
 * await emulator.close();
 * ```
 * @throws EksAuthError ERR_INVALID_CONFIG for an invalid configuration, ERR_USAGE for a bad host or port or one in use
 */
export async function startEmulator(config: EmulatorConfig, options: EmulatorOptions = {}): Promise<Emulator> {
  const checked = parseEmulatorConfig(JSON.stringify(configFields(config)), 'passed to startEmulator');
  const host = options.host ?? '127.0.0.1';
  await requireSafeHost(host);
  const lifetime = checkSessionLifetime(options.sessionLifetimeSeconds);
  const state = new EmulatorState(await withClusterCa(checked, options.certificateAuthority), options.now ?? (() => new Date()), lifetime);
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    state.serve(req, res).catch(() => {
      // serve() answers every failure itself; this only guards against a socket that broke mid-answer.
      res.destroy();
    });
  };
  const server = options.tls === undefined ? http.createServer(handler) : https.createServer(options.tls, handler);
  const port = await listen(server, { host, port: options.port ?? 0, what: 'the emulator', flag: '--port' });
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${urlHost(host)}:${port}`,
    port,
    close: () => state.close(server),
    setFault: (fault) => state.faults.set(fault),
    stats: () => state.statsCopy(),
    resetStats: () => state.resetStats(),
  };
}

/**
 * The configuration's own fields only. Objects handed to an AWS SDK as credentials get bookkeeping properties added
 * (`$source`), and the demo identities are often used that way; that must not make the configuration invalid.
 */
function configFields(config: EmulatorConfig): unknown {
  if (typeof config !== 'object' || config === null || !Array.isArray(config.identities)) return config;
  const pick = <T extends object>(item: T, keys: (keyof T)[]): unknown =>
    typeof item === 'object' && item !== null ? Object.fromEntries(keys.map((key) => [key, item[key]])) : item;
  return {
    identities: config.identities.map((identity) => pick(identity, ['accessKeyId', 'secretAccessKey', 'arn', 'userId', 'sessionToken'])),
    roles: Array.isArray(config.roles) ? config.roles.map((role) => pick(role, ['arn', 'trustedPrincipals', 'externalId'])) : config.roles,
    clusters: config.clusters,
    instances: config.instances,
  };
}

/**
 * Gives each cluster without CA data the local CA's certificate, so that kubeconfigs written from DescribeCluster hold
 * a certificate kubectl can load (and, for a cluster served by a local API server, one that verifies it).
 */
async function withClusterCa(config: EmulatorConfig, given: { certPem: string } | undefined): Promise<EmulatorConfig> {
  const clusters = config.clusters ?? [];
  if (clusters.every((cluster) => cluster.certificateAuthorityData !== undefined)) return config;
  const ca = given ?? (await createCertificateAuthority({ commonName: 'eksauth emulator local CA' }));
  const data = Buffer.from(ca.certPem, 'utf8').toString('base64');
  return { ...config, clusters: clusters.map((cluster) => ({ certificateAuthorityData: data, ...cluster })) };
}

/** A whole number of seconds from 1 to 43200 (STS's longest session), or undefined. */
function checkSessionLifetime(seconds: number | undefined): number | undefined {
  if (seconds === undefined || (Number.isInteger(seconds) && seconds >= 1 && seconds <= 43_200)) return seconds;
  throw new EksAuthError('ERR_USAGE', `The emulator's session lifetime must be a whole number of seconds from 1 to 43200 (got ${seconds}); check --session-lifetime.`);
}

/** Refuses host names that resolve to anything but loopback; an explicit IP address is the user's choice. */
async function requireSafeHost(host: string): Promise<void> {
  if (isIP(unbracketHost(host)) !== 0) return;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true });
  } catch {
    throw new EksAuthError('ERR_USAGE', `The emulator host ${host} does not resolve; use 127.0.0.1 or another IP address.`);
  }
  const outside = addresses.filter(({ address }) => !isLoopback(address));
  if (addresses.length === 0 || outside.length > 0) {
    throw new EksAuthError('ERR_USAGE', `The emulator host ${host} resolves to non-loopback addresses (${outside.map((a) => a.address).join(', ')}); it only binds to loopback by name. Pass an explicit IP address to bind elsewhere.`);
  }
}

export function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === '::ffff:127.0.0.1' || address === 'localhost';
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return bracketHost(host);
}

/** Everything one running emulator holds: the STS service, the fault, the statistics and pending delays. */
class EmulatorState {
  readonly faults = new FaultState();
  private readonly sts: StsService;
  private readonly eks: EksService;
  private readonly ec2: Ec2Service;
  private stats: EmulatorStats = emptyStats();
  // Aborted on close so that requests held by an injected latency do not keep the process alive.
  private readonly closing = new AbortController();

  constructor(config: EmulatorConfig, now: () => Date, sessionLifetimeSeconds: number | undefined) {
    const keys = new KeyStore(config);
    this.sts = new StsService(config, now, keys, sessionLifetimeSeconds);
    this.eks = new EksService(config, keys, now);
    this.ec2 = new Ec2Service(config, keys, now);
  }

  async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { rawPath, rawQuery } = splitTarget(req.url ?? '/');
    const json = wantsJson(req.headers.accept);
    let body: Buffer;
    try {
      const received = await readBody(req, MAX_BODY_BYTES);
      if (received === undefined) throw new StsError(413, 'RequestEntityTooLarge', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
      body = received;
    } catch (err) {
      send(res, renderError(err instanceof StsError ? err : new StsError(400, 'InvalidRequest', 'The request body could not be read.'), json));
      return;
    }
    if (rawPath.startsWith(ADMIN_PREFIX)) {
      send(res, this.admin(req.method ?? 'GET', rawPath.slice(ADMIN_PREFIX.length), body));
      return;
    }
    if (isEksPath(rawPath)) {
      await this.serveEks(req, rawPath, rawQuery, body, res);
      return;
    }
    if (rawPath !== '/') {
      send(res, renderError(new StsError(404, 'NotFound', `Nothing is served at ${rawPath.slice(0, 100)}; STS is at /, EKS at /clusters and /access-policies.`), json));
      return;
    }
    this.stats.requests += 1;
    try {
      const request: ReceivedRequest = { method: req.method ?? 'GET', rawPath, query: parseParams(rawQuery, false), headers: req.headers, body };
      if (isEc2Request(req.headers)) await this.serveEc2(request, res);
      else await this.serveSts(request, res, json);
    } catch (err) {
      this.stats.rejected += 1;
      send(res, renderError(err instanceof StsError ? err : new StsError(500, 'InternalFailure', 'The emulator failed to process the request.', 'Receiver'), json));
    }
  }

  private async serveSts(request: ReceivedRequest, res: ServerResponse, json: boolean): Promise<void> {
    const plan = this.faults.next(json);
    if (plan !== undefined && plan.latencyMs > 0 && !(await this.delay(plan.latencyMs, res))) return;
    if (plan?.reply !== undefined) {
      this.count(peekAction(request));
      send(res, plan.reply);
      return;
    }
    const outcome = await this.sts.handle(request);
    this.count(outcome.action);
    if (outcome.reply.status !== 200) this.stats.rejected += 1;
    send(res, outcome.reply);
  }

  private async serveEc2(request: ReceivedRequest, res: ServerResponse): Promise<void> {
    const outcome = await this.ec2.handle(request);
    this.count(outcome.action);
    if (outcome.reply.status !== 200) this.stats.rejected += 1;
    send(res, outcome.reply);
  }

  private async serveEks(req: IncomingMessage, rawPath: string, rawQuery: string, body: Buffer, res: ServerResponse): Promise<void> {
    this.stats.requests += 1;
    const outcome = await this.eks.handle({ method: req.method ?? 'GET', rawPath, rawQuery, headers: req.headers, body });
    this.count(outcome.operation);
    if (outcome.reply.status !== 200) this.stats.rejected += 1;
    send(res, outcome.reply);
  }

  private count(action: string): void {
    this.stats.byAction[action] = (this.stats.byAction[action] ?? 0) + 1;
  }

  /** Waits, unless the client goes away or the emulator closes first; true when the answer should still be sent. */
  private delay(ms: number, res: ServerResponse): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (answer: boolean): void => {
        clearTimeout(timer);
        res.off('close', onGone);
        this.closing.signal.removeEventListener('abort', onGone);
        resolve(answer);
      };
      const onGone = (): void => done(false);
      const timer = setTimeout(() => done(true), ms);
      res.once('close', onGone);
      this.closing.signal.addEventListener('abort', onGone, { once: true });
    });
  }

  private admin(method: string, name: string, body: Buffer): Reply {
    const routes: Record<string, { method: string; run: () => Reply }> = {
      stats: { method: 'GET', run: () => jsonReply(200, this.statsCopy()) },
      fault: { method: 'PUT', run: () => this.putFault(body) },
      'reset-stats': { method: 'POST', run: () => { this.resetStats(); return jsonReply(200, this.statsCopy()); } },
    };
    const route = Object.hasOwn(routes, name) ? routes[name] : undefined;
    if (route === undefined) return jsonReply(404, { error: `Unknown admin endpoint ${ADMIN_PREFIX}${name.slice(0, 50)}; use GET stats, PUT fault or POST reset-stats.` });
    if (method === 'GET' && name === 'fault') return jsonReply(200, { fault: this.faults.current() ?? null });
    if (method !== route.method) return { ...jsonReply(405, { error: `Use ${route.method} for ${ADMIN_PREFIX}${name}.` }), headers: { 'content-type': 'application/json', allow: route.method } };
    return route.run();
  }

  private putFault(body: Buffer): Reply {
    const text = body.toString('utf8').trim();
    try {
      const fault = validateFault(text === '' ? null : JSON.parse(text));
      this.faults.set(fault);
      return jsonReply(200, { fault: this.faults.current() ?? null });
    } catch (err) {
      const message = err instanceof SyntaxError ? 'The fault body is not JSON; send e.g. {"status": 503, "times": 1}, or nothing to clear.' : (err as Error).message;
      return jsonReply(400, { error: message });
    }
  }

  statsCopy(): EmulatorStats {
    return { requests: this.stats.requests, byAction: { ...this.stats.byAction }, rejected: this.stats.rejected };
  }

  resetStats(): void {
    this.stats = emptyStats();
  }

  close(server: http.Server | https.Server): Promise<void> {
    this.closing.abort();
    return new Promise((resolve, reject) => {
      server.close((err) => (err && (err as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING' ? reject(err) : resolve()));
      server.closeAllConnections();
    });
  }
}

function emptyStats(): EmulatorStats {
  return { requests: 0, byAction: {}, rejected: 0 };
}

/** The Action of a request that is answered by a fault, read leniently (the request is not checked at all). */
function peekAction(request: ReceivedRequest): string {
  const fromQuery = request.query.find((param) => param.key === 'Action')?.value;
  if (fromQuery !== undefined) return fromQuery;
  const type = headerValue(request, 'content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) return '(none)';
  try {
    return parseParams(request.body.toString('utf8'), true).find((param) => param.key === 'Action')?.value ?? '(none)';
  } catch {
    return '(none)';
  }
}

function jsonReply(status: number, value: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: `${JSON.stringify(value)}\n` };
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}
