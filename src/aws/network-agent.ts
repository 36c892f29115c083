/**
 * The HTTP(S) agents every AWS call of eksauth goes through (SDK clients, and the verifier's own STS call): a request
 * to a host NO_PROXY does not name goes through the HTTPS_PROXY / HTTP_PROXY proxy in a CONNECT tunnel (hpagent,
 * whose agents are Node's own keep-alive agents, so `maxSockets` and connection reuse work as without a proxy); the
 * CA bundle and `--no-verify-ssl` apply to the server's certificate.
 *
 * Loaded only when a request is about to be sent (network.ts's lazyRequestHandler, or the verifier's first call):
 * a token signed from static credentials or served from the cache never loads it.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { EksAuthError } from '../errors.js';
import {
  DEFAULT_TIMEOUTS, effectiveNetwork, PROXY_FAILURE, proxyFor, proxyLabel, schemeProxy,
  type NetworkOptions, type ProxyFailure, type RequestHandlerOptions, type TimeoutDefaults,
} from './network.js';

type ConnectOptions = http.ClientRequestArgs & tls.ConnectionOptions & { host: string; port: number; timeout?: number };
type ConnectCallback = (err: Error | null, socket?: Duplex) => void;

/**
 * Hosts already warned about in this process (urllib3, so the aws CLI, warns once per host too). Kept on the global
 * object: the CLI's token path holds two copies of this module (network-agent.cjs and get-caller-identity.cjs).
 */
const WARNED_HOSTS = Symbol.for('eksauth.unverifiedHostsWarned');
const warnedHosts: Set<string> = ((globalThis as { [WARNED_HOSTS]?: Set<string> })[WARNED_HOSTS] ??= new Set<string>());

/**
 * The agent for `protocol` requests under `network`, with Node's `agentOptions` (keepAlive, maxSockets, …).
 *
 * @example
 * ```ts
 * import { createAgent } from './network-agent.js';
 * const agent = createAgent('https:', { caBundle: '/etc/ssl/corp.pem' }, { keepAlive: true, maxSockets: 64 });
 * https.get('https://sts.eu-west-1.amazonaws.com/', { agent });
 * ```
 * @throws EksAuthError ERR_INVALID_CONFIG when the CA bundle cannot be read, ERR_PROXY when the proxy variable is not a URL
 */
export function createAgent(protocol: 'https:' | 'http:', given: NetworkOptions, agentOptions: https.AgentOptions = {}): http.Agent {
  const network = effectiveNetwork(given);
  const env = network.env ?? process.env;
  const proxy = schemeProxy(protocol, env);
  const route = new Route(protocol, network, env);
  if (protocol === 'http:') return new RoutingHttpAgent(route, { ...agentOptions, proxy: proxy ?? NO_PROXY_SET });
  return new RoutingHttpsAgent(route, { ...agentOptions, ...trustOptions(network), proxy: proxy ?? NO_PROXY_SET });
}

/** hpagent needs a proxy URL; without HTTPS_PROXY/HTTP_PROXY this one stands in, and Route never tunnels to it. */
const NO_PROXY_SET = new URL('http://no-proxy-set.invalid');

/**
 * Options for an SDK client's NodeHttpHandler: a fresh pair of agents and the timeouts (the command's, else the
 * call site's defaults).
 *
 * @example
 * ```ts
 * import { NodeHttpHandler } from '@smithy/node-http-handler';
 * import { requestHandlerOptions } from './network-agent.js';
 * new NodeHttpHandler(requestHandlerOptions({}, { connectTimeoutMs: 10_000, readTimeoutMs: 30_000 }));
 * ```
 */
export function requestHandlerOptions(network: NetworkOptions, defaults: TimeoutDefaults): RequestHandlerOptions {
  const connectTimeoutMs = network.connectTimeoutMs ?? defaults.connectTimeoutMs;
  const withConnectTimeout = { ...network, connectTimeoutMs };
  return {
    httpAgent: createAgent('http:', withConnectTimeout, { keepAlive: true }),
    httpsAgent: createAgent('https:', withConnectTimeout, { keepAlive: true }) as https.Agent,
    connectionTimeout: connectTimeoutMs,
    socketTimeout: network.readTimeoutMs ?? defaults.readTimeoutMs,
    ...(defaults.requestTimeoutMs === undefined ? {} : { requestTimeout: defaults.requestTimeoutMs }),
    throwOnRequestTimeout: true,
  };
}

