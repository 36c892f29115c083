/**
 * `eksauth server`: the TokenReview webhook on HTTPS, the ops endpoints, the mapping sources and the verification
 * cache, wired together; and a graceful stop that lets reviews in flight finish.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { StsIdentity } from '../authn/arn.js';
import { createEc2PrivateDnsResolver, type Ec2PrivateDnsResolverOptions } from '../authn/mapping/ec2-private-dns.js';
import type { MapOptions } from '../authn/mapping/types.js';
import { resolveServerConfig, type ServerConfig, type ServerConfigInput } from './config.js';
import type { KubernetesAccess } from './kubernetes-access.js';
import { CONNECTIONS_CHECKING_INTERVAL_MS, guardConnections } from './connections.js';
import { createOpsHandler } from './health.js';
import { loadOrCreateServingCertificate, pregeneratedKubeconfigProblem, WEBHOOK_PATH, webhookUrl, writeWebhookKubeconfig } from './init.js';
import { createLogger, type LogDestination, type Logger } from './logger.js';
import { startServerMappings, type AccessEntriesEksOptions, type ServerMappings } from './mappings.js';
import { createServerMetrics, type ServerMetrics } from './metrics.js';
import { createReviewCache } from './review-cache.js';
import { createTokenReviewer } from './review.js';
import { createStsPool, type StsPool } from './sts-pool.js';
import { SECURE_TLS_OPTIONS } from './tls.js';
import { bracketHost, failureStatus, listen, sendJson } from '../lib/http.js';
import { createWebhookHandler } from './webhook.js';

export interface StartServerOptions {
  /** Where the JSON log lines go; default stdout. */
  logDestination?: LogDestination;
  /** How the EKSConfigMap backend reaches the API; default from `config.kubeconfig`, else in-cluster. */
  kubernetes?: KubernetesAccess;
  /** How the EKSAccessEntries backend calls EKS; default: the server's credentials, region and EKS endpoint. */
  eks?: AccessEntriesEksOptions;
  /** Add process metrics (CPU, memory, event loop lag) to `/metrics`. The CLI turns this on. */
  processMetrics?: boolean;
  /** Resolves `{{EC2PrivateDNSName}}`; default: EC2 DescribeInstances in `config.region` (when there is one). */
  ec2PrivateDnsName?: MapOptions['ec2PrivateDnsName'];
  /** Problems found while reading the config, logged at start (see `loadServerConfigFile`). */
  warnings?: string[];
}

export interface RunningServer {
  config: ServerConfig;
  /** `https://<hostname>:<port>/authenticate` with the port actually bound. */
  url: string;
  /** The serving certificate: what the webhook kubeconfig trusts. */
  caPem: string;
  /** `http://<address>:<port>` of the ops listener, when there is one. */
  opsUrl?: string;
  /** The webhook kubeconfig written at start, when configured. */
  kubeconfigPath?: string;
  ready(): boolean;
  /** Stops accepting, lets reviews in flight finish (up to `shutdownTimeoutMs`), then closes everything. */
  close(): Promise<void>;
}

/**
 * Starts the webhook. Rejects when the configuration, the certificate or the mapping file is unusable; the aws-auth
 * ConfigMap loads in the background (`/readyz` and `ready()` turn true once it has).
 *
 * @example
 * ```ts
 * import { startServer } from 'eksauth/server';
 * const server = await startServer({ clusterId: 'prod', mappingFile: 'mapping.yaml', stateDir: 'state', port: 0, opsPort: null, logLevel: 'warn' });
 * console.log(server.url, server.ready()); // → https://127.0.0.1:…/authenticate true
 * await server.close(); // lets reviews in flight finish: what a program does on SIGTERM
 * ```
 */
export async function startServer(input: ServerConfigInput, options: StartServerOptions = {}): Promise<RunningServer> {
  const config = resolveServerConfig(input);
  const log = await createLogger({ level: config.logLevel, ...(options.logDestination ? { destination: options.logDestination } : {}) });
  for (const warning of options.warnings ?? []) log.warn(warning);
  const metrics = await createServerMetrics({ processMetrics: options.processMetrics === true });
  const certificate = await loadOrCreateServingCertificate(config);
  if (certificate.created) log.info({ certPath: certificate.certPath, keyPath: certificate.keyPath }, 'generated a serving key and certificate');
  const mappings = await startServerMappings(config, {
    log, metrics, ...(options.kubernetes ? { kubernetes: options.kubernetes } : {}), ...(options.eks ? { eks: options.eks } : {}),
  });
  const sts = createStsPool(config, metrics);
  try {
    return await serveWebhook(config, { log, metrics, mappings, certificate, options, sts });
  } catch (err) {
    sts.close();
    await mappings.close();
    throw err;
  }
}

