/**
 * The `k8s-aws-v1.` bearer token format shared by every EKS client and verifier: the prefix followed by the
 * base64url encoding, without padding, of a presigned STS GetCallerIdentity URL.
 */

/** Prefix of every EKS bearer token. */
export const TOKEN_PREFIX = 'k8s-aws-v1.';
/** The signed header that binds a token to one cluster; its value never appears in the URL. */
export const CLUSTER_ID_HEADER = 'x-k8s-aws-id';
/** X-Amz-Expires as aws-cli and aws-iam-authenticator send it; STS honours a URL for 15 minutes regardless. */
export const PRESIGN_EXPIRES_SECONDS = 60;
/** How long STS accepts a presigned URL after its X-Amz-Date. */
export const PRESIGNED_URL_LIFETIME_MS = 15 * 60_000;
/** The lifetime clients are told: one minute short of STS's, because client-go refreshes with no margin. */
export const TOKEN_LIFETIME_MS = 14 * 60_000;
/** STS API version used in every GetCallerIdentity URL. */
export const STS_API_VERSION = '2011-06-15';

/**
 * botocore's and aws-iam-authenticator's query order, which a token matches byte for byte: the signer's parameters as
 * it adds them, the signature last. (The smithy signer sorts by name, which puts X-Amz-Signature before
 * X-Amz-SignedHeaders.)
 */
const PRESIGNED_QUERY_ORDER = [
  'action', 'version', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signedheaders',
  'x-amz-security-token', 'x-amz-signature',
];

/**
 * Orders presigned query parameter names as botocore writes them (names compared without case); a name it does not
 * write goes just before the signature.
 *
 * @example
 * ```ts
 * import { compareQueryNames } from './format.js';
 * ['X-Amz-Signature', 'X-Amz-SignedHeaders', 'Action'].sort(compareQueryNames);
 * // ['Action', 'X-Amz-SignedHeaders', 'X-Amz-Signature']
 * ```
 */
export function compareQueryNames(a: string, b: string): number {
  return queryRank(a) - queryRank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function queryRank(name: string): number {
  const index = PRESIGNED_QUERY_ORDER.indexOf(name.toLowerCase());
  return index === -1 ? PRESIGNED_QUERY_ORDER.length - 1.5 : index;
}

/**
 * Turns a presigned GetCallerIdentity URL into a bearer token.
 *
 * @example
 * ```ts
 * import { encodeToken } from './format.js';
 * encodeToken('https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity'); // 'k8s-aws-v1.aHR0cHM6…'
 * ```
 */
export function encodeToken(presignedUrl: string): string {
  return TOKEN_PREFIX + Buffer.from(presignedUrl, 'utf8').toString('base64url');
}

/**
 * Returns the URL inside a token, or undefined when the token does not have the `k8s-aws-v1.` form.
 * This is decoding only; it does not check that the URL is a safe GetCallerIdentity request.
 *
 * @example
 * ```ts
 * import { decodeToken, encodeToken } from './format.js';
 * decodeToken(encodeToken('https://sts.amazonaws.com/')); // 'https://sts.amazonaws.com/'
 * ```
 */
export function decodeToken(token: string): string | undefined {
  if (!token.startsWith(TOKEN_PREFIX)) return undefined;
  const body = token.slice(TOKEN_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  return Buffer.from(body, 'base64url').toString('utf8');
}
