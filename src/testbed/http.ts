/**
 * The response helpers the test API server's endpoints share, with kube-apiserver's headers.
 */
import type { ServerResponse } from 'node:http';

/**
 * A `meta.k8s.io/v1` Status, the body kube-apiserver sends with every error.
 *
 * @example
 * ```ts
 * sendJson(res, 404, failureStatus(404, 'NotFound', 'the server could not find the requested resource'));
 * ```
 */
export function failureStatus(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/**
 * Sends `body` as JSON and returns the status, for request logs.
 *
 * @example
 * ```ts
 * return sendJson(res, 200, { kind: 'APIVersions', versions: ['v1'] });
 * ```
 */
export function sendJson(res: ServerResponse, status: number, body: object): number {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
  return status;
}
