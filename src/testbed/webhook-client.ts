/**
 * kube-apiserver's webhook token authenticator, for the test API server: it reads the webhook kubeconfig file
 * (`--authentication-token-webhook-config-file`), POSTs a TokenReview in the configured version
 * (`--authentication-token-webhook-version`, v1 or v1beta1) for every bearer token, and accepts the token only on a
 * 2xx answer with `status.authenticated: true`. Like kube-apiserver it retries 429, 500, 504 and dropped connections
 * with an exponential back-off (500 ms, ×1.5, 5 attempts), and can cache answers
 * (`--authentication-token-webhook-cache-ttl`; kube-apiserver's default is 2 minutes, this fixture's is off so that
 * tests see every review).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { EksAuthError } from '../errors.js';
import type { AuthenticatedUser, BearerAuthenticator } from './apiserver.js';

export type TokenReviewVersion = 'v1' | 'v1beta1';

export interface WebhookAuthenticatorOptions {
  /** The webhook kubeconfig, e.g. the file `eksauth server init` wrote. */
  kubeconfigPath: string;
  /** TokenReview version to send and expect; kube-apiserver's default is v1beta1. */
  version?: TokenReviewVersion;
  /** Sent as `spec.audiences` (kube-apiserver sends its `--api-audiences`). */
  audiences?: string[];
  /** Cache answers (authenticated or not, never errors) this long; default 0 (off). */
  cacheTtlMs?: number;
  /** Retry back-off; default kube-apiserver's: 500 ms, factor 1.5, 5 attempts. */
  retry?: { initialDelayMs?: number; factor?: number; attempts?: number };
  /** Per-attempt deadline; default 30 s. */
  timeoutMs?: number;
}

/** What the last reviews looked like, for tests that check the webhook's answers without kubectl. */
export interface WebhookExchange {
  /** HTTP status of the last attempt, or 0 when no answer arrived. */
  status: number;
  attempts: number;
  authenticated: boolean;
  /** `status.error` of the answer, or the transport error. */
  error?: string;
}

/** A {@link BearerAuthenticator} that also lists the exchanges it had with the webhook, oldest first. */
export type WebhookAuthenticator = BearerAuthenticator & { exchanges(): WebhookExchange[] };

interface WebhookTarget {
  url: URL;
  agent: https.Agent;
  headers: Record<string, string>;
}

const RETRYABLE_STATUSES = new Set([429, 500, 504]);

/**
 * A webhook answer kube-apiserver treats as an error (not 2xx, or no answer): the request is unauthenticated. The
 * code, `webhook-http-<status>` or `webhook-unreachable`, is what the test API server records.
 *
 * @example
 * ```ts
 * await authenticate(token).catch((err) => err instanceof WebhookError && err.exchange.status); // 503
 * ```
 */
export class WebhookError extends Error {
  readonly code: string;

  constructor(readonly exchange: WebhookExchange) {
    super(`webhook token authenticator failed: ${exchange.error ?? `HTTP ${exchange.status}`}`);
    this.code = exchange.status === 0 ? 'webhook-unreachable' : `webhook-http-${exchange.status}`;
  }
}

/**
 * Creates the authenticator from a webhook kubeconfig file.
 *
 * @example
 * ```ts
 * const authenticate = webhookAuthenticator({ kubeconfigPath: '/etc/kubernetes/eksauth/kubeconfig.yaml', version: 'v1' });
 * const api = await startTestApiServer({ authenticate });
 * ```
 */
export function webhookAuthenticator(options: WebhookAuthenticatorOptions): WebhookAuthenticator {
  const target = readWebhookKubeconfig(options.kubeconfigPath);
  const apiVersion = `authentication.k8s.io/${options.version ?? 'v1beta1'}`;
  const cache = new Map<string, { user: AuthenticatedUser | undefined; expiresAt: number }>();
  const log: WebhookExchange[] = [];
  const authenticate = async (token: string): Promise<AuthenticatedUser | undefined> => {
    const key = createHash('sha256').update(token).digest('base64');
    const cached = cache.get(key);
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached.user;
    const body = JSON.stringify({
      kind: 'TokenReview', apiVersion, metadata: { creationTimestamp: null },
      spec: { token, ...(options.audiences ? { audiences: options.audiences } : {}) }, status: { user: {} },
    });
    const exchange = await postWithRetries(target, body, options);
    log.push(exchange.summary);
    if (exchange.user === null) throw new WebhookError(exchange.summary);
    if ((options.cacheTtlMs ?? 0) > 0) cache.set(key, { user: exchange.user, expiresAt: Date.now() + (options.cacheTtlMs ?? 0) });
    return exchange.user;
  };
  return Object.assign(authenticate, { exchanges: () => log.map((entry) => ({ ...entry })) });
}

