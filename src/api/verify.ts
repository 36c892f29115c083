/**
 * `eksauth/verify`: checking `k8s-aws-v1.` tokens and mapping the IAM identity behind them to a Kubernetes user, as
 * aws-iam-authenticator's server does, without running a server (a custom webhook, a gateway, an admission hook).
 */
export { verifyToken, verdictScope, type VerifyTokenOptions, type VerifiedToken } from '../authn/verify.js';
export {
  validateToken,
  inspectToken,
  MAX_TOKEN_LENGTH,
  DEFAULT_MAX_CLOCK_SKEW_SECONDS,
  type TokenValidationOptions,
  type ValidatedToken,
} from '../token/validate.js';
export { decodeTokenDetails, summarizeToken, type DecodedToken, type TokenSummary, type TokenTimeState } from '../token/summary.js';
export { canonicalizeArn, toStsIdentity, type StsIdentity, type CanonicalArn, type IdentityArnKind } from '../authn/arn.js';
export type {
  KubernetesUser,
  MappingRow,
  MappingSource,
  MappingSourceKind,
  MapResult,
  MapOptions,
  AccessEntryType,
  AwsAuthParseOptions,
  MappingProblem,
  MappingProblemKind,
  SsoRoleMatch,
} from '../authn/mapping/types.js';
export { mapIdentity, orderByDefaultPrecedence, DEFAULT_PRECEDENCE, RESERVED_USERNAME_PREFIXES } from '../authn/mapping/map-identity.js';
export { parseAwsAuthConfigMap } from '../authn/mapping/configmap/configmap.js';
export { parseMappingFile } from '../authn/mapping/file/mapping-file.js';
export { parseDynamicFile, type DynamicFileOptions } from '../authn/mapping/dynamic-file/dynamic-file.js';
export { parseIdentityMappings, type IdentityMappings } from '../authn/mapping/crd/identity-mappings.js';
export { parseFeatureGates, DEFAULT_FEATURE_GATES, type FeatureGates } from '../authn/mapping/feature-gates.js';
export { parseAccessEntries, type AccessEntryRecord, type NodeAccessEntryType } from '../authn/mapping/access-entries/access-entries.js';
export { createEc2PrivateDnsResolver, type Ec2PrivateDnsResolverOptions } from '../authn/mapping/ec2-private-dns.js';
export type { BatchOptions } from '../authn/mapping/ec2-batch.js';
