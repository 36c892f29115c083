/**
 * The one network call a verifier makes: replay a presigned STS GetCallerIdentity request and read who signed it.
 *
 * The request is rebuilt from the URL's host name and query only (never forwarded as given), carries only our own
 * headers, follows no redirects, has a deadline and a size cap, and accepts nothing but the exact JSON shape STS
 * returns. Error messages name the STS host and never contain the token, the query or anything signed.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { createAgent } from '../aws/network-agent.js';
import { explainNetworkFailure, type NetworkOptions } from '../aws/network.js';
import { EksAuthError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { unbracketHost } from '../lib/http.js';
import { CLUSTER_ID_HEADER } from '../token/format.js';

/** Who STS says signed the request. Comes only from the STS response, never from the token. */
export interface CallerIdentity {
  /** e.g. `arn:aws:sts::111122223333:assumed-role/admin/alice` or `arn:aws:iam::111122223333:user/alice`. */
  arn: string;
  /** The 12-digit account id. */
  account: string;
  /** The principal's unique id; for assumed roles `<role id>:<session name>`. */
  userId: string;
}

export interface GetCallerIdentityOptions {
  /** Our own cluster id, sent as the `x-k8s-aws-id` header; a token signed for another cluster is then refused by STS. */
  clusterId: string;
  /**
   * Connect here (`http(s)://host[:port]`) instead of the URL's host, keeping the URL's host in the `Host` header,
   * as behind a VPC endpoint or against a local STS emulator.
   */
  stsEndpoint?: string | URL;
  /** Deadline for the whole call, connection and retries included; default 10 000 ms. */
  timeoutMs?: number;
  /** Deadline for establishing a new connection (TCP and TLS); default 3 000 ms, never more than `timeoutMs`. */
  connectTimeoutMs?: number;
  /** Largest response body read; default 64 KiB. */
  maxResponseBytes?: number;
  /**
   * Agent for the connection; must match the endpoint's protocol. Default: a keep-alive agent built from `network`
   * (shared by every call that passes no `network`), which honours HTTPS_PROXY/NO_PROXY as the aws CLI does.
   */
  agent?: http.Agent;
  /** Proxy and CA bundle for the default agent, and the CA bundle named in TLS errors; default: the environment. */
  network?: NetworkOptions;
  /** Told the HTTP status of STS's answer, whatever it is, before it is interpreted (for per-status metrics). */
  onResponse?: (status: number) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;
/** A kept-alive connection the server closed meanwhile fails once; one fresh connection is then tried. */
const MAX_ATTEMPTS = 2;

const KEEP_ALIVE_OPTIONS: https.AgentOptions = { keepAlive: true, maxSockets: 64, timeout: 30_000 };
// Shared so that a verifier under load reuses TLS connections to STS instead of paying a handshake per token; made on
// first use, from the environment as it is then.
const sharedAgents: Partial<Record<StsTarget['protocol'], http.Agent>> = {};

const THROTTLING_CODES = new Set([
  'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottled', 'RequestThrottledException',
  'RequestLimitExceeded', 'TooManyRequestsException', 'SlowDown',
]);

/** Where the request goes and how errors describe it. */
interface StsTarget {
  protocol: 'https:' | 'http:';
  connectHost: string;
  connectPort: number;
  /** TLS server name to verify; '' when connecting to an IP address (SNI cannot carry one). */
  servername: string;
  hostHeader: string;
  path: string;
  /** "STS at sts.eu-west-1.amazonaws.com (via http://127.0.0.1:4566)": no query, no credentials. */
  label: string;
}

interface Limits {
  deadline: number;
  connectTimeoutMs: number;
  maxResponseBytes: number;
}

interface StsResponse {
  status: number;
  body: Buffer;
}

/** Marks a failure on a reused keep-alive socket before any response arrived: safe to retry once. */
class StaleConnectionError extends Error {}

/**
 * Asks STS who signed a presigned GetCallerIdentity URL, sending our own `x-k8s-aws-id`.
 * Only the URL's host name and query are used; validate the URL first (the verifier does).
 *
 * @example
 * ```ts
 * import { getCallerIdentity } from './get-caller-identity.js';
 * import { decodeToken } from '../token/format.js';
 * const url = new URL(decodeToken(token)!); // after validateToken()
 * const { arn, account, userId } = await getCallerIdentity(url, { clusterId: 'prod' });
 * ```
 * @throws EksAuthError ERR_STS_UNAVAILABLE (unreachable, timeout, 5xx), ERR_STS_THROTTLED, ERR_STS_REJECTED
 *   (STS refused the signature, credentials or cluster id), ERR_STS_RESPONSE (anything but the expected answer),
 *   ERR_PROXY (the HTTPS_PROXY proxy failed), ERR_TLS (STS's certificate was not accepted).
 */
export async function getCallerIdentity(presignedUrl: URL, options: GetCallerIdentityOptions): Promise<CallerIdentity> {
  const clusterId = requireClusterId(options.clusterId);
  const target = buildTarget(presignedUrl, options.stsEndpoint);
  const agent = chooseAgent(target, options.agent, options.network);
  const timeoutMs = requirePositive(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs');
  const limits: Limits = {
    deadline: Date.now() + timeoutMs,
    connectTimeoutMs: Math.min(requirePositive(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 'connectTimeoutMs'), timeoutMs),
    maxResponseBytes: requirePositive(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes'),
  };
  const headers = { Host: target.hostHeader, [CLUSTER_ID_HEADER]: clusterId, Accept: 'application/json' };
  const response = await sendWithOneRetry(target, headers, agent, limits, options.network);
  options.onResponse?.(response.status);
  return interpretResponse(response, target, clusterId, querySecrets(presignedUrl));
}

function requireClusterId(clusterId: string): string {
  if (typeof clusterId !== 'string' || clusterId === '') {
    throw new EksAuthError('ERR_NO_CLUSTER', 'getCallerIdentity needs the cluster id this verifier serves (clusterId).');
  }
  if (!/^[\x21-\x7e]{1,256}$/.test(clusterId)) {
    throw new EksAuthError('ERR_USAGE', 'The cluster id must be 1 to 256 printable ASCII characters without spaces.');
  }
  return clusterId;
}

function requirePositive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new EksAuthError('ERR_USAGE', `getCallerIdentity option ${name} must be a positive number (got ${String(value)}).`);
  }
  return value;
}

/** Rebuilds `GET /?<query>` for the URL's host; anything else in the URL (userinfo, port, path, fragment) is dropped. */
function buildTarget(presignedUrl: URL, stsEndpoint: string | URL | undefined): StsTarget {
  const stsHost = presignedUrl.hostname;
  if (stsHost === '' || presignedUrl.search.length < 2) {
    throw new EksAuthError('ERR_USAGE', 'getCallerIdentity needs a presigned STS URL with a host and a query.');
  }
  const path = `/${presignedUrl.search}`;
  if (stsEndpoint === undefined) {
    return {
      protocol: 'https:', connectHost: stsHost, connectPort: 443, servername: sniName(stsHost),
      hostHeader: stsHost, path, label: `STS at ${stsHost}`,
    };
  }
  const endpoint = parseEndpoint(stsEndpoint);
  const connectHost = unbracketHost(endpoint.hostname);
  const defaultPort = endpoint.protocol === 'https:' ? 443 : 80;
  return {
    protocol: endpoint.protocol as StsTarget['protocol'],
    connectHost,
    connectPort: endpoint.port === '' ? defaultPort : Number(endpoint.port),
    servername: sniName(connectHost),
    hostHeader: stsHost,
    path,
    label: `STS at ${stsHost} (via ${endpoint.origin})`,
  };
}

function parseEndpoint(stsEndpoint: string | URL): URL {
  let endpoint: URL;
  try {
    endpoint = new URL(String(stsEndpoint));
  } catch {
    throw new EksAuthError('ERR_INVALID_CONFIG', 'The STS endpoint override is not a URL; use the form https://host[:port].');
  }
  const plainOrigin = endpoint.username === '' && endpoint.password === '' && endpoint.pathname === '/'
    && endpoint.search === '' && endpoint.hash === '';
  if ((endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') || !plainOrigin) {
    throw new EksAuthError(
      'ERR_INVALID_CONFIG',
      `The STS endpoint override must be http(s)://host[:port] with no path, query or credentials (got ${endpoint.protocol}//${endpoint.host}).`,
    );
  }
  return endpoint;
}

/** TLS verifies the server against this name; '' makes Node verify against the IP instead of the Host header. */
function sniName(host: string): string {
  return isIP(host) === 0 ? host : '';
}

function chooseAgent(target: StsTarget, agent: http.Agent | undefined, network: NetworkOptions | undefined): http.Agent {
  if (agent === undefined && network !== undefined) return createAgent(target.protocol, network, KEEP_ALIVE_OPTIONS);
  if (agent === undefined) return (sharedAgents[target.protocol] ??= createAgent(target.protocol, {}, KEEP_ALIVE_OPTIONS));
  if ((agent instanceof https.Agent) !== (target.protocol === 'https:')) {
    throw new EksAuthError('ERR_USAGE', `The agent given to getCallerIdentity does not match the ${target.protocol} endpoint; pass an ${target.protocol === 'https:' ? 'https' : 'http'}.Agent.`);
  }
  return agent;
}

async function sendWithOneRetry(
  target: StsTarget,
  headers: Record<string, string>,
  agent: http.Agent,
  limits: Limits,
  network: NetworkOptions | undefined,
): Promise<StsResponse> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await sendOnce(target, headers, agent, limits, network);
    } catch (err) {
      if (!(err instanceof StaleConnectionError)) throw err;
      if (attempt >= MAX_ATTEMPTS) throw unavailable(target, 'the connection was closed before STS answered', err.cause);
    }
  }
}

