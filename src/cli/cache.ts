import { writeSync } from 'node:fs';
import { cleanCache } from '../cache/store.js';

/**
 * `eksauth cache clean`: deletes cached tokens and credentials (after `aws sso logout`, a key rotation, or to make
 * the next call sign afresh) and says where and how many.
 *
 * @example
 * ```ts
 * import { runCacheClean } from './cache.js';
 * runCacheClean(); // "removed 3 cached entries from /home/me/.kube/cache/eksauth"
 * ```
 */
export function runCacheClean(env: NodeJS.ProcessEnv = process.env): void {
  const { dir, entries } = cleanCache(env);
  writeSync(1, `removed ${entries} cached ${entries === 1 ? 'entry' : 'entries'} from ${dir}\n`);
}
