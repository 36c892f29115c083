import { EksAuthError } from '../errors.js';

export const EXEC_API_V1 = 'client.authentication.k8s.io/v1';
export const EXEC_API_V1BETA1 = 'client.authentication.k8s.io/v1beta1';
export const EXEC_API_V1ALPHA1 = 'client.authentication.k8s.io/v1alpha1';
export type ExecApiVersion = typeof EXEC_API_V1 | typeof EXEC_API_V1BETA1 | typeof EXEC_API_V1ALPHA1;

/** What client-go tells an exec plugin through KUBERNETES_EXEC_INFO, reduced to what eksauth uses. */
export interface ExecInfo {
  /** The ExecCredential version to answer in (client-go rejects any other). */
  apiVersion: ExecApiVersion;
  /** Whether stdin is a terminal the plugin may prompt on; undefined when the client did not say. */
  interactive?: boolean;
  /** `spec.cluster`, present when the kubeconfig sets `provideClusterInfo: true`. */
  cluster?: ExecCluster;
  /** Messages for stderr about how the input was read (never for stdout). */
  warnings: string[];
}

export interface ExecCluster {
  server?: string;
  /** The `client.authentication.k8s.io/exec` cluster extension; null in the payload is read as absent. */
  config?: unknown;
}

const SUPPORTED = new Set<string>([EXEC_API_V1, EXEC_API_V1BETA1]);

/**
 * Reads KUBERNETES_EXEC_INFO with aws-cli's rules: unset or empty → v1beta1 silently; v1 and v1beta1 echoed;
 * v1alpha1 echoed with a deprecation warning; unparseable JSON or an unknown version → v1beta1 with a warning.
 *
 * @example
 * ```ts
 * import { readExecInfo } from './exec-info.js';
 * readExecInfo('{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}').apiVersion;
 * // 'client.authentication.k8s.io/v1'
 * ```
 */
export function readExecInfo(raw: string | undefined): ExecInfo {
  if (raw === undefined || raw.trim() === '') return { apiVersion: EXEC_API_V1BETA1, warnings: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return {
      apiVersion: EXEC_API_V1BETA1,
      warnings: [
        `Error parsing KUBERNETES_EXEC_INFO, defaulting to ${EXEC_API_V1BETA1}. This is likely a bug in your Kubernetes client. Please update your Kubernetes client.`,
      ],
    };
  }
  const input = isObject(parsed) ? parsed : {};
  const spec = isObject(input.spec) ? input.spec : {};
  return {
    ...chooseApiVersion(input.apiVersion),
    ...(typeof spec.interactive === 'boolean' ? { interactive: spec.interactive } : {}),
    ...(isObject(spec.cluster) ? { cluster: readCluster(spec.cluster) } : {}),
  };
}

function chooseApiVersion(apiVersion: unknown): Pick<ExecInfo, 'apiVersion' | 'warnings'> {
  if (typeof apiVersion === 'string' && SUPPORTED.has(apiVersion)) {
    return { apiVersion: apiVersion as ExecApiVersion, warnings: [] };
  }
  if (apiVersion === EXEC_API_V1ALPHA1) {
    return {
      apiVersion: EXEC_API_V1ALPHA1,
      warnings: [
        `Kubeconfig user entry is using deprecated API version ${EXEC_API_V1ALPHA1}. Run 'eksauth update-kubeconfig' to update.`,
      ],
    };
  }
  return {
    apiVersion: EXEC_API_V1BETA1,
    warnings: [
      `Unrecognized API version in KUBERNETES_EXEC_INFO, defaulting to ${EXEC_API_V1BETA1}. This is likely due to an outdated eksauth. Please update eksauth.`,
    ],
  };
}

function readCluster(cluster: Record<string, unknown>): ExecCluster {
  return {
    ...(typeof cluster.server === 'string' ? { server: cluster.server } : {}),
    ...(cluster.config === undefined || cluster.config === null ? {} : { config: cluster.config }),
  };
}

/** Accepts `v1`, `v1beta1`, `v1alpha1` or the full `client.authentication.k8s.io/…` form. */
export function parseApiVersion(value: string): ExecApiVersion {
  const full = value.includes('/') ? value : `client.authentication.k8s.io/${value}`;
  if (full === EXEC_API_V1 || full === EXEC_API_V1BETA1 || full === EXEC_API_V1ALPHA1) return full;
  throw new EksAuthError(
    'ERR_INVALID_API_VERSION',
    `"${value}" is not an ExecCredential API version: use v1 or v1beta1 (${EXEC_API_V1}, ${EXEC_API_V1BETA1})`,
  );
}

/** Region and cluster id that a cluster-inventory ClusterProfile passes in its exec extension. */
export interface ClusterProfileTarget {
  region: string;
  clusterId: string;
}

const NEEDS_CLUSTER_INFO =
  'set `provideClusterInfo: true` in the exec block and add the client.authentication.k8s.io/exec cluster extension ' +
  'with region and clusterId (or pass --cluster-name and --region)';

/**
 * Reads `region` and `clusterId` from `spec.cluster.config`, with the error strings of the cluster-inventory-api
 * EKS plugin, each followed by what to change.
 *
 * @example
 * ```ts
 * import { readExecInfo, clusterFromExecInfo } from './exec-info.js';
 * const info = readExecInfo(process.env.KUBERNETES_EXEC_INFO);
 * const { region, clusterId } = clusterFromExecInfo(info, process.env.KUBERNETES_EXEC_INFO);
 * ```
 */
export function clusterFromExecInfo(info: ExecInfo, raw: string | undefined): ClusterProfileTarget {
  if (raw === undefined || raw.trim() === '') {
    throw new EksAuthError(
      'ERR_NO_CLUSTER',
      'no cluster given: pass --cluster-name NAME (--cluster-id ID for Outposts local clusters), or run under a ' +
        'ClusterProfile with provideClusterInfo: true (KUBERNETES_EXEC_INFO is empty)',
    );
  }
  if (info.cluster === undefined) {
    throw new EksAuthError('ERR_EXEC_INFO', `ExecCredential does not contain cluster information: ${NEEDS_CLUSTER_INFO}`);
  }
  const config = info.cluster.config;
  if (config === undefined || (isObject(config) && Object.keys(config).length === 0)) {
    throw new EksAuthError('ERR_EXEC_INFO', `missing ExecCredential.Spec.Cluster.Config (extensions): ${NEEDS_CLUSTER_INFO}`);
  }
  if (!isObject(config)) {
    throw new EksAuthError(
      'ERR_EXEC_INFO',
      `invalid extensions config: expected an object with region and clusterId, got ${Array.isArray(config) ? 'an array' : typeof config}`,
    );
  }
  const { region, clusterId } = config;
  if (typeof region !== 'string' || region === '' || typeof clusterId !== 'string' || clusterId === '') {
    throw new EksAuthError(
      'ERR_EXEC_INFO',
      'extensions must include region and clusterId: add both as non-empty strings to the client.authentication.k8s.io/exec extension',
    );
  }
  return { region, clusterId };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
