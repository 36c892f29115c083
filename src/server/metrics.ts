/**
 * Prometheus metrics for the webhook (prom-client, on a registry of its own so that several servers can live in one
 * process). Labels are low-cardinality by construction: outcomes and source names are fixed sets, and STS hosts are
 * the validated allow-listed host names, never anything a caller can invent.
 */
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MappingProblemKind } from '../authn/mapping/types.js';
import type { CacheResult } from '../lib/expiring-cache.js';

/** Why a review ended the way it did; also the `outcome` label. */
export type ReviewOutcome =
  | 'authenticated'
  | 'invalid_token'
  | 'sts_rejected'
  | 'unmapped'
  | 'sts_throttled'
  | 'sts_unavailable'
  | 'sts_bad_response'
  | 'timeout'
  | 'not_ready'
  | 'malformed_request'
  | 'error';

/** The two listeners: HTTPS for kube-apiserver, plain HTTP for probes and Prometheus. */
export type ListenerName = 'webhook' | 'ops';

/**
 * Why eksauth closed a connection: `idle` (no request within the idle timeout, or kept alive past the keep-alive
 * timeout), `handshake_timeout`, `read_timeout` (a request sent too slowly), `evicted` (the least recently used idle
 * connection, to make room at the cap), `refused` (at the cap with every connection waiting for its answer).
 */
export type ConnectionCloseReason = 'idle' | 'handshake_timeout' | 'read_timeout' | 'evicted' | 'refused';

/** How the review cache answered: `coalesced` joined an identical review already waiting on STS. */
export type { CacheResult } from '../lib/expiring-cache.js';

/** The state of one mapping source, as `/readyz`, the logs and `eksauth_mapping_source_healthy` report it. */
export interface MappingSourceState {
  /** e.g. `file:/etc/eksauth/mapping.yaml` or `configmap:kube-system/aws-auth`. */
  source: string;
  /** A version has been loaded (and is served, even if a later one failed). */
  loaded: boolean;
  /** The latest version is the one served. */
  healthy: boolean;
  rows: number;
  /** The latest problem, while unhealthy. */
  error?: string;
}

