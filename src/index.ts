/**
 * eksauth's root entry: EKS bearer tokens inside a Node program. It loads signing code only — no EKS client, no
 * @kubernetes/client-node. The rest of the library lives behind subpaths: `eksauth/verify` (token verification and
 * identity mapping), `eksauth/kubeconfig` (update-kubeconfig), `eksauth/client-node` (in-process authentication for
 * @kubernetes/client-node), `eksauth/inventory` (cluster-inventory ClusterProfiles), `eksauth/eks` (the EKS API calls)
 * and `eksauth/server` (the TokenReview webhook).
 */
export { EksAuthError, isEksAuthError, ERROR_CODES, EXIT_STATUS, exitStatusOf, type ErrorCode, type EksAuthErrorOptions } from './errors.js';
export {
  getToken,
  createTokenProvider,
  type GetTokenOptions,
  type EksToken,
  type TokenProvider,
  type TokenProviderOptions,
  type AwsCredentialIdentity,
  type AwsCredentialIdentityProvider,
} from './api/token.js';
