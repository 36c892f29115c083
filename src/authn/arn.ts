/**
 * IAM identity ARNs: validation, canonicalisation for matching, and the identity record the mapping layer works on.
 *
 * The canonical form is what mapping rows are compared against (lower-cased): an STS assumed-role session becomes the
 * IAM role it belongs to, and IAM paths are dropped, because STS never puts a role's path in a session ARN
 * (`arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123/alice` comes from
 * `arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123`). Role and user
 * names are unique within an account whatever their path, so dropping it never merges two principals.
 */
import { EksAuthError } from '../errors.js';

/** Every AWS partition an identity ARN may name. A new partition needs an entry here before its principals map. */
export const IDENTITY_ARN_PARTITIONS: readonly string[] = [
  'aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc',
];

export type IdentityArnKind = 'user' | 'role' | 'assumed-role' | 'root' | 'federated-user';

/** An identity ARN taken apart; see {@link canonicalizeArn}. */
export interface CanonicalArn {
  /** The ARN to match on (compare lower-cased): role for assumed roles, no IAM path. Case is kept as given. */
  canonicalArn: string;
  partition: string;
  accountId: string;
  kind: IdentityArnKind;
  /** User, role or federated-user name without path; `root` for the account root. */
  name: string;
  /** The session part of an assumed-role ARN. */
  sessionName?: string;
}

/** Who STS says the caller is, with everything mapping and audit need. */
export interface StsIdentity {
  /** The ARN exactly as STS returned it. */
  arn: string;
  /** {@link canonicalizeArn} of `arn`. */
  canonicalArn: string;
  accountId: string;
  /** STS `UserId` as returned: `AIDA…` for users, `AROA…:<session>` for assumed roles, `<account>:<name>` for federated users. */
  userId: string;
  /**
   * The principal's unique id (aws-iam-authenticator's `UserID`): `userId` before the `:` for role sessions, the whole
   * `userId` for IAM users, the root user and federated users. Survives renames; changes on delete/recreate.
   */
  principalId: string;
  /** `userId` after the `:`, for role sessions only; attacker-chosen when the caller can pick it. */
  sessionName?: string;
  /** The access key id that signed the token (from its credential scope). Not a secret, but never a username. */
  accessKeyId: string;
  partition: string;
}

const MAX_ARN_LENGTH = 2048;
const ACCOUNT_ID = /^\d{12}$/;
// IAM user and role names: 1–64 of [A-Za-z0-9+=,.@_-].
const PRINCIPAL_NAME = /^[\w+=,.@-]{1,64}$/;
// STS role session names and federated user names: 2–64 / 2–32 of the same characters.
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const FEDERATED_NAME = /^[\w+=,.@-]{2,32}$/;
// One IAM path segment: printable ASCII except '/'.
const PATH_SEGMENT = /^[\x21-\x2e\x30-\x7e]+$/;
const MAX_PATH_LENGTH = 512;

/**
 * Validates an IAM identity ARN (IAM user, role or root; STS assumed role or federated user, in any partition) and
 * returns its canonical form for matching: `arn:<p>:sts::<acct>:assumed-role/<role>/<session>` becomes
 * `arn:<p>:iam::<acct>:role/<role>`, and IAM users and roles lose their path. Anything else — other services, a region,
 * a malformed account, wildcards — throws `ERR_INVALID_ARN`.
 *
 * @example
 * ```ts
 * import { canonicalizeArn } from 'eksauth/verify';
 * console.log(canonicalizeArn('arn:aws:sts::111122223333:assumed-role/Admin/alice@example.com').canonicalArn);
 * // → arn:aws:iam::111122223333:role/Admin
 * console.log(canonicalizeArn('arn:aws-cn:iam::111122223333:role/teams/dev/Deployer').canonicalArn);
 * // → arn:aws-cn:iam::111122223333:role/Deployer
 * ```
 */
