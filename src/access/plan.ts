/**
 * The move from the aws-auth ConfigMap to EKS access entries, as data: which access entries and policy associations
 * reproduce what aws-auth grants today, and what cannot carry over (with the reason and what to do instead).
 *
 * The rules are EKS's (user guide, "Migrating existing aws-auth ConfigMap entries to access entries"):
 * - `system:masters` is refused in an entry's groups; AmazonEKSClusterAdminPolicy on the cluster grants the same.
 * - node rows (`system:node:{{EC2PrivateDNSName}}` with `system:bootstrappers`/`system:nodes`) become EC2_LINUX
 *   (EC2_WINDOWS with `eks:kube-proxy-windows`) entries; Fargate pod execution roles (`system:node:{{SessionName}}`
 *   with `system:node-proxier`) become FARGATE_LINUX entries. EKS gives those their identity itself, without
 *   `system:bootstrappers` (see NODE_ACCESS_ENTRY_DEFAULTS): a warning says so.
 * - entries take the role ARN *with* its IAM path, aws-auth rows the ARN *without* (a row with a path matches nobody
 *   on EKS); IAM Identity Center roles live under `aws-reserved/sso.amazonaws.com/`.
 * - service-linked roles, `mapAccounts` and the `sso` rows of aws-iam-authenticator have no access-entry form.
 */
import { canonicalizeArn } from '../authn/arn.js';
import { defaultStandardUsername, isNodeAccessEntryType, isServiceLinkedRoleArn, isSystemGroup, NODE_ACCESS_ENTRY_DEFAULTS, sessionTemplateWithoutColon, type NodeAccessEntryType } from '../authn/mapping/access-entries/access-entries.js';
import { accessPolicyArn, type AccessScope } from '../authn/mapping/access-entries/access-policies.js';
import { readAwsAuthRows, type AwsAuthSections } from '../authn/mapping/aws-auth-format.js';
import type { LocatedRow } from '../authn/mapping/lookup-source.js';
import { RESERVED_USERNAME_PREFIXES } from '../authn/mapping/map-identity.js';
import type { AccessEntryType, MappingRow } from '../authn/mapping/types.js';
import type { AccessEntry, AssociatedAccessPolicy } from '../aws/access-entries.js';

/** An access policy association an entry needs. */
export interface PlannedPolicy {
  policyArn: string;
  accessScope: AccessScope;
}

/** One access entry the plan wants to exist, and what applying it does given the entries that exist now. */
export interface PlannedEntry {
  principalArn: string;
  type: AccessEntryType;
  /** Absent: EKS's default username for the principal (always so for node types). */
  username?: string;
  kubernetesGroups: string[];
  policies: PlannedPolicy[];
  /** `create`: no entry yet; `update`: the entry differs (username, groups or a missing policy); `unchanged`. */
  action: 'create' | 'update' | 'unchanged';
  /** The aws-auth row it comes from, e.g. `aws-auth: data.mapRoles[2]`. */
  from: string;
}

/** Something aws-auth grants that the plan cannot (or not exactly) reproduce. */
export interface PlanWarning {
  from: string;
  principal?: string;
  message: string;
}

/** What `eksauth access plan -o json` prints and `eksauth access apply` reads. */
export interface AccessPlan {
  kind: 'eksauth.access-plan';
  version: 1;
  clusterName: string;
  entries: PlannedEntry[];
  warnings: PlanWarning[];
}

/** An access entry that exists, with its associated policies. */
export interface ExistingAccessEntry {
  entry: Pick<AccessEntry, 'principalArn' | 'type' | 'username' | 'kubernetesGroups'>;
  policies: Pick<AssociatedAccessPolicy, 'policyArn' | 'accessScope'>[];
}

export interface PlanOptions {
  /**
   * Full role ARNs (with their IAM path) for roles that aws-auth names without one, e.g.
   * `arn:aws:iam::111122223333:role/teams/Dev` for the row `role/Dev`. Existing entries serve the same purpose.
   */
  roleArns?: readonly string[];
}

const CLUSTER_ADMIN = 'AmazonEKSClusterAdminPolicy';
const NODE_GROUPS = new Set(['system:bootstrappers', 'system:nodes']);
const SSO_ROLE_PREFIX = 'AWSReservedSSO_';
const SSO_PATH = 'aws-reserved/sso.amazonaws.com/';
const UNSUPPORTED_TEMPLATES = ['{{AccessKeyID}}', '{{EC2PrivateDNSName}}'];

