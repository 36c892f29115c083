import { KubeConfig } from '@kubernetes/client-node';
import { resolveBaseCredentials } from '../aws/credentials.js';
import { resolveAwsSettings } from '../aws/settings.js';
import { EksAuthError } from '../errors.js';
import { AUTH_PROVIDER_NAME, createEksAuthenticator, targetConfig, type EksAuthenticator, type EksAuthenticatorOptions } from './authenticator.js';

export interface EksKubeConfigOptions extends EksAuthenticatorOptions {
  /** The EKS cluster's name (tokens are bound to it), or pass `clusterId` for an Outposts local cluster. */
  clusterName?: string;
  clusterId?: string;
  /** The API server URL; default: DescribeCluster's `endpoint`. */
  server?: string;
  /** Base64 of the API server's PEM CA bundle; default: DescribeCluster's `certificateAuthority.data`. */
  certificateAuthorityData?: string;
  /** EKS endpoint for DescribeCluster (default: the SDK's, which honours AWS_ENDPOINT_URL_EKS). */
  eksEndpoint?: string;
  /** The name of the cluster, user and context entries; default the cluster's name (or id). */
  contextName?: string;
}

/** A KubeConfig with one in-process EKS user, and the authenticator that serves it. */
export interface EksKubeConfig extends KubeConfig {
  /** Serves the token; its `providers` hold the one provider this KubeConfig uses. */
  readonly eksAuthenticator: EksAuthenticator;
}

/**
 * A @kubernetes/client-node KubeConfig for an EKS cluster that authenticates in this process (no exec plugin, no
 * child process): tokens come from a cached provider and are re-signed a minute before they expire, so clients made
 * from it keep working for as long as the program runs. The endpoint and CA come from DescribeCluster (with the
 * caller's own credentials, not `roleArn`) unless given.
 *
 * @example
 * ```ts
 * import { CoreV1Api } from '@kubernetes/client-node';
 * import { eksKubeConfig } from 'eksauth/client-node';
 * const kc = await eksKubeConfig({ clusterName: 'prod', region: 'eu-west-1' }); // endpoint and CA from DescribeCluster
 * const { items } = await kc.makeApiClient(CoreV1Api).listNamespace();
 * console.log(items.map((namespace) => namespace.metadata?.name)); // → [ 'default' ]
 * ```
 * @throws EksAuthError ERR_NO_CLUSTER, ERR_NO_REGION, and DescribeCluster's ERR_CLUSTER_NOT_FOUND, ERR_EKS_ACCESS_DENIED, …
 */
export async function eksKubeConfig(options: EksKubeConfigOptions): Promise<EksKubeConfig> {
  const { clusterName, clusterId, server, certificateAuthorityData, eksEndpoint, contextName, ...shared } = options;
  const cluster = clusterName ?? clusterId;
  if (!cluster) throw new EksAuthError('ERR_NO_CLUSTER', 'eksKubeConfig needs clusterName (or clusterId for an Outposts local cluster)');
  const settings = await resolveAwsSettings({ ...shared, regionSource: 'the region option' });
  if (settings.region === undefined) {
    throw new EksAuthError('ERR_NO_REGION', 'eksKubeConfig needs a region: pass region, or set AWS_REGION or a profile region');
  }
  const region = settings.region;
  const endpoint = server !== undefined && certificateAuthorityData !== undefined
    ? { endpoint: server, certificateAuthorityData }
    : await describe(cluster, { ...shared, region, ...(eksEndpoint === undefined ? {} : { eksEndpoint }) });
  const name = contextName ?? cluster;
  const authenticator = createEksAuthenticator({ ...shared, region });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name, server: server ?? endpoint.endpoint, caData: certificateAuthorityData ?? endpoint.certificateAuthorityData, skipTLSVerify: false }],
    users: [{ name, authProvider: { name: AUTH_PROVIDER_NAME, config: targetConfig({ ...(clusterName === undefined ? { clusterId: cluster } : { clusterName }), env: {} }) } }],
    contexts: [{ name, cluster: name, user: name }],
    currentContext: name,
  });
  kc.addAuthenticator(authenticator);
  return Object.assign(kc, { eksAuthenticator: authenticator });
}

async function describe(
  name: string,
  options: EksAuthenticatorOptions & { region: string; eksEndpoint?: string },
): Promise<{ endpoint: string; certificateAuthorityData: string }> {
  const { describeCluster } = await import('../aws/eks.js');
  const credentials = options.credentials ?? (await resolveBaseCredentials({ ...options, ...(options.profile === undefined ? {} : { profile: options.profile }) }));
  return describeCluster(name, { region: options.region, credentials, ...(options.eksEndpoint === undefined ? {} : { endpoint: options.eksEndpoint }) });
}
