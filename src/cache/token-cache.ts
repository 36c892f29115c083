/**
 * The token cache's read side: all that a cache hit runs. It loads no signer, no SDK and no node:crypto, so a hit
 * costs little more than starting Node.
 */
import { TOKEN_LIFETIME_MS, TOKEN_PREFIX } from '../token/format.js';
import { entryName, type CacheKeys } from './key.js';
import { openCacheDir, readEntry } from './store.js';

/** A token is served only while at least this much of its life is left. */
export const DEFAULT_MARGIN_MS = 60_000;
/** An entry signed further in the future than this is from a clock that has since gone back: not served. */
const CLOCK_SKEW_MS = 60_000;

/** One `eksauth token` call's view of the cache. */
export interface TokenCacheRequest {
  keys: CacheKeys;
  /** The environment the cache directory is found from (KUBECACHEDIR, HOME). */
  env: NodeJS.ProcessEnv;
  /** Skip cached tokens and credentials (`--force-refresh`), but store the new ones. */
  forceRefresh: boolean;
  /** Minimum life left for a token to be served; default {@link DEFAULT_MARGIN_MS}. */
  marginMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export interface CachedToken {
  token: string;
  expiration: Date;
}

/**
 * The cached token for `request`, or undefined when there is none that may be served: missing, untrustworthy
 * (see store.ts), for another key, expiring within the margin, or signed in the future.
 *
 * @example
 * ```ts
 * import { cacheKeys } from './key.js';
 * import { readCachedToken } from './token-cache.js';
 * const keys = cacheKeys({ clusterId: 'prod', region: 'eu-west-1', env: process.env });
 * const hit = readCachedToken({ keys, env: process.env, forceRefresh: false }); // { token, expiration } or undefined
 * ```
 */
export function readCachedToken(request: TokenCacheRequest): CachedToken | undefined {
  if (request.forceRefresh) return undefined;
  const dir = openCacheDir(request.env, { create: false });
  if (dir === undefined) return undefined;
  const entry = readEntry(dir, entryName('token', request.keys.token), request.keys.token);
  return entry === undefined ? undefined : servableToken(entry, request);
}

/**
 * The token in a stored entry when it may still be served at `request.now()`: signed no later than a minute from
 * now, living no longer than a token can, and with at least the margin left.
 *
 * @example
 * ```ts
 * import { servableToken } from './token-cache.js';
 * const now = Date.now();
 * servableToken({ token: 'k8s-aws-v1.x', signedAt: now, expiresAt: now + 840_000 }, {}); // { token, expiration }
 * servableToken({ token: 'k8s-aws-v1.x', signedAt: now - 810_000, expiresAt: now + 30_000 }, {}); // undefined
 * ```
 */
export function servableToken(entry: Record<string, unknown>, request: Pick<TokenCacheRequest, 'marginMs' | 'now'>): CachedToken | undefined {
  const { token, signedAt, expiresAt } = entry;
  if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX)) return undefined;
  if (typeof signedAt !== 'number' || typeof expiresAt !== 'number') return undefined;
  const now = (request.now ?? Date.now)();
  if (signedAt > now + CLOCK_SKEW_MS || expiresAt > signedAt + TOKEN_LIFETIME_MS) return undefined;
  if (expiresAt - now < (request.marginMs ?? DEFAULT_MARGIN_MS)) return undefined;
  return { token, expiration: new Date(expiresAt) };
}
