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

/** One GetCallerIdentity call as the metrics see it. */
export interface StsCallRecord {
  /** The validated STS host. */
  host: string;
  seconds: number;
  /** The HTTP status STS answered with; absent when no answer arrived (connection failure, timeout). */
  status?: number;
  /** The eksauth error code when the call failed. */
  errorCode?: string;
}

/** aws-iam-authenticator's `dynamic_file_*` gauges: which backend modes read the dynamic file. */
export interface DynamicFileMode {
  enabled: boolean;
  /** The dynamic file is the only backend mode. */
  only: boolean;
}

export interface ServerMetrics {
  /** Also observes aws-iam-authenticator's `authenticate_latency_seconds{result}` ({@link REFERENCE_RESULTS}). */
  review(outcome: ReviewOutcome, seconds: number): void;
  /** Also counts aws-iam-authenticator's `sts_responses_total`, `sts_throttling_total`, `sts_connection_failures_total`. */
  stsCall(call: StsCallRecord): void;
  /** One EC2 DescribeInstances request sent (a `{{EC2PrivateDNSName}}` lookup that missed the cache). */
  ec2DescribeInstancesCall(): void;
  /** A failed watch or list of the aws-auth ConfigMap (counted by {@link ServerMetrics.mappingSourceError} too). */
  configMapWatchFailure(): void;
  /** A failed load of the backend-mode dynamic file. */
  dynamicFileFailure(): void;
  /**
   * A dynamic file's version, stamped by its writer at `updatedAt` (Unix seconds), is now served: observes the delay
   * under the reference's `type` label (`dynamic_file` or `dynamic_backend_mode`).
   */
  dynamicFileLatency(type: 'dynamic_file' | 'dynamic_backend_mode', updatedAt: number): void;
  dynamicFileMode(mode: DynamicFileMode): void;
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
 * aws-iam-authenticator's `result` label for each outcome, so dashboards and alerts built on
 * `aws_iam_authenticator_authenticate_latency_seconds` keep working. `uknown_user` is the reference's spelling. STS
 * failures of any kind, and STS answers no mapping can read (a malformed ARN or UserId), are its `sts_error`.
 */
export const REFERENCE_RESULTS: Readonly<Record<ReviewOutcome, string>> = {
  authenticated: 'success',
  invalid_token: 'invalid_token',
  malformed_request: 'malformed_request',
  sts_rejected: 'sts_error',
  sts_unavailable: 'sts_error',
  sts_bad_response: 'sts_error',
  timeout: 'sts_error',
  sts_throttled: 'sts_throttling',
  unmapped: 'uknown_user',
  not_ready: 'uknown_user',
  error: 'uknown_user',
};

const REFERENCE_PREFIX = 'aws_iam_authenticator_';

/** The reference's `StsRegion` label: the host's region, or `global` for sts.amazonaws.com. */
function stsRegionLabel(host: string): string {
  return host === 'sts.amazonaws.com' ? 'global' : (host.split('.')[1] ?? 'unknown');
}

type ReferenceMetrics = Pick<ServerMetrics, 'ec2DescribeInstancesCall' | 'configMapWatchFailure' | 'dynamicFileFailure' | 'dynamicFileLatency' | 'dynamicFileMode'> & {
  review(outcome: ReviewOutcome, seconds: number): void;
  stsCall(call: StsCallRecord): void;
};

/** aws-iam-authenticator's metrics (pkg/metrics), same names, labels, help and buckets. */
function createReferenceMetrics(prom: PromClient, registers: Registry[]): ReferenceMetrics {
  const counter = (name: string, help: string) => new prom.Counter({ name: REFERENCE_PREFIX + name, help, registers });
  const gauge = (name: string, help: string) => new prom.Gauge({ name: REFERENCE_PREFIX + name, help, registers });
  const latency: Histogram<'result'> = new prom.Histogram({
    name: `${REFERENCE_PREFIX}authenticate_latency_seconds`, help: 'Authenticate call latency', labelNames: ['result'], registers,
  });
  const responses: Counter<'ResponseCode' | 'StsRegion'> = new prom.Counter({
    name: `${REFERENCE_PREFIX}sts_responses_total`, help: 'Sts responses with error code label', labelNames: ['ResponseCode', 'StsRegion'], registers,
  });
  const throttling: Counter<'StsRegion'> = new prom.Counter({
    name: `${REFERENCE_PREFIX}sts_throttling_total`, help: 'Sts call got throttled', labelNames: ['StsRegion'], registers,
  });
  const connectionFailures: Counter<'StsRegion'> = new prom.Counter({
    name: `${REFERENCE_PREFIX}sts_connection_failures_total`, help: 'Sts call could not succeed or timedout', labelNames: ['StsRegion'], registers,
  });
  const e2eLatency: Histogram<'type'> = new prom.Histogram({
    name: `${REFERENCE_PREFIX}dynamic_e2e_latency_seconds`, help: 'End to end latency in seconds partitioned by type.',
    labelNames: ['type'], buckets: [1, 3, 5, 10, 15, 20, 30, 60], registers,
  });
  const ec2Calls = counter('ec2_describe_instances_calls_total', 'Number of EC2 describe instances calls.');
  const configMapFailures = counter('configmap_watch_failures_total', 'EKS Configmap watch failures');
  const dynamicFileFailures = counter('dynamicfile_failures_total', 'Dynamic file failures');
  const dynamicFileEnabled = gauge('dynamic_file_enabled', 'Dynamic file in backend mode is enabled');
  const dynamicFileOnly = gauge('dynamic_file_only', 'Only dynamic file in backend mode is enabled');
  return {
    review: (outcome, seconds) => latency.observe({ result: REFERENCE_RESULTS[outcome] }, seconds),
    stsCall: ({ host, status, errorCode }) => {
      const StsRegion = stsRegionLabel(host);
      if (status !== undefined) responses.inc({ ResponseCode: String(status), StsRegion });
      if (errorCode === 'ERR_STS_THROTTLED') throttling.inc({ StsRegion });
      else if (errorCode !== undefined && status === undefined) connectionFailures.inc({ StsRegion });
    },
    ec2DescribeInstancesCall: () => ec2Calls.inc(),
    configMapWatchFailure: () => configMapFailures.inc(),
    dynamicFileFailure: () => dynamicFileFailures.inc(),
    dynamicFileLatency: (type, updatedAt) => e2eLatency.observe({ type }, Math.max(0, Date.now() / 1000 - updatedAt)),
    dynamicFileMode: ({ enabled, only }) => {
      dynamicFileEnabled.set(enabled ? 1 : 0);
      dynamicFileOnly.set(only ? 1 : 0);
    },
  };
}

/**
 * Creates the metrics on a fresh registry; prom-client is loaded here, not when the library is imported.
 *
 * @example
 * ```ts
 * import { createServerMetrics } from './metrics.js';
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
  const reference = createReferenceMetrics(prom, registers);
  return {
    ...connections,
    ...reference,
    stsInFlight: (calls, waited) => {
      stsInFlight.set(calls);
      if (waited === true) stsWaits.inc();
    },
    review: (outcome, seconds) => {
      reviews.inc({ outcome });
      reviewSeconds.observe({ outcome }, seconds);
      reference.review(outcome, seconds);
    },
    stsCall: (call) => {
      stsSeconds.observe({ host: call.host }, call.seconds);
      if (call.errorCode !== undefined) stsErrors.inc({ host: call.host, code: call.errorCode });
      reference.stsCall(call);
    },
    cacheLookup: (result) => cache.inc({ result }),
    cacheSize: (entries) => cacheEntries.set(entries),
    mappingSource: (state) => {
      sourceHealthy.set({ source: state.source }, state.healthy ? 1 : 0);
      sourceLoaded.set({ source: state.source }, state.loaded ? 1 : 0);
      sourceRows.set({ source: state.source }, state.rows);
      if (state.healthy) sourceUpdated.set({ source: state.source }, Date.now() / 1000);
    },
    mappingSourceError: (source, kind) => {
      sourceErrors.inc({ source, kind });
      // The reference counts the aws-auth ConfigMap's watch failures on their own.
      if (kind === 'watch' && source.startsWith('configmap:')) reference.configMapWatchFailure();
    },
    mappingSkipped: (source, kind) => skipped.inc({ source, kind }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