/** One GET with connect and overall deadlines; resolves with the (size-capped) body of any HTTP status. */
function sendOnce(target: StsTarget, headers: Record<string, string>, agent: http.Agent, limits: Limits, network: NetworkOptions | undefined): Promise<StsResponse> {
  return new Promise((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    let responded = false;
    const settle = (outcome: StsResponse | Error): void => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      if (outcome instanceof Error) {
        request.destroy();
        reject(outcome);
      } else {
        resolve(outcome);
      }
    };
    const remainingMs = Math.max(1, limits.deadline - Date.now());
    const transport = target.protocol === 'https:' ? https : http;
    const request = transport.request({
      protocol: target.protocol,
      host: target.connectHost,
      port: target.connectPort,
      servername: target.servername,
      method: 'GET',
      path: target.path,
      headers,
      setHost: false,
      agent,
    });
    timers.push(setTimeout(() => settle(unavailable(target, `no answer within ${Math.round(remainingMs)} ms`)), remainingMs));
    request.on('socket', (socket) => watchConnect(socket, limits.connectTimeoutMs, timers, () =>
      settle(unavailable(target, `could not connect within ${limits.connectTimeoutMs} ms`))));
    request.on('error', (err) => {
      if (request.reusedSocket && !responded && isConnectionReset(err)) {
        settle(new StaleConnectionError('stale keep-alive connection', { cause: err }));
      } else {
        settle(networkError(target, err, network));
      }
    });
    request.on('response', (response) => {
      responded = true;
      readCappedBody(response, limits.maxResponseBytes, target).then(
        (body) => settle({ status: response.statusCode ?? 0, body }),
        (err: Error) => settle(err),
      );
    });
    request.end();
  });
}

