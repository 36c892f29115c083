/**
 * The webhook's own connections to STS: a keep-alive agent sized so that reviews do not queue for a connection
 * (queueing time would count against the review deadline), and the in-flight count that shows when they would.
 *
 * Bounded: reviews in flight are at most one per webhook connection (`maxConnections`), and identical tokens share
 * one call (the review cache), so STS calls in flight never exceed `maxConnections`; with `stsMaxSockets` at its
 * default (`maxConnections`) none ever waits for a connection.
 */
import type * as http from 'node:http';
import { createAgent } from '../aws/network-agent.js';
import type { NetworkOptions } from '../aws/network.js';
import type { ServerMetrics } from './metrics.js';

export interface StsPool {
  /** For `verifyToken`'s `agent`: matches the protocol of the STS endpoint (https unless overridden). */
  agent: http.Agent;
  /** Runs one STS call, counting it in flight. */
  track<T>(call: () => Promise<T>): Promise<T>;
  close(): void;
}

/** Free connections are closed after this long unused; STS keeps idle connections open longer. */
const IDLE_SOCKET_TIMEOUT_MS = 30_000;

/**
 * Creates the agent and its accounting. Behind HTTPS_PROXY (unless NO_PROXY names the STS host) each connection is a
 * CONNECT tunnel through the proxy, and the same `maxSockets` bounds them; AWS_CA_BUNDLE (or `network.caBundle`)
 * sets the certificate authorities STS is checked against.
 *
 * @example
 * ```ts
 * import { createStsPool } from './sts-pool.js';
 * import { createServerMetrics } from './metrics.js';
 * import { verifyToken } from '../authn/verify.js';
 * const metrics = await createServerMetrics();
 * const sts = createStsPool({ stsMaxSockets: 512, stsEndpoint: 'http://127.0.0.1:4566' }, metrics);
 * const { identity } = await sts.track(() => verifyToken(token, { clusterId: 'prod', agent: sts.agent }));
 * ```
 */
export function createStsPool(config: { stsMaxSockets: number; stsEndpoint?: string; network?: NetworkOptions }, metrics: ServerMetrics): StsPool {
  const options: http.AgentOptions = {
    keepAlive: true,
    maxSockets: config.stsMaxSockets,
    timeout: IDLE_SOCKET_TIMEOUT_MS,
    // Reuse the most recent connection, so that after a burst the surplus ones go idle and time out.
    scheduling: 'lifo',
  };
  const agent = createAgent(config.stsEndpoint?.startsWith('http:') === true ? 'http:' : 'https:', config.network ?? {}, options);
  let inFlight = 0;
  return {
    agent,
    track: async (call) => {
      inFlight += 1;
      metrics.stsInFlight(inFlight, inFlight > config.stsMaxSockets);
      try {
        return await call();
      } finally {
        inFlight -= 1;
        metrics.stsInFlight(inFlight);
      }
    },
    close: () => agent.destroy(),
  };
}