export function canonicalizeArn(arn: string): CanonicalArn {
  if (typeof arn !== 'string' || arn.length === 0 || arn.length > MAX_ARN_LENGTH) {
    throw invalidArn(String(arn), `it must be a string of 1 to ${MAX_ARN_LENGTH} characters`);
  }
  const fields = arn.split(':');
  if (fields.length !== 6 || fields[0] !== 'arn') {
    throw invalidArn(arn, 'it must have the form arn:<partition>:<service>::<account>:<resource>');
  }
  const [, partition = '', service = '', region = '', accountId = '', resource = ''] = fields;
  if (!IDENTITY_ARN_PARTITIONS.includes(partition)) {
    throw invalidArn(arn, `partition '${shorten(partition)}' is not one of ${IDENTITY_ARN_PARTITIONS.join(', ')}`);
  }
  if (service !== 'iam' && service !== 'sts') throw invalidArn(arn, `service '${shorten(service)}' is neither iam nor sts`);
  if (region !== '') throw invalidArn(arn, 'IAM and STS identity ARNs have no region');
  if (!ACCOUNT_ID.test(accountId)) throw invalidArn(arn, 'the account must be 12 digits');
  return service === 'iam'
    ? parseIamResource(arn, partition, accountId, resource)
    : parseStsResource(arn, partition, accountId, resource);
}

function parseIamResource(arn: string, partition: string, accountId: string, resource: string): CanonicalArn {
  if (resource === 'root') {
    return { canonicalArn: arn, partition, accountId, kind: 'root', name: 'root' };
  }
  const [type = '', ...rest] = resource.split('/');
  if (type !== 'user' && type !== 'role') {
    throw invalidArn(arn, `IAM resource '${shorten(type)}' is not user/…, role/… or root`);
  }
  const name = rest.pop() ?? '';
  if (!PRINCIPAL_NAME.test(name)) {
    throw invalidArn(arn, `${type} name '${shorten(name)}' must be 1–64 characters of A–Z a–z 0–9 + = , . @ _ -`);
  }
  checkIamPath(arn, rest);
  const canonicalArn = `arn:${partition}:iam::${accountId}:${type}/${name}`;
  return { canonicalArn, partition, accountId, kind: type, name };
}

function checkIamPath(arn: string, segments: string[]): void {
  if (segments.join('/').length + 2 > MAX_PATH_LENGTH) throw invalidArn(arn, 'its IAM path is too long');
  for (const segment of segments) {
    if (!PATH_SEGMENT.test(segment)) throw invalidArn(arn, 'its IAM path has an empty or invalid segment');
  }
}

function parseStsResource(arn: string, partition: string, accountId: string, resource: string): CanonicalArn {
  const parts = resource.split('/');
  if (parts[0] === 'assumed-role') return parseAssumedRole(arn, partition, accountId, parts.slice(1));
  if (parts[0] === 'federated-user') {
    const [, name = ''] = parts;
    if (parts.length !== 2 || !FEDERATED_NAME.test(name)) {
      throw invalidArn(arn, 'a federated-user ARN is federated-user/<name of 2–32 characters>');
    }
    return { canonicalArn: arn, partition, accountId, kind: 'federated-user', name };
  }
  throw invalidArn(arn, `STS resource '${shorten(parts[0] ?? '')}' is neither assumed-role/… nor federated-user/…`);
}

/**
 * `assumed-role/<role>/<session>`, where the role part may have slashes (`Org/Team/Admin`), as aws-iam-authenticator
 * accepts: everything before the last segment is the role, and its leading segments are a path, dropped like any
 * IAM path, so a mapping row for `role/Org/Team/Admin` (or `role/Admin`) matches it.
 */
function parseAssumedRole(arn: string, partition: string, accountId: string, segments: string[]): CanonicalArn {
  const sessionName = segments.pop() ?? '';
  const role = segments.pop() ?? '';
  if (role === '') throw invalidArn(arn, 'an assumed-role ARN is assumed-role/<role name>/<session name>');
  if (!PRINCIPAL_NAME.test(role)) throw invalidArn(arn, `role name '${shorten(role)}' is not a valid IAM role name`);
  if (!SESSION_NAME.test(sessionName)) throw invalidArn(arn, 'its session name is not a valid STS session name');
  checkIamPath(arn, segments);
  const canonicalArn = `arn:${partition}:iam::${accountId}:role/${role}`;
  return { canonicalArn, partition, accountId, kind: 'assumed-role', name: role, sessionName };
}

