/**
 * Whether EKSAUTH_NO_CACHE turns caching off: set to anything but '', '0' or 'false' (any case).
 *
 * @example
 * ```ts
 * import { noCacheInEnv } from './no-cache.js';
 * noCacheInEnv({ EKSAUTH_NO_CACHE: '1' }); // true
 * noCacheInEnv({ EKSAUTH_NO_CACHE: 'False' }); // false
 * ```
 */
export function noCacheInEnv(env: NodeJS.ProcessEnv): boolean {
  const value = env.EKSAUTH_NO_CACHE;
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
