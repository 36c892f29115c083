import { validateToken, type TokenValidationOptions, type ValidatedToken } from '../token/validate.js';
import { toStsIdentity, type StsIdentity } from './arn.js';
import { getCallerIdentity, type GetCallerIdentityOptions } from './get-caller-identity.js';

export interface VerifyTokenOptions extends TokenValidationOptions {
  /** This cluster's id (the name for EKS clusters): STS checks it against the token's signed `x-k8s-aws-id`. */
  clusterId: string;
  /**
   * Connect here instead of the token's STS host, keeping that host in the Host header (a VPC endpoint, or the
   * local emulator). Off by default.
   */
  stsEndpoint?: string;
  /** Total time for the STS call, default 10 s. */
  timeoutMs?: number;
  /** HTTP(S) agent for the STS call; the default keeps connections alive. */
  agent?: GetCallerIdentityOptions['agent'];
  /** Proxy and CA bundle of the STS call (see getCallerIdentity); default: the environment. */
  network?: GetCallerIdentityOptions['network'];
  /** Told the HTTP status of STS's answer, when one arrives (not for a token refused before the call). */
  onStsResponse?: GetCallerIdentityOptions['onResponse'];
}

/**
 * Everything in `options` that a verdict depends on, as a stable string: the cluster id (STS checks the signed
 * `x-k8s-aws-id` against it), the partitions and regions (the host allow-set), the clock skew allowed and the STS
 * endpoint. A cache of verdicts must key on it as well as on the token, or a token verified under one configuration
 * passes another from the cache. Left out: how long to wait and how to connect (`timeoutMs`, `agent`), `now`, a test
 * clock, and `onStsResponse`, an observer. Adding an option to {@link VerifyTokenOptions} fails to compile here until
 * it is sorted into one group.
 *
 * @example
 * ```ts
 * import { verdictScope } from 'eksauth/verify';
 * console.log(verdictScope({ clusterId: 'prod', timeoutMs: 500 }) === verdictScope({ clusterId: 'prod' })); // → true
 * console.log(verdictScope({ clusterId: 'prod' }) === verdictScope({ clusterId: 'staging' })); // → false
 * ```
 */
export function verdictScope(options: VerifyTokenOptions): string {
  const { timeoutMs, agent, network, now, onStsResponse, ...verdict } = options;
  const scope: { [K in keyof Required<typeof verdict>]: unknown } = {
    clusterId: verdict.clusterId,
    partitions: verdict.partitions ?? null,
    regions: verdict.regions ?? null,
    maxClockSkewSeconds: verdict.maxClockSkewSeconds ?? null,
    stsEndpoint: verdict.stsEndpoint ?? null,
  };
  return JSON.stringify(scope);
}

export interface VerifiedToken {
  /** What the token claims, after every format rule passed. */
  token: ValidatedToken;
  /** Who STS says signed it. Only this is evidence of identity. */
  identity: StsIdentity;
}

/**
 * Verifies a `k8s-aws-v1.` token: strict validation with no network, then one GetCallerIdentity call, rebuilt from
 * the validated parts and sent with this cluster's own `x-k8s-aws-id`, so a token minted for another cluster fails
 * STS's signature check.
 *
 * Failures are EksAuthError: `ERR_TOKEN_*` for a malformed token, `ERR_STS_REJECTED` when STS refuses it (bad
 * signature, other cluster, expired credentials), `ERR_STS_THROTTLED` and `ERR_STS_UNAVAILABLE` when STS cannot
 * answer (retryable; a server fails closed), `ERR_STS_RESPONSE` for an answer of the wrong shape.
 *
 * @example
 * ```ts
 * import { getToken } from 'eksauth';
 * import { verifyToken } from 'eksauth/verify';
 * const { token } = await getToken({ clusterName: 'prod', region: 'eu-west-1' });
 * // stsEndpoint only for a VPC endpoint or a local emulator; by default the token's own STS host is asked.
 * const { identity } = await verifyToken(token, { clusterId: 'prod', stsEndpoint: process.env.AWS_ENDPOINT_URL_STS });
 * console.log(identity.canonicalArn); // → arn:aws:iam::111122223333:user/alice
 * ```
 */
export async function verifyToken(token: string, options: VerifyTokenOptions): Promise<VerifiedToken> {
  const validated = validateToken(token, options);
  const caller = await getCallerIdentity(validated.url, {
    clusterId: options.clusterId,
    ...(options.stsEndpoint === undefined ? {} : { stsEndpoint: options.stsEndpoint }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.agent === undefined ? {} : { agent: options.agent }),
    ...(options.network === undefined ? {} : { network: options.network }),
    ...(options.onStsResponse === undefined ? {} : { onResponse: options.onStsResponse }),
  });
  // The access key id is the token's claim until STS accepts the signature over X-Amz-Credential; from here it is
  // proven (duplicate parameters, the CVE-2022-2385 trick, were refused by validation).
  return { token: validated, identity: toStsIdentity(caller, validated.accessKeyId) };
}
