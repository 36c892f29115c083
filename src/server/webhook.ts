/**
 * The `/authenticate` endpoint: kube-apiserver's webhook token authenticator POSTs a TokenReview
 * (`authentication.k8s.io/v1` or `v1beta1`, per `--authentication-token-webhook-version`) and gets one back in the
 * same version.
 *
 * Answers follow aws-iam-authenticator: 200 with `status.authenticated: true` and the user (username, uid, groups,
 * extra) for a mapped identity; 403 with `authenticated: false` for a bad token, an STS refusal or an unmapped
 * identity; 429 when STS throttles (kube-apiserver retries those). eksauth adds 502/503 for an STS that is broken or
 * unreachable (and for a review past its deadline), and puts the reason in `status.error`. Requests that are not a
 * TokenReview get a 400 `Status` saying why, which client-go shows in kube-apiserver's log. The response never
 * echoes the token: `spec` comes back empty.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from './logger.js';
import type { ServerMetrics } from './metrics.js';
import type { ReviewResult, TokenReviewer } from './review.js';
import { failureStatus, readBody, sendJson } from '../lib/http.js';

export const TOKEN_REVIEW_API_VERSIONS = ['authentication.k8s.io/v1', 'authentication.k8s.io/v1beta1'] as const;
export type TokenReviewApiVersion = (typeof TOKEN_REVIEW_API_VERSIONS)[number];

/** A TokenReview request as kube-apiserver sends it, reduced to what is used. */
export interface TokenReviewRequest {
  apiVersion: TokenReviewApiVersion;
  token: string;
  audiences?: string[];
}

export interface WebhookDeps {
  review: TokenReviewer;
  log: Logger;
  metrics: ServerMetrics;
  maxRequestBytes: number;
}

/**
 * Creates the request handler for `POST /authenticate`.
 *
 * @example
 * ```ts
 * const handle = createWebhookHandler({ review, log, metrics, maxRequestBytes: 65536 });
 * https.createServer(tls, (req, res) => (req.url === '/authenticate' ? handle(req, res) : notFound(res)));
 * ```
 */
export function createWebhookHandler(deps: WebhookDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const started = performance.now();
    const client = req.socket.remoteAddress;
    const refuse = (status: number, reason: string, message: string): void => {
      sendJson(res, status, failureStatus(status, reason, message));
      deps.metrics.review('malformed_request', (performance.now() - started) / 1000);
      deps.log.warn({ client, status, reason: message }, 'malformed TokenReview request');
    };
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      refuse(405, 'MethodNotAllowed', `expected POST with a TokenReview, got ${req.method ?? 'no method'}`);
      return;
    }
    const body = await readBody(req, deps.maxRequestBytes);
    if (body === undefined) {
      res.setHeader('Connection', 'close');
      refuse(413, 'RequestEntityTooLarge', `the request body is larger than ${deps.maxRequestBytes} bytes; a TokenReview is far smaller`);
      return;
    }
    const parsed = parseTokenReviewRequest(body);
    if ('error' in parsed) {
      refuse(400, 'BadRequest', parsed.error);
      return;
    }
    const result = await deps.review(parsed.token);
    sendJson(res, result.status, tokenReviewResponse(parsed.apiVersion, result));
    deps.metrics.review(result.outcome, (performance.now() - started) / 1000);
    logReview(deps.log, result, { client, apiVersion: parsed.apiVersion, ms: Math.round((performance.now() - started) * 100) / 100 });
  };
}

/**
 * Checks a request body is a TokenReview of a supported version with a token, returning the parts used or a reason.
 *
 * @example
 * ```ts
 * import { parseTokenReviewRequest } from 'eksauth/server';
 * console.log(parseTokenReviewRequest(Buffer.from('{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"t"}}')));
 * // → { apiVersion: 'authentication.k8s.io/v1', token: 't' }
 * ```
 */
