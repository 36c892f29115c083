import { appendFileSync } from 'node:fs';
import type { CredentialStore } from '../aws/credentials.js';
import { refreshCachedToken } from '../cache/refresh.js';
import type { CachedToken } from '../cache/token-cache.js';
import { getToken } from '../token/generate.js';
import type { TokenRequest } from './token.js';

/**
 * The cache-miss half of `eksauth token`, built as its own file (dist/cli/token-refresh.cjs) so that a cache hit
 * never loads the signer, the SDK or node:crypto. Signs under the entry's lock and stores the result, or just signs
 * with `--no-cache` (no `cache` in the request).
 *
 * @example
 * ```ts
 * import { refreshToken } from './token-refresh.js';
 * const { token, expiration } = await refreshToken({
 *   options: { clusterId: 'prod', region: 'eu-west-1' },
 *   apiVersion: 'client.authentication.k8s.io/v1',
 *   tokenOnly: false,
 * });
 * ```
 */
export async function refreshToken(request: TokenRequest): Promise<CachedToken> {
  const sign = async (credentialStore?: CredentialStore): Promise<CachedToken> => {
    const { token, expiration } = await getToken({ ...request.options, ...(credentialStore === undefined ? {} : { credentialStore }) });
    countSigning(request.options.env ?? process.env);
    return { token, expiration };
  };
  return request.cache === undefined ? sign() : refreshCachedToken(request.cache, sign);
}

// A probe for tests and benchmarks: one line per signing appended to the file EKSAUTH_SIGNING_PROBE names, so that
// "20 parallel runs sign once" can be counted from outside.
function countSigning(env: NodeJS.ProcessEnv): void {
  if (env.EKSAUTH_SIGNING_PROBE) appendFileSync(env.EKSAUTH_SIGNING_PROBE, `${process.pid}\n`);
}