export interface ServerMetrics {
  review(outcome: ReviewOutcome, seconds: number): void;
  stsCall(host: string, seconds: number, errorCode?: string): void;
  cacheLookup(result: CacheResult): void;
  cacheSize(entries: number): void;
  mappingSource(state: MappingSourceState): void;
  mappingSourceError(source: string, kind: 'invalid' | 'watch' | 'read'): void;
  /** A part of an accepted version that was skipped: a near-miss ConfigMap key, a row that failed validation. */
  mappingSkipped(source: string, kind: MappingProblemKind): void;
  connections(listener: ListenerName, open: number): void;
  connectionClosed(listener: ListenerName, reason: ConnectionCloseReason): void;
  /** STS calls in flight now; `waited` when this one started with every STS connection already in use. */
  stsInFlight(calls: number, waited?: boolean): void;
  /** The exposition text for `/metrics`. */
  render(): Promise<string>;
  contentType: string;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type PromClient = typeof import('prom-client');

function createConnectionMetrics(prom: PromClient, registers: Registry[]): Pick<ServerMetrics, 'connections' | 'connectionClosed'> {
  const open: Gauge<'listener'> = new prom.Gauge({
    name: 'eksauth_connections', help: 'Connections open, by listener (at most maxConnections, opsMaxConnections)', labelNames: ['listener'], registers,
  });
  const closed: Counter<'listener' | 'reason'> = new prom.Counter({
    name: 'eksauth_connections_closed_total', help: 'Connections eksauth closed or refused, by listener and reason: idle, handshake_timeout, read_timeout, evicted, refused',
    labelNames: ['listener', 'reason'], registers,
  });
  return {
    connections: (listener, count) => open.set({ listener }, count),
    connectionClosed: (listener, reason) => closed.inc({ listener, reason }),
  };
}

/**
 * Creates the metrics on a fresh registry; prom-client is loaded here, not when the library is imported.
 *
 * @example
 * ```ts
 * import { createServerMetrics } from 'eksauth';
 * const metrics = await createServerMetrics();
 * metrics.review('authenticated', 0.004);
 * console.log(await metrics.render()); // eksauth_reviews_total{outcome="authenticated"} 1 …
 * ```
 */
export async function createServerMetrics(options: { processMetrics?: boolean } = {}): Promise<ServerMetrics> {
  const loaded = await import('prom-client');
  // CommonJS: Node's loader gives named exports, the esbuild bundle only the default (module.exports); both have it.
  const prom = (loaded as unknown as { default?: typeof loaded }).default ?? loaded;
  const registry: Registry = new prom.Registry();
  if (options.processMetrics === true) prom.collectDefaultMetrics({ register: registry, prefix: 'eksauth_' });
  const registers = [registry];
  const reviews: Counter<'outcome'> = new prom.Counter({
    name: 'eksauth_reviews_total', help: 'TokenReviews answered, by outcome', labelNames: ['outcome'], registers,
  });
  const reviewSeconds: Histogram<'outcome'> = new prom.Histogram({
    name: 'eksauth_review_duration_seconds', help: 'Time to answer a TokenReview, by outcome',
    labelNames: ['outcome'], buckets: LATENCY_BUCKETS, registers,
  });
  const stsSeconds: Histogram<'host'> = new prom.Histogram({
    name: 'eksauth_sts_request_duration_seconds', help: 'GetCallerIdentity latency, by STS host',
    labelNames: ['host'], buckets: LATENCY_BUCKETS, registers,
  });
  const stsErrors: Counter<'host' | 'code'> = new prom.Counter({
    name: 'eksauth_sts_errors_total', help: 'GetCallerIdentity calls that failed, by STS host and eksauth error code',
    labelNames: ['host', 'code'], registers,
  });
  const cache: Counter<'result'> = new prom.Counter({
    name: 'eksauth_review_cache_lookups_total', help: 'Verification cache lookups: hit, miss, or coalesced into a call in flight',
    labelNames: ['result'], registers,
  });
  const cacheEntries: Gauge = new prom.Gauge({ name: 'eksauth_review_cache_entries', help: 'Verified identities cached', registers });
  const sourceHealthy: Gauge<'source'> = new prom.Gauge({
    name: 'eksauth_mapping_source_healthy', help: '1 when the latest version of the mapping source is served, 0 when the last load failed (the last good version, if any, is still served)',
    labelNames: ['source'], registers,
  });
  const sourceLoaded: Gauge<'source'> = new prom.Gauge({
    name: 'eksauth_mapping_source_loaded', help: '1 once a version of the mapping source has been loaded', labelNames: ['source'], registers,
  });
  const sourceRows: Gauge<'source'> = new prom.Gauge({
    name: 'eksauth_mapping_source_rows', help: 'Rows in the mapping source version served', labelNames: ['source'], registers,
  });
  const sourceErrors: Counter<'source' | 'kind'> = new prom.Counter({
    name: 'eksauth_mapping_source_errors_total', help: 'Mapping source failures: invalid content, watch/list failures, unreadable files',
    labelNames: ['source', 'kind'], registers,
  });
  const skipped: Counter<'source' | 'kind'> = new prom.Counter({
    name: 'eksauth_mapping_skipped_total',
    help: 'Parts of loaded mapping versions that map nobody: near-miss-key (e.g. maproles), unknown-key, invalid-row, feature-gate-off',
    labelNames: ['source', 'kind'], registers,
  });
  const sourceUpdated: Gauge<'source'> = new prom.Gauge({
    name: 'eksauth_mapping_source_last_success_timestamp_seconds', help: 'When the mapping source last loaded successfully',
    labelNames: ['source'], registers,
  });
  const connections = createConnectionMetrics(prom, registers);
  const stsInFlight: Gauge = new prom.Gauge({
    name: 'eksauth_sts_requests_in_flight', help: 'GetCallerIdentity calls in flight (at most stsMaxSockets have a connection)', registers,
  });
  const stsWaits: Counter = new prom.Counter({
    name: 'eksauth_sts_pool_waits_total', help: 'GetCallerIdentity calls that started with every STS connection in use, so waited for one (raise stsMaxSockets)', registers,
  });
  return {
    ...connections,
    stsInFlight: (calls, waited) => {
      stsInFlight.set(calls);
      if (waited === true) stsWaits.inc();
    },
    review: (outcome, seconds) => {
      reviews.inc({ outcome });
      reviewSeconds.observe({ outcome }, seconds);
    },
    stsCall: (host, seconds, errorCode) => {
      stsSeconds.observe({ host }, seconds);
      if (errorCode !== undefined) stsErrors.inc({ host, code: errorCode });
    },
    cacheLookup: (result) => cache.inc({ result }),
    cacheSize: (entries) => cacheEntries.set(entries),
    mappingSource: (state) => {
      sourceHealthy.set({ source: state.source }, state.healthy ? 1 : 0);
      sourceLoaded.set({ source: state.source }, state.loaded ? 1 : 0);
      sourceRows.set({ source: state.source }, state.rows);
      if (state.healthy) sourceUpdated.set({ source: state.source }, Date.now() / 1000);
    },
    mappingSourceError: (source, kind) => sourceErrors.inc({ source, kind }),
    mappingSkipped: (source, kind) => skipped.inc({ source, kind }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
