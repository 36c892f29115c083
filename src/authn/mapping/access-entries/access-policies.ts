/**
 * The EKS access model beside the entries themselves: a cluster's authentication modes, and access policies: the AWS-managed, allow-only permission sets an access entry can be associated with
 * (`arn:<partition>:eks::aws:cluster-access-policy/<Name>`), and the scopes an association takes. The names are those
 * the EKS user guide lists ("Review access policy permissions"); EKS adds policies over time, so a name missing here
 * is a reason to update this list, not proof that EKS refuses it.
 */

/** The access policy names EKS documents, in the order `aws eks list-access-policies` sorts them (by name). */
export const EKS_ACCESS_POLICY_NAMES: readonly string[] = [
  'AmazonAIOpsAssistantPolicy',
  'AmazonARCRegionSwitchScalingPolicy',
  'AmazonEKSAdminPolicy',
  'AmazonEKSAdminViewPolicy',
  'AmazonEKSAutoNodePolicy',
  'AmazonEKSBlockStorageClusterPolicy',
  'AmazonEKSBlockStoragePolicy',
  'AmazonEKSClusterAdminPolicy',
  'AmazonEKSComputeClusterPolicy',
  'AmazonEKSComputePolicy',
  'AmazonEKSEditPolicy',
  'AmazonEKSHybridPolicy',
  'AmazonEKSLoadBalancingClusterPolicy',
  'AmazonEKSLoadBalancingPolicy',
  'AmazonEKSNetworkingClusterPolicy',
  'AmazonEKSNetworkingPolicy',
  'AmazonEKSViewPolicy',
];

/**
 * A cluster's `accessConfig.authenticationMode`, in the only order EKS lets it change (UpdateClusterConfig moves one
 * step right, never back): aws-auth only, both, access entries only.
 */
export const AUTHENTICATION_MODES = ['CONFIG_MAP', 'API_AND_CONFIG_MAP', 'API'] as const;
export type AuthenticationMode = (typeof AUTHENTICATION_MODES)[number];

export const ACCESS_SCOPE_TYPES = ['cluster', 'namespace'] as const;
export type AccessScopeType = (typeof ACCESS_SCOPE_TYPES)[number];

/** Where an associated access policy applies: the whole cluster, or the listed namespaces (`*` suffix wildcards allowed). */
export interface AccessScope {
  type: AccessScopeType;
  namespaces?: string[];
}

const POLICY_ARN = /^arn:(aws(?:-[a-z]+)*):eks::aws:cluster-access-policy\/([A-Za-z0-9]+)$/;

/**
 * The ARN of an EKS access policy in a partition.
 *
 * @example
 * ```ts
 * import { accessPolicyArn } from './access-policies.js';
 * accessPolicyArn('AmazonEKSClusterAdminPolicy'); // 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy'
 * ```
 */
export function accessPolicyArn(name: string, partition = 'aws'): string {
  return `arn:${partition}:eks::aws:cluster-access-policy/${name}`;
}

/**
 * Takes an access policy ARN apart; undefined unless it has the `cluster-access-policy` form and names a policy EKS
 * documents.
 *
 * @example
 * ```ts
 * import { parseAccessPolicyArn } from './access-policies.js';
 * parseAccessPolicyArn('arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy'); // { partition: 'aws', name: 'AmazonEKSViewPolicy' }
 * parseAccessPolicyArn('arn:aws:iam::aws:policy/AdministratorAccess'); // undefined: an IAM policy
 * ```
 */
export function parseAccessPolicyArn(arn: string): { partition: string; name: string } | undefined {
  const match = POLICY_ARN.exec(arn);
  if (match === null || !EKS_ACCESS_POLICY_NAMES.includes(match[2]!)) return undefined;
  return { partition: match[1]!, name: match[2]! };
}
