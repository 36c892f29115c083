/**
 * How to reach the Kubernetes API: a kubeconfig file, the pod's service account, the discovery of
 * `kube-access.ts`, or a server and token given directly. A file of its own, without `@kubernetes/client-node`'s
 * types, so that the library's declarations compile without that optional peer dependency installed.
 *
 * @example
 * ```ts
 * const access: KubernetesAccess = { kubeconfigPath: '/etc/kubernetes/admin.conf' };
 * ```
 */
export type KubernetesAccess =
  | { kubeconfigPath: string }
  | { inCluster: true }
  | { discover: true }
  | { server: string; caPem: string; token: string };