/**
 * The access entries and policy associations that reproduce what an aws-auth ConfigMap grants, given the entries that
 * already exist, with a warning for each part that cannot carry over.
 *
 * @example
 * ```ts
 * import { planAccessEntries } from './plan.js';
 * const plan = planAccessEntries('prod', {
 *   mapRoles: '- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n  groups: [system:masters]\n',
 * }, []);
 * plan.entries[0]; // { principalArn: '…:role/Admin', type: 'STANDARD', username: 'admin', kubernetesGroups: [],
 *                  //   policies: [{ policyArn: '…/AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster' } }], action: 'create', … }
 * ```
 */
export function planAccessEntries(clusterName: string, awsAuth: AwsAuthSections, existing: readonly ExistingAccessEntry[], options: PlanOptions = {}): AccessPlan {
  const rows = readAwsAuthRows(awsAuth, { name: 'aws-auth', kind: 'aws-auth', where: 'aws-auth: data.' }, 'absent', { ssoRoleMatch: true });
  const warnings: PlanWarning[] = rows.problems.map((problem) => ({ from: 'aws-auth', message: problem.detail }));
  const knownArns = [...(options.roleArns ?? []), ...existing.map((found) => found.entry.principalArn)];
  const entries: Omit<PlannedEntry, 'action'>[] = [];
  for (const located of rows.principals) {
    const entry = planRow(located, knownArns, warnings);
    if (entry === undefined) continue;
    if (entries.some((planned) => samePrincipal(planned.principalArn, entry.principalArn))) {
      warnings.push({ from: located.where, principal: entry.principalArn, message: 'maps a principal an earlier row maps already: EKS uses the first row, so this one is left out' });
      continue;
    }
    entries.push(entry);
  }
  for (const located of rows.sso) warnings.push(ssoRowWarning(located));
  for (const located of rows.accounts) warnings.push(accountWarning(located));
  return { kind: 'eksauth.access-plan', version: 1, clusterName, entries: entries.map((entry) => withAction(entry, existing, warnings)), warnings };
}

/** Whether two principal ARNs name the same principal (paths and case aside, as EKS matches). */
export function samePrincipal(a: string, b: string): boolean {
  return principalKey(a) === principalKey(b);
}

/** The lower-cased canonical ARN (no path), or the ARN itself when it does not parse. */
export function principalKey(arn: string): string {
  try {
    return canonicalizeArn(arn).canonicalArn.toLowerCase();
  } catch {
    return arn.toLowerCase();
  }
}

/**
 * Whether an ARN names a service-linked role: by its path, or (as aws-auth rows leave the path out) by its
 * `AWSServiceRoleFor` name.
 *
 * @example
 * ```ts
 * isServiceLinkedRole('arn:aws:iam::111122223333:role/AWSServiceRoleForAmazonEKSNodegroup'); // true
 * ```
 */
export function isServiceLinkedRole(arn: string): boolean {
  if (isServiceLinkedRoleArn(arn)) return true;
  try {
    const principal = canonicalizeArn(arn);
    return principal.kind === 'role' && principal.name.startsWith('AWSServiceRoleFor');
  } catch {
    return false;
  }
}

function planRow(located: LocatedRow, knownArns: readonly string[], warnings: PlanWarning[]): Omit<PlannedEntry, 'action'> | undefined {
  const { row, where } = located;
  const written = row.arn ?? '';
  const principal = canonicalizeArn(written);
  const warn = (message: string): void => {
    warnings.push({ from: where, principal: written, message });
  };
  if (isServiceLinkedRole(written)) {
    warn('is a service-linked role, which access entries refuse; EKS grants service-linked roles their access itself, so the row is left out');
    return undefined;
  }
  const principalArn = principal.kind === 'role' ? roleArnWithPath(written, principal.name, knownArns, warn) : written;
  const nodeType = nodeEntryType(row);
  if (nodeType !== undefined) {
    if (principal.kind !== 'role') {
      warn(`maps an IAM user as a node (${row.username}); node entries take roles only, so the row is left out`);
      return undefined;
    }
    const given = NODE_ACCESS_ENTRY_DEFAULTS[nodeType].groups;
    const dropped = row.groups.filter((group) => !given.includes(group));
    if (dropped.length > 0) warn(`grants ${dropped.join(', ')}, which EKS does not give ${nodeType} entries (their groups are ${given.join(', ')}): RBAC bindings to ${dropped.join(', ')} no longer apply to these nodes`);
    return { principalArn, type: nodeType, kubernetesGroups: [], policies: [], from: where };
  }
  return { principalArn, type: 'STANDARD', ...standardIdentity(row, principalArn, warn), from: where };
}

