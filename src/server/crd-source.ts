/**
 * The CRD backend: the cluster's `IAMIdentityMapping` resources, kept current with a list + watch informer from
 * `@kubernetes/client-node` (loaded only when this backend is configured), restarted with a back-off as the
 * ConfigMap's is. Every change rebuilds the source from all resources; resources that do not parse are left out and
 * reported (by location and kind of problem, never by content), and the source is unhealthy while there are any.
 */
import type * as K8s from '@kubernetes/client-node';
import {
  IAM_IDENTITY_MAPPING_GROUP,
  IAM_IDENTITY_MAPPING_PLURAL,
  IAM_IDENTITY_MAPPING_VERSION,
  parseIdentityMappings,
} from '../authn/mapping/crd/identity-mappings.js';
import { withDeadline } from './deadline.js';
import { Supervisor, stoppableWatch } from './informer.js';
import { loadKubeConfig } from './kube-access.js';
import type { KubernetesAccess } from './kubernetes-access.js';
import { SourceHolder, watchedSource, type SourceReporter, type WatchedSource } from './watched-source.js';

export interface CrdSourceOptions {
  access: KubernetesAccess;
  /** API server URL that replaces the kubeconfig's (`--master`). */
  master?: string;
  /** Longest wait for a list before it counts as failed. Default 10 s. */
  listTimeoutMs?: number;
}

type IdentityMappingObject = K8s.KubernetesObject & { spec?: unknown };

/**
 * Starts watching the IAMIdentityMapping resources; resolves at once. The source reports `loaded` after the first
 * successful list.
 *
 * @example
 * ```ts
 * const source = await watchIdentityMappings({ access: { discover: true } }, reporter);
 * source.state().loaded; // false until the first list succeeds
 * ```
 */
export async function watchIdentityMappings(options: CrdSourceOptions, reporter: SourceReporter): Promise<WatchedSource> {
  const k8s = await import('@kubernetes/client-node');
  const kubeConfig = loadKubeConfig(k8s, options.access, { who: 'the CRD backend', ...(options.master === undefined ? {} : { master: options.master }) });
  const holder = new SourceHolder(`crd:${IAM_IDENTITY_MAPPING_PLURAL}.${IAM_IDENTITY_MAPPING_GROUP}`, reporter);
  const api = kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  const listTimeoutMs = options.listTimeoutMs ?? 10_000;
  const watch = stoppableWatch(k8s, kubeConfig);
  const supervisor = new Supervisor<IdentityMappingObject>(holder, watch);
  const objects = new Map<string, IdentityMappingObject>();
  const rebuild = coalesced(() => serve(holder, [...objects.values()]));
  const list = async (): Promise<K8s.KubernetesListObject<IdentityMappingObject>> => {
    const request = api.listClusterCustomObject({ group: IAM_IDENTITY_MAPPING_GROUP, version: IAM_IDENTITY_MAPPING_VERSION, plural: IAM_IDENTITY_MAPPING_PLURAL });
    const result = await withDeadline(request as Promise<K8s.KubernetesListObject<IdentityMappingObject>>, listTimeoutMs, () => {
      throw new Error(`listing ${IAM_IDENTITY_MAPPING_PLURAL} took longer than ${listTimeoutMs} ms (is deploy/iamidentitymapping.yaml applied?)`);
    });
    if (supervisor.stopped) throw new Error('the IAMIdentityMapping watch was stopped');
    supervisor.succeeded();
    // The listed objects arrive as events right after this returns; an empty list produces none, so serve it here too.
    rebuild();
    return result;
  };
  const path = `/apis/${IAM_IDENTITY_MAPPING_GROUP}/${IAM_IDENTITY_MAPPING_VERSION}/${IAM_IDENTITY_MAPPING_PLURAL}`;
  const informer = new k8s.ListWatch<IdentityMappingObject>(path, watch.watch, list, false);
  const put = (object: IdentityMappingObject): void => {
    objects.set(object.metadata?.name ?? '', object);
    rebuild();
  };
  informer.on('add', put);
  informer.on('update', put);
  informer.on('delete', (object) => {
    objects.delete(object.metadata?.name ?? '');
    rebuild();
  });
  supervisor.run(informer);
  return watchedSource(holder, () => supervisor.stop(informer));
}

/** Serves the resources that parse; those that do not are skipped with a warning each (the source's `problems`). */
function serve(holder: SourceHolder, objects: readonly IdentityMappingObject[]): void {
  const { source } = parseIdentityMappings(objects.map(({ metadata, spec }) => ({ metadata: { name: metadata?.name }, spec })), holder.name);
  holder.accept(source, `${objects.length} IAMIdentityMapping resources`);
}

/**
 * Runs `rebuild` once after a burst of calls: a relist delivers one event per resource, synchronously after the list
 * returns; `setImmediate` runs after all of them (a microtask would run before).
 */
function coalesced(rebuild: () => void): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      rebuild();
    });
  };
}
