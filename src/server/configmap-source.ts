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
import type { AwsAuthParseOptions, MappingSource } from '../authn/mapping/types.js';
import { EksAuthError } from '../errors.js';
import { withDeadline } from './deadline.js';
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
  /** How rows are read (the SSORoleMatch feature gate). */
  parse?: AwsAuthParseOptions;
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
  const versions = versionsInto(holder, options.parse ?? {});
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const listTimeoutMs = options.listTimeoutMs ?? 10_000;
  const supervisor = new Supervisor(holder);
  const list = async (): Promise<K8s.KubernetesListObject<K8s.V1ConfigMap>> => {
    const result = await withDeadline(api.listNamespacedConfigMap({ namespace, fieldSelector: `metadata.name=${name}` }), listTimeoutMs, () => {
      throw new Error(`listing ConfigMap ${namespace}/${name} took longer than ${listTimeoutMs} ms`);
    });
    // A list that finishes after close() must not let the informer open a new watch.
    if (supervisor.stopped) throw new Error('the ConfigMap watch was stopped');
    supervisor.succeeded();
    // Present objects arrive as 'add' events right after this returns; an absent one produces none.
    if (!result.items.some((item) => item.metadata?.name === name)) versions.absent('no such ConfigMap: nobody is mapped by it');
    return result;
  };
  const path = `/api/v1/namespaces/${namespace}/configmaps`;
  const informer = new k8s.ListWatch<K8s.V1ConfigMap>(path, new k8s.Watch(kubeConfig), list, false, undefined, `metadata.name=${name}`);
  informer.on('add', versions.apply);
  informer.on('update', versions.apply);
  informer.on('delete', () => versions.absent('ConfigMap deleted: nobody is mapped by it'));
  supervisor.run(informer);
  return {
    name: holder.name,
    current: () => holder.current(),
    state: () => holder.state(),
    close: () => supervisor.stop(informer),
  };
}

/** Turns informer events into served versions: a ConfigMap parsed, or (deleted, absent, first one invalid) no rows. */
function versionsInto(holder: SourceHolder, parseOptions: AwsAuthParseOptions): { apply: (configMap: ConfigMapLike) => void; absent: (why: string) => void } {
  const empty = (): MappingSource => parseAwsAuthConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', data: {} }, holder.name);
  // Set while the ConfigMap is known not to exist, so that relists after a retry do not announce it again.
  let absent = false;
  return {
    apply: (configMap) => {
      absent = false;
      const manifest = normalize(configMap);
      // Relists and resumed watches deliver the same content again; only a change is parsed and announced.
      holder.offer(JSON.stringify(manifest), `resourceVersion ${configMap.metadata?.resourceVersion ?? '?'}`,
        () => parseAwsAuthConfigMap(manifest, holder.name, parseOptions), { serveEmpty: empty() });
    },
    absent: (why) => {
      if (absent) return;
      absent = true;
      holder.accept(empty(), why);
    },
  };
}

/** Restarts the informer with a growing back-off when its list or watch fails outright (it stops itself then). */
class Supervisor {
  stopped = false;
  private retryMs = FIRST_RETRY_MS;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly holder: SourceHolder) {}

  run(informer: K8s.ListWatch<K8s.V1ConfigMap>): void {
    const start = (): void => {
      informer.start().catch(restartLater);
    };
    const restartLater = (err: unknown): void => {
      if (this.stopped) return;
      this.holder.transientFailure(`${describeError(err)}; retrying in ${Math.round(this.retryMs / 1000)} s`);
      clearTimeout(this.retry);
      this.retry = setTimeout(start, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
    informer.on('error', restartLater);
    start();
  }

  succeeded(): void {
    this.retryMs = FIRST_RETRY_MS;
  }

  async stop(informer: K8s.ListWatch<K8s.V1ConfigMap>): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await informer.stop();
  }
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
