/**
 * The token API of the library's root entry (`import … from 'eksauth'`): one token, or a provider that keeps one
 * fresh. Only signing code is loaded here; the EKS client and @kubernetes/client-node live behind other entries.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { CredentialStore } from '../aws/credentials.js';
import { EksAuthError } from '../errors.js';
import { getToken as signToken, type GetTokenOptions as SignOptions } from '../token/generate.js';

export type { AwsCredentialIdentity, AwsCredentialIdentityProvider };

/** Which cluster a token is for, and as whom it is signed. Give `clusterName` or `clusterId`, not both. */
export interface GetTokenOptions {
  /** The EKS cluster's name: the token's `x-k8s-aws-id`. */
  clusterName?: string;
  /** The cluster id of an Outposts local cluster (its `x-k8s-aws-id`), instead of `clusterName`. */
  clusterId?: string;
  /** The cluster's region; default AWS_REGION, AWS_DEFAULT_REGION, then the profile's region. */
  region?: string;
  /** Credentials, or a provider of them (any credential provider of the AWS SDK); default: the SDK's default chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** An AWS profile of ~/.aws/config to take credentials (and the region) from, instead of `credentials`. */
  profile?: string;
  /** A role to assume with those credentials before signing. */
  roleArn?: string;
  /** The external id the role's trust policy asks for. */
  externalId?: string;
  /** Session name of the assumed role; default `EKSGetTokenAuth`, as `aws eks get-token` uses. */
  sessionName?: string;
  /** Stops waiting: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The environment to read AWS_* settings from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** The clock; default the system's. For tests, and for programs that run on a shifted clock. */
  now?: () => Date;
}

/** A bearer token for the Kubernetes API of an EKS cluster. */
export interface EksToken {
  /** `k8s-aws-v1.…`, sent as `Authorization: Bearer <token>`. A secret: never log it. */
  token: string;
  /** When to stop using it: 14 minutes after signing, or earlier when the signing credentials expire first. */
  expiresAt: Date;
  /** The STS host the token is presigned for (`sts.<region>.amazonaws.com`). */
  stsHost: string;
}

/**
 * Signs a token for an EKS cluster in this process, as `aws eks get-token` and `eksauth token` do (no network unless
 * credentials need fetching or a role is assumed).
 *
 * @example
 * ```ts
 * import { getToken } from 'eksauth';
 * const { token, expiresAt, stsHost } = await getToken({ clusterName: 'prod', region: 'eu-west-1' });
 * // Send `Authorization: Bearer ${token}` to the cluster's API server until expiresAt.
 * console.log(token.startsWith('k8s-aws-v1.'), stsHost); // → true sts.eu-west-1.amazonaws.com
 * ```
 * @throws EksAuthError with a stable `code` (ERR_NO_CLUSTER, ERR_NO_CREDENTIALS, ERR_ASSUME_ROLE_DENIED, …)
 */
export async function getToken(options: GetTokenOptions): Promise<EksToken> {
  return signWith(options, undefined);
}

async function signWith(options: GetTokenOptions, credentialStore: CredentialStore | undefined): Promise<EksToken> {
  options.signal?.throwIfAborted();
  const signing = signToken({ ...signOptions(options), ...(credentialStore === undefined ? {} : { credentialStore }) });
  const signed = await untilAborted(signing, options.signal);
  return { token: signed.token, expiresAt: signed.expiration, stsHost: signed.endpoint.hostname };
}

function signOptions(options: GetTokenOptions): SignOptions {
  const { clusterName, clusterId, signal, ...rest } = options;
  if (clusterName !== undefined && clusterId !== undefined) {
    throw new EksAuthError('ERR_USAGE', 'both clusterName and clusterId were given: pass one (clusterId is for Outposts local clusters)');
  }
  return { ...rest, clusterId: clusterName ?? clusterId ?? '', regionSource: 'the region option' };
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts (the work itself is left to finish). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export interface TokenProviderOptions extends Omit<GetTokenOptions, 'signal'> {
  /** How long before `expiresAt` a token is replaced; default 60 s (kubectl's exec plugin cache uses the same idea). */
  refreshMarginMs?: number;
}

/** Keeps one token fresh for many callers. */
export interface TokenProvider {
  /** The cached token while it has more than the margin left, else a new one (one refresh shared by all callers). */
  getToken(options?: { signal?: AbortSignal }): Promise<EksToken>;
  /** Drops the cached token and credentials: say, after the API server answered 401. */
  invalidate(): void;
}

const DEFAULT_REFRESH_MARGIN_MS = 60_000;

/**
 * A token provider for a long-running program: it hands out the cached token until `refreshMarginMs` before its
 * expiry, runs ONE refresh for all concurrent callers, keeps assumed-role and SDK-chain credentials in memory until
 * they near expiry, and never hands out a token past its credentials' expiry (a token's `expiresAt` is capped by them).
 *
 * @example
 * ```ts
 * import { createTokenProvider } from 'eksauth';
 * const provider = createTokenProvider({ clusterName: 'prod', region: 'eu-west-1', roleArn: 'arn:aws:iam::111122223333:role/eks-admin' });
 * const first = await provider.getToken(); // assumes the role, signs
 * const again = await provider.getToken(); // from memory, until a minute before first.expiresAt
 * console.log(again.token === first.token); // → true
 * ```
 */
export function createTokenProvider(options: TokenProviderOptions): TokenProvider {
  const { refreshMarginMs = DEFAULT_REFRESH_MARGIN_MS, ...tokenOptions } = options;
  const now = options.now ?? (() => new Date());
  let cached: EksToken | undefined;
  let refreshing: Promise<EksToken> | undefined;
  let credentials = memoryCredentialStore(now, refreshMarginMs);
  const fresh = (token: EksToken | undefined): token is EksToken => token !== undefined && now().getTime() < token.expiresAt.getTime() - refreshMarginMs;

  const refresh = (): Promise<EksToken> => {
    refreshing ??= signWith(tokenOptions, credentials)
      .then((token) => (cached = token))
      .finally(() => (refreshing = undefined));
    return refreshing;
  };
  return {
    getToken: async ({ signal } = {}) => {
      signal?.throwIfAborted();
      return fresh(cached) ? cached : untilAborted(refresh(), signal);
    },
    invalidate: () => {
      cached = undefined;
      credentials = memoryCredentialStore(now, refreshMarginMs);
    },
  };
}

/** Keeps resolved credentials in memory until `marginMs` before they expire; credentials with no expiry are kept. */
function memoryCredentialStore(now: () => Date, marginMs: number): CredentialStore {
  const kept = new Map<string, AwsCredentialIdentity>();
  return {
    async reuse(slot, load) {
      const held = kept.get(slot);
      if (held !== undefined && (held.expiration === undefined || now().getTime() < held.expiration.getTime() - marginMs)) return held;
      const loaded = await load();
      kept.set(slot, loaded);
      return loaded;
    },
  };
}
