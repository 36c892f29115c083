/**
 * The contract between mapping sources (aws-auth ConfigMap, mapping file, access entries, or your own) and
 * {@link mapIdentity}, which runs them in precedence order and turns the winning row into a Kubernetes user.
 */
import type { StsIdentity } from '../arn.js';

/** What the webhook puts in `TokenReview.status.user`. */
export interface KubernetesUser {
  username: string;
  /** `aws-iam-authenticator:<account>:<principal id>`, as the reference server, so RBAC/audit see the same uid. */
  uid: string;
  groups: string[];
  /** Exactly the keys aws-iam-authenticator sets: `arn`, `canonicalArn`, `sessionName`, `accessKeyId`, `principalId`,
   * `sigs.k8s.io/aws-iam-authenticator/principalId`. */
  extra: Record<string, string[]>;
}

/** The access-entry types EKS knows. Everything but `STANDARD` is a node type. */
export type AccessEntryType =
  | 'STANDARD'
  | 'EC2_LINUX'
  | 'EC2_WINDOWS'
  | 'FARGATE_LINUX'
  | 'EC2'
  | 'HYBRID_LINUX'
  | 'HYPERPOD_LINUX';

/**
 * One mapping as a source stores it: who it is for, and the username and group **templates** (rendered later by
 * {@link mapIdentity} with the caller's identity).
 */
export interface MappingRow {
  /** Name of the source it came from, e.g. `access-entries`, `aws-auth`, `file:/etc/eksauth/mapping.yaml`. */
  source: string;
  /**
   * The principal ARN as written in the source (path included). Absent for account rows, and may be absent from rows
   * matched on `principalId`.
   */
  arn?: string;
  /**
   * The principal's unique id (`AROA…`, `AIDA…`; DynamicFile's `userid`). Sources that match on it refuse a caller
   * whose id differs, so a role deleted and re-created under the same name is not the old role.
   */
  principalId?: string;
  /**
   * Set for `mapAccounts` rows: every principal of this account maps to its own canonical ARN, with no groups. In
   * `candidates()` such a row has an empty username; `match()` returns it with the caller's ARN filled in.
   */
  account?: string;
  username: string;
  groups: string[];
  /** Set by access-entry sources: node types get EKS's built-in node username and groups. */
  accessEntryType?: AccessEntryType;
  /** Set for aws-auth `sso` rows: matches the permission set's `AWSReservedSSO_<name>_<suffix>` role, any suffix. */
  sso?: SsoRoleMatch;
}

/** An aws-auth `mapRoles` row's `sso` field (aws-iam-authenticator's `SSORoleMatch` feature gate). */
export interface SsoRoleMatch {
  permissionSetName: string;
  accountId: string;
  /** Default `aws`. */
  partition: string;
}

/** Why part of a source was left out while the rest loaded. */
export type MappingProblemKind = 'near-miss-key' | 'unknown-key' | 'invalid-row' | 'feature-gate-off';

/**
 * A part of a source that was skipped while the rest of it loaded: a near-miss ConfigMap key, a row that fails
 * validation, an `sso` row with its feature gate off.
 */
export interface MappingProblem {
  kind: MappingProblemKind;
  /** Source, key or row index and the kind of problem, never what was written there: for logs above debug. */
  summary: string;
  /** The same with the written values, for the debug log and `eksauth verify`. */
  detail: string;
}

/** How the aws-auth format is read. */
export interface AwsAuthParseOptions {
  /** aws-iam-authenticator's `--feature-gates=SSORoleMatch=true`: `sso` rows match. Off: they are skipped. */
  ssoRoleMatch?: boolean;
}

/** Which format a source reads; decides the reserved names its rows may produce and the default precedence. */
export type MappingSourceKind = 'access-entries' | 'aws-auth' | 'file';

/** A place mappings come from. Sources are immutable snapshots: reload by building a new one. */
export interface MappingSource {
  readonly name: string;
  /**
   * The format behind this source. `aws-auth` and `file` rows may grant `system:` groups (as the aws-auth ConfigMap
   * does for `system:masters`); rows of any other or no kind may not.
   */
  readonly kind?: MappingSourceKind;
  /** The row for this identity, matched on the lower-cased canonical ARN (exact rows before account rows). */
  match(identity: StsIdentity): MappingRow | undefined;
  /** Every row, for "closest candidate" explanations when nothing matched. */
  candidates(): readonly MappingRow[];
  /** Problems that did not stop the source from loading (e.g. a principal mapped twice), for logs. */
  readonly warnings?: readonly string[];
  /** Parts of the source that were skipped while the rest loaded (a bad row, a near-miss key), for logs and metrics. */
  readonly problems?: readonly MappingProblem[];
}

/**
 * The outcome of {@link mapIdentity}. An unmapped `reason` is fit for the caller (kube-apiserver returns it to anyone
 * allowed to create TokenReviews): it names the caller's own canonical ARN or account and what to do, never a mapping
 * row. `hint` and `closest` are for the operator (`eksauth verify`, a debug log): the row that matched but could not
 * apply, or the nearest row of the caller's own partition and account; never a row of another account. Neither holds
 * tokens, keys or session names.
 */
export type MapResult =
  | { mapped: true; user: KubernetesUser; row: MappingRow }
  | { mapped: false; reason: string; hint?: string; closest?: MappingRow };

export interface MapOptions {
  /** Only identities from these accounts map; others are refused before any source is asked. */
  allowedAccounts?: string[];
  /**
   * Username prefixes allowed although they start with a reserved prefix (`system:`, `eks:`, `aws:`, `amazon:`,
   * `iam:`), e.g. `['system:node:']` for aws-auth node-role rows. Compared case-sensitively; every entry must itself
   * start with a reserved prefix.
   */
  reservedPrefixAllowList?: string[];
  /**
   * aws-iam-authenticator's `reservedPrefixConfig`: per source kind, username prefixes its rows may not produce (compared
   * case-sensitively), e.g. `{ 'aws-auth': ['admin:'] }`. On top of the reserved prefixes above; no allow-list applies.
   */
  reservedUsernamePrefixes?: Partial<Record<MappingSourceKind, readonly string[]>>;
  /**
   * The same per source, where sources of one kind come from different backends (a server's CRD and DynamicFile
   * sources are `file` sources, as the mapping file is). When given, it replaces `reservedUsernamePrefixes`.
   */
  reservedUsernamePrefixesOf?: (source: MappingSource) => readonly string[] | undefined;
  /** Resolves `{{EC2PrivateDNSName}}`: instance id → private DNS name. See `createEc2PrivateDnsResolver`. */
  ec2PrivateDnsName?: (instanceId: string) => Promise<string>;
}