/** Arms the connect deadline only for a new connection; a reused keep-alive socket is already connected. */
function watchConnect(socket: Socket, connectTimeoutMs: number, timers: NodeJS.Timeout[], onTimeout: () => void): void {
  if (!socket.connecting) return;
  const timer = setTimeout(onTimeout, connectTimeoutMs);
  timers.push(timer);
  socket.once(socket instanceof TLSSocket ? 'secureConnect' : 'connect', () => clearTimeout(timer));
}

function readCappedBody(response: http.IncomingMessage, maxBytes: number, target: StsTarget): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const encoding = response.headers['content-encoding'];
    if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
      reject(badResponse(target, `a ${encoding}-encoded body that was not asked for`));
      return;
    }
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(badResponse(target, `a body of ${declared} bytes, more than the ${maxBytes}-byte limit`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        reject(badResponse(target, `a body larger than the ${maxBytes}-byte limit`));
        response.destroy();
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', (err) => reject(networkError(target, err)));
    response.on('aborted', () => reject(unavailable(target, 'the connection closed in the middle of the answer')));
  });
}

function interpretResponse(response: StsResponse, target: StsTarget, clusterId: string, secrets: string[]): CallerIdentity {
  const { status, body } = response;
  if (status === 200) return parseIdentity(body, target);
  const stsError = parseStsError(body, secrets);
  const detail = describeStsError(status, stsError);
  if (status === 429 || (stsError.code !== undefined && THROTTLING_CODES.has(stsError.code))) {
    return fail('ERR_STS_THROTTLED', `${target.label} throttled the request (${detail}). Retry after a short back-off; sustained throttling means too many token verifications per account, so cache results or spread the load.`);
  }
  if (status >= 500 && status <= 599) {
    return fail('ERR_STS_UNAVAILABLE', `${target.label} failed (${detail}). This is on the STS side; retry later.`);
  }
  if (status >= 400 && status <= 499) {
    return fail('ERR_STS_REJECTED', `${target.label} rejected the token (${detail}). A token is valid only for the cluster it was made for (this one is "${clusterId}") and for 15 minutes; the client must get a new token with valid AWS credentials.`);
  }
  if (status >= 300 && status <= 399) {
    return fail('ERR_STS_RESPONSE', `${target.label} answered with a redirect (HTTP ${status}), which is never followed. Point the STS endpoint straight at STS.`);
  }
  return fail('ERR_STS_RESPONSE', `${target.label} answered HTTP ${status} instead of 200. Check that the STS endpoint points at AWS STS and not at a proxy.`);
}