interface Parts {
  log: Logger;
  metrics: ServerMetrics;
  mappings: ServerMappings;
  certificate: { certPem: string; keyPem: string };
  options: StartServerOptions;
  sts: StsPool;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function serveWebhook(config: ServerConfig, parts: Parts): Promise<RunningServer> {
  const { log, mappings, metrics } = parts;
  const drain = new Drain();
  const { webhookRoutes, opsRoutes } = createRoutes(config, parts, drain);
  const limits = { idleTimeoutMs: config.idleTimeoutMs, readTimeoutMs: config.readTimeoutMs };
  const webhook = https.createServer({
    cert: parts.certificate.certPem, key: parts.certificate.keyPem, ...SECURE_TLS_OPTIONS,
    handshakeTimeout: config.idleTimeoutMs, connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS,
  });
  webhook.on('request', guardConnections(webhook, 'webhook', { ...limits, maxConnections: config.maxConnections }, metrics).track(drain.track(webhookRoutes)));
  const url = webhookUrl(config, await listen(webhook, { host: config.address, port: config.port, what: 'the webhook', flag: '--port (server.port in a config file)' }));
  const opsServer = config.opsPort === null ? undefined : http.createServer({ connectionsCheckingInterval: CONNECTIONS_CHECKING_INTERVAL_MS });
  opsServer?.on('request', guardConnections(opsServer, 'ops', { ...limits, maxConnections: config.opsMaxConnections }, metrics).track(drain.track(opsRoutes)));
  const servers = [webhook, ...(opsServer ? [opsServer] : [])];
  let opsUrl: string | undefined;
  let kubeconfigPath: string | undefined;
  try {
    if (opsServer !== undefined && config.opsPort !== null) opsUrl = httpUrl(config.opsAddress, await listen(opsServer, { host: config.opsAddress, port: config.opsPort, what: 'the health and metrics listener', flag: '--ops-port (server.opsPort in a config file)' }));
    kubeconfigPath = await writeKubeconfigIfAsked(config, url, parts.certificate.certPem, log);
  } catch (err) {
    await drain.stop(servers.filter((server) => server.listening), 0);
    throw err;
  }
  warnIfOverOpenFilesLimit(config, log);
  log.info({ listen: url, ops: opsUrl, clusterId: config.clusterId, backendMode: config.backendMode, kubeconfig: kubeconfigPath }, 'eksauth server listening');
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    log.info({ inFlight: drain.inFlight }, 'shutting down: draining reviews in flight');
    await drain.stop(servers, config.shutdownTimeoutMs);
    parts.sts.close();
    await mappings.close();
    log.info('eksauth server stopped');
    log.flush();
  };
  return {
    config,
    url,
    caPem: parts.certificate.certPem,
    ...(opsUrl === undefined ? {} : { opsUrl }),
    ...(kubeconfigPath === undefined ? {} : { kubeconfigPath }),
    ready: () => mappings.ready() && !drain.draining,
    close: () => (stopping ??= stop()),
  };
}

/** The webhook port answers `/authenticate` and the ops paths; the ops port only the ops paths. */
function createRoutes(config: ServerConfig, parts: Parts, drain: Drain): { webhookRoutes: Handler; opsRoutes: Handler } {
  const { log, metrics, mappings } = parts;
  const cache = createReviewCache<StsIdentity>({ ttlMs: config.cacheTtlMs, maxEntries: config.cacheMaxEntries });
  const ec2PrivateDnsName = parts.options.ec2PrivateDnsName
    ?? (config.region === undefined ? undefined : createEc2PrivateDnsResolver(ec2ResolverOptions(config, config.region, metrics)));
  const review = createTokenReviewer({ config, mappings, metrics, cache, sts: parts.sts, ...(ec2PrivateDnsName ? { ec2PrivateDnsName } : {}) });
  const authenticate = createWebhookHandler({ review, log, metrics, maxRequestBytes: config.maxRequestBytes });
  const ops = createOpsHandler({
    metrics: { ...metrics, render: () => (metrics.cacheSize(cache.size()), metrics.render()) },
    readiness: { mappingsLoaded: () => mappings.ready(), sources: () => mappings.states(), draining: () => drain.draining },
  });
  const notFound = (res: ServerResponse, hint: string): void => void sendJson(res, 404, failureStatus(404, 'NotFound', hint));
  const webhookRoutes: Handler = (req, res) => {
    if ((req.url ?? '').split('?')[0] !== WEBHOOK_PATH) {
      if (!ops(req, res)) notFound(res, `nothing at ${req.method ?? ''} ${(req.url ?? '').split('?')[0]}; TokenReviews go to POST ${WEBHOOK_PATH}`);
      return;
    }
    authenticate(req, res).catch((err: unknown) => {
      log.error({ detail: err instanceof Error ? err.message : String(err) }, 'webhook handler failed');
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, failureStatus(500, 'InternalError', 'internal error; see the server log'));
    });
  };
  const opsRoutes: Handler = (req, res) => {
    if (!ops(req, res)) notFound(res, 'the ops port serves /healthz, /readyz and /metrics');
  };
  return { webhookRoutes, opsRoutes };
}

