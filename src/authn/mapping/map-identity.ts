/**
 * The step after STS has said who the caller is: find the first source with a row for them, render the row's
 * templates, check the result, and build the Kubernetes user — or explain, without secrets, why not: a `reason` fit for
 * the caller (their own ARN and what to do), and a `hint` naming the nearest row, for the operator only.
 *
 * Precedence is the order of the `sources` list. The first source with a matching row decides, even when that row
 * then cannot be applied: falling through to a lower source would let it override a deliberate higher row. EKS's own
 * order in `API_AND_CONFIG_MAP` mode (access entries before aws-auth) is {@link DEFAULT_PRECEDENCE}, with the mapping
 * file last. Within one aws-auth source a `mapRoles`/`mapUsers` row beats `mapAccounts`.
 */
import { canonicalizeArn } from '../arn.js';
import type { CanonicalArn, StsIdentity } from '../arn.js';
import { EksAuthError, isEksAuthError } from '../../errors.js';
import { NODE_ACCESS_ENTRY_DEFAULTS, isNodeAccessEntryType } from './access-entries/access-entries.js';
import { renderTemplates } from './templates.js';
import type { KubernetesUser, MapOptions, MapResult, MappingRow, MappingSource, MappingSourceKind } from './types.js';
import { editDistance } from '../../lib/edit-distance.js';

/** The default order of source kinds: access entries, then the aws-auth ConfigMap, then the mapping file. */
export const DEFAULT_PRECEDENCE: readonly MappingSourceKind[] = ['access-entries', 'aws-auth', 'file'];

/** Username prefixes EKS reserves; a mapped username may not start with them unless allow-listed. */
export const RESERVED_USERNAME_PREFIXES: readonly string[] = ['system:', 'eks:', 'aws:', 'amazon:', 'iam:'];

const MAX_NAME_LENGTH = 256;
// Whitespace, separators and "other" code points (controls, format characters such as zero-width joiners, unassigned).
const UNSAFE_CHARACTERS = /[\s\p{Z}\p{C}]/u;
// Group names may hold plain spaces: aws-iam-authenticator passes `groups: ["Dev Team"]` through and RBAC bindings
// name such groups. Other whitespace and invisible characters stay refused.
const UNSAFE_GROUP_CHARACTERS = /(?! )[\s\p{Z}\p{C}]/u;
// Source kinds whose rows may grant `system:` groups, as the aws-auth ConfigMap grants system:masters.
const SYSTEM_GROUP_KINDS: ReadonlySet<MappingSourceKind | undefined> = new Set(['aws-auth', 'file']);

/**
 * Sorts sources into {@link DEFAULT_PRECEDENCE} (stable; sources of other or no kind keep their order, last).
 *
 * @example
 * ```ts
 * import { orderByDefaultPrecedence, parseAccessEntries, parseAwsAuthConfigMap } from 'eksauth/verify';
 * const sources = orderByDefaultPrecedence([
 *   parseAwsAuthConfigMap({ kind: 'ConfigMap', data: { mapAccounts: '- "111122223333"' } }),
 *   parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:role/Admin' }]),
 * ]);
 * console.log(sources.map((source) => source.name).join(' then ')); // → access-entries then aws-auth
 * ```
 */
export function orderByDefaultPrecedence(sources: readonly MappingSource[]): MappingSource[] {
  const rank = (source: MappingSource): number => {
    const index = source.kind === undefined ? -1 : DEFAULT_PRECEDENCE.indexOf(source.kind);
    return index === -1 ? DEFAULT_PRECEDENCE.length : index;
  };
  return [...sources].sort((a, b) => rank(a) - rank(b));
}

