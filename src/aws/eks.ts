/**
 * The EKS calls update-kubeconfig needs: DescribeCluster, ListClusters, and discovery of every cluster across regions.
 * `@aws-sdk/client-eks` (and `@aws-sdk/client-ec2`, for the region list) are loaded on first use only, so nothing of
 * them ever lands on the token path.
 *
 * Regions for discovery come from EC2 DescribeRegions, which lists the regions *enabled* for the account. The SDK's
 * partition table would also name opt-in regions the account has not enabled, where every EKS call fails with
 * UnrecognizedClientException; DescribeRegions avoids those calls and those errors.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { EksAuthError } from '../errors.js';
import { DEFAULT_TIMEOUTS, explainNetworkFailure, lazyRequestHandler, type NetworkOptions } from './network.js';

/** What update-kubeconfig uses of a DescribeCluster answer. */
export interface EksCluster {
  name: string;
  arn: string;
  /** The API server URL. */
  endpoint: string;
  /** Base64 of the PEM CA bundle; '' when EKS did not report one (as aws-cli writes it). */
  certificateAuthorityData: string;
  status: string;
  /** The cluster id; EKS reports it for Outposts local clusters. */
  id?: string;
  /**
   * Present for clusters on Outposts. Without `etcdInstanceType` it is a local cluster, whose tokens carry the id
   * instead of the name (the aws CLI's rule).
   */
  outpostConfig?: { outpostArns?: string[]; controlPlaneInstanceType?: string; etcdInstanceType?: string };
  /** `accessConfig.authenticationMode`: CONFIG_MAP, API_AND_CONFIG_MAP or API, when EKS reports it. */
  authenticationMode?: string;
}

export interface EksClientOptions {
  /** The region to call. */
  region: string;
  /** Credentials, or a provider of them; default: the AWS SDK's default chain (environment, AWS_PROFILE, SSO, IMDS…). */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** EKS endpoint URL (`--endpoint-url`); default: the SDK's, which honours AWS_ENDPOINT_URL_EKS. */
  endpoint?: string;
  /** Proxy, CA bundle and timeouts; default: the proxy variables of the environment, 10 s to connect, 30 s to read. */
  network?: NetworkOptions;
}

/** Statuses in which a cluster's endpoint and CA are usable (aws-cli accepts the same two). */
export const USABLE_CLUSTER_STATUSES: readonly string[] = ['ACTIVE', 'UPDATING'];

/**
 * Calls DescribeCluster.
 *
 * @example
 * ```ts
 * import { describeCluster } from 'eksauth/eks';
 * const cluster = await describeCluster('prod', { region: 'eu-west-1' });
 * console.log(cluster.arn, cluster.status); // → arn:aws:eks:eu-west-1:111122223333:cluster/prod ACTIVE
 * ```
 * @throws EksAuthError ERR_CLUSTER_NOT_FOUND, ERR_EKS_ACCESS_DENIED, ERR_EKS_REJECTED, ERR_EKS_UNAVAILABLE, ERR_EKS_REQUEST
 */
export async function describeCluster(name: string, options: EksClientOptions): Promise<EksCluster> {
  const { client, sdk } = await eksClient(options);
  try {
    const { cluster } = await client.send(new sdk.DescribeClusterCommand({ name }));
    if (cluster?.arn === undefined || cluster.status === undefined) throw notFound(name, options.region);
    return {
      name: cluster.name ?? name,
      arn: cluster.arn,
      endpoint: cluster.endpoint ?? '',
      certificateAuthorityData: cluster.certificateAuthority?.data ?? '',
      status: cluster.status,
      ...(cluster.id === undefined ? {} : { id: cluster.id }),
      ...(cluster.outpostConfig === undefined ? {} : { outpostConfig: cluster.outpostConfig }),
      ...(cluster.accessConfig?.authenticationMode === undefined ? {} : { authenticationMode: cluster.accessConfig.authenticationMode }),
    };
  } catch (err) {
    throw explainEksFailure(err, 'DescribeCluster', options.region, name, options.network);
  } finally {
    client.destroy();
  }
}

/**
 * Throws ERR_CLUSTER_STATUS unless the cluster is ACTIVE or UPDATING, with aws-cli's `Cluster status is …` wording.
 *
 * @example
 * ```ts
 * import { assertClusterUsable } from 'eksauth/eks';
 * assertClusterUsable({ name: 'prod', arn: 'arn:aws:eks:eu-west-1:111122223333:cluster/prod', endpoint: 'https://x', certificateAuthorityData: '', status: 'ACTIVE' });
 * ```
 */