/** The cluster and user of the current context, as clientcmd resolves them. */
function readWebhookKubeconfig(path: string): WebhookTarget {
  const config = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  const contextName = config['current-context'];
  const context = config.contexts?.find((c) => c.name === contextName)?.context;
  const cluster = config.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  if (context === undefined || cluster?.server === undefined) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `${path}: the current context does not name a cluster with a server`);
  }
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  const base = dirname(resolve(path));
  const read = (data: string | undefined, file: string | undefined): string | undefined =>
    data !== undefined ? Buffer.from(data, 'base64').toString('utf8') : file !== undefined ? readFileSync(resolve(base, file), 'utf8') : undefined;
  const ca = read(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = read(user['client-certificate-data'], user['client-certificate']);
  const key = read(user['client-key-data'], user['client-key']);
  const agent = new https.Agent({
    keepAlive: true,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
  });
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json, */*',
    'User-Agent': 'eksauth-test-apiserver (kube-apiserver webhook token authenticator)',
    ...(user.token === undefined ? {} : { Authorization: `Bearer ${user.token}` }),
  };
  return { url: new URL(cluster.server), agent, headers };
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster?: { server?: string; 'certificate-authority-data'?: string; 'certificate-authority'?: string; 'insecure-skip-tls-verify'?: boolean } }[];
  users?: { name: string; user?: { token?: string; 'client-certificate-data'?: string; 'client-certificate'?: string; 'client-key-data'?: string; 'client-key'?: string } }[];
}

interface Exchange {
  /** The user, undefined when not authenticated, null when the webhook failed (an error for kube-apiserver). */
  user: AuthenticatedUser | undefined | null;
  summary: WebhookExchange;
}

async function postWithRetries(target: WebhookTarget, body: string, options: WebhookAuthenticatorOptions): Promise<Exchange> {
  const attempts = options.retry?.attempts ?? 5;
  let delayMs = options.retry?.initialDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    const answer = await postOnce(target, body, options.timeoutMs ?? 30_000);
    const retryable = answer.status === 0 ? answer.reset : RETRYABLE_STATUSES.has(answer.status);
    if (!retryable || attempt >= attempts) return interpret(answer, attempt);
    await new Promise((done) => setTimeout(done, delayMs * (1 + 0.2 * Math.random())));
    delayMs *= options.retry?.factor ?? 1.5;
  }
}

interface RawAnswer {
  status: number;
  body: string;
  /** The connection was reset or closed early (retried, as kube-apiserver does). */
  reset: boolean;
  error?: string;
}

function postOnce(target: WebhookTarget, body: string, timeoutMs: number): Promise<RawAnswer> {
  return new Promise((done) => {
    const request = https.request(target.url, { method: 'POST', agent: target.agent, headers: target.headers, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => done({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), reset: false }));
      response.on('error', (err) => done({ status: 0, body: '', reset: true, error: err.message }));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      done({ status: 0, body: '', reset: code === 'ECONNRESET' || code === 'EPIPE', error: err.message });
    });
    request.end(body);
  });
}

function interpret(answer: RawAnswer, attempts: number): Exchange {
  const review = parseReview(answer.body);
  const error = review?.status?.error ?? answer.error;
  const summary = (authenticated: boolean): WebhookExchange => ({ status: answer.status, attempts, authenticated, ...(error ? { error } : {}) });
  if (answer.status < 200 || answer.status > 299 || review === undefined) return { user: null, summary: summary(false) };
  const user = review.status?.user;
  if (review.status?.authenticated !== true || user?.username === undefined) return { user: undefined, summary: summary(false) };
  return {
    user: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups ?? [], ...(user.extra ? { extra: user.extra } : {}) },
    summary: summary(true),
  };
}

interface TokenReviewAnswer {
  status?: { authenticated?: boolean; error?: string; user?: AuthenticatedUser & { username?: string } };
}

function parseReview(body: string): TokenReviewAnswer | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null ? (parsed as TokenReviewAnswer) : undefined;
  } catch {
    return undefined;
  }
}
