/**
 * The one {@link MappingSource} implementation the built-in parsers share: an immutable table keyed by the lower-cased
 * canonical ARN (path stripped on the row side too, so rows for SSO roles under `aws-reserved/sso.amazonaws.com/…`
 * match their sessions), then `sso` rows (a permission set's role, whatever its suffix), then whole-account rows.
 */
import { canonicalizeArn } from '../arn.js';
import type { StsIdentity } from '../arn.js';
import type { MappingProblem, MappingRow, MappingSource, MappingSourceKind, SsoRoleMatch } from './types.js';

/** A parsed row and where it was written, for duplicate errors. */
export interface LocatedRow {
  row: MappingRow;
  /** e.g. `aws-auth: data.mapRoles[3]`. */
  where: string;
}

export interface LookupSourceInit {
  name: string;
  kind: MappingSourceKind;
  /** Rows with an `arn`. Of two rows for the same principal (after canonicalisation) the later wins, with a warning. */
  principals: readonly LocatedRow[];
  /** Rows with an `sso` match, consulted when no principal row matches. */
  sso?: readonly LocatedRow[];
  /** Rows with an `account` (aws-auth `mapAccounts`). */
  accounts?: readonly LocatedRow[];
  /**
   * What principal rows are keyed on: the canonical ARN (default), or the STS principal id (`principalId`), as
   * aws-iam-authenticator's `dynamicfileUserIDStrict`; a row that also has an ARN must then name the caller's too.
   */
  matchOn?: 'arn' | 'principalId';
  /** What was skipped while reading the rows, reported by the source. */
  problems?: readonly MappingProblem[];
}

/**
 * Builds an immutable source from parsed rows. When two rows name the same principal (e.g. the same role with and
 * without a path) the later one wins, as in aws-iam-authenticator and EKS, so existing aws-auth ConfigMaps keep
 * working; the source's `warnings` say which row was shadowed, for logs and `eksauth verify`.
 *
 * @example
 * ```ts
 * import { createLookupSource } from './lookup-source.js';
 * const source = createLookupSource({
 *   name: 'static',
 *   kind: 'file',
 *   principals: [{ where: 'static[0]', row: { source: 'static', arn: 'arn:aws:iam::111122223333:role/Admin', username: 'admin', groups: [] } }],
 * });
 * source.candidates().length; // 1
 * ```
 */
export function createLookupSource(init: LookupSourceInit): MappingSource {
  const warnings: string[] = [];
  const byId = init.matchOn === 'principalId';
  const byPrincipal = indexRows(init.principals, byId ? (row) => row.principalId ?? '' : (row) => canonicalArnKey(row.arn ?? ''), warnings);
  const bySso = indexRows(init.sso ?? [], (row) => ssoKey(row.sso), warnings);
  const byAccount = indexRows(init.accounts ?? [], (row) => row.account ?? '', warnings);
  const candidates = Object.freeze([...byPrincipal.values(), ...bySso.values(), ...byAccount.values()]);
  const exactRow = byId ? (identity: StsIdentity) => matchPrincipalId(byPrincipal, identity) : (identity: StsIdentity) => byPrincipal.get(identity.canonicalArn.toLowerCase());
  return {
    name: init.name,
    kind: init.kind,
    warnings: Object.freeze(warnings),
    problems: Object.freeze([...(init.problems ?? [])]),
    match(identity: StsIdentity): MappingRow | undefined {
      const exact = exactRow(identity);
      if (exact !== undefined) return exact;
      const sso = bySso.size === 0 ? undefined : bySso.get(ssoKeyOf(identity.canonicalArn));
      if (sso !== undefined) return sso;
      const account = byAccount.get(identity.accountId);
      // mapAccounts: the caller's own canonical ARN is its username, with no groups (as aws-iam-authenticator).
      return account === undefined ? undefined : freezeRow({ ...account, username: identity.canonicalArn, groups: [] });
    },
    candidates: () => candidates,
  };
}

function canonicalArnKey(arn: string): string {
  return canonicalizeArn(arn).canonicalArn.toLowerCase();
}

/** The row for the caller's principal id, unless it also names an ARN that is not the caller's (a renamed principal). */
function matchPrincipalId(rows: Map<string, MappingRow>, identity: StsIdentity): MappingRow | undefined {
  const row = rows.get(identity.principalId);
  if (row === undefined) return undefined;
  return row.arn === undefined || canonicalArnKey(row.arn) === identity.canonicalArn.toLowerCase() ? row : undefined;
}

/**
 * `partition:account:permission set`, lower-cased. Two rows for the same permission set are one key, so the later wins
 * as for ARN rows.
 */
function ssoKey(sso: SsoRoleMatch | undefined): string {
  return sso === undefined ? '' : `${sso.partition}:${sso.accountId}:${sso.permissionSetName}`.toLowerCase();
}

// AWS names a permission set's role in each account AWSReservedSSO_<permission set>_<random suffix>.
const SSO_ROLE_NAME = /^AWSReservedSSO_(.+)_([^_]+)$/i;

/**
 * The permission set and suffix of an IAM Identity Center role's name (`AWSReservedSSO_<permission set>_<suffix>`, any
 * case), or undefined for any other name. The suffix is what follows the last `_`, so a permission set may hold `_`.
 *
 * @example
 * ```ts
 * parseSsoRoleName('AWSReservedSSO_Dev_Admins_0123456789abcdef'); // { permissionSet: 'Dev_Admins', suffix: '0123456789abcdef' }
 * parseSsoRoleName('Admin'); // undefined
 * ```
 */
export function parseSsoRoleName(name: string): { permissionSet: string; suffix: string } | undefined {
  const match = SSO_ROLE_NAME.exec(name);
  return match === null ? undefined : { permissionSet: match[1] ?? '', suffix: match[2] ?? '' };
}

/**
 * The {@link ssoKey} an identity's canonical ARN would match, or '' when it is not an SSO role: a row for permission
 * set `Dev` does not match the role of permission set `Dev_Admins`.
 */
function ssoKeyOf(canonicalArn: string): string {
  const parsed = canonicalizeArn(canonicalArn);
  const sso = parseSsoRoleName(parsed.name);
  if (parsed.kind !== 'role' || sso === undefined) return '';
  return `${parsed.partition}:${parsed.accountId}:${sso.permissionSet}`.toLowerCase();
}

function indexRows(rows: readonly LocatedRow[], keyOf: (row: MappingRow) => string, warnings: string[]): Map<string, MappingRow> {
  const index = new Map<string, MappingRow>();
  const lastWhere = new Map<string, string>();
  for (const { row, where } of rows) {
    const key = keyOf(row);
    const earlier = lastWhere.get(key);
    if (earlier !== undefined) {
      const what = row.account !== undefined ? `account ${row.account}` : row.sso !== undefined ? 'SSO permission set' : `principal (${row.arn ?? row.principalId ?? ''})`;
      warnings.push(`${where} maps the same ${what} as ${earlier}; the later row wins: remove one of them`);
      index.delete(key); // so the winner also takes the later position among candidates
    }
    lastWhere.set(key, where);
    index.set(key, freezeRow(row));
  }
  return index;
}

function freezeRow(row: MappingRow): MappingRow {
  return Object.freeze({ ...row, groups: Object.freeze([...row.groups]) as string[] });
}