export function parseTokenReviewRequest(body: Buffer): TokenReviewRequest | { error: string } {
  let review: unknown;
  try {
    review = JSON.parse(body.toString('utf8'));
  } catch {
    return { error: 'the request body is not JSON; expected a TokenReview' };
  }
  if (!isObject(review)) return { error: 'the request body is not a JSON object; expected a TokenReview' };
  const { apiVersion, kind, spec } = review;
  if (kind !== 'TokenReview') return { error: `kind is ${kind === undefined ? 'missing' : quote(kind)}; expected TokenReview` };
  if (!TOKEN_REVIEW_API_VERSIONS.includes(apiVersion as TokenReviewApiVersion)) {
    const got = apiVersion === undefined ? 'apiVersion is missing' : `apiVersion ${quote(apiVersion)} is not supported`;
    return { error: `${got}; use ${TOKEN_REVIEW_API_VERSIONS.join(' or ')}` };
  }
  if (!isObject(spec)) return { error: 'spec is missing or not an object' };
  if (typeof spec.token !== 'string' || spec.token === '') return { error: 'spec.token is missing, empty or not a string' };
  const { audiences } = spec;
  if (audiences !== undefined && audiences !== null && !(Array.isArray(audiences) && audiences.every((a) => typeof a === 'string'))) {
    return { error: 'spec.audiences must be a list of strings' };
  }
  return { apiVersion: apiVersion as TokenReviewApiVersion, token: spec.token, ...(Array.isArray(audiences) ? { audiences } : {}) };
}

/**
 * The TokenReview sent back, in the version asked. `spec` stays empty so the token is never echoed; `audiences` is
 * left out, which tells kube-apiserver the token is good for its own audiences (as aws-iam-authenticator does).
 *
 * @example
 * ```ts
 * import { tokenReviewResponse } from 'eksauth/server';
 * const body = tokenReviewResponse('authentication.k8s.io/v1', { status: 403, outcome: 'unmapped', reason: 'not mapped' });
 * console.log(JSON.stringify(body));
 * // → {"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview",…"status":{"authenticated":false,"user":{},"error":"not mapped"}}
 * ```
 */
export function tokenReviewResponse(apiVersion: TokenReviewApiVersion, result: ReviewResult): object {
  const status = result.user === undefined
    ? { authenticated: false, user: {}, ...(result.reason === undefined ? {} : { error: result.reason }) }
    : {
        authenticated: true,
        user: { username: result.user.username, uid: result.user.uid, groups: result.user.groups, extra: result.user.extra },
      };
  return { apiVersion, kind: 'TokenReview', metadata: { creationTimestamp: null }, spec: {}, status };
}

/** One line per review: who, what and why, never the token. */
function logReview(log: Logger, result: ReviewResult, context: Record<string, unknown>): void {
  const { identity, user } = result;
  const entry = {
    ...context,
    outcome: result.outcome,
    status: result.status,
    ...(result.cache === undefined ? {} : { cache: result.cache }),
    ...(identity === undefined ? {} : {
      arn: identity.arn, canonicalArn: identity.canonicalArn, accountId: identity.accountId,
      principalId: identity.principalId, sessionName: identity.sessionName, accessKeyId: identity.accessKeyId,
    }),
    ...(user === undefined ? {} : { username: user.username, uid: user.uid, groups: user.groups, source: result.row?.source }),
    ...(result.reason === undefined ? {} : { reason: result.reason }),
    ...(result.detail === undefined ? {} : { detail: result.detail }),
  };
  if (result.outcome === 'authenticated') log.info(entry, 'access granted');
  else if (result.status >= 500) log.error(entry, 'access denied: review failed');
  else log.warn(entry, 'access denied');
  // Names a mapping row (of the caller's own account): for an operator who turned debug on, not for every log reader.
  if (result.hint !== undefined) log.debug({ ...context, canonicalArn: identity?.canonicalArn, hint: result.hint }, 'unmapped: nearest mapping row');
}

/** A short rendering of a value the caller sent, for reasons: never long enough to carry a token. */
function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 60)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