/**
 * Maps an STS identity to a Kubernetes user using `sources` in the given order (see {@link DEFAULT_PRECEDENCE}).
 * Refuses identities outside `allowedAccounts`; renders the winning row's templates; refuses empty, over-long or
 * whitespace/control-character names, reserved username prefixes (unless allow-listed, or EKS's own node identity
 * from a node-type access entry) and `system:` groups from anything but aws-auth/file rows. Resolves to
 * `{ mapped: false, reason, hint? }` for every refusal; rejects only for a `reservedPrefixAllowList` entry that does not
 * start with a reserved prefix (`ERR_INVALID_CONFIG`) or a source that throws.
 *
 * @example
 * ```ts
 * import { mapIdentity, parseAccessEntries, toStsIdentity } from 'eksauth/verify';
 * const identity = toStsIdentity(
 *   { arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice', account: '111122223333', userId: 'AROAEXAMPLE:alice' },
 *   'ASIAEXAMPLE',
 * );
 * const result = await mapIdentity(identity, [
 *   parseAccessEntries([{ principalArn: 'arn:aws:iam::111122223333:role/Admin', kubernetesGroups: ['admins'] }]),
 * ]);
 * if (result.mapped) console.log(result.user.username, result.user.groups); // → arn:aws:sts::111122223333:assumed-role/Admin/alice [ 'admins' ]
 * else console.error(result.reason, result.hint ?? ''); // hint: for the operator, never for the caller
 * ```
 */
export async function mapIdentity(
  identity: StsIdentity,
  sources: readonly MappingSource[],
  options: MapOptions = {},
): Promise<MapResult> {
  checkReservedPrefixAllowList(options.reservedPrefixAllowList ?? []);
  const allowed = options.allowedAccounts;
  if (allowed !== undefined && !allowed.includes(identity.accountId)) {
    return { mapped: false, reason: `account ${identity.accountId} is not in the allowed accounts (MapOptions.allowedAccounts)` };
  }
  for (const source of sources) {
    const row = source.match(identity);
    if (row !== undefined) return applyRow(identity, row, source, options);
  }
  return explainUnmapped(identity, sources);
}

/** Each entry must extend a reserved prefix: `''` or `sys` would silently allow far more than meant. */
function checkReservedPrefixAllowList(allowList: readonly string[]): void {
  const wrong = allowList.find((prefix) => !RESERVED_USERNAME_PREFIXES.some((reserved) => prefix.startsWith(reserved)));
  if (wrong !== undefined) {
    throw new EksAuthError(
      'ERR_INVALID_CONFIG',
      `MapOptions.reservedPrefixAllowList entry '${wrong}' does not start with a reserved prefix ` +
        `(${RESERVED_USERNAME_PREFIXES.join(', ')}); list the exact prefixes to allow, e.g. 'system:node:'`,
    );
  }
}

async function applyRow(
  identity: StsIdentity,
  row: MappingRow,
  source: MappingSource,
  options: MapOptions,
): Promise<MapResult> {
  let rendered: string[];
  try {
    rendered = await renderTemplates([row.username, ...row.groups], {
      identity,
      ...(options.ec2PrivateDnsName === undefined ? {} : { ec2PrivateDnsName: options.ec2PrivateDnsName }),
    });
  } catch (err) {
    if (!isEksAuthError(err, 'ERR_TEMPLATE')) throw err;
    return refuseRow(identity, row, source, err.message);
  }
  const [username = '', ...groups] = rendered;
  const problem = findUserProblem(username, groups, row, source, options);
  if (problem !== undefined) return refuseRow(identity, row, source, problem);
  return { mapped: true, user: buildKubernetesUser(identity, username, groups), row };
}

/**
 * The row is the caller's own (it matched their ARN or account), but its content, the templates and the problem with
 * them, is the operator's business: the reason says only that the row exists and cannot be applied.
 */
function refuseRow(identity: StsIdentity, row: MappingRow, source: MappingSource, problem: string): MapResult {
  return {
    mapped: false,
    reason: `${identity.canonicalArn} matches a mapping row that cannot be applied; ask a cluster operator to fix the row ` +
      '(eksauth verify with the mappings says what is wrong)',
    hint: `${describeRow(row)} in ${source.name} matches ${identity.canonicalArn} but cannot be applied: ${problem}`,
    closest: row,
  };
}