/**
 * The ARN an entry needs: the row's when it has a path; else the one given (roleArns, an existing entry) for that
 * role; else for an IAM Identity Center role its `aws-reserved/sso.amazonaws.com/` path; else the row's.
 */
function roleArnWithPath(written: string, name: string, knownArns: readonly string[], warn: (message: string) => void): string {
  const path = canonicalizeArn(written).canonicalArn !== written && !written.includes(':assumed-role/');
  if (path) {
    warn('has an IAM path in its rolearn: EKS matches aws-auth rows on the role ARN without path, so this row grants nothing on EKS today; the access entry takes the ARN with its path and will grant it');
    return written;
  }
  const role = canonicalizeArn(written).canonicalArn;
  const known = knownArns.find((arn) => samePrincipal(arn, role));
  if (known !== undefined) return known;
  if (!name.startsWith(SSO_ROLE_PREFIX)) return role;
  const withPath = role.replace(`:role/${name}`, `:role/${SSO_PATH}${name}`);
  warn(`is an IAM Identity Center role: its ARN has the path ${SSO_PATH} (followed by the Identity Center region when that is not us-east-1), which aws-auth leaves out; the plan uses ${withPath}: if \`aws iam get-role --role-name ${name}\` shows another ARN, pass it with --role-arn. The suffix changes when the permission set is provisioned again; the entry must then be created again`);
  return withPath;
}

/** The node type an aws-auth row describes, from EKS's own node rows; undefined for anything else. */
function nodeEntryType(row: MappingRow): NodeAccessEntryType | undefined {
  const groups = new Set(row.groups);
  const nodeGroupsOnly = [...groups].every((group) => NODE_GROUPS.has(group) || group === 'eks:kube-proxy-windows' || group === 'system:node-proxier');
  if (!nodeGroupsOnly || !groups.has('system:nodes')) return undefined;
  if (row.username === NODE_ACCESS_ENTRY_DEFAULTS.FARGATE_LINUX.username && groups.has('system:node-proxier')) return 'FARGATE_LINUX';
  if (row.username !== NODE_ACCESS_ENTRY_DEFAULTS.EC2_LINUX.username) return undefined;
  return groups.has('eks:kube-proxy-windows') ? 'EC2_WINDOWS' : 'EC2_LINUX';
}

/** The username, groups and policies of a STANDARD entry for a row, warning about each part EKS refuses. */
function standardIdentity(row: MappingRow, principalArn: string, warn: (message: string) => void): Pick<PlannedEntry, 'username' | 'kubernetesGroups' | 'policies'> {
  const kubernetesGroups: string[] = [];
  const policies: PlannedPolicy[] = [];
  for (const group of row.groups) {
    if (group === 'system:masters') policies.push({ policyArn: accessPolicyArn(CLUSTER_ADMIN, canonicalizeArn(principalArn).partition), accessScope: { type: 'cluster' } });
    else if (NODE_GROUPS.has(group)) warn(`grants ${group} to a user who is not a node (username ${row.username}); access entries grant it only to node types, so it is left out`);
    else if (isSystemGroup(group)) warn(`grants ${group}, which access entries refuse and no access policy replaces; bind its RBAC roles to a group without system: and add that group, it is left out`);
    else if (group.includes('{{')) warn(`has the templated group ${group}; access entries take literal groups only, so it is left out`);
    else kubernetesGroups.push(group);
  }
  const username = entryUsername(row.username, principalArn, warn);
  return { ...(username === undefined ? {} : { username }), kubernetesGroups, policies };
}

