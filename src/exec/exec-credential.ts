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
 * import { toExecCredential } from 'eksauth';
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

/** RFC 3339 in UTC without fractional seconds (`2026-11-23T11:14:00Z`), as aws-cli writes it. Rounds down. */
export function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