/** The first thing wrong with a rendered username and groups, or `undefined`. Never echoes rendered values. */
function findUserProblem(
  username: string,
  groups: readonly string[],
  row: MappingRow,
  source: MappingSource,
  options: MapOptions,
): string | undefined {
  const nameProblem = [username, ...groups].map(findNameProblem).find((p) => p !== undefined);
  if (nameProblem !== undefined) return nameProblem;
  const sourceReserved = findSourceReservedPrefix(username, source, options);
  if (sourceReserved !== undefined) {
    return `its username template '${row.username}' gives a name with the prefix '${sourceReserved}', which the server reserves ` +
      `for ${source.kind ?? 'this'} sources (reservedPrefixConfig)`;
  }
  if (isBuiltInNodeIdentity(username, row, source)) return undefined;
  const reserved = RESERVED_USERNAME_PREFIXES.find((prefix) => username.toLowerCase().startsWith(prefix));
  const allowListed = (options.reservedPrefixAllowList ?? []).some((prefix) => username.startsWith(prefix));
  if (reserved !== undefined && !allowListed) {
    return (
      `its username template '${row.username}' gives a name with the reserved prefix '${reserved}'; ` +
      `allow it with MapOptions.reservedPrefixAllowList (node rows need nothing: write system:node:{{EC2PrivateDNSName}})`
    );
  }
  const systemGroup = groups.findIndex((group) => group.toLowerCase().startsWith('system:'));
  if (systemGroup !== -1 && !SYSTEM_GROUP_KINDS.has(source.kind)) {
    return `its group template '${row.groups[systemGroup]}' gives a system: group, which only aws-auth and mapping-file rows may grant`;
  }
  return undefined;
}

/**
 * aws-iam-authenticator's `reservedPrefixConfig`: per backend, extra username prefixes its rows may not produce. Checked
 * before the built-in rules and never allow-listed, as in the reference.
 */
function findSourceReservedPrefix(username: string, source: MappingSource, options: MapOptions): string | undefined {
  const prefixes = options.reservedUsernamePrefixesOf !== undefined
    ? options.reservedUsernamePrefixesOf(source)
    : source.kind === undefined ? undefined : options.reservedUsernamePrefixes?.[source.kind];
  return prefixes?.find((prefix) => prefix !== '' && username.startsWith(prefix));
}

function findNameProblem(name: string, index: number): string | undefined {
  const what = index === 0 ? 'the username' : `group ${index}`;
  if (name === '') return `${what} renders empty`;
  if (name.length > MAX_NAME_LENGTH) return `${what} renders longer than ${MAX_NAME_LENGTH} characters`;
  if (index === 0 && UNSAFE_CHARACTERS.test(name)) return `${what} renders with whitespace or control characters`;
  if (index > 0 && UNSAFE_GROUP_CHARACTERS.test(name)) return `${what} renders with whitespace other than spaces, or control characters`;
  return undefined;
}

// The node rows EKS itself writes into aws-auth for managed node groups and Fargate profiles; every cluster has them.
const AWS_AUTH_NODE_USERNAMES = new Set(['system:node:{{EC2PrivateDNSName}}', 'system:node:{{SessionName}}']);

/**
 * Node identities are not a user's choice of name: EKS emits `system:node:…` with the node groups for node-type
 * access entries, and aws-auth carries exactly these node username templates for node roles.
 */
function isBuiltInNodeIdentity(username: string, row: MappingRow, source: MappingSource): boolean {
  if (source.kind === 'aws-auth' || source.kind === 'file') return AWS_AUTH_NODE_USERNAMES.has(row.username);
  if (source.kind !== 'access-entries' || !isNodeAccessEntryType(row.accessEntryType)) return false;
  const defaults = NODE_ACCESS_ENTRY_DEFAULTS[row.accessEntryType];
  return (
    username.startsWith('system:node:') &&
    row.username === defaults.username &&
    row.groups.length === defaults.groups.length &&
    row.groups.every((group, i) => group === defaults.groups[i])
  );
}

