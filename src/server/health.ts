/**
 * Operations endpoints, served on the webhook port and on the plain-HTTP ops port: `/healthz` and `/livez` (the
 * process answers), `/readyz` (every mapping source has loaded, and the server is not shutting down) and `/metrics`
 * (Prometheus text format).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MappingSourceState, ServerMetrics } from './metrics.js';

export interface Readiness {
  /** Every mapping source has loaded a version. */
  mappingsLoaded: () => boolean;
  sources: () => MappingSourceState[];
  /** True once shutdown has begun: load balancers and probes should stop sending reviews here. */
  draining: () => boolean;
}

/**
 * Creates a handler that answers the ops paths and returns false for anything else.
 *
 * @example
 * ```ts
 * const ops = createOpsHandler({ readiness, metrics });
 * http.createServer((req, res) => { if (!ops(req, res)) notFound(res); });
 * ```
 */
export function createOpsHandler(deps: { readiness: Readiness; metrics: ServerMetrics }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    switch (path) {
      case '/healthz':
      case '/livez':
        sendText(res, 200, 'ok\n');
        return true;
      case '/readyz':
        sendReadiness(res, deps.readiness);
        return true;
      case '/metrics':
        deps.metrics.render().then(
          (text) => sendText(res, 200, text, deps.metrics.contentType),
          () => sendText(res, 500, 'metrics unavailable\n'),
        );
        return true;
      default:
        return false;
    }
  };
}

/** `ok`, or 503 with one line per reason, in the style of kube-apiserver's `/readyz?verbose`. */
function sendReadiness(res: ServerResponse, readiness: Readiness): void {
  const lines = readiness.sources().map((s) =>
    `[${s.loaded ? '+' : '-'}]mapping ${s.source}: ${s.loaded ? `${s.rows} rows` : 'not loaded yet'}${s.healthy || !s.loaded ? '' : ` (latest version rejected: ${s.error ?? 'unknown'})`}`);
  if (readiness.draining()) lines.push('[-]shutting down');
  const ready = readiness.mappingsLoaded() && !readiness.draining();
  sendText(res, ready ? 200 : 503, `${lines.join('\n')}\n${ready ? 'ok' : 'not ready'}\n`);
}

function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}
