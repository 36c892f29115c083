/**
 * What a person may see of a token: where it goes, when it was signed and until when STS honours it, what is signed,
 * and which access key signed it. Never the signature, the session token or the URL; only whether a session token
 * is present. `eksauth verify` and `eksauth decode` print this.
 */
import { IDENTITY_ARN_PARTITIONS } from '../authn/arn.js';
import { DEFAULT_MAX_CLOCK_SKEW_SECONDS, inspectToken, type ValidatedToken } from './validate.js';

/** The shareable facts of a token (JSON-ready: dates as ISO 8601 text). */
export interface TokenSummary {
  /** The STS host the presigned URL is addressed to. */
  host: string;
  partition: string;
  /** The signing region. */
  region: string;
  signedAt: string;
  /** signedAt + 15 minutes, when STS stops honouring the URL. */
  validUntil: string;
  signedHeaders: string[];
  accessKeyId: string;
  /** Whether the URL carries a session token (temporary credentials); the token itself is never shown. */
  sessionToken: boolean;
}

export type TokenTimeState = 'valid' | 'expired' | 'not-yet-valid';

/** A decoded token at one moment: its summary, and how it stands in time. */
export interface DecodedToken extends TokenSummary {
  /** X-Amz-Expires as the client wrote it (STS ignores it and honours the URL for 15 minutes). */
  expiresInSeconds: number;
  state: TokenTimeState;
  /** Whole seconds until validUntil; 0 once expired. */
  remainingSeconds: number;
}

/**
 * The shareable facts of a validated token.
 *
 * @example
 * ```ts
 * import { getToken } from 'eksauth';
 * import { summarizeToken, validateToken } from 'eksauth/verify';
 * const { token } = await getToken({ clusterName: 'prod', region: 'eu-west-1' });
 * const summary = summarizeToken(validateToken(token)); // safe to log: no signature, no session token
 * console.log(summary.host, summary.sessionToken); // → sts.eu-west-1.amazonaws.com false
 * ```
 */
export function summarizeToken(token: ValidatedToken): TokenSummary {
  return {
    host: token.host,
    partition: token.partition,
    region: token.region,
    signedAt: token.signedAt.toISOString(),
    validUntil: token.validUntil.toISOString(),
    signedHeaders: token.signedHeaders,
    accessKeyId: token.accessKeyId,
    sessionToken: token.hasSessionToken,
  };
}

/**
 * Decodes a `k8s-aws-v1.` token for a person: every format rule of the verifier is checked (any partition's STS
 * host is accepted), but an expired or future token is reported as such instead of refused. No network.
 *
 * @example
 * ```ts
 * import { getToken } from 'eksauth';
 * import { decodeTokenDetails } from 'eksauth/verify';
 * const { token } = await getToken({ clusterName: 'prod', region: 'eu-west-1' });
 * const details = decodeTokenDetails(token);
 * console.log(details.state, details.region); // → valid eu-west-1
 * console.log(details.remainingSeconds > 0); // → true
 * ```
 * @throws EksAuthError with an ERR_TOKEN_* code for a malformed token
 */
export function decodeTokenDetails(token: string, options: { now?: Date } = {}): DecodedToken {
  const checked = inspectToken(token, { partitions: [...IDENTITY_ARN_PARTITIONS] });
  const now = (options.now ?? new Date()).getTime();
  const left = checked.validUntil.getTime() - now;
  const state: TokenTimeState = left < 0
    ? 'expired'
    : checked.signedAt.getTime() > now + DEFAULT_MAX_CLOCK_SKEW_SECONDS * 1000 ? 'not-yet-valid' : 'valid';
  return { ...summarizeToken(checked), expiresInSeconds: checked.expiresInSeconds, state, remainingSeconds: Math.max(0, Math.floor(left / 1000)) };
}
