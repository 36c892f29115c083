/**
 * The one error type eksauth throws. Every instance carries a stable `code` that programs can switch on, and a
 * message that says what was wrong and what to do next. Messages never contain tokens, presigned URLs or secrets.
 */

/** The codes of mistakes in the input given to a command or function. */
const INPUT_CODES = [
  'ERR_USAGE',
  'ERR_NO_CLUSTER',
  'ERR_INVALID_REGION',
  'ERR_NO_REGION',
  'ERR_INVALID_ROLE_ARN',
  'ERR_INVALID_API_VERSION',
  'ERR_EXEC_INFO',
  'ERR_INVALID_CONFIG',
] as const;

/** Stable error codes. New codes are added; existing ones are never renamed. */
export const ERROR_CODES = [
  ...INPUT_CODES,
  // credentials
  'ERR_PROFILE_NOT_FOUND',
  'ERR_NO_CREDENTIALS',
  'ERR_SSO_SESSION_EXPIRED',
  'ERR_CREDENTIALS',
  'ERR_CREDENTIALS_EXPIRED',
  'ERR_ASSUME_ROLE_DENIED',
  'ERR_ASSUME_ROLE_FAILED',
  // talking to STS
  'ERR_STS_UNAVAILABLE',
  'ERR_STS_THROTTLED',
  'ERR_STS_REJECTED',
  'ERR_STS_RESPONSE',
  // reaching AWS (src/aws/network.ts): any call, through HTTPS_PROXY or straight
  'ERR_PROXY',
  'ERR_TLS',
  // token validation (src/token/validate.ts): one code per rule a `k8s-aws-v1.` token can break
  'ERR_TOKEN_TOO_LARGE',
  'ERR_TOKEN_PREFIX',
  'ERR_TOKEN_ENCODING',
  'ERR_TOKEN_URL',
  'ERR_TOKEN_SCHEME',
  'ERR_TOKEN_USERINFO',
  'ERR_TOKEN_PORT',
  'ERR_TOKEN_FRAGMENT',
  'ERR_TOKEN_PATH',
  'ERR_TOKEN_HOST',
  'ERR_TOKEN_QUERY',
  'ERR_TOKEN_PARAMETER',
  'ERR_TOKEN_DUPLICATE_PARAMETER',
  'ERR_TOKEN_MULTIVALUE_PARAMETER',
  'ERR_TOKEN_MISSING_PARAMETER',
  'ERR_TOKEN_ACTION',
  'ERR_TOKEN_VERSION',
  'ERR_TOKEN_ALGORITHM',
  'ERR_TOKEN_SIGNED_HEADERS',
  'ERR_TOKEN_CREDENTIAL',
  'ERR_TOKEN_CREDENTIAL_SCOPE',
  'ERR_TOKEN_SCOPE_DATE',
  'ERR_TOKEN_SCOPE_REGION',
  'ERR_TOKEN_DATE',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_NOT_YET_VALID',
  'ERR_TOKEN_EXPIRES_RANGE',
  'ERR_TOKEN_SIGNATURE',
  'ERR_TOKEN_SECURITY_TOKEN',
  // identity → Kubernetes user mapping (src/authn/arn.ts, src/authn/mapping/)
  'ERR_INVALID_ARN',
  'ERR_INVALID_IDENTITY',
  'ERR_INVALID_MAPPING',
  'ERR_TEMPLATE',
  'ERR_EC2_PRIVATE_DNS',
  // update-kubeconfig (src/kubeconfig/, src/aws/eks.ts)
  'ERR_KUBECONFIG_CORRUPT',
  'ERR_KUBECONFIG_INACCESSIBLE',
  'ERR_KUBECONFIG_LOCKED',
  'ERR_CLUSTER_NOT_FOUND',
  'ERR_CLUSTER_STATUS',
  'ERR_EKS_ACCESS_DENIED',
  'ERR_EKS_REJECTED',
  'ERR_EKS_UNAVAILABLE',
  'ERR_EKS_REQUEST',
  'ERR_UPDATE_INCOMPLETE',
  // eksauth access (src/access/): plan files, apply, and the check before the switch to API
  'ERR_ACCESS_PLAN',
  'ERR_ACCESS_APPLY',
  'ERR_ACCESS_WOULD_BE_LOST',
  // eksauth doctor (src/diagnose/doctor.ts): a link of the chain from kubeconfig to Kubernetes identity is broken
  'ERR_CHAIN_BROKEN',
  // token cache (src/cache/)
  'ERR_CACHE_DIR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * The CLI's exit statuses, the same on every command (the README's exit-code table): 0 done, 1 a failure of the
 * world (credentials, AWS, the network, a file's state), 2 a mistake in what eksauth was given (flags, the
 * environment, a config or mapping file named on the command line), fixed by changing the command. `eksauth verify`
 * adds its verdicts (src/cli/verify.ts): 3 invalid token, 4 unauthenticated, 5 unmapped, 6 STS unavailable.
 */
export const EXIT_STATUS = { ok: 0, failure: 1, usage: 2 } as const;

// The input mistakes, and the named profile or mapping file that is not what the command says it is.
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([...INPUT_CODES, 'ERR_PROFILE_NOT_FOUND', 'ERR_INVALID_MAPPING', 'ERR_TEMPLATE']);

/**
 * The exit status of a failure with this code: {@link EXIT_STATUS}.usage for mistakes in the input, else failure.
 *
 * @example
 * ```ts
 * import { exitStatusOf } from 'eksauth';
 * console.log(exitStatusOf('ERR_NO_CLUSTER')); // → 2
 * console.log(exitStatusOf('ERR_STS_UNAVAILABLE')); // → 1
 * ```
 */
export function exitStatusOf(code: ErrorCode): number {
  return USAGE_CODES.has(code) ? EXIT_STATUS.usage : EXIT_STATUS.failure;
}

const BRAND = Symbol.for('eksauth.EksAuthError');

export interface EksAuthErrorOptions {
  /** The underlying error, kept for debugging; its message must already be free of secrets. */
  cause?: unknown;
  /**
   * The message without anything quoted from the input (a row's ARN, a written value), for readers who may not see
   * that content: `/readyz`, metrics, logs above debug. Set by errors whose message quotes what was written.
   */
  summary?: string;
}

/**
 * An eksauth failure with a stable {@link ErrorCode}.
 *
 * @example
 * ```ts
 * import { EksAuthError, getToken } from 'eksauth';
 * try {
 *   await getToken({ clusterName: 'prod', region: 'eu-west-1', roleArn: 'arn:aws:iam::111122223333:role/not-mine' });
 * } catch (err) {
 *   if (!(err instanceof EksAuthError)) throw err;
 *   console.log(err.code); // → ERR_ASSUME_ROLE_DENIED
 * }
 * ```
 */
export class EksAuthError extends Error {
  override readonly name = 'EksAuthError';
  readonly code: ErrorCode;
  /** See {@link EksAuthErrorOptions.summary}. */
  readonly summary: string | undefined;

  constructor(code: ErrorCode, message: string, options: EksAuthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.summary = options.summary;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * `instanceof` holds for errors made by any copy of this class: the CLI's token path is two bundles (cache hit,
   * and signing on a miss), each with its own copy, and a library may be loaded twice.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * True when `err` is an {@link EksAuthError}, optionally with the given code.
 *
 * @example
 * ```ts
 * import { getToken, isEksAuthError } from 'eksauth';
 * const failure = await getToken({ clusterName: 'prod', region: 'eu-west-9' }).catch((err) => err);
 * console.log(isEksAuthError(failure, 'ERR_INVALID_REGION')); // → true
 * ```
 */
export function isEksAuthError(err: unknown, code?: ErrorCode): err is EksAuthError {
  return err instanceof EksAuthError && (code === undefined || err.code === code);
}
