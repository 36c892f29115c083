/**
 * Where `eksauth access` reads aws-auth from: a file (the ConfigMap manifest, or its three sections at the top level,
 * as a mapping file has them), or the cluster's `kube-system/aws-auth` through the Kubernetes API.
 */
import type { AwsAuthSections } from '../authn/mapping/aws-auth-format.js';
import { readConfigMapSections } from '../authn/mapping/configmap/configmap.js';
import { isPlainObject, parseYamlStrings } from '../authn/mapping/fields.js';
import { EksAuthError } from '../errors.js';
import { loadKubeConfig } from '../server/kube-access.js';
import type { KubernetesAccess } from '../server/kubernetes-access.js';

/**
 * The aws-auth sections of a file's text: a ConfigMap manifest (`kind: ConfigMap`), or `mapRoles`/`mapUsers`/
 * `mapAccounts` at the top level.
 *
 * @example
 * ```ts
 * import { readAwsAuthText } from './aws-auth.js';
 * readAwsAuthText('mapAccounts: ["444455556666"]\n', 'aws-auth.yaml'); // { mapAccounts: ['444455556666'] }
 * ```
 */
export function readAwsAuthText(text: string, where: string): AwsAuthSections {
  const doc = parseYamlStrings(text, where);
  if (isPlainObject(doc) && ('kind' in doc || 'data' in doc)) return readConfigMapSections(doc, where).sections;
  if (doc === undefined || doc === null || doc === '') return {};
  if (!isPlainObject(doc)) throw new EksAuthError('ERR_INVALID_MAPPING', `${where} is neither an aws-auth ConfigMap nor mapRoles/mapUsers/mapAccounts`);
  const { mapRoles, mapUsers, mapAccounts } = doc as AwsAuthSections;
  return { mapRoles, mapUsers, mapAccounts };
}

/**
 * The `kube-system/aws-auth` ConfigMap's sections, read through the Kubernetes API; `{}` when the cluster has none.
 *
 * @example
 * ```ts
 * import { fetchAwsAuth } from './aws-auth.js';
 * const sections = await fetchAwsAuth({ kubeconfigPath: '/home/me/.kube/config' }, 'prod');
 * ```
 */
export async function fetchAwsAuth(access: KubernetesAccess, context?: string): Promise<AwsAuthSections> {
  const k8s = await import('@kubernetes/client-node');
  const kubeConfig = loadKubeConfig(k8s, access, { who: 'reading aws-auth' });
  if (context !== undefined) kubeConfig.setCurrentContext(context);
  const api = kubeConfig.makeApiClient(k8s.CoreV1Api);
  try {
    const configMap = await api.readNamespacedConfigMap({ namespace: 'kube-system', name: 'aws-auth' });
    return readConfigMapSections(configMap, 'configmap kube-system/aws-auth').sections;
  } catch (err) {
    if ((err as { code?: unknown }).code === 404) return {};
    const why = err instanceof Error ? err.message.split('\n')[0]?.slice(0, 200) : String(err);
    throw new EksAuthError('ERR_INVALID_CONFIG', `cannot read kube-system/aws-auth from the cluster (${why}); check the kubeconfig and your RBAC, or pass --aws-auth FILE`);
  }
}
