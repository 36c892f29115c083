/**
 * How eksauth reaches AWS, the way the aws CLI (botocore) does: the proxy from HTTPS_PROXY / HTTP_PROXY unless
 * NO_PROXY names the host, the CA bundle from --ca-bundle, AWS_CA_BUNDLE or the profile's `ca_bundle`,
 * `--no-verify-ssl`, and the connect and read timeouts.
 *
 * This module is light (no node:https, no proxy agent): it is read on every signing run. The agents themselves are
 * built by network-agent.ts, loaded only when a request is actually about to be sent (see {@link lazyRequestHandler}).
 */
import type { NodeHttpHandlerOptions } from '@smithy/node-http-handler';
import { EksAuthError } from '../errors.js';

/** The network settings of one command. Every field is optional: absent means the default behaviour. */
export interface NetworkOptions {
  /** A PEM file of the certificate authorities to trust instead of Node's bundled ones. */
  caBundle?: string;
  /** Where {@link caBundle} came from, for error messages: `--ca-bundle`, `AWS_CA_BUNDLE`, `ca_bundle of profile x`. */
  caBundleFrom?: string;
  /** False with `--no-verify-ssl`: server certificates are not checked (a warning is printed once per host). */
  verifySsl?: boolean;
  /** Time allowed to open a connection (to the proxy, when there is one), in ms; 0 waits for ever. */
  connectTimeoutMs?: number;
  /** Time allowed between two reads of an answer, in ms; 0 waits for ever. */
  readTimeoutMs?: number;
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Where the `--no-verify-ssl` warning goes; default stderr. */
  warn?: (line: string) => void;
}

/** The command-line form of {@link NetworkOptions}: timeouts in seconds, as the aws CLI takes them. */
export interface NetworkFlags {
  caBundle?: string;
  /** False with `--no-verify-ssl`. */
  verifySsl?: boolean;
  cliConnectTimeout?: string;
  cliReadTimeout?: string;
}

/**
 * The network options of a command: its flags first, then AWS_CA_BUNDLE (the profile's `ca_bundle` comes last,
 * added by {@link withProfileCaBundle} once the profile is read).
 *
 * @example
 * ```ts
 * import { networkOptions } from './network.js';
 * networkOptions({ cliConnectTimeout: '5', verifySsl: false }, process.env);
 * // { verifySsl: false, connectTimeoutMs: 5000, env: process.env }
 * ```
 * @throws EksAuthError ERR_USAGE when a timeout is not a number of seconds
 */
export function networkOptions(flags: NetworkFlags, env: NodeJS.ProcessEnv = process.env): NetworkOptions {
  const bundle = caBundleOf(flags, env);
  return {
    ...bundle,
    ...(flags.verifySsl === false ? { verifySsl: false } : {}),
    ...(flags.cliConnectTimeout === undefined ? {} : { connectTimeoutMs: seconds(flags.cliConnectTimeout, '--cli-connect-timeout') }),
    ...(flags.cliReadTimeout === undefined ? {} : { readTimeoutMs: seconds(flags.cliReadTimeout, '--cli-read-timeout') }),
    env,
  };
}

/**
 * `network` with the profile's `ca_bundle` when neither --ca-bundle nor AWS_CA_BUNDLE named a bundle.
 *
 * @example
 * ```ts
 * import { withProfileCaBundle } from './network.js';
 * withProfileCaBundle({}, { profile: 'corp', profileCaBundle: '/etc/corp-ca.pem' }).caBundleFrom; // 'ca_bundle of profile corp'
 * ```
 */
export function withProfileCaBundle(network: NetworkOptions, settings: { profile?: string; profileCaBundle?: string }): NetworkOptions {
  if (network.caBundle !== undefined || settings.profileCaBundle === undefined) return network;
  return { ...network, caBundle: settings.profileCaBundle, caBundleFrom: `ca_bundle of profile ${settings.profile ?? 'default'}` };
}

/**
 * `network` as it takes effect: without a CA bundle of its own, AWS_CA_BUNDLE of its environment applies, so that
 * library callers and the server that pass no options still get the aws CLI's behaviour.
 *
 * @example
 * ```ts
 * import { effectiveNetwork } from './network.js';
 * effectiveNetwork({ env: { AWS_CA_BUNDLE: '/etc/corp.pem' } }).caBundleFrom; // 'AWS_CA_BUNDLE'
 * ```
 */
export function effectiveNetwork(network: NetworkOptions): NetworkOptions {
  if (network.caBundle !== undefined) return network;
  return { ...network, ...caBundleOf({}, network.env ?? process.env) };
}