function fail(code: ErrorCode, message: string): never {
  throw new EksAuthError(code, message);
}

/** Accepts exactly `{GetCallerIdentityResponse: {GetCallerIdentityResult: {Arn, UserId, Account}, ResponseMetadata: {…}}}`. */
function parseIdentity(body: Buffer, target: StsTarget): CallerIdentity {
  let root: unknown;
  try {
    root = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw badResponse(target, 'a 200 whose body is not JSON');
  }
  const response = exactObject(root, ['GetCallerIdentityResponse'])?.GetCallerIdentityResponse;
  const parts = exactObject(response, ['GetCallerIdentityResult', 'ResponseMetadata']);
  const result = exactObject(parts?.GetCallerIdentityResult, ['Arn', 'UserId', 'Account']);
  if (!parts || !isPlainObject(parts.ResponseMetadata) || !result) {
    throw badResponse(target, 'JSON that is not a GetCallerIdentity result');
  }
  const { Arn: arn, Account: account, UserId: userId } = result;
  if (!isNonEmptyString(arn) || !isNonEmptyString(account) || !isNonEmptyString(userId)) {
    throw badResponse(target, 'a GetCallerIdentity result whose Arn, Account or UserId is not a non-empty string');
  }
  return { arn, account, userId };
}

/** The object when it has exactly these keys, otherwise undefined. */
function exactObject<K extends string>(value: unknown, keys: readonly K[]): Record<K, unknown> | undefined {
  if (!isPlainObject(value)) return undefined;
  const actual = Object.keys(value);
  if (actual.length !== keys.length || !keys.every((key) => Object.hasOwn(value, key))) return undefined;
  return value as Record<K, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

interface StsErrorDetail {
  code?: string;
  message?: string;
}

/**
 * Reads STS's `{"Error":{"Code","Message"}}`, the same with its quotes backslash-escaped (a body some proxies and
 * aws-iam-authenticator's own tests send, and in which the reference still finds `Throttling`), or the XML
 * ErrorResponse some front ends still send.
 */
function parseStsError(body: Buffer, secrets: string[]): StsErrorDetail {
  const text = body.toString('utf8');
  const fields = jsonErrorFields(text) ?? jsonErrorFields(text.replaceAll('\\"', '"')) ?? xmlErrorFields(text);
  const detail: StsErrorDetail = {};
  if (typeof fields.code === 'string' && /^[A-Za-z][A-Za-z0-9.]{0,63}$/.test(fields.code)) detail.code = fields.code;
  if (typeof fields.message === 'string' && fields.message.trim() !== '') detail.message = cleanMessage(fields.message, secrets);
  return detail;
}

/** `Error.Code` and `Error.Message` of a JSON body; undefined when the body is not JSON at all. */
function jsonErrorFields(text: string): { code?: unknown; message?: unknown } | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  // A JSON string holding the error document: the same body, encoded once more.
  if (typeof parsed === 'string') return jsonErrorFields(parsed) ?? {};
  const error = isPlainObject(parsed) ? parsed.Error : undefined;
  return isPlainObject(error) ? { code: error.Code, message: error.Message } : {};
}

