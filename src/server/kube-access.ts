/**
 * How the backends that read the Kubernetes API (EKSConfigMap, CRD) reach it, resolved once at start so that a server
 * that cannot reach the API fails at once with one line naming the flag, instead of retrying an unusable address
 * ("Invalid URL") for ever.
 *
 * Without `--kubeconfig`, as aws-iam-authenticator (client-go) does: the pod's service account when running in a pod;
 * outside a pod, client-go's default loading rules, `KUBECONFIG` (a list of files, merged) else `~/.kube/config`.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type * as K8s from '@kubernetes/client-node';
import { EksAuthError } from '../errors.js';

import type { KubernetesAccess } from './kubernetes-access.js';

export interface KubeConfigOptions {
  /** The backend that needs the API, for messages: e.g. `the EKSConfigMap backend`. */
  who: string;
  /** API server URL that replaces the kubeconfig's (aws-iam-authenticator's `--master`). */
  master?: string;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';
const FLAG = 'pass --kubeconfig (server.kubeconfig in a config file)';

/**
 * Loads the client configuration for `access`, checking that it names a usable API server URL.
 *
 * @example
 * ```ts
 * const k8s = await import('@kubernetes/client-node');
 * const kubeConfig = loadKubeConfig(k8s, { discover: true }, { who: 'the CRD backend' });
 * kubeConfig.getCurrentCluster()?.server; // e.g. https://10.100.0.1:443 in a pod
 * ```
 */
export function loadKubeConfig(k8s: typeof K8s, access: KubernetesAccess, options: KubeConfigOptions): K8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  const resolved = 'discover' in access ? discoverAccess(options.who) : access;
  try {
    loadInto(kubeConfig, resolved);
  } catch (err) {
    const problem = err instanceof Error ? err.message.split('\n')[0]?.slice(0, 200) : String(err);
    throw new EksAuthError('ERR_INVALID_CONFIG', `Cannot load the kubeconfig for ${options.who} (${problem}); fix it or ${FLAG}.`);
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new EksAuthError('ERR_INVALID_CONFIG', `The kubeconfig for ${options.who} has no current cluster; set current-context or ${FLAG}.`);
  const server = options.master ?? cluster.server;
  if (!URL.canParse(server) || !['https:', 'http:'].includes(new URL(server).protocol)) {
    throw new EksAuthError('ERR_INVALID_CONFIG', `The API server address for ${options.who}, "${server.slice(0, 100)}", is not an http(s) URL; fix the kubeconfig or pass --master.`);
  }
  if (options.master !== undefined) replaceServer(kubeConfig, cluster.name, options.master);
  return kubeConfig;
}

/** The pod's service account in a pod; else KUBECONFIG or ~/.kube/config; else an error naming the flag. */
function discoverAccess(who: string): Exclude<KubernetesAccess, { discover: true }> | { defaultRules: true } {
  if (inPod()) return { inCluster: true };
  const listed = (process.env.KUBECONFIG ?? '').split(delimiter).filter((file) => file !== '');
  if (listed.length > 0 || existsSync(join(homedir(), '.kube', 'config'))) return { defaultRules: true };
  throw new EksAuthError('ERR_INVALID_CONFIG',
    `Cannot reach the Kubernetes API for ${who}: this is not a pod (KUBERNETES_SERVICE_HOST is unset), KUBECONFIG is unset and there is no ~/.kube/config; ${FLAG}.`);
}

function inPod(): boolean {
  return (process.env.KUBERNETES_SERVICE_HOST ?? '') !== '' && (process.env.KUBERNETES_SERVICE_PORT ?? '') !== '' && existsSync(SERVICE_ACCOUNT_TOKEN);
}

function loadInto(kubeConfig: K8s.KubeConfig, access: Exclude<KubernetesAccess, { discover: true }> | { defaultRules: true }): void {
  if ('kubeconfigPath' in access) kubeConfig.loadFromFile(access.kubeconfigPath);
  else if ('inCluster' in access) kubeConfig.loadFromCluster();
  else if ('defaultRules' in access) kubeConfig.loadFromDefault();
  else {
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'api', server: access.server, caData: Buffer.from(access.caPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'eksauth', token: access.token }],
      contexts: [{ name: 'eksauth', cluster: 'api', user: 'eksauth' }],
      currentContext: 'eksauth',
    });
  }
}

function replaceServer(kubeConfig: K8s.KubeConfig, clusterName: string, server: string): void {
  kubeConfig.clusters = kubeConfig.clusters.map((cluster) => (cluster.name === clusterName ? { ...cluster, server } : cluster));
}
