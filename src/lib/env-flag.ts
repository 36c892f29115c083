/** The environment variable that accepts regions the SDK's partition data does not list (src/aws/sts-endpoint.ts). */
export const ALLOW_UNKNOWN_REGION_ENV = 'EKSAUTH_ALLOW_UNKNOWN_REGION';

/**
 * Whether an on/off environment variable is on: set, and not empty, `0` or `false` (any case). One reading for every
 * switch eksauth takes from the environment (EKSAUTH_NO_CACHE, EKSAUTH_ALLOW_UNKNOWN_REGION).
 *
 * @example
 * ```ts
 * import { isEnvFlagSet } from './env-flag.js';
 * isEnvFlagSet('1'); // true
 * isEnvFlagSet('False'); // false
 * isEnvFlagSet(undefined); // false
 * ```
 */
export function isEnvFlagSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
