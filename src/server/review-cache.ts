/**
 * The verification cache: STS's answer for a token, reused until the token or the TTL runs out, and one STS call for
 * identical reviews that arrive together.
 *
 * Keyed by the SHA-256 of the verifier's options that decide the verdict ({@link verdictScope}) and the whole token,
 * so an entry can only ever be found with the exact bearer string that was verified, under the same cluster id,
 * accepted partitions and regions, clock skew and STS endpoint: one cache shared by verifiers of different clusters
 * cannot let a token for one pass the other. The token itself is never held. Only successes are stored; a failure is
 * shared with the callers that were waiting for the same call, then forgotten, so a retry asks STS again.
 *
 * Only STS's answer is cached: mapping (allowed accounts included) runs again on every review.
 */
import { createHash } from 'node:crypto';
import { verdictScope, type VerifyTokenOptions } from '../authn/verify.js';
import { createExpiringCache, type CacheResult } from '../lib/expiring-cache.js';

export interface ReviewCacheOptions {
  /** Longest an answer is reused; 0 disables storing (identical concurrent reviews still share one call). */
  ttlMs: number;
  /** Most entries kept; the least recently used goes first. */
  maxEntries: number;
  /** Clock, for tests; default `Date.now`. */
  now?: () => number;
}

/** What `verify` returns: the value, and until when it may be reused (absent: not cacheable). */
export interface Verified<V> {
  value: V;
  /** Epoch ms after which the token is no longer valid, e.g. `ValidatedToken.validUntil`. */
  validUntil?: number;
}

export interface CacheAnswer<V> {
  value: V;
  result: CacheResult;
}

export interface ReviewCache<V> {
  /**
   * The cached value for `token` verified under `options`, or the result of `verify(token, options)` (shared with
   * identical lookups in flight). `verify` gets the very options the entry is keyed on, so the two cannot differ.
   */
  get<O extends VerifyTokenOptions>(token: string, options: O, verify: (token: string, options: O) => Promise<Verified<V>>): Promise<CacheAnswer<V>>;
  size(): number;
  clear(): void;
}

/**
 * Creates a verification cache.
 *
 * @example
 * ```ts
 * import { createReviewCache } from './review-cache.js';
 * import { verifyToken } from '../authn/verify.js';
 * const cache = createReviewCache({ ttlMs: 60_000, maxEntries: 10_000 });
 * const { value: identity, result } = await cache.get(token, { clusterId: 'prod' }, async (t, options) => {
 *   const verified = await verifyToken(t, options);
 *   return { value: verified.identity, validUntil: verified.token.validUntil.getTime() };
 * });
 * // result: 'miss' the first time, 'hit' afterwards
 * ```
 */
export function createReviewCache<V>(options: ReviewCacheOptions): ReviewCache<V> {
  const now = options.now ?? Date.now;
  const cache = createExpiringCache<V>({ maxEntries: options.maxEntries, now });
  return {
    get: (token, verifyOptions, verify) =>
      cache.get(reviewCacheKey(token, verifyOptions), async () => {
        const verified = await verify(token, verifyOptions);
        // Never past the token's own validity; with ttlMs 0, or nothing cacheable, the answer is shared but not kept.
        const expiresAt = options.ttlMs > 0 ? Math.min(now() + options.ttlMs, verified.validUntil ?? -Infinity) : -Infinity;
        return { value: verified.value, expiresAt };
      }),
    size: cache.size,
    clear: cache.clear,
  };
}

// The scope is JSON, which has no raw newline: the separator makes the pair unambiguous.
function reviewCacheKey(token: string, options: VerifyTokenOptions): string {
  return createHash('sha256').update(`${verdictScope(options)}\n${token}`).digest('base64');
}
