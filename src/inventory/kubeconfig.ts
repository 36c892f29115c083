import { KubeConfig } from '@kubernetes/client-node';
import { AUTH_PROVIDER_NAME, createEksAuthenticator, targetConfig, type EksAuthenticator } from '../client-node/authenticator.js';
import { parseTokenExec, type ExecTokenTarget } from '../client-node/exec-args.js';
import { clusterAccess, type ClusterAccess, type ClusterProfile, type ProvidersFile } from './cluster-profile.js';

export interface ClusterKubeConfigOptions {
  /**
   * Serves EKS providers (an exec plugin running `eksauth token`, `aws eks get-token` or `aws-iam-authenticator token`)
   * in process; share one across clusters to share its token providers. Default: a new one. `false`: exec for all.
   */
  authenticator?: EksAuthenticator | false;
}

/**
 * A @kubernetes/client-node KubeConfig for a ClusterProfile's cluster. An EKS provider is served in process (region and
 * cluster id from the exec args or the `client.authentication.k8s.io/exec` extension, which client-node's exec
 * support would not pass to a plugin); any other provider runs its exec plugin, as the reference library does.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { CoreV1Api } from '@kubernetes/client-node';
 * import { clusterKubeConfig, createEksAuthenticator, loadProvidersFile } from 'eksauth/inventory';
 * const providers = await loadProvidersFile('providers.json');
 * const shared = createEksAuthenticator(); // one for every cluster: its token providers are shared
 * const profile = JSON.parse(await readFile('cluster-profile.json', 'utf8'));
 * const kc = clusterKubeConfig(profile, providers, { authenticator: shared });
 * const { items } = await kc.makeApiClient(CoreV1Api).listNamespace(); // EKS: signed in process, no exec plugin
 * console.log(profile.metadata.name, items.map((namespace) => namespace.metadata?.name)); // → prod [ 'default' ]
 * ```
 */
export function clusterKubeConfig(profile: ClusterProfile, providers: ProvidersFile, options: ClusterKubeConfigOptions = {}): KubeConfig {
  const access = clusterAccess(profile, providers);
  const target = options.authenticator === false ? undefined : eksTarget(access);
  const kc = new KubeConfig();
  const user = target === undefined
    ? { name: access.name, exec: access.exec }
    : { name: access.name, authProvider: { name: AUTH_PROVIDER_NAME, config: targetConfig(target) } };
  kc.loadFromOptions({
    clusters: [{ name: access.name, server: access.server, skipTLSVerify: false, ...(access.certificateAuthorityData ? { caData: access.certificateAuthorityData } : {}), ...(access.proxyUrl ? { proxyUrl: access.proxyUrl } : {}) }],
    users: [user],
    contexts: [{ name: access.name, cluster: access.name, user: access.name }],
    currentContext: access.name,
  });
  if (target !== undefined) kc.addAuthenticator(options.authenticator || createEksAuthenticator());
  return kc;
}

/** The token an EKS provider's plugin would make for this cluster; undefined for other plugins. */
function eksTarget(access: ClusterAccess): ExecTokenTarget | undefined {
  const target = parseTokenExec(access.exec);
  if (target === undefined) return undefined;
  if (target.clusterName !== undefined || target.clusterId !== undefined) return target;
  const config = access.execClusterConfig as { region?: unknown; clusterId?: unknown } | undefined;
  if (typeof config?.clusterId !== 'string' || typeof config.region !== 'string') return undefined;
  return { ...target, clusterId: config.clusterId, region: config.region };
}
