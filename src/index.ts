// The public library API: re-exports only.
export { EksAuthError, isEksAuthError, ERROR_CODES, EXIT_STATUS, exitStatusOf, type ErrorCode, type EksAuthErrorOptions } from './errors.js';

export {
  TOKEN_PREFIX,
  CLUSTER_ID_HEADER,
  TOKEN_LIFETIME_MS,
  PRESIGNED_URL_LIFETIME_MS,
  encodeToken,
  decodeToken,
  compareQueryNames,
} from './token/format.js';
export { presignGetCallerIdentity, type PresignOptions } from './token/presign.js';
export { getToken, tokenExpiration, type GetTokenOptions, type EksToken } from './token/generate.js';
export {
  validateToken,
  MAX_TOKEN_LENGTH,
  DEFAULT_MAX_CLOCK_SKEW_SECONDS,
  MAX_EXPIRES_SECONDS,
  inspectToken,
  type TokenValidationOptions,
  type ValidatedToken,
} from './token/validate.js';
export { summarizeToken, decodeTokenDetails, type TokenSummary, type DecodedToken, type TokenTimeState } from './token/summary.js';
// Diagnostics: who the caller is to STS and EKS.
export { whoami, type WhoamiOptions, type WhoamiReport } from './diagnose/whoami.js';
export { doctor, type DoctorOptions, type DoctorReport, type DoctorCheck } from './diagnose/doctor.js';
export { credentialSource, type CredentialSource, type SourcedCredentials } from './aws/credential-source.js';

export { resolveStsEndpoint, stsHostsForRegion, stsHostsForOperatorRegion, configuredStsEndpoint, isRegionName, type StsEndpoint, type StsEndpointOptions } from './aws/sts-endpoint.js';
export { resolveAwsSettings, type AwsSettings, type AwsSettingsInput } from './aws/settings.js';
export { bypassesProxy, networkOptions, proxyFor, type NetworkFlags, type NetworkOptions } from './aws/network.js';
export {
  resolveBaseCredentials,
  type BaseCredentialOptions,
  type AwsCredentialIdentity,
  type AwsCredentialIdentityProvider,
} from './aws/credentials.js';
export { assumeRole, DEFAULT_ROLE_SESSION_NAME, type AssumeRoleOptions } from './aws/assume-role.js';

export {
  readExecInfo,
  clusterFromExecInfo,
  parseApiVersion,
  EXEC_API_V1,
  EXEC_API_V1BETA1,
  EXEC_API_V1ALPHA1,
  type ExecInfo,
  type ExecCluster,
  type ExecApiVersion,
  type ClusterProfileTarget,
} from './exec/exec-info.js';
export { toExecCredential, formatTimestamp, type ExecCredential } from './exec/exec-credential.js';

export { getCallerIdentity, type CallerIdentity, type GetCallerIdentityOptions } from './authn/get-caller-identity.js';
export { verifyToken, verdictScope, type VerifyTokenOptions, type VerifiedToken } from './authn/verify.js';

export { startEmulator, type Emulator, type EmulatorFault, type EmulatorStats, type EmulatorOptions } from './emulator/server.js';
export {
  loadEmulatorConfig,
  parseEmulatorConfig,
  DEMO_EMULATOR_CONFIG,
  type EmulatorConfig,
  type EmulatorIdentity,
  type EmulatorRole,
} from './emulator/config.js';

export { canonicalizeArn, toStsIdentity, type StsIdentity, type CanonicalArn, type IdentityArnKind } from './authn/arn.js';
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
} from './authn/mapping/types.js';
export { mapIdentity, orderByDefaultPrecedence, DEFAULT_PRECEDENCE, RESERVED_USERNAME_PREFIXES } from './authn/mapping/map-identity.js';
export { parseAwsAuthConfigMap } from './authn/mapping/configmap/configmap.js';
export { parseMappingFile } from './authn/mapping/file/mapping-file.js';
export { parseDynamicFile, type DynamicFileOptions } from './authn/mapping/dynamic-file/dynamic-file.js';
export { parseIdentityMappings, type IdentityMappings } from './authn/mapping/crd/identity-mappings.js';
export { parseFeatureGates, DEFAULT_FEATURE_GATES, type FeatureGates } from './authn/mapping/feature-gates.js';
export {
  parseAccessEntries,
  defaultStandardUsername,
  isNodeAccessEntryType,
  isServiceLinkedRoleArn,
  isSystemGroup,
  sessionTemplateWithoutColon,
  ACCESS_ENTRY_TYPES,
  NODE_ACCESS_ENTRY_DEFAULTS,
  type AccessEntryRecord,
  type NodeAccessEntryType,
} from './authn/mapping/access-entries/access-entries.js';
export {
  accessPolicyArn,
  parseAccessPolicyArn,
  EKS_ACCESS_POLICY_NAMES,
  ACCESS_SCOPE_TYPES,
  AUTHENTICATION_MODES,
  type AccessScope,
  type AccessScopeType,
  type AuthenticationMode,
} from './authn/mapping/access-entries/access-policies.js';
export { createEc2PrivateDnsResolver, type Ec2PrivateDnsResolverOptions } from './authn/mapping/ec2-private-dns.js';

