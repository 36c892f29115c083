/**
 * `eksauth/inventory`: clients for the clusters of a cluster inventory (kubernetes-sigs/cluster-inventory-api
 * ClusterProfiles and a providers file), with EKS clusters authenticated in process.
 */
export {
  parseProvidersFile,
  loadProvidersFile,
  clusterAccess,
  EXEC_EXTENSION,
  type ClusterProfile,
  type AccessProvider,
  type ProfileCluster,
  type ProvidersFile,
  type CredentialProvider,
  type ExecConfig,
  type ClusterAccess,
} from '../inventory/cluster-profile.js';
export { clusterKubeConfig, type ClusterKubeConfigOptions } from '../inventory/kubeconfig.js';
export { createEksAuthenticator, type EksAuthenticator, type EksAuthenticatorOptions } from '../client-node/authenticator.js';
