/**
 * `eksauth/kubeconfig`: `aws eks update-kubeconfig` as functions — discover the cluster, build its entries, merge
 * them into a kubeconfig file keeping comments, and write it atomically under a lock.
 */
export {
  updateKubeconfig,
  updateKubeconfigForAllClusters,
  applyKubeconfigEntries,
  type UpdateKubeconfigOptions,
  type UpdateKubeconfigResult,
  type UpdateAllOptions,
  type ClusterOutcome,
  type UpdatedFile,
  type EksAccessOptions,
  type ApplyEntriesOptions,
} from '../kubeconfig/update.js';
export {
  buildKubeconfigEntries,
  renderNameTemplate,
  type KubeconfigEntries,
  type ClusterEntry,
  type UserEntry,
  type ContextEntry,
  type ExecEntry,
  type EntryOptions,
  type InteractiveMode,
  type NameVariables,
} from '../kubeconfig/entries.js';
export { kubeconfigPaths, loadKubeconfig, parseKubeconfig, type KubeconfigFile, type KubeconfigPathOptions } from '../kubeconfig/load.js';
export { mergeKubeconfigEntries, serializeKubeconfig, type MergeOptions, type MergeResult, type EntryChange } from '../kubeconfig/merge.js';
export type { FieldChange, EntryList } from '../kubeconfig/merge.js';
export type { KubeconfigStyle } from '../kubeconfig/load.js';
