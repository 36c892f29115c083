/**
 * IAM principal ARNs as the STS emulator needs them: parsing the few shapes that can sign requests or be assumed,
 * stable role ids, and the trust check AssumeRole applies. Kept local to the emulator so the test bed does not
 * depend on the production ARN code it is used to test.
 */
import { createHash } from 'node:crypto';

// Names, paths and session names use IAM's character set; partitions are aws, aws-cn, aws-us-gov, aws-iso…
const PARTITION = 'aws(?:-[a-z]+)*';
const ACCOUNT = '\\d{12}';
const NAME = '[\\w+=,.@-]{1,64}';
const PATH = '/(?:[\\w+=,.@-]+/)*';

const USER_ARN = new RegExp(`^arn:(${PARTITION}):iam::(${ACCOUNT}):user(${PATH})(${NAME})$`);
const ROLE_ARN = new RegExp(`^arn:(${PARTITION}):iam::(${ACCOUNT}):role(${PATH})(${NAME})$`);
const ROOT_ARN = new RegExp(`^arn:(${PARTITION}):iam::(${ACCOUNT}):root$`);
// STS names no path in session ARNs, but aws-iam-authenticator accepts one (assumed-role/Org/Team/Admin/Session);
// the emulator can be configured to answer with such an ARN to test that.
const ASSUMED_ROLE_ARN = new RegExp(`^arn:(${PARTITION}):sts::(${ACCOUNT}):assumed-role(${PATH})(${NAME})/([\\w+=,.@-]{2,64})$`);
// GetFederationToken sessions; they sign requests like any other identity.
const FEDERATED_USER_ARN = new RegExp(`^arn:(${PARTITION}):sts::(${ACCOUNT}):federated-user/([\\w+=,.@-]{2,32})$`);

export type PrincipalArn =
  | { kind: 'user'; arn: string; partition: string; account: string; name: string }
  | { kind: 'role'; arn: string; partition: string; account: string; name: string }
  | { kind: 'root'; arn: string; partition: string; account: string }
  | { kind: 'assumed-role'; arn: string; partition: string; account: string; name: string; sessionName: string }
  | { kind: 'federated-user'; arn: string; partition: string; account: string; name: string };

/** Parses an IAM user, role or root ARN or an STS assumed-role or federated-user ARN; undefined for anything else. */
export function parsePrincipalArn(arn: string): PrincipalArn | undefined {
  let m = USER_ARN.exec(arn);
  if (m) return { kind: 'user', arn, partition: m[1]!, account: m[2]!, name: m[4]! };
  m = ROLE_ARN.exec(arn);
  if (m) return { kind: 'role', arn, partition: m[1]!, account: m[2]!, name: m[4]! };
  m = ROOT_ARN.exec(arn);
  if (m) return { kind: 'root', arn, partition: m[1]!, account: m[2]! };
  m = ASSUMED_ROLE_ARN.exec(arn);
  if (m) return { kind: 'assumed-role', arn, partition: m[1]!, account: m[2]!, name: m[4]!, sessionName: m[5]! };
  m = FEDERATED_USER_ARN.exec(arn);
  if (m) return { kind: 'federated-user', arn, partition: m[1]!, account: m[2]!, name: m[3]! };
  return undefined;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Upper-case base32 of the bytes, the alphabet AWS uses for access key ids and unique ids. */
export function base32(bytes: Uint8Array, length: number): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/**
 * The role's unique id (`AROA` + 17 characters). Derived from the ARN so that it stays the same across emulator
 * restarts, like a real role's id stays the same until the role is deleted.
 */
export function roleUniqueId(roleArn: string): string {
  return `AROA${base32(createHash('sha256').update(roleArn).digest(), 17)}`;
}

/** Who a trust policy sees: the caller's own ARN and, for a role session, the role it is a session of. */
export interface TrustSubject {
  arn: string;
  account: string;
  /** For an assumed-role caller: the role name (trust policies name the role, not the session). */
  roleName?: string;
}

/**
 * Whether a trust entry admits the caller. Entries are `*`, an account root ARN (any principal of that account),
 * a user ARN, a role ARN (any session of that role; paths are ignored, as IAM's own evaluation of a session does)
 * or an assumed-role ARN (that one session).
 */
export function trustEntryAdmits(entry: string, subject: TrustSubject): boolean {
  if (entry === '*') return true;
  const trusted = parsePrincipalArn(entry);
  if (trusted === undefined || trusted.account !== subject.account) return false;
  switch (trusted.kind) {
    case 'root':
      return true;
    case 'role':
      return subject.roleName === trusted.name;
    case 'user':
    case 'assumed-role':
    case 'federated-user':
      return subject.arn === trusted.arn;
  }
}