function xmlErrorFields(text: string): { code?: unknown; message?: unknown } {
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  return { code: /<Code>([^<]*)<\/Code>/.exec(text)?.[1], message: message === undefined ? undefined : decodeXmlEntities(message) };
}

function describeStsError(status: number, error: StsErrorDetail): string {
  const code = error.code ?? 'no STS error code';
  return error.message === undefined ? `HTTP ${status}, ${code}` : `HTTP ${status}, ${code}: ${error.message}`;
}

function decodeXmlEntities(text: string): string {
  const entities: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'", '&amp;': '&' };
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (entity) => entities[entity] ?? entity);
}

/**
 * STS messages do not echo the request today; the redaction makes sure that stays true for this output
 * whatever STS (or something pretending to be STS) sends.
 */
function cleanMessage(message: string, secrets: string[]): string {
  let clean = message.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').trim();
  for (const secret of secrets) clean = clean.split(secret).join('[redacted]');
  return clean.length > 300 ? `${clean.slice(0, 300)}…` : clean;
}

/** Every query value long enough to be a credential, signature or session token, raw and decoded. */
function querySecrets(presignedUrl: URL): string[] {
  const secrets = new Set<string>();
  const raw = presignedUrl.search.slice(1);
  if (raw.length >= 8) secrets.add(raw);
  for (const pair of raw.split('&')) {
    const rawValue = pair.slice(pair.indexOf('=') + 1);
    if (rawValue.length < 8) continue;
    secrets.add(rawValue);
    try {
      secrets.add(decodeURIComponent(rawValue.replace(/\+/g, ' ')));
    } catch {
      // a malformed escape: the raw form is already covered
    }
  }
  // Longest first, so a value that contains another is removed whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

function isConnectionReset(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'temporary DNS failure',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Maps a proxy, socket, TLS or HTTP-parser error; only its code is shown, never its text. */
function networkError(target: StsTarget, err: Error, network?: NetworkOptions): EksAuthError {
  const explained = explainNetworkFailure(err, `Asking ${target.label}`, network);
  if (explained !== undefined) return explained;
  const code = String((err as NodeJS.ErrnoException).code ?? '');
  if (code.startsWith('HPE_')) return badResponse(target, `something that is not HTTP (${code})`);
  const reason = NETWORK_REASONS[code]
    ?? (/TLS|SSL/.test(code) ? `TLS failed (${code})` : undefined)
    ?? (/^[A-Z0-9_]{1,64}$/.test(code) ? `network error ${code}` : 'network error');
  return unavailable(target, reason, err);
}

function unavailable(target: StsTarget, reason: string, cause?: unknown): EksAuthError {
  return new EksAuthError(
    'ERR_STS_UNAVAILABLE',
    `Could not get an answer from ${target.label}: ${reason}. Check that this host can reach STS (DNS, proxy, firewall, VPC endpoint) and retry.`,
    cause === undefined ? {} : { cause },
  );
}

function badResponse(target: StsTarget, what: string): EksAuthError {
  return new EksAuthError(
    'ERR_STS_RESPONSE',
    `${target.label} sent ${what}. Check that the STS endpoint points at AWS STS and not at a proxy, captive portal or other service.`,
  );
}