/** Keeps error messages short whatever was passed in. */
function shorten(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function invalidArn(arn: string, why: string): EksAuthError {
  return new EksAuthError(
    'ERR_INVALID_ARN',
    `'${shorten(arn, 200)}' is not a valid IAM identity ARN: ${why} ` +
      '(expected e.g. arn:aws:iam::111122223333:role/Admin, arn:aws:iam::111122223333:user/alice or ' +
      'arn:aws:sts::111122223333:assumed-role/Admin/alice)',
  );
}

/**
 * Builds the {@link StsIdentity} for a GetCallerIdentity answer and the access key id that signed the token. Refuses
 * (`ERR_INVALID_IDENTITY`) an answer whose account differs from its ARN's, or whose UserId is malformed, so that a
 * confused STS answer can never map as someone else.
 *
 * As in aws-iam-authenticator (since v0.6.30), the UserId is split at `:` into principal id and session name only for
 * roles: for IAM users, the root user and federated users it is the principal id whole, so two federated users
 * (`111122223333:alice`, `111122223333:bob`) never share a uid with each other or with the root user.
 *
 * @example
 * ```ts
 * import { toStsIdentity } from 'eksauth/verify';
 * const identity = toStsIdentity(
 *   { arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice', account: '111122223333', userId: 'AROAEXAMPLEID:alice' },
 *   'ASIAEXAMPLEKEY',
 * );
 * console.log(identity.canonicalArn); // → arn:aws:iam::111122223333:role/Admin
 * console.log(identity.principalId, identity.sessionName); // → AROAEXAMPLEID alice
 * ```
 */
export function toStsIdentity(
  caller: { arn: string; account: string; userId: string },
  accessKeyId: string,
): StsIdentity {
  const parsed = canonicalizeArn(caller.arn);
  if (caller.account !== parsed.accountId) {
    throw new EksAuthError(
      'ERR_INVALID_IDENTITY',
      `STS answered account '${String(caller.account).slice(0, 40)}' for ${caller.arn}, whose account is ${parsed.accountId}; refusing it`,
    );
  }
  const { principalId, sessionName } = splitUserId(caller.userId, caller.arn, parsed.kind);
  if (typeof accessKeyId !== 'string' || accessKeyId === '') {
    throw new EksAuthError('ERR_INVALID_IDENTITY', `no access key id for ${caller.arn}`);
  }
  return {
    arn: caller.arn,
    canonicalArn: parsed.canonicalArn,
    accountId: parsed.accountId,
    userId: caller.userId,
    principalId,
    ...(sessionName === undefined ? {} : { sessionName }),
    accessKeyId,
    partition: parsed.partition,
  };
}

/** Principals whose UserId is their principal id whole (`AIDA…`, the account id, `<account>:<name>`). */
const WHOLE_USER_ID_KINDS: ReadonlySet<IdentityArnKind> = new Set(['user', 'root', 'federated-user']);

function splitUserId(userId: string, arn: string, kind: IdentityArnKind): { principalId: string; sessionName?: string } {
  const valid = typeof userId === 'string' && userId !== '';
  if (valid && WHOLE_USER_ID_KINDS.has(kind)) return { principalId: userId };
  const [principalId = '', sessionName = '', ...rest] = valid ? userId.split(':') : [];
  if (rest.length > 0 || principalId === '' || sessionName === '') {
    throw new EksAuthError(
      'ERR_INVALID_IDENTITY',
      `STS answered a malformed UserId for ${arn}: a role session's is <role id>:<session name>; the STS endpoint is not answering like AWS STS, check it`,
    );
  }
  return { principalId, sessionName };
}