// update-kubeconfig: EKS discovery, kubeconfig entries, comment-preserving merge, locked atomic writes.
export {
  describeCluster,
  listClusters,
  listEnabledRegions,
  discoverClusters,
  assertClusterUsable,
  USABLE_CLUSTER_STATUSES,
  type EksCluster,
  type EksClientOptions,
  type DiscoveredCluster,
  type RegionFailure,
  type DiscoveryProgress,
  type DiscoverClustersOptions,
} from './aws/eks.js';
// The EKS access-entry API (access entries, access policies, authenticationMode).
export {
  listAccessEntries,
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
} from './aws/access-entries.js';
// The move from aws-auth to access entries (`eksauth access plan|apply|check`).
export {
  planAccessEntries,
  isServiceLinkedRole,
  type AccessPlan,
  type PlannedEntry,
  type PlannedPolicy,
  type PlanWarning,
  type PlanOptions,
  type ExistingAccessEntry,
} from './access/plan.js';
export { applyAccessPlan, readAccessEntries, readAccessPlan, type AppliedStep, type ApplyOptions } from './access/apply.js';
export { checkAccessSwitch, type AccessCheck, type PrincipalCheck, type PrincipalAccess, type AccessVerdict } from './access/check.js';
export { readAwsAuthText, fetchAwsAuth } from './access/aws-auth.js';
export {
  kubeconfigPaths,
  parseKubeconfig,
  loadKubeconfig,
  chooseKubeconfig,
  hasCluster,
  newKubeconfigDocument,
  type KubeconfigFile,
  type KubeconfigStyle,
  type KubeconfigPathOptions,
} from './kubeconfig/load.js';
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
} from './kubeconfig/entries.js';
export {
  mergeKubeconfigEntries,
  serializeKubeconfig,
  type MergeOptions,
  type MergeResult,
  type EntryChange,
  type EntryList,
  type FieldChange,
} from './kubeconfig/merge.js';
export { withFileLock, type LockOptions } from './kubeconfig/lock.js';
export { resolveWriteTarget, writeFileAtomic } from './kubeconfig/write.js';
export {
  applyKubeconfigEntries,
  updateKubeconfig,
  updateKubeconfigForAllClusters,
  DESCRIBE_CLUSTER_SESSION_NAME,
  type ApplyEntriesOptions,
  type UpdatedFile,
  type EksAccessOptions,
  type UpdateKubeconfigOptions,
  type UpdateKubeconfigResult,
  type UpdateAllOptions,
  type ClusterOutcome,
} from './kubeconfig/update.js';
export type { EmulatorCluster, EmulatorOutpostConfig, EmulatorClusterStatus } from './emulator/config.js';

// eksauth server: the TokenReview webhook (src/server/).
export { startServer, type StartServerOptions, type RunningServer } from './server/run.js';
export {
  resolveServerConfig,
  loadServerConfigFile,
  parseServerConfigFile,
  readEmbeddedMappings,
  parseDuration,
  parseBackendModes,
  checkBackendModes,
  backendModeWarnings,
  BACKEND_MODES,
  parseConfigMapRef,
  DEFAULT_WEBHOOK_PORT,
  DEFAULT_OPS_PORT,
  type ServerConfig,
  type ServerConfigInput,
  type ConfigFile,
  type BackendMode,
  type LogLevel,
} from './server/config.js';
export {
  initServerFiles,
  loadOrCreateServingCertificate,
  buildWebhookKubeconfig,
  writeWebhookKubeconfig,
  webhookUrl,
  CERT_FILENAME,
  KEY_FILENAME,
  WEBHOOK_PATH,
  type InitResult,
  type ServingCertificate,
} from './server/init.js';
export {
  parseTokenReviewRequest,
  tokenReviewResponse,
  TOKEN_REVIEW_API_VERSIONS,
  type TokenReviewApiVersion,
  type TokenReviewRequest,
} from './server/webhook.js';
export { createTokenReviewer, type ReviewResult, type TokenReviewer, type TokenReviewerDeps } from './server/review.js';
export { createStsPool, type StsPool } from './server/sts-pool.js';
export { createReviewCache, type ReviewCache, type ReviewCacheOptions, type Verified, type CacheAnswer } from './server/review-cache.js';
export { startServerMappings, type ServerMappings, type ServerMappingsOptions } from './server/mappings.js';
export type { KubernetesAccess } from './server/kubernetes-access.js';
export { parseBackendModeFile } from './server/backend-mode-file.js';
export {
  createServerMetrics,
  type ServerMetrics,
  type ReviewOutcome,
  type CacheResult,
  type MappingSourceState,
  type ListenerName,
  type ConnectionCloseReason,
} from './server/metrics.js';
export { createLogger, type Logger, type LogDestination } from './server/logger.js';
export { createSelfSignedCertificate, type SelfSignedCertificate, type SelfSignedCertificateOptions } from './server/tls.js';