export function assertClusterUsable(cluster: EksCluster): void {
  if (USABLE_CLUSTER_STATUSES.includes(cluster.status)) return;
  const next = cluster.status === 'CREATING' || cluster.status === 'PENDING'
    ? `wait until it is ACTIVE (\`aws eks wait cluster-active --name ${cluster.name}\`) and run this again`
    : 'only ACTIVE or UPDATING clusters have an endpoint to write; check the cluster in the EKS console';
  throw new EksAuthError('ERR_CLUSTER_STATUS', `Cluster status is ${cluster.status} (${cluster.arn}): ${next}`);
}

/**
 * Calls ListClusters until the last page, and returns the cluster names of one region.
 *
 * @example
 * ```ts
 * import { listClusters } from 'eksauth/eks';
 * console.log(await listClusters({ region: 'eu-west-1' })); // → [ 'prod', 'staging' ]
 * ```
 * @throws EksAuthError ERR_EKS_ACCESS_DENIED, ERR_EKS_REJECTED, ERR_EKS_UNAVAILABLE, ERR_EKS_REQUEST
 */
export async function listClusters(options: EksClientOptions): Promise<string[]> {
  const { client, sdk } = await eksClient(options);
  const names: string[] = [];
  try {
    let nextToken: string | undefined;
    do {
      const page = await client.send(new sdk.ListClustersCommand({ maxResults: 100, ...(nextToken ? { nextToken } : {}) }));
      names.push(...(page.clusters ?? []));
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
    return names;
  } catch (err) {
    throw explainEksFailure(err, 'ListClusters', options.region, undefined, options.network);
  } finally {
    client.destroy();
  }
}

/**
 * The regions enabled for the caller's account, from EC2 DescribeRegions (AWS_ENDPOINT_URL_EC2 is honoured).
 *
 * @example
 * ```ts
 * import { listEnabledRegions, resolveBaseCredentials } from 'eksauth/eks';
 * const regions = await listEnabledRegions({ region: 'us-east-1', credentials: await resolveBaseCredentials() });
 * ```
 * @throws EksAuthError ERR_EKS_REQUEST (and the other ERR_EKS_ codes) naming --regions as the way around it
 */
export async function listEnabledRegions(options: Omit<EksClientOptions, 'endpoint'>): Promise<string[]> {
  const { EC2Client, DescribeRegionsCommand } = await import('@aws-sdk/client-ec2');
  const requestHandler = lazyRequestHandler(options.network ?? {}, DEFAULT_TIMEOUTS);
  const client = new EC2Client({ region: options.region, credentials: options.credentials, maxAttempts: 3, requestHandler });
  try {
    const { Regions } = await client.send(new DescribeRegionsCommand({}));
    return (Regions ?? []).map((region) => region.RegionName).filter((name): name is string => typeof name === 'string').sort();
  } catch (err) {
    const explained = explainEksFailure(err, 'ec2:DescribeRegions', options.region, undefined, options.network);
    throw new EksAuthError(explained.code, `could not list the enabled regions: ${explained.message}; or name them with --regions us-east-1,eu-west-1`, { cause: err });
  } finally {
    client.destroy();
  }
}

/** One cluster found by {@link discoverClusters}: described, or the reason it could not be. */
export interface DiscoveredCluster {
  region: string;
  name: string;
  cluster?: EksCluster;
  error?: EksAuthError;
}

/** A region whose ListClusters failed. */
export interface RegionFailure {
  region: string;
  error: EksAuthError;
}

export interface DiscoveryProgress {
  regionsDone: number;
  regionsTotal: number;
  clustersDone: number;
  clustersTotal: number;
}

export interface DiscoverClustersOptions extends Omit<EksClientOptions, 'region'> {
  regions: string[];
  /** Requests in flight at once; default 8. */
  concurrency?: number;
  /** Called after every finished request. */
  onProgress?: (progress: DiscoveryProgress) => void;
}

/**
 * ListClusters in every given region, then DescribeCluster for every cluster found, in parallel with at most
 * `concurrency` requests in flight. A failure in one region or for one cluster is reported, not thrown, so the
 * others still count.
 *
 * @example
 * ```ts
 * import { discoverClusters } from 'eksauth/eks';
 * const { clusters, failures } = await discoverClusters({ regions: ['eu-west-1', 'us-west-2'] });
 * for (const { region, name, cluster } of clusters) console.log(region, name, cluster?.status);
 * // → eu-west-1 prod ACTIVE
 * // → eu-west-1 staging CREATING
 * // → us-west-2 edge ACTIVE
 * console.log(failures.length); // → 0
 * ```
 */
export async function discoverClusters(options: DiscoverClustersOptions): Promise<{ clusters: DiscoveredCluster[]; failures: RegionFailure[] }> {
  const limit = options.concurrency ?? 8;
  const progress: DiscoveryProgress = { regionsDone: 0, regionsTotal: options.regions.length, clustersDone: 0, clustersTotal: 0 };
  const report = (): void => options.onProgress?.({ ...progress });
  const client = (region: string): EksClientOptions => ({ ...options, region });
  const failures: RegionFailure[] = [];
  const found: DiscoveredCluster[] = [];
  await mapPooled(options.regions, limit, async (region) => {
    try {
      const names = await listClusters(client(region));
      found.push(...names.map((name) => ({ region, name })));
      progress.clustersTotal += names.length;
    } catch (err) {
      failures.push({ region, error: asEksAuthError(err) });
    }
    progress.regionsDone += 1;
    report();
  });
  await mapPooled(found, limit, async (entry) => {
    try {
      entry.cluster = await describeCluster(entry.name, client(entry.region));
    } catch (err) {
      entry.error = asEksAuthError(err);
    }
    progress.clustersDone += 1;
    report();
  });
  const byRegionAndName = (a: { region: string; name?: string }, b: { region: string; name?: string }): number =>
    a.region.localeCompare(b.region) || (a.name ?? '').localeCompare(b.name ?? '');
  return { clusters: found.sort(byRegionAndName), failures: failures.sort(byRegionAndName) };
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
async function mapPooled<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/**
 * An EKS client for `options` (the SDK loaded on first use); the caller destroys it.
 *
 * @internal Its inferred type names @aws-sdk/client-eks, an optional peer: kept out of the published declarations.
 */
export async function eksClient(options: EksClientOptions) {
  const sdk = await import('@aws-sdk/client-eks');
  const client = new sdk.EKSClient({
    region: options.region,
    credentials: options.credentials,
    maxAttempts: 3,
    requestHandler: lazyRequestHandler(options.network ?? {}, DEFAULT_TIMEOUTS),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
  });
  return { client, sdk };
}

function notFound(name: string, region: string): EksAuthError {
  return new EksAuthError(
    'ERR_CLUSTER_NOT_FOUND',
    `Cluster not found: no cluster named "${name}" in ${region} for these credentials; check the name and --region ` +
      '(`eksauth update-kubeconfig --all` lists every cluster you can see)',
  );
}

function asEksAuthError(err: unknown): EksAuthError {
  return err instanceof EksAuthError ? err : new EksAuthError('ERR_EKS_REQUEST', err instanceof Error ? err.message : String(err), { cause: err });
}

const REJECTED = new Set(['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'ExpiredToken', 'AuthFailure', 'InvalidClientTokenId', 'IncompleteSignatureException', 'MissingAuthenticationTokenException']);
const UNAVAILABLE = new Set(['ServerException', 'ServiceUnavailableException', 'ThrottlingException', 'TimeoutError', 'RequestLimitExceeded']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Turns an SDK failure into an EksAuthError that names the call, the region and the next step; the SDK error is its cause. */
export function explainEksFailure(err: unknown, call: string, region: string, name?: string, network?: NetworkOptions): EksAuthError {
  if (err instanceof EksAuthError) return err;
  const networkFailure = explainNetworkFailure(err, `${call} in ${region}`, network);
  if (networkFailure !== undefined) return networkFailure;
  const errName = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | undefined)?.code;
  if (errName === 'ResourceNotFoundException' && name !== undefined) return withCause(notFound(name, region), err);
  if (errName === 'AccessDeniedException' || errName === 'UnauthorizedOperation') {
    return new EksAuthError('ERR_EKS_ACCESS_DENIED', `${call} in ${region} was denied: ${message}; your identity needs that permission (or pass --assume-role-arn for a role that has it)`, { cause: err });
  }
  if (REJECTED.has(errName)) {
    return new EksAuthError('ERR_EKS_REJECTED', `${call} in ${region} rejected the credentials (${errName}: ${message}); refresh them (e.g. \`aws sso login\`), check --profile, or the region may not be enabled for the account`, { cause: err });
  }
  if (UNAVAILABLE.has(errName) || (typeof code === 'string' && NETWORK.has(code))) {
    return new EksAuthError('ERR_EKS_UNAVAILABLE', `${call} in ${region} failed: ${errName || String(code)}: ${message}; check the network or --endpoint-url and retry`, { cause: err });
  }
  return new EksAuthError('ERR_EKS_REQUEST', `${call} in ${region} failed: ${errName ? `${errName}: ` : ''}${message}`, { cause: err });
}

function withCause(error: EksAuthError, cause: unknown): EksAuthError {
  return new EksAuthError(error.code, error.message, { cause });
}