function caBundleOf(flags: NetworkFlags, env: NodeJS.ProcessEnv): Pick<NetworkOptions, 'caBundle' | 'caBundleFrom'> {
  if (flags.caBundle) return { caBundle: flags.caBundle, caBundleFrom: '--ca-bundle' };
  if (env.AWS_CA_BUNDLE) return { caBundle: env.AWS_CA_BUNDLE, caBundleFrom: 'AWS_CA_BUNDLE' };
  return {};
}

function seconds(value: string, flag: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new EksAuthError('ERR_USAGE', `${flag} takes a number of seconds (0 for no limit), not "${value}"`);
  }
  return Math.round(parsed * 1000);
}

/** A proxy, as error messages show it: scheme, host and port, never its user name or password. */
export function proxyLabel(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/**
 * The proxy for a request to `protocol://host:port`, as botocore finds it (Python's urllib): `https_proxy` for https,
 * `http_proxy` for http, the lower-case name first (set but empty, it hides the upper-case one); none when NO_PROXY
 * matches the host. A proxy without a scheme is `http://`, as botocore reads it.
 *
 * @example
 * ```ts
 * import { proxyFor } from './network.js';
 * proxyFor('https:', 'eks.eu-west-1.amazonaws.com', 443, { HTTPS_PROXY: 'proxy:3128' })?.href; // 'http://proxy:3128/'
 * proxyFor('https:', 'sts.amazonaws.com', 443, { HTTPS_PROXY: 'proxy:3128', NO_PROXY: 'amazonaws.com' }); // undefined
 * ```
 * @throws EksAuthError ERR_PROXY when the variable is not a URL
 */
export function proxyFor(protocol: string, host: string, port: number, env: NodeJS.ProcessEnv): URL | undefined {
  return bypassesProxy(host, port, env) ? undefined : schemeProxy(protocol, env);
}

/**
 * The proxy set for every request of a scheme (`https:` → HTTPS_PROXY), before NO_PROXY is applied.
 *
 * @example
 * ```ts
 * import { schemeProxy } from './network.js';
 * schemeProxy('https:', { https_proxy: 'http://127.0.0.1:3128' })?.port; // '3128'
 * ```
 * @throws EksAuthError ERR_PROXY when the variable is not a URL
 */
export function schemeProxy(protocol: string, env: NodeJS.ProcessEnv): URL | undefined {
  const variable = `${protocol.replace(/:$/, '')}_proxy`;
  const value = proxyVariable(variable, env);
  if (value === undefined) return undefined;
  const withScheme = /^https?:/i.test(value) ? value : value.startsWith('//') ? `http:${value}` : `http://${value}`;
  try {
    return new URL(withScheme);
  } catch {
    throw new EksAuthError('ERR_PROXY', `${variable.toUpperCase()} is not a proxy URL; set it to http://host:port (or unset it)`);
  }
}

/** `name` (lower case) wins over NAME, and an empty lower-case one unsets it, as in Python's getproxies_environment. */
function proxyVariable(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const lower = env[name.toLowerCase()];
  const value = lower ?? env[name.toUpperCase()];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Whether NO_PROXY exempts `host` (Python's proxy_bypass_environment, which botocore uses): `*` exempts every host;
 * otherwise each comma-separated entry, leading dots ignored, matches the host itself, `host:port`, or any name
 * ending in `.entry`, so `amazonaws.com` and `.amazonaws.com` both cover `sts.us-east-1.amazonaws.com`.
 *
 * @example
 * ```ts
 * import { bypassesProxy } from './network.js';
 * bypassesProxy('sts.eu-west-1.amazonaws.com', 443, { NO_PROXY: '.amazonaws.com' }); // true
 * bypassesProxy('127.0.0.1', 8443, { no_proxy: '127.0.0.1:9999' }); // false
 * ```
 */
export function bypassesProxy(host: string, port: number, env: NodeJS.ProcessEnv): boolean {
  const noProxy = proxyVariable('no_proxy', env);
  if (noProxy === undefined) return false;
  if (noProxy.trim() === '*') return true;
  const hostOnly = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const hostPort = `${hostOnly}:${port}`;
  return noProxy.split(',').some((entry) => {
    const name = entry.trim().replace(/^\.+/, '').toLowerCase();
    if (name === '') return false;
    return hostOnly === name || hostPort === name || hostOnly.endsWith(`.${name}`) || hostPort.endsWith(`.${name}`);
  });
}

/** The options NodeHttpHandler takes; kept structural so that this module loads none of the SDK. */
export interface RequestHandlerOptions {
  httpAgent: import('node:http').Agent;
  httpsAgent: import('node:https').Agent;
  /** Time to open a connection. */
  connectionTimeout: number;
  /** Idle time allowed between reads (botocore's read timeout). */
  socketTimeout: number;
  /** Deadline of the whole request, when the call site has one. */
  requestTimeout?: number;
  throwOnRequestTimeout: true;
}

/** The timeouts a call site uses when the command did not set its own (ms; 0 waits for ever). */
export interface TimeoutDefaults {
  connectTimeoutMs: number;
  readTimeoutMs: number;
  /** A deadline for the whole request (connection, retries excluded, and answer); none by default. */
  requestTimeoutMs?: number;
}

/**
 * The timeouts of eksauth's own AWS calls when no --cli-*-timeout is given: shorter than the aws CLI's 60 s, because
 * kubectl waits on `eksauth token`, and without any the SDK waits for ever on an endpoint that never answers.
 */
export const DEFAULT_TIMEOUTS: TimeoutDefaults = { connectTimeoutMs: 10_000, readTimeoutMs: 30_000 };

/**
 * A request handler for an AWS SDK client's `requestHandler` (NodeHttpHandler accepts a provider of its options):
 * the agents are built, and the proxy agent loaded, only when the client sends its first request. Each client gets
 * agents of its own, so destroying one client never breaks another's connections.
 *
 * @example
 * ```ts
 * import { EKSClient } from '@aws-sdk/client-eks';
 * import { lazyRequestHandler } from './network.js';
 * const client = new EKSClient({ region: 'eu-west-1', requestHandler: lazyRequestHandler({}, { connectTimeoutMs: 10_000, readTimeoutMs: 30_000 }) });
 * ```
 */
export function lazyRequestHandler(network: NetworkOptions, defaults: TimeoutDefaults): NodeHttpHandlerOptions {
  const provider = async (): Promise<RequestHandlerOptions> => (await import('./network-agent.js')).requestHandlerOptions(network, defaults);
  // The clients hand `requestHandler` to NodeHttpHandler.create, whose constructor takes a Provider of its options
  // (`NodeHttpHandlerOptions | Provider<NodeHttpHandlerOptions | void>`); the client config's type only names the object.
  return provider as unknown as NodeHttpHandlerOptions;
}

/** OpenSSL's and Node's codes for a server certificate that was not accepted (not other TLS failures). */
const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/** Marks an error as the proxy's: set by the proxy agent, read by {@link explainNetworkFailure}. */
export const PROXY_FAILURE = Symbol.for('eksauth.proxyFailure');

/** What a proxy failure carries: which proxy, and what went wrong with it. */
export interface ProxyFailure {
  proxy: string;
  reason: string;
}

/**
 * ERR_PROXY for a failure of the proxy (refused, unreachable, answered the CONNECT with an error), ERR_TLS for a
 * server certificate that was not trusted, undefined for anything else. `what` names the call (`EKS DescribeCluster
 * in eu-west-1`); the messages name the proxy or the CA bundle and what to change.
 *
 * @example
 * ```ts
 * import { explainNetworkFailure } from './network.js';
 * const explained = explainNetworkFailure(err, 'STS AssumeRole', { caBundle: '/etc/ca.pem', caBundleFrom: 'AWS_CA_BUNDLE' });
 * if (explained) throw explained;
 * ```
 */
export function explainNetworkFailure(err: unknown, what: string, network: NetworkOptions = {}): EksAuthError | undefined {
  if (err instanceof EksAuthError) return undefined;
  const proxy = proxyFailureOf(err);
  if (proxy !== undefined) {
    return new EksAuthError(
      'ERR_PROXY',
      `${what} failed: the proxy ${proxy.proxy} ${proxy.reason}; check HTTPS_PROXY/HTTP_PROXY (or add the host to NO_PROXY) and retry`,
      { cause: err },
    );
  }
  const code = String((err as { code?: unknown } | undefined)?.code ?? '');
  if (!TLS_CODE.test(code)) return undefined;
  const { caBundle, caBundleFrom } = effectiveNetwork(network);
  const trust = caBundle === undefined
    ? "the system's certificate authorities; if a proxy or firewall re-signs TLS, pass its CA with --ca-bundle or AWS_CA_BUNDLE"
    : `the CA bundle ${caBundle} (from ${caBundleFrom ?? 'the caller'}); add the CA that signed the server's certificate to it, or point --ca-bundle (or AWS_CA_BUNDLE) at the right one`;
  return new EksAuthError('ERR_TLS', `${what} failed: the server's TLS certificate was not accepted (${code}) by ${trust}`, { cause: err });
}

function proxyFailureOf(err: unknown): ProxyFailure | undefined {
  for (let current = err, depth = 0; typeof current === 'object' && current !== null && depth < 5; depth++) {
    const failure = (current as { [PROXY_FAILURE]?: ProxyFailure })[PROXY_FAILURE];
    if (failure !== undefined) return failure;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
