/**
 * The rows meant for a caller that do not map it on EKS, and the one change that makes them do: the misses behind
 * most "Unauthorized" answers. Each is found among the rows `doctor` read (the access entries, aws-auth):
 *
 * - an aws-auth row for the caller's role written with its IAM path (IAM Identity Center roles live under
 *   `aws-reserved/sso.amazonaws.com/`): EKS matches aws-auth rows on the role ARN without path;
 * - an IAM Identity Center role written without its suffix, or with another one (the suffix is random per account, and
 *   new each time the permission set is provisioned again);
 * - a row for a principal of the same name in another account.
 *
 * A row that differs from the caller only in letter case is no miss: EKS and aws-iam-authenticator compare ARNs
 * lower-cased, so it maps (see {@link caseNote}).
 *
 * Other accounts' rows: the webhook and `eksauth verify` never name them (their hints reach logs that anyone who can
 * send a token fills). `doctor` says only that a row names a principal of the caller's own name in another account —
 * not the account, the row's username or its groups. It reads nothing the caller cannot read already (aws-auth with
 * the caller's own credentials or from a file they give, the entries with their `eks:ListAccessEntries`), and that one
 * fact is what explains the miss; the fix needs nothing of the other row, only the caller's own ARN.
 */
import { canonicalizeArn, type CanonicalArn, type StsIdentity } from '../authn/arn.js';
import { parseSsoRoleName } from '../authn/mapping/lookup-source.js';
import type { MappingRow, MappingSource } from '../authn/mapping/types.js';

/** A miss: what is wrong with which row, and the exact change. */
export interface MappingMiss {
  detail: string;
  fix: string;
}

/** Each row with its parsed ARN (rows without a parsable principal ARN, such as mapAccounts rows, left out). */
function principalRows(sources: readonly MappingSource[]): { row: MappingRow; kind: MappingSource['kind']; arn: CanonicalArn }[] {
  return sources.flatMap((source) => source.candidates().flatMap((row) => {
    try {
      return row.arn === undefined ? [] : [{ row, kind: source.kind, arn: canonicalizeArn(row.arn) }];
    } catch {
      return [];
    }
  }));
}

/**
 * An aws-auth row for the caller's own role written with its IAM path, which EKS matches to nobody (eksauth's own
 * reading forgives the path, so this is looked for before mapping).
 *
 * @example
 * ```ts
 * const miss = pathMiss(identity, sources); // { detail: 'the aws-auth row for arn:…:role/teams/Dev has an IAM path: …', fix: 'write rolearn: …' }
 * ```
 */
export function pathMiss(identity: StsIdentity, sources: readonly MappingSource[]): MappingMiss | undefined {
  const found = principalRows(sources).find(({ row, kind, arn }) => kind === 'aws-auth' && arn.kind === 'role'
    && arn.canonicalArn !== row.arn && arn.canonicalArn.toLowerCase() === identity.canonicalArn.toLowerCase());
  if (found === undefined) return undefined;
  const sso = parseSsoRoleName(found.arn.name) === undefined ? '' : ' (IAM Identity Center roles have the path aws-reserved/sso.amazonaws.com/, which aws-auth leaves out)';
  return {
    detail: `the aws-auth row for ${found.row.arn ?? ''} has an IAM path: EKS matches rows on the role ARN without path, so it maps nobody${sso}`,
    fix: `write rolearn: ${identity.canonicalArn} in aws-auth, or give the role an access entry (\`eksauth access plan\`)`,
  };
}

/**
 * For a caller no row maps: a row of its own account for its IAM Identity Center permission set with no suffix or
 * another one, else a row for its own name in another account; undefined when there is neither.
 *
 * @example
 * ```ts
 * nearestMiss(identity, sources, 'prod')?.fix; // 'change rolearn: …AWSReservedSSO_Dev to rolearn: …AWSReservedSSO_Dev_0123456789abcdef in aws-auth'
 * ```
 */
export function nearestMiss(identity: StsIdentity, sources: readonly MappingSource[], clusterName: string): MappingMiss | undefined {
  const caller = canonicalizeArn(identity.canonicalArn);
  const rows = principalRows(sources).filter(({ arn }) => arn.partition === caller.partition && arn.kind === caller.kind);
  const sso = caller.kind === 'role' ? parseSsoRoleName(caller.name) : undefined;
  if (sso !== undefined) {
    const ownAccount = rows.filter(({ arn }) => arn.accountId === caller.accountId);
    for (const { row, kind, arn } of ownAccount) {
      const written = parseSsoRoleName(arn.name);
      const sameSet = written !== undefined && written.permissionSet.toLowerCase() === sso.permissionSet.toLowerCase();
      const what = arn.name.toLowerCase() === `awsreservedsso_${sso.permissionSet}`.toLowerCase()
        ? 'without its suffix'
        : sameSet ? `with the suffix _${written.suffix}, not _${sso.suffix} (the suffix is new each time the permission set is provisioned again)` : undefined;
      if (what !== undefined) {
        return {
          detail: `${identity.canonicalArn} matches no row; nearest: the ${describeKind(kind)} for ${row.arn ?? ''}, the IAM Identity Center role of permission set ${sso.permissionSet} ${what}`,
          fix: kind === 'aws-auth' ? `change rolearn: ${row.arn ?? ''} to rolearn: ${identity.canonicalArn} in aws-auth` : ssoEntryFix(caller, clusterName, row.arn ?? ''),
        };
      }
    }
  }
  const elsewhere = rows.find(({ arn }) => arn.accountId !== caller.accountId && arn.name.toLowerCase() === caller.name.toLowerCase());
  if (elsewhere === undefined) return undefined;
  return {
    detail: `${identity.canonicalArn} matches no row; a row names a ${caller.kind} ${caller.name} of another account (not shown), and rows match the account too`,
    fix: `map your own ARN, ${identity.canonicalArn} (account ${caller.accountId}): ${createEntry(clusterName, identity.canonicalArn)}, or a row in aws-auth`,
  };
}

/**
 * When the row that maps the caller is written in other letter case: a note that this is fine, since people often
 * suspect it; undefined otherwise.
 *
 * @example
 * ```ts
 * caseNote(identity, row); // 'the row writes arn:aws:iam::111122223333:role/VIEWER: ARNs match whatever their letter case, on EKS as here'
 * ```
 */
export function caseNote(identity: StsIdentity, row: MappingRow): string | undefined {
  if (row.arn === undefined) return undefined;
  const written = canonicalizeArn(row.arn).canonicalArn;
  return written === identity.canonicalArn ? undefined : `the row writes ${row.arn}: ARNs match whatever their letter case, on EKS as here`;
}

/** The `aws eks create-access-entry` command for a principal. */
export function createEntry(clusterName: string, principalArn: string): string {
  return `\`aws eks create-access-entry --cluster-name ${clusterName || 'CLUSTER'} --principal-arn ${principalArn}\``;
}

/** An access entry takes the role's ARN with its path, which only IAM knows: the command asks IAM for it. */
function ssoEntryFix(caller: CanonicalArn, clusterName: string, stale: string): string {
  const withPath = `"$(aws iam get-role --role-name ${caller.name} --query Role.Arn --output text)"`;
  return `${createEntry(clusterName, withPath)} (the role's ARN with its aws-reserved/sso.amazonaws.com/ path), then delete the entry for ${stale}`;
}

function describeKind(kind: MappingSource['kind']): string {
  return kind === 'access-entries' ? 'access entry' : kind === 'aws-auth' ? 'aws-auth row' : 'row';
}