/** The username to set, or undefined for EKS's default (which the row's username is, or must fall back to). */
function entryUsername(written: string, principalArn: string, warn: (message: string) => void): string | undefined {
  const principal = { ...canonicalizeArn(principalArn), arn: principalArn };
  const fallback = defaultStandardUsername(principal);
  // {{AccountID}} is the principal's own account, known here: the same name results.
  const username = written.replaceAll('{{AccountID}}', principal.accountId);
  if (username === fallback) return undefined;
  const refuse = (why: string): undefined => {
    warn(`has the username ${written}, which ${why}; the entry gets EKS's default ${fallback}: change RBAC bindings that name ${written}`);
    return undefined;
  };
  const unsupported = UNSUPPORTED_TEMPLATES.find((template) => username.includes(template));
  if (unsupported !== undefined) return refuse(`uses ${unsupported}, a template access entries do not have`);
  const reserved = RESERVED_USERNAME_PREFIXES.find((prefix) => username.toLowerCase().startsWith(prefix));
  if (reserved !== undefined) return refuse(`starts with ${reserved}, which access entries refuse`);
  const noColon = sessionTemplateWithoutColon(username);
  if (noColon !== undefined) return refuse(`has no ':' before ${noColon}, which access entries require`);
  return username;
}

function ssoRowWarning(located: LocatedRow): PlanWarning {
  const sso = located.row.sso;
  const role = sso === undefined ? 'its role' : `arn:${sso.partition}:iam::${sso.accountId}:role/${SSO_PATH}${SSO_ROLE_PREFIX}${sso.permissionSetName}_<suffix>`;
  return { from: located.where, message: `is an sso row (any suffix of a permission set), which access entries cannot express: create an entry for ${role} with the suffix \`aws iam list-roles --path-prefix /${SSO_PATH}\` shows` };
}

function accountWarning(located: LocatedRow): PlanWarning {
  return {
    from: located.where,
    message: `maps every principal of account ${located.row.account ?? ''}, which access entries cannot express: those principals lose access under API unless each gets an entry (\`eksauth access check\` lists those seen in aws-auth)`,
  };
}

/** Sets the action from the entry that exists for the principal; an existing entry of another type is left alone. */
function withAction(entry: Omit<PlannedEntry, 'action'>, existing: readonly ExistingAccessEntry[], warnings: PlanWarning[]): PlannedEntry {
  const found = existing.find((candidate) => samePrincipal(candidate.entry.principalArn, entry.principalArn));
  if (found === undefined) return { ...entry, action: 'create' };
  const principalArn = found.entry.principalArn;
  if (found.entry.type !== entry.type) {
    warnings.push({ from: entry.from, principal: principalArn, message: `has an access entry of type ${found.entry.type}, the row needs ${entry.type}: the type of an entry cannot change; delete it and plan again` });
    return { ...entry, principalArn, action: 'unchanged' };
  }
  return { ...entry, principalArn, action: entryDiffers(entry, found) ? 'update' : 'unchanged' };
}

/** Whether applying the planned entry changes the existing one: username, groups, or a policy not associated yet. */
export function entryDiffers(planned: Pick<PlannedEntry, 'principalArn' | 'type' | 'username' | 'kubernetesGroups' | 'policies'>, found: ExistingAccessEntry): boolean {
  // A node entry's identity is EKS's (it echoes its own node groups); of the same type, there is nothing to change.
  if (isNodeAccessEntryType(planned.type)) return false;
  const username = planned.username ?? (planned.type === 'STANDARD' ? defaultStandardUsername({ ...canonicalizeArn(found.entry.principalArn), arn: found.entry.principalArn }) : found.entry.username);
  return username !== found.entry.username
    || !sameSet(planned.kubernetesGroups, found.entry.kubernetesGroups)
    || missingPolicies(planned.policies, found.policies).length > 0;
}

/** The planned policies not associated (or associated with another scope) yet. */
export function missingPolicies(planned: readonly PlannedPolicy[], associated: ExistingAccessEntry['policies']): PlannedPolicy[] {
  return planned.filter((policy) => !associated.some((has) => has.policyArn === policy.policyArn && sameScope(has.accessScope, policy.accessScope)));
}

function sameScope(a: AccessScope, b: AccessScope): boolean {
  return a.type === b.type && sameSet(a.namespaces ?? [], b.namespaces ?? []);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}
