/**
 * `eksauth/eks`: the EKS API calls eksauth makes (cluster discovery, access entries), on @aws-sdk/client-eks, an
 * optional peer dependency loaded on first use.
 */
export {
  describeCluster,
  listClusters,
  discoverClusters,
  type EksCluster,
  type EksClientOptions,
  type DiscoveredCluster,
  type DiscoverClustersOptions,
} from '../aws/eks.js';
export {
  listAccessEntries,
  describeAccessEntries,
  describeAccessEntry,
  createAccessEntry,
  updateAccessEntry,
  deleteAccessEntry,
  associateAccessPolicy,
  disassociateAccessPolicy,
  listAssociatedAccessPolicies,
  listAccessPolicies,
  updateAuthenticationMode,
  type AccessEntry,
  type CreateAccessEntryInput,
  type AssociatedAccessPolicy,
} from '../aws/access-entries.js';
export type { RegionFailure, DiscoveryProgress } from '../aws/eks.js';
export { ACCESS_SCOPE_TYPES, type AccessScope, type AccessScopeType } from '../authn/mapping/access-entries/access-policies.js';
export type { NetworkOptions } from '../aws/network.js';