/** The CA bundle replaces Node's roots, as a botocore `verify=<path>` does; `--no-verify-ssl` checks nothing. */
function trustOptions(network: NetworkOptions): https.AgentOptions {
  if (network.verifySsl === false) return { rejectUnauthorized: false };
  if (network.caBundle === undefined) return {};
  try {
    return { ca: readFileSync(network.caBundle, 'utf8') };
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new EksAuthError(
      'ERR_INVALID_CONFIG',
      `cannot read the CA bundle ${network.caBundle} (from ${network.caBundleFrom ?? 'the caller'}): ${why}; give a readable PEM file, or unset it to trust the system's certificate authorities`,
      { cause: err },
    );
  }
}

/** Decides, for each new connection, whether it goes through the proxy, and times the proxy's part of it. */
class Route {
  constructor(
    readonly protocol: 'https:' | 'http:',
    private readonly network: NetworkOptions,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  connect(options: ConnectOptions, callback: ConnectCallback, direct: () => Duplex, viaProxy: (options: ConnectOptions, callback: ConnectCallback) => void): Duplex | undefined {
    this.warnIfUnverified(options.host);
    const proxy = proxyFor(this.protocol, options.host, Number(options.port), this.env);
    if (proxy === undefined) return direct();
    // hpagent times its CONNECT request with `timeout`; the socket that results gets the caller's own back. Without
    // a limit of the caller's (the verifier's agents), a dead proxy would leave a CONNECT pending for minutes.
    const connectTimeoutMs = this.network.connectTimeoutMs ?? DEFAULT_TIMEOUTS.connectTimeoutMs;
    viaProxy({ ...options, timeout: connectTimeoutMs }, (err, socket) => {
      if (err !== null || socket === undefined) {
        callback(markProxyFailure(err ?? new Error('no socket'), proxy, connectTimeoutMs));
        return;
      }
      if (socket instanceof net.Socket) socket.setTimeout(options.timeout ?? 0);
      callback(null, socket);
    });
    return undefined;
  }

  private warnIfUnverified(host: string): void {
    if (this.protocol !== 'https:' || this.network.verifySsl !== false || warnedHosts.has(host)) return;
    warnedHosts.add(host);
    const warn = this.network.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
    warn(`eksauth: warning: InsecureRequestWarning: Unverified HTTPS request is being made to host '${host}'. Adding certificate verification is strongly advised. (--no-verify-ssl)`);
  }
}

class RoutingHttpsAgent extends HttpsProxyAgent {
  constructor(private readonly route: Route, options: ConstructorParameters<typeof HttpsProxyAgent>[0]) {
    super(options);
  }

  override createConnection(options: ConnectOptions, callback: ConnectCallback): Duplex | undefined {
    return this.route.connect(
      options,
      callback,
      () => https.Agent.prototype.createConnection.call(this, options, callback) as Duplex,
      (proxied, done) => super.createConnection(proxied, done),
    );
  }
}

class RoutingHttpAgent extends HttpProxyAgent {
  constructor(private readonly route: Route, options: ConstructorParameters<typeof HttpProxyAgent>[0]) {
    super(options);
  }

  override createConnection(options: ConnectOptions, callback: ConnectCallback): Duplex | undefined {
    return this.route.connect(
      options,
      callback,
      () => net.createConnection(options),
      (proxied, done) => super.createConnection(proxied, done),
    );
  }
}

const PROXY_REASONS: Record<string, string> = {
  ECONNREFUSED: 'refused the connection',
  ECONNRESET: 'closed the connection',
  ENOTFOUND: 'does not resolve (DNS)',
  EAI_AGAIN: 'does not resolve (temporary DNS failure)',
  EHOSTUNREACH: 'is unreachable',
  ENETUNREACH: 'is unreachable',
  ETIMEDOUT: 'did not answer in time',
};

/** Tags `err` with the proxy it came from; the URL's user name and password are never kept. */
function markProxyFailure(err: Error, proxy: URL, connectTimeoutMs: number): Error {
  const code = String((err as NodeJS.ErrnoException).code ?? '');
  const status = /^Bad response: (\d+)/.exec(err.message)?.[1];
  const reason = status !== undefined
    ? `answered the CONNECT with HTTP ${status}${status === '407' ? ' (proxy authentication required: put user:password in the proxy URL)' : ''}`
    : err.message === 'Proxy timeout'
      ? `did not answer within ${connectTimeoutMs / 1000} s (--cli-connect-timeout)`
      : PROXY_REASONS[code] ?? `failed (${code || 'network error'})`;
  const failure: ProxyFailure = { proxy: proxyLabel(proxy), reason };
  return Object.assign(err, { [PROXY_FAILURE]: failure });
}
