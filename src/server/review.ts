/**
 * One token review, from bearer token to answer: the verification cache, the verifier (strict validation, then STS),
 * and the mapping. Fails closed: anything but a verified, mapped identity is a denial, and every denial carries a
 * reason that is safe to log and to return to kube-apiserver (the caller's own identity and rule names, never the token
 * nor a mapping row; the nearest row goes to the debug log only).
 *
 * STS's answer is what is cached; the mapping is applied to it on every review, so a mapping change takes effect on
 * the next request even for a token seen before.
 */
import type { StsIdentity } from '../authn/arn.js';
import { mapIdentity } from '../authn/mapping/map-identity.js';
import type { KubernetesUser, MapOptions, MappingRow, MappingSource } from '../authn/mapping/types.js';
import { verifyToken, type VerifyTokenOptions } from '../authn/verify.js';
import { EksAuthError, type ErrorCode } from '../errors.js';
import { decodeToken } from '../token/format.js';
import type { BackendMode, ServerConfig } from './config.js';
import { withDeadline } from './deadline.js';
import type { ServerMappings } from './mappings.js';
import type { CacheResult, ReviewOutcome, ServerMetrics } from './metrics.js';
import type { ReviewCache } from './review-cache.js';
import type { StsPool } from './sts-pool.js';

/** The answer to one review: the HTTP status the webhook sends and what the logs and metrics record. */
export interface ReviewResult {
  status: number;
  outcome: ReviewOutcome;
  /** Set when authenticated. */
  user?: KubernetesUser;
  /** The mapping row that produced `user`. */
  row?: MappingRow;
  /** Why the token was refused. Safe to log and to return: it names no mapping row. */
  reason?: string;
  /** For `unmapped` outcomes: the nearest row of the caller's own account, for the operator (debug log) only. */
  hint?: string;
  /** Who STS says the caller is, when it got that far. */
  identity?: StsIdentity;
  cache?: CacheResult;
  /** For `error` outcomes: what went wrong inside, for the log only. */
  detail?: string;
  /** The identity's account is in `scrubbedAccounts`: logs name neither its ARN nor its ids. */
  scrubbed?: boolean;
}

export type TokenReviewer = (token: string) => Promise<ReviewResult>;

export interface TokenReviewerDeps {
  config: ServerConfig;
  mappings: ServerMappings;
  metrics: ServerMetrics;
  cache: ReviewCache<StsIdentity>;
  ec2PrivateDnsName?: MapOptions['ec2PrivateDnsName'];
  /** The connections to STS; default: the verifier's shared agent. */
  sts?: StsPool;
}

const STS_DEADLINE_MARGIN_MS = 50;

/** How each verifier failure is answered. kube-apiserver retries 429 (and 5xx with Retry-After); 403 is final. */
const FAILURES: Partial<Record<ErrorCode, { status: number; outcome: ReviewOutcome }>> = {
  ERR_STS_REJECTED: { status: 403, outcome: 'sts_rejected' },
  ERR_STS_THROTTLED: { status: 429, outcome: 'sts_throttled' },
  ERR_STS_UNAVAILABLE: { status: 503, outcome: 'sts_unavailable' },
  // The proxy or the TLS trust in front of STS failed: STS was not reached, as for ERR_STS_UNAVAILABLE.
  ERR_PROXY: { status: 503, outcome: 'sts_unavailable' },
  ERR_TLS: { status: 503, outcome: 'sts_unavailable' },
  ERR_STS_RESPONSE: { status: 502, outcome: 'sts_bad_response' },
  // STS answered with a principal no mapping can name, or a malformed UserId: an STS error, as the reference says.
  ERR_INVALID_ARN: { status: 403, outcome: 'sts_bad_response' },
  ERR_INVALID_IDENTITY: { status: 403, outcome: 'sts_bad_response' },
};

/**
 * Creates the reviewer the webhook calls for each TokenReview. It never rejects and never takes longer than
 * `config.reviewTimeoutMs`.
 *
 * @example
 * ```ts
 * const review = createTokenReviewer({ config, mappings, metrics, cache });
 * const result = await review(bearerToken);
 * if (result.outcome === 'authenticated') result.user?.username;
 * ```
 */
export function createTokenReviewer(deps: TokenReviewerDeps): TokenReviewer {
  const { config } = deps;
  const mapOptions: MapOptions = {
    reservedPrefixAllowList: config.reservedPrefixAllowList,
    reservedUsernamePrefixesOf: reservedUsernamePrefixesOf(config),
    ...(config.allowedAccounts === undefined ? {} : { allowedAccounts: config.allowedAccounts }),
    ...(deps.ec2PrivateDnsName === undefined ? {} : { ec2PrivateDnsName: deps.ec2PrivateDnsName }),
  };
  const verify = verifierFor(deps);
  const reviewOnce = async (token: string): Promise<ReviewResult> => {
    let identity: StsIdentity;
    let cache: CacheResult;
    try {
      ({ value: identity, result: cache } = await deps.cache.get(token, verify.options, verify.run));
    } catch (err) {
      return failure(err);
    }
    deps.metrics.cacheLookup(cache);
    const mapped = await mapIdentity(identity, deps.mappings.sources(), mapOptions);
    const result: ReviewResult = mapped.mapped
      ? { status: 200, outcome: 'authenticated', user: mapped.user, row: mapped.row, identity, cache }
      : { status: 403, outcome: 'unmapped', reason: mapped.reason, ...(mapped.hint === undefined ? {} : { hint: mapped.hint }), identity, cache };
    return scrubbedAccounts.has(identity.accountId) ? scrub(result) : result;
  };
  const scrubbedAccounts = new Set(config.scrubbedAccounts);
  return (token) => {
    if (!deps.mappings.ready()) {
      return Promise.resolve({ status: 503, outcome: 'not_ready', reason: 'the mapping sources are still loading; retry shortly' });
    }
    return withDeadline(reviewOnce(token).catch(failure), config.reviewTimeoutMs, () => ({
      status: 503,
      outcome: 'timeout',
      reason: `no answer within ${config.reviewTimeoutMs} ms (STS or a mapping lookup is slow); the review fails closed`,
    }));
  };
}

