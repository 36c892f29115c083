/**
 * Who keeps access through the switch to `authenticationMode: API`: for each principal in aws-auth or in the access
 * entries, the mapping that applies now (under API_AND_CONFIG_MAP an access entry wins over an aws-auth row for the
 * same principal; under CONFIG_MAP only aws-auth counts) and the one that applies under API (entries only).
 */
import { canonicalizeArn } from '../authn/arn.js';
import { NODE_ACCESS_ENTRY_DEFAULTS, isNodeAccessEntryType } from '../authn/mapping/access-entries/access-entries.js';
import { parseAccessPolicyArn, type AuthenticationMode } from '../authn/mapping/access-entries/access-policies.js';
import { readAwsAuthRows, type AwsAuthSections } from '../authn/mapping/aws-auth-format.js';
import type { LocatedRow } from '../authn/mapping/lookup-source.js';
import { isServiceLinkedRole, principalKey, type ExistingAccessEntry } from './plan.js';

/** What a principal is in Kubernetes through one mapping. */
export interface PrincipalAccess {
  via: 'aws-auth' | 'access entry';
  /** The aws-auth row (`aws-auth: data.mapRoles[0]`) or the entry's principal ARN. */
  from: string;
  username: string;
  groups: string[];
  /** Access policy names with their scope, e.g. `AmazonEKSClusterAdminPolicy (cluster)`; `system:masters` counts as the cluster-admin policy. */
  policies: string[];
}

/** `keeps`: the same username, groups and policies; `changes`: mapped, differently; `loses`/`gains` access under API. */
export type AccessVerdict = 'keeps' | 'changes' | 'loses' | 'gains';

export interface PrincipalCheck {
  /** The principal ARN (an entry's, with path), or `account 444455556666` for a mapAccounts row. */
  principal: string;
  now?: PrincipalAccess;
  underApi?: PrincipalAccess;
  verdict: AccessVerdict;
  /** Why, for `changes` and `loses`. */
  note?: string;
}

export interface AccessCheck {
  mode: AuthenticationMode;
  principals: PrincipalCheck[];
  /** True when someone who has access now has none under API. */
  anyoneLoses: boolean;
}

const ADMIN = 'AmazonEKSClusterAdminPolicy (cluster)';

/**
 * Compares what each principal is now with what it will be under `API`.
 *
 * @example
 * ```ts
 * import { checkAccessSwitch } from './check.js';
 * const check = checkAccessSwitch({ mapUsers: '- userarn: arn:aws:iam::111122223333:user/alice\n  username: alice\n' }, [], 'API_AND_CONFIG_MAP');
 * check.principals[0]?.verdict; // 'loses'
 * ```
 */
export function checkAccessSwitch(awsAuth: AwsAuthSections, existing: readonly ExistingAccessEntry[], mode: AuthenticationMode): AccessCheck {
  const rows = readAwsAuthRows(awsAuth, { name: 'aws-auth', kind: 'aws-auth', where: 'aws-auth: data.' });
  const byKey = new Map<string, { principal: string; row?: PrincipalAccess; entry?: PrincipalAccess }>();
  for (const located of rows.principals) {
    const access = rowAccess(located);
    if (access === undefined) continue;
    const key = principalKey(located.row.arn ?? '');
    if (!byKey.has(key)) byKey.set(key, { principal: located.row.arn ?? '', row: access });
  }
  for (const found of existing) {
    const key = principalKey(found.entry.principalArn);
    byKey.set(key, { ...byKey.get(key), principal: found.entry.principalArn, entry: entryAccess(found) });
  }
  const principals = [...byKey.values()].map(({ principal, row, entry }) => judge(principal, mode === 'CONFIG_MAP' ? row : mode === 'API' ? entry : entry ?? row, entry));
  for (const located of rows.accounts) {
    const account = located.row.account ?? '';
    principals.push({
      principal: `account ${account}`,
      now: mode === 'API' ? undefined : { via: 'aws-auth', from: located.where, username: '(its own ARN)', groups: [], policies: [] },
      verdict: mode === 'API' ? 'keeps' : 'loses',
      note: 'mapAccounts has no access-entry form: only principals of this account with their own entry keep access',
    });
  }
  return { mode, principals, anyoneLoses: principals.some((p) => p.verdict === 'loses') };
}

/**
 * The access an aws-auth row gives on EKS; undefined for a role row with a path, which EKS matches to nobody, and for
 * a service-linked role, whose access EKS keeps itself whatever the mode.
 */
function rowAccess(located: LocatedRow): PrincipalAccess | undefined {
  const { row, where } = located;
  const arn = row.arn ?? '';
  if (isServiceLinkedRole(arn) || (arn.includes(':role/') && canonicalizeArn(arn).canonicalArn !== arn)) return undefined;
  const admin = row.groups.includes('system:masters');
  return { via: 'aws-auth', from: where, username: row.username, groups: row.groups.filter((g) => g !== 'system:masters').sort(), policies: admin ? [ADMIN] : [] };
}

function entryAccess(found: ExistingAccessEntry): PrincipalAccess {
  const { entry } = found;
  const node = isNodeAccessEntryType(entry.type) ? NODE_ACCESS_ENTRY_DEFAULTS[entry.type] : undefined;
  const policies = found.policies.map((p) => {
    const name = parseAccessPolicyArn(p.policyArn)?.name ?? p.policyArn;
    return `${name} (${p.accessScope.type === 'cluster' ? 'cluster' : (p.accessScope.namespaces ?? []).join(', ')})`;
  });
  return {
    via: 'access entry',
    from: entry.principalArn,
    username: node?.username ?? entry.username,
    groups: [...(node?.groups ?? entry.kubernetesGroups)].sort(),
    policies: [...new Set(policies)].sort(),
  };
}

function judge(principal: string, now: PrincipalAccess | undefined, underApi: PrincipalAccess | undefined): PrincipalCheck {
  const base = { principal, ...(now === undefined ? {} : { now }), ...(underApi === undefined ? {} : { underApi }) };
  if (now === undefined && underApi === undefined) return { ...base, verdict: 'keeps' };
  if (underApi === undefined) return { ...base, verdict: 'loses', note: 'no access entry: create one (`eksauth access plan`, then `apply`)' };
  if (now === undefined) return { ...base, verdict: 'gains', note: 'its access entry applies under API only (aws-auth maps it to nobody now)' };
  const differences = [
    now.username === underApi.username ? undefined : `username ${now.username} → ${underApi.username}`,
    now.groups.join() === underApi.groups.join() ? undefined : `groups [${now.groups.join(', ')}] → [${underApi.groups.join(', ')}]`,
    now.policies.join() === underApi.policies.join() ? undefined : `policies [${now.policies.join(', ')}] → [${underApi.policies.join(', ')}]`,
  ].filter((d): d is string => d !== undefined);
  return differences.length === 0 ? { ...base, verdict: 'keeps' } : { ...base, verdict: 'changes', note: differences.join('; ') };
}