/**
 * The user the webhook returns: uid and extra exactly as aws-iam-authenticator builds them, so `kubectl auth whoami`,
 * RBAC and audit logs look the same behind either server.
 */
function buildKubernetesUser(identity: StsIdentity, username: string, groups: readonly string[]): KubernetesUser {
  return {
    username,
    uid: `aws-iam-authenticator:${identity.accountId}:${identity.principalId}`,
    groups: [...new Set(groups)],
    extra: {
      arn: [identity.arn],
      canonicalArn: [identity.canonicalArn],
      sessionName: [identity.sessionName ?? ''],
      accessKeyId: [identity.accessKeyId],
      principalId: [identity.principalId],
      // The reference's domain-prefixed key (v0.6.30 on), which Kubernetes prefers for extra keys; both are kept.
      'sigs.k8s.io/aws-iam-authenticator/principalId': [identity.principalId],
    },
  };
}

function explainUnmapped(identity: StsIdentity, sources: readonly MappingSource[]): MapResult {
  const you = identity.canonicalArn;
  const reason = `${you} is not mapped to a Kubernetes user; ask a cluster operator to add a mapping row or access entry ` +
    'for it (eksauth verify with the mappings names the nearest row)';
  const searched = sources.length === 0 ? 'no mapping sources are configured' : `searched ${sources.map((s) => s.name).join(', ')}`;
  const closest = findClosestCandidate(identity, sources);
  if (closest === undefined) return { mapped: false, reason, hint: `${searched}; no row names a principal of account ${identity.accountId}` };
  return { mapped: false, reason, hint: `${searched}; closest row of your account: ${describeRow(closest)} in ${closest.source}`, closest };
}

/** How a row is named in hints (for the operator, never in a reason): `role arn:…`, `user arn:…`, `account 111122223333 (mapAccounts)`. */
function describeRow(row: MappingRow): string {
  if (row.account !== undefined) return `account ${row.account} (mapAccounts)`;
  if (row.sso !== undefined) return `SSO permission set ${row.sso.permissionSetName} of account ${row.sso.accountId}`;
  const parsed = row.arn === undefined ? undefined : tryCanonicalize(row.arn);
  if (parsed === undefined) return `a row for ${row.arn ?? 'an unnamed principal'}`;
  const kind = parsed.kind === 'root' ? 'account root' : parsed.kind;
  return `${kind} ${row.arn}`;
}

/**
 * The row nearest to the caller among the rows of the caller's own partition and account: the smallest
 * case-insensitive edit distance between names, then the same kind of principal. Rows of other accounts are never
 * candidates: a hint naming them would tell any principal anywhere which roles another account has mapped here.
 */
function findClosestCandidate(identity: StsIdentity, sources: readonly MappingSource[]): MappingRow | undefined {
  const caller = canonicalizeArn(identity.canonicalArn);
  let best: { row: MappingRow; score: readonly number[] } | undefined;
  for (const source of sources) {
    for (const row of source.candidates()) {
      const score = scoreCandidate(caller, row);
      if (score !== undefined && (best === undefined || compareScores(score, best.score) < 0)) best = { row, score };
    }
  }
  return best?.row;
}

/** Edit distance and kind mismatch of a same-account row; `undefined` for rows of other accounts and account rows. */
function scoreCandidate(caller: CanonicalArn, row: MappingRow): readonly number[] | undefined {
  const parsed = row.arn === undefined ? undefined : tryCanonicalize(row.arn);
  if (parsed === undefined || parsed.partition !== caller.partition || parsed.accountId !== caller.accountId) return undefined;
  return [editDistance(parsed.name.toLowerCase(), caller.name.toLowerCase()), parsed.kind === caller.kind ? 0 : 1];
}

function compareScores(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i += 1) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function tryCanonicalize(arn: string): CanonicalArn | undefined {
  try {
    return canonicalizeArn(arn);
  } catch {
    return undefined;
  }
}