/**
 * The backend a server's source comes from, as the reference's reservedPrefixConfig names it: CRD and DynamicFile
 * sources are `file` sources like the mapping file's, so they are told apart by name (see crd-source.ts, dynamic-file.ts).
 */
function backendOf(source: MappingSource): BackendMode | undefined {
  if (source.name.startsWith('crd:')) return 'CRD';
  if (source.name.startsWith('dynamicfile:')) return 'DynamicFile';
  if (source.kind === 'file') return 'MountedFile';
  if (source.kind === 'access-entries') return 'EKSAccessEntries';
  return source.kind === 'aws-auth' ? 'EKSConfigMap' : undefined;
}

function reservedUsernamePrefixesOf(config: ServerConfig): NonNullable<MapOptions['reservedUsernamePrefixesOf']> {
  return (source) => {
    const backend = backendOf(source);
    return backend === undefined ? undefined : config.reservedPrefixConfig[backend];
  };
}

/**
 * aws-iam-authenticator's `scrubbedAccounts`: the answer's uid names the username instead of the account and principal
 * id, `extra` is empty, and the reason and logs name no ARN.
 */
function scrub(result: ReviewResult): ReviewResult {
  const { identity: _identity, hint: _hint, ...rest } = result;
  if (result.user === undefined) {
    return { ...rest, scrubbed: true, reason: 'the identity is not mapped to a Kubernetes user (its account is scrubbed from logs; eksauth verify names it)' };
  }
  const user = { ...result.user, uid: `aws-iam-authenticator:administrative:${result.user.username}`, extra: {} };
  return { ...rest, user, scrubbed: true };
}

/** The verifier's options (which the cache keys on) and a verification under them, timing the STS call per host. */
function verifierFor(deps: TokenReviewerDeps) {
  const { config } = deps;
  const options: VerifyTokenOptions = {
    clusterId: config.clusterId,
    partitions: config.partitions,
    regions: config.regions,
    // A little less than the review's deadline, so that a slow STS is reported as such (with the host and the time
    // waited); the deadline itself is the backstop for everything else a review waits on.
    timeoutMs: Math.max(1, config.reviewTimeoutMs - STS_DEADLINE_MARGIN_MS),
    ...(config.stsEndpoint === undefined ? {} : { stsEndpoint: config.stsEndpoint }),
    ...(config.maxClockSkewSeconds === undefined ? {} : { maxClockSkewSeconds: config.maxClockSkewSeconds }),
    ...(deps.sts === undefined ? {} : { agent: deps.sts.agent }),
  };
  const track = deps.sts?.track ?? (<T>(call: () => Promise<T>) => call());
  const run = async (token: string, verifyOptions: VerifyTokenOptions) => {
    const started = performance.now();
    let status: number | undefined;
    const onStsResponse = (answered: number): void => {
      status = answered;
    };
    const record = (host: string, errorCode?: string): void => deps.metrics.stsCall({
      host, seconds: (performance.now() - started) / 1000, ...(status === undefined ? {} : { status }), ...(errorCode === undefined ? {} : { errorCode }),
    });
    try {
      const { token: validated, identity } = await track(() => verifyToken(token, { ...verifyOptions, onStsResponse }));
      record(validated.host);
      return { value: identity, validUntil: validated.validUntil.getTime() };
    } catch (err) {
      if (err instanceof EksAuthError && (err.code.startsWith('ERR_STS_') || status !== undefined)) record(stsHostOf(token), err.code);
      throw err;
    }
  };
  return { options, run };
}

/**
 * The STS host of a token that passed validation (an `ERR_STS_*` error means it did, and the validator accepts
 * only allow-listed lower-case hosts), for the metric label.
 */
function stsHostOf(token: string): string {
  const decoded = decodeToken(token);
  return decoded !== undefined && URL.canParse(decoded) ? new URL(decoded).hostname : 'unknown';
}

function failure(err: unknown): ReviewResult {
  if (!(err instanceof EksAuthError)) {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return { status: 500, outcome: 'error', reason: 'internal error while reviewing the token; see the server log', detail };
  }
  const known = FAILURES[err.code] ?? (err.code.startsWith('ERR_TOKEN_') ? { status: 403, outcome: 'invalid_token' as const } : undefined);
  if (known === undefined) return { status: 500, outcome: 'error', reason: `${err.message} (${err.code})` };
  return { ...known, reason: `${err.message} (${err.code})` };
}
