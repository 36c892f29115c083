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
import { withDeadline } from './deadline.js';
import { Supervisor, stoppableWatch } from './informer.js';
import { loadKubeConfig } from './kube-access.js';
import type { KubernetesAccess } from './kubernetes-access.js';
import { SourceHolder, watchedSource, type SourceReporter, type WatchedSource } from './watched-source.js';

export interface ConfigMapSourceOptions {
  access: KubernetesAccess;
  /** API server URL that replaces the kubeconfig's (`--master`). */
  master?: string;
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
  const kubeConfig = loadKubeConfig(k8s, options.access, { who: 'the EKSConfigMap backend', ...(options.master === undefined ? {} : { master: options.master }) });
  const { namespace, name } = options;
  const holder = new SourceHolder(`configmap:${namespace}/${name}`, reporter);
  const versions = versionsInto(holder, options.parse ?? {});
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  const listTimeoutMs = options.listTimeoutMs ?? 10_000;
  const watch = stoppableWatch(k8s, kubeConfig);
  const supervisor = new Supervisor<K8s.V1ConfigMap>(holder, watch);
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
  const informer = new k8s.ListWatch<K8s.V1ConfigMap>(path, watch.watch, list, false, undefined, `metadata.name=${name}`);
  informer.on('add', versions.apply);
  informer.on('update', versions.apply);
  informer.on('delete', () => versions.absent('ConfigMap deleted: nobody is mapped by it'));
  supervisor.run(informer);
  return watchedSource(holder, () => supervisor.stop(informer));
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

/** The fields the aws-auth parser reads, as a plain object (the client's model classes carry extra properties). */
function normalize(configMap: ConfigMapLike): object {
  const { name, namespace } = configMap.metadata ?? {};
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: configMap.data ?? {} };
}
