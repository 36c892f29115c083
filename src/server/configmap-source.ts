/**
 * The EKSConfigMap backend: the aws-auth ConfigMap, kept current with a list + watch informer from
 * `@kubernetes/client-node` (loaded only when this backend is configured).
 *
 * The informer resumes a dropped watch from the last resourceVersion and lists again when the server says that
 * version is gone (410). When the list or watch fails outright the informer stops; it is restarted here with a
 * back-off. A ConfigMap that does not parse leaves the last good version in service; a deleted (or absent) ConfigMap
 * maps nobody, which is what EKS does without one.
 */
import type * as K8s from '@kubernetes/client-node';
import { parseAwsAuthConfigMap } from '../authn/mapping/configmap/configmap.js';
import type { MappingSource } from '../authn/mapping/types.js';
import { EksAuthError } from '../errors.js';
import { SourceHolder, type SourceReporter, type WatchedSource } from './watched-source.js';

/** How to reach the Kubernetes API: a kubeconfig file, the pod's service account, or a server and token given directly. */
export type KubernetesAccess =
  | { kubeconfigPath: string }
  | { inCluster: true }
  | { server: string; caPem: string; token: string };

export interface ConfigMapSourceOptions {
  access: KubernetesAccess;
  namespace: string;
  name: string;
  /** Longest wait for a list before it counts as failed. Default 10 s. */
  listTimeoutMs?: number;
}

interface ConfigMapLike {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  data?: Record<string, string>;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/**
 * Starts watching the ConfigMap; resolves at once. The source reports `loaded` after the first successful list.
 *
 * @example
 * ```ts
 * const source = await watchAwsAuthConfigMap({ access: { inCluster: true }, namespace: 'kube-system', name: 'aws-auth' }, reporter);
 * source.state().loaded; // false until the first list succeeds
 * ```
 */
export async function watchAwsAuthConfigMap(options: ConfigMapSourceOptions, reporter: SourceReporter): Promise<WatchedSource> {
  const k8s = await import('@kubernetes/client-node');
  const kubeConfig = loadKubeConfig(k8s, options.access);
  const { namespace, name } = options;
  const holder = new SourceHolder(`configmap:${namespace}/${name}`, reporter);
  const empty = (): MappingSource => parseAwsAuthConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', data: {} }, holder.name);
  // Set while the ConfigMap is known not to exist, so that relists after a retry do not announce it again.
  let absent = false;
  const markAbsent = (why: string): void => {
    if (absent) return;
    absent = true;
    holder.accept(empty(), why);
  };
  const apply = (configMap: ConfigMapLike): void => {
    absent = false;
    try {
      holder.accept(parseAwsAuthConfigMap(normalize(configMap), holder.name), `resourceVersion ${configMap.metadata?.resourceVersion ?? '?'}`);
    } catch (err) {
      if (!(err instanceof EksAuthError)) throw err;
      holder.reject(err.message, 'invalid', { serveEmpty: empty() });
    }
  };
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  let retryMs = FIRST_RETRY_MS;
  const list = async (): Promise<K8s.KubernetesListObject<K8s.V1ConfigMap>> => {
    const result = await withTimeout(
      api.listNamespacedConfigMap({ namespace, fieldSelector: `metadata.name=${name}` }),
      options.listTimeoutMs ?? 10_000,
      `listing ConfigMap ${namespace}/${name}`,
    );
    retryMs = FIRST_RETRY_MS;
    // Present objects arrive as 'add' events right after this returns; an absent one produces none.
    if (!result.items.some((item) => item.metadata?.name === name)) markAbsent('no such ConfigMap: nobody is mapped by it');
    return result;
  };
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  const informer = new k8s.ListWatch<K8s.V1ConfigMap>(path, new k8s.Watch(kubeConfig), list, false, undefined, `metadata.name=${name}`);
  informer.on('add', apply);
  informer.on('update', apply);
  informer.on('delete', () => markAbsent('ConfigMap deleted: nobody is mapped by it'));
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const start = (): void => {
    informer.start().catch((err: unknown) => restartLater(err));
  };
  const restartLater = (err: unknown): void => {
    if (stopped) return;
    holder.transientFailure(`${describeError(err)}; retrying in ${Math.round(retryMs / 1000)} s`);
    clearTimeout(retry);
    retry = setTimeout(start, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  };
  informer.on('error', restartLater);
  start();
  return {
    name: holder.name,
    current: () => holder.current(),
    state: () => holder.state(),
    close: async () => {
      stopped = true;
      clearTimeout(retry);
      await informer.stop();
    },
  };
}

function loadKubeConfig(k8s: typeof K8s, access: KubernetesAccess): K8s.KubeConfig {
  const kubeConfig = new k8s.KubeConfig();
  if ('kubeconfigPath' in access) {
    kubeConfig.loadFromFile(access.kubeconfigPath);
  } else if ('inCluster' in access) {
    kubeConfig.loadFromCluster();
  } else {
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'api', server: access.server, caData: Buffer.from(access.caPem).toString('base64'), skipTLSVerify: false }],
      users: [{ name: 'eksauth', token: access.token }],
      contexts: [{ name: 'eksauth', cluster: 'api', user: 'eksauth' }],
      currentContext: 'eksauth',
    });
  }
  if (kubeConfig.getCurrentCluster() === null) {
    throw new EksAuthError('ERR_INVALID_CONFIG', 'The kubeconfig for the EKSConfigMap backend has no current cluster; pass --kubeconfig or run in a pod.');
  }
  return kubeConfig;
}

/** The fields the aws-auth parser reads, as a plain object (the client's model classes carry extra properties). */
function normalize(configMap: ConfigMapLike): object {
  const { name, namespace } = configMap.metadata ?? {};
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: configMap.data ?? {} };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A short, secret-free description: the client's errors can carry whole responses. */
function describeError(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const { statusCode, code } = err as { statusCode?: unknown; code?: unknown };
    const status = typeof statusCode === 'number' ? statusCode : typeof code === 'number' ? code : undefined;
    if (status !== undefined) return `the API server answered HTTP ${status}`;
    if (err instanceof Error) return err.message.split('\n')[0]?.slice(0, 200) ?? err.name;
  }
  return String(err).slice(0, 200);
}