function httpUrl(address: string, port: number): string {
  return `http://${bracketHost(address)}:${port}`;
}

/** Counts requests in flight so that a stop can wait for them, and marks answers sent while stopping. */
class Drain {
  draining = false;
  inFlight = 0;
  private idle: (() => void) | undefined;

  track(handler: Handler): Handler {
    return (req, res) => {
      this.inFlight += 1;
      // Tell keep-alive clients to reconnect (to another replica) once this answer is out.
      if (this.draining) res.setHeader('Connection', 'close');
      res.once('close', () => {
        this.inFlight -= 1;
        if (this.inFlight === 0) this.idle?.();
      });
      handler(req, res);
    };
  }

  async stop(servers: http.Server[], timeoutMs: number): Promise<void> {
    this.draining = true;
    const closed = servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    servers.forEach((server) => server.closeIdleConnections());
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => { this.idle = resolve; }),
        new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
      ]);
      clearTimeout(timer);
    }
    servers.forEach((server) => server.closeAllConnections());
    await Promise.all(closed);
  }
}

/** The server's own descriptors besides connections: stdio, certificate and mapping files, watches, the event loop. */
const OWN_DESCRIPTORS = 64;

/** The caps only bound memory and protect reviews if the descriptors they allow exist: says so when they do not. */
function warnIfOverOpenFilesLimit(config: ServerConfig, log: Logger): void {
  const limit = openFilesLimit();
  const needed = config.maxConnections + (config.opsPort === null ? 0 : config.opsMaxConnections) + config.stsMaxSockets + OWN_DESCRIPTORS;
  if (limit === undefined || needed <= limit) return;
  log.warn({ needed, limit }, `maxConnections + opsMaxConnections + stsMaxSockets (+${OWN_DESCRIPTORS} of the server's own) exceed the open-files limit, so a flood can make reviews fail; lower them or raise the limit (ulimit -n)`);
}

/** The soft RLIMIT_NOFILE, from /proc (Linux); undefined elsewhere or when unlimited. */
function openFilesLimit(): number | undefined {
  try {
    const soft = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return soft === undefined ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

// A pregenerated file is left alone, but one that points kube-apiserver elsewhere is said at once: every review
// would otherwise fail with a connection error in kube-apiserver's log, not in ours.
async function writeKubeconfigIfAsked(config: ServerConfig, url: string, caPem: string, log: Logger): Promise<string | undefined> {
  if (config.generateKubeconfig === undefined) return undefined;
  if (!config.kubeconfigPregenerated) await writeWebhookKubeconfig(config.generateKubeconfig, { url, caPem });
  else {
    const problem = await pregeneratedKubeconfigProblem(config.generateKubeconfig, url);
    if (problem !== undefined) log.warn(problem);
  }
  return config.generateKubeconfig;
}

/** The reference's EC2 settings: the role to assume (with its source ARN) and the DescribeInstances rate. */
function ec2ResolverOptions(config: ServerConfig, region: string, metrics: ServerMetrics): Ec2PrivateDnsResolverOptions {
  return {
    region,
    onDescribeInstances: () => metrics.ec2DescribeInstancesCall(),
    qps: config.ec2DescribeInstancesQps,
    burst: config.ec2DescribeInstancesBurst,
    ...(config.ec2DescribeInstancesRoleArn === undefined ? {} : { roleArn: config.ec2DescribeInstancesRoleArn }),
    ...(config.sourceArn === undefined ? {} : { sourceArn: config.sourceArn }),
  };
}
